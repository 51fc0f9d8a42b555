"""Shifted crops: time-shifted 1-s windows of every clip, cut from its recording at the working sample rate.

For a clip (piece ``p`` of a 10-s recording) and an offset ``o`` in [0, 1) s, the window starts ``o`` seconds
after the clip's start, so it ends ``o`` seconds into piece ``p + 1``. The two pieces are joined by
:meth:`Dataset.read_joined` (TAU22 resamples the joined audio in one piece, so there is no seam) and the
offset is counted in samples at the working rate. For the last piece of a recording the windows go
backwards instead (they start ``o`` seconds before the clip, in piece ``p − 1``); a clip whose neighbours
are not in the same split gets its own audio for every window. Only neighbours from the same split are
read, so crops never leak audio across splits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from asc_bench.api import Dataset
from asc_bench.core.errors import UserError


class CropSource:
    """The shifted crops of a split's clips: rows ``clip * K + k`` are clip ``clip`` at offset ``k``."""

    def __init__(self, dataset: Dataset, indices: np.ndarray, offsets: Sequence[float], sample_rate: int) -> None:
        clips = dataset.clips()
        if clips.pieces is None:
            raise UserError(
                f"shifted crops need to know where each clip sits in its recording, but the dataset "
                f"{dataset.describe()} does not say (its clip table has no pieces).",
                fix="Remove the shifted-crops transform from data.transforms, or use a dataset that gives "
                "ClipTable.pieces.",
            )
        self.dataset = dataset
        self.indices = indices
        self.sample_rate = sample_rate
        self.starts = np.array([round(o * sample_rate) for o in offsets], dtype=np.int64)
        pairs = zip(clips.recordings[indices].tolist(), clips.pieces[indices].tolist(), strict=True)
        position = {pair: i for i, pair in enumerate(pairs)}
        self.partner = np.full(len(indices), -1, dtype=np.int64)
        self.forward = np.ones(len(indices), dtype=bool)
        for (recording, piece), i in position.items():
            after = position.get((recording, piece + 1))
            before = position.get((recording, piece - 1))
            if after is not None:
                self.partner[i] = after
            elif before is not None:
                self.partner[i], self.forward[i] = before, False

    @property
    def variants(self) -> int:
        return len(self.starts)

    def crops(self, rows: np.ndarray) -> np.ndarray:
        """Waveforms ``(len(rows), sample_rate)`` of flat crop rows (any order, repeats allowed)."""
        clip, variant = np.divmod(np.asarray(rows, dtype=np.int64), self.variants)
        out = np.empty((len(rows), self.sample_rate), dtype=np.float32)
        for position in np.unique(clip):
            picks = np.flatnonzero(clip == position)
            out[picks] = self.windows(int(position))[variant[picks]]
        return out

    def windows(self, position: int) -> np.ndarray:
        """All ``K`` windows ``(K, sample_rate)`` of the clip at ``position`` in the split."""
        n = self.sample_rate
        row = int(self.indices[position])
        partner = int(self.partner[position])
        if partner < 0:
            return np.repeat(self.dataset.read(row, n)[None], self.variants, axis=0)
        pair = [row, int(self.indices[partner])] if self.forward[position] else [int(self.indices[partner]), row]
        joined = self.dataset.read_joined(np.asarray(pair), n)
        if len(joined) != 2 * n:
            ids = self.dataset.clips().ids
            raise UserError(
                f"the clips {ids[pair[0]]} and {ids[pair[1]]} of one recording join to {len(joined):,} samples at "
                f"{n:,} Hz, not {2 * n:,}: shifted crops need 1-s clips.",
                fix="Check these files with `asc-bench data check ROOT`.",
            )
        starts = self.starts if self.forward[position] else n - self.starts
        return np.stack([joined[s : s + n] for s in starts])
