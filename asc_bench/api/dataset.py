"""The dataset plugin contract: clip metadata, splits, decoding, checks; optional synthetic data and the
settings ``asc-bench data check`` builds from a root."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import ValidationError

from asc_bench.api.config import PluginConfig, SplitName
from asc_bench.core.errors import UserError


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

    # ------------------------------------------------------------------ class-level hooks (no instance needed)

    @classmethod
    def check_config(cls, root: Path, options: Mapping[str, Any] | None = None) -> PluginConfig:
        """The settings ``asc-bench data check ROOT`` checks: this plugin's ``Config`` for the dataset at
        ``root`` with ``options`` (the command's ``--option key=value`` and its aliases, e.g. ``split``; nested
        settings as nested dicts).

        Default: ``cls.Config(root=root, **options)`` (``type`` takes the Config's default, the plugin's
        name); a setting that does not fit is a :class:`UserError` naming it. Override it for a dataset
        whose Config has no ``root`` field or that maps the root onto several settings.
        """
        name = _plugin_name(cls)
        try:
            return cls.Config.model_validate({"root": root, **(options or {})})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors(include_url=False)
            )
            raise UserError(
                f"the options do not fit the {name} dataset: {problems}.",
                fix=f"Give only settings of the {name} dataset (`asc-bench schema` lists them with their types).",
            ) from None

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
        """Write a synthetic dataset that this plugin reads (with ``Config(root=root)``) into ``root``, for
        ``asc-bench data synth``; returns a one-line summary for people.

        ``clips``: at least this many clips (``None``: the generator's default size); ``full_size``: the size
        of the real dataset (``clips`` and ``full_size`` exclude each other); ``seed``: same seed, same files;
        ``workers``: processes to render with (``None``: the generator decides; never changes the files);
        ``progress(done, total)`` is called from the calling process as it goes. Write atomically (a root
        that looks complete is complete) and refuse, with a :class:`UserError`, a ``root`` holding anything
        else. Default: a :class:`UserError` saying this plugin has no generator.
        """
        raise _no_generator(cls)

    @classmethod
    def synthetic_size(cls, *, clips: int | None = None, full_size: bool = False, seed: int = 0) -> dict[str, int]:
        """What :meth:`synthesize` would write with these arguments, without writing anything (``asc-bench
        data synth --dry-run``): counts by name, ``clips`` first (e.g. ``train``, ``test``). Default: the same
        :class:`UserError` as :meth:`synthesize`."""
        raise _no_generator(cls)


def _plugin_name(cls: type[Dataset]) -> str:
    """The name specs give the plugin (its Config's default ``type``), else the class name."""
    field = cls.Config.model_fields.get("type")
    default = getattr(field, "default", None)
    return default if isinstance(default, str) else cls.__name__


def _no_generator(cls: type[Dataset]) -> UserError:
    name = _plugin_name(cls)
    return UserError(
        f"the {name} dataset plugin has no synthetic-data generator.",
        fix="Choose a dataset plugin that has one (e.g. --dataset tau22), or point the spec at real data.",
    )
