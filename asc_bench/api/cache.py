"""The cache plugin contract: requests for prepared rows, the stores trials read them from, and what
``asc-bench cache ls / clear`` show and remove."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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


@dataclass(frozen=True)
class CacheEntry:
    """One cache a cache plugin keeps on disk, as ``asc-bench cache ls`` lists it.

    ``key``: what :meth:`Cache.clear` takes (a prefix of it is enough); ``status``: ``"ok"`` or, for people,
    why the cache cannot be used (``building`` says whether a live process is still writing it); ``size``:
    bytes on disk. ``label``, ``count``, ``shape`` and ``dtype`` describe the rows as stored, ``created`` is
    an ISO time, ``key_parts`` what the key was made of (:attr:`CacheRequest.key_parts`), ``location`` where
    it lives; each is ``None`` (or empty) when not known, e.g. for the leftovers of a killed build.
    """

    key: str
    status: str
    size: int = 0
    label: str | None = None
    count: int | None = None
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    created: str | None = None
    key_parts: dict[str, Any] = field(default_factory=dict)
    location: str | None = None
    building: bool = False

    @property
    def ok(self) -> bool:
        """Whether the cache is complete and usable."""
        return self.status == "ok"


@dataclass(frozen=True)
class ClearResult:
    """What :meth:`Cache.clear` did: the keys removed, the keys kept because a build is using them, bytes freed."""

    removed: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    freed: int = 0


class Cache(ABC):
    """A cache plugin: turns a :class:`CacheRequest` into a :class:`ClipStore`.

    ``prepare`` runs once in the driver before any trial (build what can be shared); ``open`` runs in
    each trial and must not rebuild what ``prepare`` built. A cache that keeps rows on disk also implements
    :meth:`default_folder`, :meth:`inventory`, :meth:`clear` and :meth:`location` (``asc-bench cache ls /
    clear / build`` use them); the defaults describe a cache that keeps nothing on disk.
    """

    Config: ClassVar[type[PluginConfig]]

    def __init__(self, config: PluginConfig) -> None:
        self.config = config

    def prepare(self, request: CacheRequest, progress: Callable[[int], None] | None = None) -> None:  # noqa: B027 - optional hook
        """Build the shared cache for ``request`` if this cache kind has one (default: nothing)."""

    @abstractmethod
    def open(self, request: CacheRequest) -> ClipStore: ...

    def location(self, request: CacheRequest) -> str | None:
        """Where the rows of ``request`` are kept (e.g. a file path), for people; ``None`` (the default): in
        no place worth naming (memory, or nowhere)."""
        return None

    @classmethod
    def default_folder(cls) -> Path | None:
        """The folder :meth:`inventory` and :meth:`clear` look in when given none (for ``memmap``: the default
        cache folder); ``None`` (the default) for a cache that keeps nothing on disk."""
        return None

    @classmethod
    def inventory(cls, folder: Path | None = None, *, verify: bool = False) -> list[CacheEntry]:
        """Every cache of this kind in ``folder`` (default: :meth:`default_folder`), complete or not, for
        ``asc-bench cache ls``; ``verify`` checks the contents in full (e.g. every checksum) instead of only
        what is quick. Default: none."""
        return []

    @classmethod
    def clear(cls, keys: Sequence[str] | None = None, *, folder: Path | None = None) -> ClearResult:
        """Delete the caches in ``folder`` (default: :meth:`default_folder`) whose key starts with one of
        ``keys`` (``None``: all of them), skipping any a process is building, for ``asc-bench cache clear``;
        they are rebuilt when next needed. Default: nothing to delete."""
        return ClearResult()
