"""The teacher-logits file: per-clip logits keyed by clip id (never by row index), written by ``asc-bench predict``.

A logits file is a dict saved with ``torch.save`` and loadable with ``torch.load(weights_only=True)``::

    {"format": "asc-bench-logits/1",
     "clip_ids": [...],            # N clip ids: the file name relative to the dataset root ("audio/x-a.wav"),
                                   # or relative to the predicted folder ("0.wav") for `predict --audio-dir`
     "logits": FloatTensor (N, C), # pre-softmax scores, row i belongs to clip_ids[i]
     "class_names": [...],         # C class names, the column order of logits
     "sources": [...]}             # what produced them (e.g. the record files averaged as an ensemble)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from asc_bench.api.dataset import ClipTable
from asc_bench.core.errors import UserError
from asc_bench.core.files import atomic_path
from asc_bench.core.safe_load import load_tensors

FORMAT = "asc-bench-logits/1"
_KEYS = ("format", "clip_ids", "logits", "class_names", "sources")
_REGENERATE = "Write it again with `asc-bench predict RUN... --out FILE` (see docs/recipes.md)."


@dataclass(frozen=True)
class LogitsFile:
    """The content of a logits file."""

    clip_ids: tuple[str, ...]
    logits: torch.Tensor  # (N, C) float32
    class_names: tuple[str, ...]
    sources: tuple[str, ...]

    def __post_init__(self) -> None:
        n, c = len(self.clip_ids), len(self.class_names)
        if self.logits.dim() != 2 or tuple(self.logits.shape) != (n, c):
            raise ValueError(f"logits must be ({n}, {c}) for {n} clips and {c} classes, not {tuple(self.logits.shape)}")
        if len(set(self.clip_ids)) != n:
            raise ValueError("clip ids must be unique")

    def probabilities(self) -> torch.Tensor:
        """Softmax of the logits, ``(N, C)``."""
        return torch.softmax(self.logits.double(), dim=1).float()


def save_logits(path: Path | str, logits: LogitsFile) -> Path:
    """Write a logits file atomically (temporary name, then rename); returns the path."""
    path = Path(path)
    data = {
        "format": FORMAT,
        "clip_ids": list(logits.clip_ids),
        "logits": logits.logits.detach().to(torch.float32).cpu().contiguous(),
        "class_names": list(logits.class_names),
        "sources": list(logits.sources),
    }
    with atomic_path(path) as tmp:
        torch.save(data, tmp)
    return path


def load_logits(path: Path | str, *, where: str | None = None) -> LogitsFile:
    """Read and check a logits file (safe loading: ``weights_only=True``)."""
    path = Path(path)
    data = load_tensors(path, what="logits file", where=where, fix=_REGENERATE)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise UserError(
            f"{path} is not an asc-bench logits file (format {found!r}, expected {FORMAT!r}). Logits aligned by "
            "row index (e.g. CP-JKU's teacher files) cannot be used: clips are matched by id.",
            where=where,
            fix=_REGENERATE,
        )
    missing = [key for key in _KEYS if key not in data]
    try:
        if missing:
            raise ValueError(f"missing keys {missing}")
        return LogitsFile(
            clip_ids=tuple(str(c) for c in data["clip_ids"]),
            logits=torch.as_tensor(data["logits"], dtype=torch.float32),
            class_names=tuple(str(c) for c in data["class_names"]),
            sources=tuple(str(s) for s in data["sources"]),
        )
    except (ValueError, TypeError) as exc:
        raise UserError(f"the logits file {path} is malformed: {exc}.", where=where, fix=_REGENERATE) from None


def _examples(ids: Sequence[str]) -> str:
    return ", ".join(ids[:3]) + (f" (and {len(ids) - 3:,} more)" if len(ids) > 3 else "")


def logits_for_clips(
    logits: LogitsFile, clips: ClipTable, required_rows: np.ndarray | None = None, *, where: str | None = None
) -> torch.Tensor:
    """A ``(len(clips), C)`` table of logits by clip-table row (NaN where the file has none), columns in the
    dataset's class order.

    Refuses a file whose class names differ from the dataset's, that names clips the dataset does not have
    (it was written for another dataset), or that lacks any of ``required_rows`` (e.g. the training split).
    """
    if set(logits.class_names) != set(clips.class_names) or len(logits.class_names) != len(clips.class_names):
        raise UserError(
            f"the logits file's classes ({', '.join(logits.class_names)}) are not the dataset's "
            f"({', '.join(clips.class_names)}).",
            where=where,
            fix="Use a logits file predicted on this dataset. " + _REGENERATE,
        )
    row_of = {clip_id: row for row, clip_id in enumerate(clips.ids)}
    unknown = [c for c in logits.clip_ids if c not in row_of]
    if unknown:
        raise UserError(
            f"{len(unknown):,} of the {len(logits.clip_ids):,} clips in the logits file are not in the dataset, "
            f"e.g. {_examples(unknown)}: it was written for another dataset.",
            where=where,
            fix="Point the trainer at a logits file predicted on this dataset. " + _REGENERATE,
        )
    columns = [logits.class_names.index(name) for name in clips.class_names]
    table = torch.full((len(clips), len(columns)), float("nan"))
    rows = torch.tensor([row_of[c] for c in logits.clip_ids], dtype=torch.long)
    table[rows] = logits.logits[:, columns]
    if required_rows is not None:
        required = torch.as_tensor(np.asarray(required_rows, dtype=np.int64))
        lacking = [clips.ids[r] for r in required[torch.isnan(table[required, 0])].tolist()]
        if lacking:
            raise UserError(
                f"the logits file has no logits for {len(lacking):,} of the {len(required_rows):,} training clips, "
                f"e.g. {_examples(lacking)}.",
                where=where,
                fix="Predict the teacher on every training clip (`asc-bench predict RUN... --split train` or "
                "`--subset all`).",
            )
    return table
