"""The ``tau22`` dataset: TAU Urban Acoustic Scenes 2022 Mobile, development set (docs/dcase.md §1).

Reads the real layout under ``root``: ``meta.csv`` (tab-separated: filename, scene_label, identifier,
source_label), ``audio/*.wav`` (1-s clips), ``evaluation_setup/fold1_{train,evaluate}.csv`` and, for the 2024
data-efficiency subsets, ``split_setup/split{5,10,25,50,100}.csv`` and ``split_setup/test.csv``. The synthetic
dataset written by ``asc-bench data synth DIR`` has the same layout, so it is read by this same code.

Every way the layout can be wrong that users of the reference code ran into (root one level too high or
pointing at ``audio/``, doubled ``audio/audio/`` paths, comma-separated tables, a split naming an unknown
clip, 1-s and 10-s audio mixed) is a :class:`~asc_bench.api.UserError` that names the file and says how to fix
it (see :mod:`.layout`, :mod:`.meta`, :mod:`.audio`). ``asc-bench data synth`` reaches the generator
(:mod:`.synth`) through :meth:`TAU22Dataset.synthesize`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from asc_bench.api import ClipTable, Dataset, Finding, PluginConfig, SplitName, UserError, non_semantic
from asc_bench_plugins.datasets.tau22.audio import decode, scan
from asc_bench_plugins.datasets.tau22.layout import (
    CLASSES,
    DEV_CITIES,
    DEVICES,
    RELEASE_FOLDER,
    UNPACK,
    check_root,
    present_split_files,
    split_files,
)
from asc_bench_plugins.datasets.tau22.meta import (
    Meta,
    hold_out,
    read_meta,
    read_split,
    unlisted_findings,
    vocabulary_findings,
)

__all__ = ["CLASSES", "DEVICES", "DEV_CITIES", "RELEASE_FOLDER", "HoldOut", "TAU22Config", "TAU22Dataset"]


class HoldOut(BaseModel):
    """A validation split carved from the training split by recording location."""

    model_config = ConfigDict(extra="forbid")
    fraction: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="Share of each scene's training recording locations held out as the validation split "
        "(never single clips, so no location is on both sides); 0 = no validation split.",
    )
    seed: int = Field(0, description="Which locations are held out.")


class TAU22Config(PluginConfig):
    """Settings of the ``tau22`` dataset."""

    type: Literal["tau22"] = "tau22"
    root: Path = non_semantic(
        description="The folder containing meta.csv, audio/ and evaluation_setup/ (not part of the spec hash)."
    )
    split: Literal["fold1", "split5", "split10", "split25", "split50", "split100"] = Field(
        "fold1",
        description="fold1: the official train/evaluate split; splitN: the 2024 N % training subset "
        "(split_setup/splitN.csv), tested on the same test set.",
    )
    validation: HoldOut = Field(
        default_factory=HoldOut,
        description="Hold out part of the training split for tuning (the test split stays untouched).",
    )


class TAU22Dataset(Dataset):
    """TAU Urban Acoustic Scenes 2022 Mobile development set (or the synthetic set in its layout)."""

    Config = TAU22Config
    config: TAU22Config
    num_classes = len(CLASSES)

    def __init__(self, config: TAU22Config) -> None:  # type: ignore[override]
        super().__init__(config)
        self.root = Path(config.root).expanduser()
        self.split_name: str = config.split
        check_root(self.root)
        self._meta: Meta | None = None
        self._splits: dict[str, np.ndarray] = {}
        self._fingerprint: str | None = None
        self._resamplers: dict[tuple[int, int], Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_resamplers"] = {}  # rebuilt where needed (cheap), keeps pickles small
        return state

    def describe(self) -> str:
        return str(self.root)

    def partition(self) -> str:
        return self.split_name

    def identity(self) -> str | None:
        """For a dataset written by ``asc-bench data synth`` (byte-identical for the same parameters): the
        generator version and parameters from its marker file; ``None`` for the real dataset."""
        from asc_bench_plugins.datasets.tau22.synth import MARKER

        try:
            marker = json.loads((self.root / MARKER).read_text(encoding="utf-8"))
            params = ", ".join(f"{key}={value}" for key, value in sorted(marker["params"].items()))
            return f"synthetic ({marker['generator']} v{marker['version']}: {params})"
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    @classmethod
    def synthesize(
        cls,
        root: Path,
        *,
        clips: int | None = None,
        full_size: bool = False,
        seed: int = 0,
        workers: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> str:
        """Write the synthetic dataset in the real TAU22 layout (:func:`.synth.write_synthetic_dataset`):
        3,000 clips by default, at least ``clips``, or 230,400 with ``full_size``."""
        from asc_bench_plugins.datasets.tau22.synth import size_params, write_synthetic_dataset

        params = size_params(clips, full_size)
        info = write_synthetic_dataset(root, seed=seed, workers=workers, progress=progress, **params)
        return str(info["message"])

    @classmethod
    def synthetic_size(cls, *, clips: int | None = None, full_size: bool = False, seed: int = 0) -> dict[str, int]:
        """The clip counts :meth:`synthesize` would write (:func:`.synth.synthetic_dataset_size`)."""
        from asc_bench_plugins.datasets.tau22.synth import size_params, synthetic_dataset_size

        return synthetic_dataset_size(seed=seed, **size_params(clips, full_size))

    # ------------------------------------------------------------------------------------------ metadata

    @property
    def meta(self) -> Meta:
        if self._meta is None:
            self._meta = read_meta(self.root)
        return self._meta

    def clips(self) -> ClipTable:
        return self.meta.table

    def split_files(self) -> dict[str, Path]:
        """The train and test split files this configuration reads."""
        return split_files(self.root, self.split_name)

    def splits(self) -> tuple[SplitName, ...]:
        return ("train", "validation", "test") if self.config.validation.fraction > 0 else ("train", "test")

    def split(self, name: SplitName) -> np.ndarray:
        if name not in self.splits():
            raise ValueError(f"split name must be one of {', '.join(self.splits())}, not {name!r}")
        if not self._splits:
            self._splits = self._load_splits()
        return self._splits[name]

    def _load_splits(self) -> dict[str, np.ndarray]:
        files = self.split_files()
        train, test = read_split(files["train"], self.meta), read_split(files["test"], self.meta)
        overlap = np.intersect1d(train, test)
        if overlap.size:
            raise UserError(
                f"{overlap.size} clip(s) are in both the train split {files['train']} and the test split "
                f"{files['test']}, e.g. {self.clips().ids[int(overlap[0])]}.",
                fix="Restore the split files from the dataset release (train and test must be disjoint).",
            )
        splits = {"train": train, "test": test}
        held = self.config.validation
        if held.fraction > 0:
            splits["train"], splits["validation"] = hold_out(train, self.meta, held.fraction, held.seed)
        return splits

    # ------------------------------------------------------------------------------------------ identity

    def fingerprint(self) -> str:
        """SHA-256 (16 hex digits) of meta.csv, the split files used, and every clip's size and mtime."""
        if self._fingerprint is None:
            table = self.clips()
            h = hashlib.sha256(b"asc-bench tau22 fingerprint v1\n")
            for path in (self.root / "meta.csv", *self.split_files().values()):
                data = path.read_bytes() if path.is_file() else b""
                h.update(f"{path.relative_to(self.root).as_posix()}\t{len(data)}\n".encode())
                h.update(data)
            lines, missing = self._stat_files(np.argsort(np.asarray(table.ids)))
            if missing:
                raise self._missing_error(missing)
            h.update("".join(lines).encode())
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    def _stat_files(self, rows: np.ndarray) -> tuple[list[str], list[str]]:
        """``clip<TAB>size<TAB>mtime`` lines of the files of ``rows`` and the ids of missing ones."""
        ids, root = self.clips().ids, str(self.root)
        lines, missing = [], []
        for row in rows:
            clip_id = ids[row]
            try:
                st = os.stat(os.path.join(root, clip_id))
            except OSError:
                missing.append(clip_id)
                continue
            lines.append(f"{clip_id}\t{st.st_size}\t{st.st_mtime_ns}\n")
        return lines, missing

    def _missing_error(self, missing: list[str]) -> UserError:
        return UserError(
            f"{len(missing):,} of the {len(self.clips()):,} clips listed in meta.csv are missing under "
            f"{self.root}, e.g. {', '.join(missing[:3])}.",
            fix=UNPACK,
        )

    # ------------------------------------------------------------------------------------------ checks

    def check(self, rows: np.ndarray) -> list[Finding]:
        """Missing, unreadable and malformed audio among ``rows``; broken split tables (warnings for the ones
        this split setting does not read); unknown vocabulary; unlisted files."""
        table = self.clips()
        _, missing = self._stat_files(np.asarray(rows))
        findings = []
        if missing:
            error = self._missing_error(missing)
            findings.append(Finding("error", str(error)))
        absent = set(missing)
        present = [int(r) for r in rows if table.ids[r] not in absent]
        findings += scan([table.ids[r] for r in present], [table.paths[r] for r in present], workers=_workers())
        used = set(self.split_files().values())
        for path in present_split_files(self.root):
            try:
                read_split(path, self.meta)
            except UserError as err:  # a table this configuration does not read cannot spoil the run
                note = "" if path in used else f" (split: {self.split_name} does not use this table)"
                findings.append(Finding("error" if path in used else "warning", f"{err}{note}"))
        return findings + vocabulary_findings(self.meta) + unlisted_findings(self.root, self.meta)

    # ------------------------------------------------------------------------------------------ audio

    def read(self, index: int, sample_rate: int) -> np.ndarray:
        table = self.clips()
        x, rate = decode(table.ids[index], table.paths[index])
        return self._resample(x[None], rate, sample_rate)[0]

    def read_many(self, indices: np.ndarray, sample_rate: int) -> np.ndarray:
        """Decode clips and resample them in batches of equal file rate (bit-identical to :meth:`read`)."""
        table = self.clips()
        decoded = [decode(table.ids[i], table.paths[i]) for i in indices]
        rates = np.array([rate for _, rate in decoded])
        out: list[np.ndarray] = [np.empty(0, np.float32)] * len(decoded)
        for rate in np.unique(rates):
            picks = np.flatnonzero(rates == rate)
            batch = self._resample(np.stack([decoded[i][0] for i in picks]), int(rate), sample_rate)
            for row, i in zip(batch, picks, strict=True):
                out[i] = row
        return np.stack(out)

    def read_joined(self, indices: np.ndarray, sample_rate: int) -> np.ndarray:
        """Consecutive clips of a recording joined at the file rate and resampled as one signal (no seams)."""
        table = self.clips()
        decoded = [decode(table.ids[i], table.paths[i]) for i in indices]
        if len({rate for _, rate in decoded}) > 1:
            return super().read_joined(indices, sample_rate)
        joined = np.concatenate([x for x, _ in decoded])
        return self._resample(joined[None], decoded[0][1], sample_rate)[0]

    def _resample(self, x: np.ndarray, rate: int, sample_rate: int) -> np.ndarray:
        if rate != sample_rate:
            import torch

            x = self._resampler(rate, sample_rate)(torch.from_numpy(x)).numpy()
        return np.ascontiguousarray(x, dtype=np.float32)

    def _resampler(self, orig: int, new: int) -> Any:
        key = (orig, new)
        if key not in self._resamplers:
            import torchaudio

            self._resamplers[key] = torchaudio.transforms.Resample(orig, new)
        return self._resamplers[key]


def _workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(8, cores))
