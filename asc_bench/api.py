"""The public plugin API: what every dataset, cache, transform, model and trainer plugin implements.

Built-in plugins use exactly this module, as a third-party package would. A plugin is a class with a
``Config`` attribute: a pydantic model (subclass of :class:`PluginConfig`) whose ``type`` field is
``Literal["<registered name>"]``. The framework validates the spec section against ``Config`` and
constructs the plugin with it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import torch

Domain = Literal["waveform", "features"]
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

    def __len__(self) -> int:
        return len(self.ids)


class Dataset(ABC):
    """A dataset plugin: clip metadata, named splits and audio decoding at a working sample rate."""

    Config: ClassVar[type[PluginConfig]]

    def __init__(self, config: PluginConfig) -> None:
        self.config = config

    @abstractmethod
    def clips(self) -> ClipTable:
        """Metadata of every clip (rows the splits index into)."""
        ...

    @abstractmethod
    def split(self, name: Literal["train", "test"]) -> np.ndarray:
        """Row indices into :meth:`clips` for a split."""
        ...

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


# ---------------------------------------------------------------------------------------------- batches


@dataclass
class Batch:
    """A batch on its way through the transform pipeline.

    ``x`` is ``(B, samples)`` in the waveform domain and ``(B, 1, n_mels, frames)`` in the features
    domain. ``target`` holds soft targets ``(B, num_classes)`` (one-hot until a mixing transform mixes
    them); ``label``, ``device``, ``city`` and ``clip`` (row in the clip table) are ``(B,)`` int64.
    """

    x: torch.Tensor
    target: torch.Tensor
    label: torch.Tensor
    device: torch.Tensor
    city: torch.Tensor
    clip: torch.Tensor

    def with_x(self, x: torch.Tensor) -> Batch:
        """The same batch with new inputs."""
        return replace(self, x=x)


@dataclass
class TransformContext:
    """What a transform may use besides the batch: the seeded generator and the phase."""

    rng: torch.Generator
    training: bool
    sample_rate: int


class Transform(ABC):
    """A step of the ``data.transforms`` pipeline, applied to whole batches.

    ``deterministic`` transforms give the same output for the same input and may be cached;
    ``train_only`` transforms (augmentations) run only while training.
    """

    Config: ClassVar[type[PluginConfig]]
    takes: ClassVar[Domain] = "waveform"
    gives: ClassVar[Domain] = "waveform"
    deterministic: ClassVar[bool] = True
    train_only: ClassVar[bool] = False

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
    at most ``chunk`` rows at a time. ``progress(n)`` is called with the number of rows just built.
    """

    key: str
    label: str
    count: int
    shape: tuple[int, ...]
    fill: Callable[[np.ndarray], np.ndarray]
    chunk: int = 256


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


# ---------------------------------------------------------------------------------------------- trainers


class Trainer(ABC):
    """A trainer plugin owns the loss, the optimiser and the schedule; the engine owns the epoch loop."""

    Config: ClassVar[type[PluginConfig]]

    def __init__(self, config: PluginConfig, model: torch.nn.Module, *, steps_per_epoch: int) -> None:
        self.config = config
        self.model = model
        self.steps_per_epoch = steps_per_epoch

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

    @abstractmethod
    def state_dict(self) -> dict[str, Any]: ...

    @abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None: ...
