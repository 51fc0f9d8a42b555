"""The cache plugin contract: requests for prepared rows, and the stores trials read them from."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from asc_bench.api.config import Domain, PluginConfig

if TYPE_CHECKING:
    import torch


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
