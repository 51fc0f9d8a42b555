"""The public plugin API: what every dataset, cache, transform, model and trainer plugin implements.

Built-in plugins use exactly this module, as a third-party package would. A plugin is a class with a
``Config`` attribute: a pydantic model (subclass of :class:`PluginConfig`) whose ``type`` field is
``Literal["<registered name>"]``. The framework validates the spec section against ``Config`` and
constructs the plugin with it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import torch

Domain = Literal["waveform", "features"]
SplitName = Literal["train", "validation", "test"]
NOT_SEMANTIC = {"semantic": False}
"""Pass as ``json_schema_extra`` on a config field that does not change results (e.g. a path)."""


class PluginConfig(BaseModel):
    """Base of every plugin's config: unknown fields are errors; ``type`` names the plugin."""

    model_config = ConfigDict(extra="forbid")
    type: str

    def resolved(self) -> PluginConfig:
        """This config as trials must see it, wherever they run: relative paths made absolute.

        The driver calls it before sending the spec to Ray; override it to fill in defaults that depend
        on the driver's environment (e.g. a cache folder from an environment variable).
        """
        updates = {
            name: Path(value).expanduser().absolute()
            for name, value in self
            if isinstance(value, Path) and not value.is_absolute()
        }
        return self.model_copy(update=updates) if updates else self


def non_semantic(default: Any = ..., **kwargs: Any) -> Any:
    """A pydantic ``Field`` left out of the spec hash (paths, worker counts: they do not change results)."""
    return Field(default, json_schema_extra=NOT_SEMANTIC, **kwargs)


# ---------------------------------------------------------------------------------------------- datasets


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


# ---------------------------------------------------------------------------------------------- batches


@dataclass
class Batch:
    """A batch on its way through the transform pipeline.

    ``x`` is ``(B, samples)`` in the waveform domain and ``(B, 1, n_mels, frames)`` in the features
    domain. ``target`` holds soft targets ``(B, num_classes)`` (one-hot until a mixing transform mixes
    them); ``label``, ``device``, ``city`` and ``clip`` (row in the clip table) are ``(B,)`` int64.
    ``mixes`` records every target mix in order as ``(partner, weight)`` pairs of ``(B,)`` tensors (the
    mixed target is ``weight·own + (1 − weight)·target[partner]``), so a trainer can mix other per-clip
    targets, e.g. a teacher's probabilities, the same way with :meth:`remix`.
    """

    x: torch.Tensor
    target: torch.Tensor
    label: torch.Tensor
    device: torch.Tensor
    city: torch.Tensor
    clip: torch.Tensor
    mixes: tuple[tuple[torch.Tensor, torch.Tensor], ...] = ()

    def with_x(self, x: torch.Tensor) -> Batch:
        """The same batch with new inputs."""
        return replace(self, x=x)

    def remix(self, values: torch.Tensor) -> torch.Tensor:
        """Per-clip ``values`` ``(B, ...)`` mixed exactly as the batch's targets were mixed."""
        for partner, weight in self.mixes:
            w = weight.to(values).reshape(-1, *([1] * (values.dim() - 1)))
            values = w * values + (1 - w) * values[partner]
        return values


@dataclass
class TransformContext:
    """What a transform may use besides the batch: the seeded generator, the phase, and the dataset's device
    names (``Batch.device`` indexes them; empty when unknown, e.g. for files outside a dataset)."""

    rng: torch.Generator
    training: bool
    sample_rate: int
    device_names: tuple[str, ...] = ()


class Transform(ABC):
    """A step of the ``data.transforms`` pipeline, applied to whole batches.

    ``deterministic`` transforms give the same output for the same input and may be cached;
    ``train_only`` transforms (augmentations) run only while training. The framework reads ``deterministic``
    on the instance, so it may be a property that depends on the settings (e.g. ``mel`` with band-edge jitter).
    """

    Config: ClassVar[type[PluginConfig]]
    takes: ClassVar[Domain] = "waveform"
    gives: ClassVar[Domain] = "waveform"
    deterministic: ClassVar[bool] = True
    train_only: ClassVar[bool] = False

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Load or check what the transform needs from outside the spec (e.g. files), so that a missing resource
        is reported before any data work. The driver calls it once before the trials; a transform also calls it
        itself when first used. Construction stays cheap, so `asc-bench complexity` needs no such files."""

    def crop_offsets(self) -> tuple[float, ...] | None:
        """Offsets in seconds, each in [0, 1), of the time-shifted versions of each training clip this step
        makes; ``None`` (the default) for an ordinary transform.

        A transform that returns offsets must come first in ``data.transforms``. For every training clip the
        framework then takes the 1-s windows starting at those offsets in the clip's recording (the clip and
        its neighbour joined, at the working sample rate), runs the cached prefix of the pipeline on each
        and caches them all; each epoch one window per clip is drawn from ``ctx.rng``. Evaluation uses the
        window at offset 0. The transform's ``__call__`` then sees the chosen window and may return it as is.
        """
        return None

    def __init__(self, config: PluginConfig, *, sample_rate: int) -> None:
        self.config = config
        self.sample_rate = sample_rate

    @abstractmethod
    def __call__(self, batch: Batch, ctx: TransformContext) -> Batch: ...


# ---------------------------------------------------------------------------------------------- caches


class ClipStore(ABC):
    """Rows of one prepared split: ``get(positions)`` returns a float32 tensor ``(len(positions), *shape)``."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def get(self, positions: np.ndarray) -> torch.Tensor: ...


@dataclass(frozen=True)
class CacheRequest:
    """What a cache must hold: ``count`` rows of ``shape``, computed by ``fill(positions)``.

    ``key`` is a content hash of everything that determines the rows; ``label`` names the split for
    progress output. ``fill`` returns a float32 numpy array ``(len(positions), *shape)``; ask it for
    at most ``chunk`` rows at a time; it may be called from several threads at once (decoding and the
    transforms release the GIL). ``progress(n)`` is called with the number of rows just built.
    ``domain`` says whether rows are waveforms or features (a cache may store them differently) and
    ``key_parts`` what the key was made of, for people (a cache may store it beside the rows).
    """

    key: str
    label: str
    count: int
    shape: tuple[int, ...]
    fill: Callable[[np.ndarray], np.ndarray]
    chunk: int = 256
    domain: Domain = "features"
    key_parts: dict[str, Any] = field(default_factory=dict)


class Cache(ABC):
    """A cache plugin: turns a :class:`CacheRequest` into a :class:`ClipStore`.

    ``prepare`` runs once in the driver before any trial (build what can be shared); ``open`` runs in
    each trial and must not rebuild what ``prepare`` built.
    """

    Config: ClassVar[type[PluginConfig]]

    def __init__(self, config: PluginConfig) -> None:
        self.config = config

    def prepare(self, request: CacheRequest, progress: Callable[[int], None] | None = None) -> None:  # noqa: B027 - optional hook
        """Build the shared cache for ``request`` if this cache kind has one (default: nothing)."""

    @abstractmethod
    def open(self, request: CacheRequest) -> ClipStore: ...


# ---------------------------------------------------------------------------------------------- models


class Model:
    """Marker for the model-plugin contract (the plugin itself is a ``torch.nn.Module`` subclass).

    ``__init__(self, config, *, input_shape, num_classes)`` where ``input_shape`` is one clip's
    ``(channels, n_mels, frames)``; ``forward`` maps ``(B, *input_shape)`` to logits ``(B, num_classes)``.
    """

    Config: ClassVar[type[PluginConfig]]
    default_input_shape: ClassVar[tuple[int, int, int]] = (1, 256, 65)
    """The input its default configuration was published for (docs and conformance tests use it)."""
    teacher: ClassVar[bool] = False
    """True for unconstrained models (e.g. distillation teachers) not meant to meet the DCASE limits."""


# ---------------------------------------------------------------------------------------------- trainers


class Trainer(ABC):
    """A trainer plugin owns the loss, the optimiser and the schedule; the engine owns the epoch loop.

    The engine constructs it as ``Trainer(config, model, steps_per_epoch=..., clips=..., train_rows=...)``:
    ``clips`` is the dataset's :class:`ClipTable` (``Batch.clip`` indexes its rows, so ``clips.ids[row]``
    is a clip's id) and ``train_rows`` the rows of the training split (e.g. to check up front that a
    teacher covers every training clip). Both are ``None`` when a trainer is built outside a dataset.
    """

    Config: ClassVar[type[PluginConfig]]

    def __init__(
        self,
        config: PluginConfig,
        model: torch.nn.Module,
        *,
        steps_per_epoch: int,
        clips: ClipTable | None = None,
        train_rows: np.ndarray | None = None,
    ) -> None:
        self.config = config
        self.model = model
        self.steps_per_epoch = steps_per_epoch
        self.clips = clips
        self.train_rows = train_rows

    @property
    def epochs(self) -> int:
        return int(self.config.epochs)  # type: ignore[attr-defined]

    @property
    def batch_size(self) -> int:
        return int(self.config.batch_size)  # type: ignore[attr-defined]

    @abstractmethod
    def train_step(self, batch: Batch) -> float:
        """One optimisation step on a transformed batch; returns the loss."""
        ...

    @abstractmethod
    def current_lr(self) -> float:
        """The learning rate in use (for logging)."""
        ...

    def end_of_epoch(self, row: dict[str, Any]) -> bool:
        """Called after each epoch's evaluation with its history row (``epoch``, ``train_loss``, ``test_*`` and,
        when the data has a validation split, ``val_*`` scores); return True to stop training early.

        A trainer may change the model here (e.g. restore its best weights). Whatever it keeps must be in
        :meth:`state_dict`, which the engine saves after this call. Default: never stop.
        """
        return False

    @abstractmethod
    def state_dict(self) -> dict[str, Any]: ...

    @abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None: ...
