"""The dataset plugin contract: clip metadata, splits, decoding, checks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from asc_bench.api.config import PluginConfig, SplitName


@dataclass(frozen=True)
class ClipTable:
    """Column-wise metadata of every clip a dataset knows; splits are arrays of row indices into it."""

    ids: tuple[str, ...]  # the clip's file name relative to the dataset root, e.g. "audio/x-a.wav"
    paths: tuple[Path, ...]
    labels: np.ndarray  # int64 index into class_names
    devices: np.ndarray  # int64 index into device_names
    cities: np.ndarray  # int64 index into city_names
    recordings: np.ndarray  # int64 index of the 10-s recording the clip was cut from
    class_names: tuple[str, ...]
    device_names: tuple[str, ...]
    city_names: tuple[str, ...]
    pieces: np.ndarray | None = None  # int64 position of the clip in its recording (0..9 in TAU22), if known

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Finding:
    """One problem a dataset check found: ``error`` makes a run refuse the dataset, ``warning`` is shown."""

    severity: Literal["error", "warning"]
    message: str
    where: str | None = None
    fix: str | None = None


class Dataset(ABC):
    """A dataset plugin: clip metadata, named splits and audio decoding at a working sample rate."""

    Config: ClassVar[type[PluginConfig]]
    #: How many classes models predict, if known without reading any data (the driver checks the model's
    #: complexity before any data work); ``None``: the check reads :meth:`clips` for it.
    num_classes: ClassVar[int | None] = None

    def __init__(self, config: PluginConfig) -> None:
        self.config = config

    @abstractmethod
    def clips(self) -> ClipTable:
        """Metadata of every clip (rows the splits index into)."""
        ...

    @abstractmethod
    def split(self, name: SplitName) -> np.ndarray:
        """Row indices into :meth:`clips` for a split (one of :meth:`splits`)."""
        ...

    def splits(self) -> tuple[SplitName, ...]:
        """The splits this configuration has: ``train`` and ``test``, plus ``validation`` when the dataset
        holds part of the training data out for tuning. The engine prepares and evaluates each of them."""
        return ("train", "test")

    def read_joined(self, indices: np.ndarray, sample_rate: int) -> np.ndarray:
        """Decode consecutive clips of one recording as one signal (their samples end to end).

        Shifted crops use it to take windows that straddle two clips. Override it to resample the joined
        audio in one piece (no seams); the default joins clips read one by one.
        """
        return np.concatenate([self.read(int(i), sample_rate) for i in indices])

    def check(self, rows: np.ndarray) -> list[Finding]:
        """Every problem found in the dataset, without stopping at the first: the audio files of ``rows``
        (missing, unreadable, wrong format) and anything else the dataset can see (``asc-bench data check``
        shows them; a run refuses a dataset with errors). Default: no checks."""
        return []

    def read_many(self, indices: np.ndarray, sample_rate: int) -> np.ndarray:
        """Decode several clips as a ``(len(indices), samples)`` float32 array (override to batch)."""
        return np.stack([self.read(int(i), sample_rate) for i in indices])

    @abstractmethod
    def fingerprint(self) -> str:
        """A short content hash of the dataset (file list, sizes, mtimes, split files)."""
        ...

    @abstractmethod
    def read(self, index: int, sample_rate: int) -> np.ndarray:
        """Decode clip ``index`` as mono float32 at ``sample_rate`` (resampled when needed)."""
        ...

    def describe(self) -> str:
        """Where the data comes from, for messages (e.g. the root folder)."""
        return type(self).__name__

    def partition(self) -> str:
        """The name of this configuration's train/test partition (e.g. ``split25``), recorded with the
        results. Default: ``""``."""
        return ""

    def identity(self) -> str | None:
        """A machine-independent name of this exact content, if the dataset can vouch for one (e.g. a
        generator's version and parameters). Leaderboards then rank records made on different machines
        together, which the fingerprint (it includes file times) does not allow. Default: ``None``."""
        return None
