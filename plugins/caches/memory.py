"""The ``memory`` cache: compute the cached prefix once per trial and keep it in RAM (small sets)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from asc_bench.api import Cache, CacheRequest, ClipStore, PluginConfig
from asc_bench_plugins.caches._rows import fill_rows


class MemoryConfig(PluginConfig):
    type: Literal["memory"] = "memory"


class ArrayStore(ClipStore):
    """Rows held in a numpy array (in RAM or memory-mapped)."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, positions: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self.rows[positions], dtype=np.float32))


class MemoryCache(Cache):
    """Keeps the cached rows of each split in memory, computed in every trial."""

    Config = MemoryConfig

    def open(self, request: CacheRequest) -> ClipStore:
        rows = np.empty((request.count, *request.shape), dtype=np.float32)
        fill_rows(request, rows)
        return ArrayStore(rows)
