"""The ``none`` cache: decode and transform every clip on the fly, every time it is used."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from asc_bench.api import Cache, CacheRequest, ClipStore, PluginConfig


class NoCacheConfig(PluginConfig):
    type: Literal["none"] = "none"


class OnTheFlyStore(ClipStore):
    """Computes requested rows from the audio files on each access."""

    def __init__(self, request: CacheRequest) -> None:
        self.request = request

    def __len__(self) -> int:
        return self.request.count

    def get(self, positions: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self.request.fill(positions), dtype=np.float32))


class NoCache(Cache):
    """No cache: reads and transforms clips on the fly (slow; for debugging and comparisons)."""

    Config = NoCacheConfig

    def open(self, request: CacheRequest) -> ClipStore:
        return OnTheFlyStore(request)
