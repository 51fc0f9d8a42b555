"""The ``memory`` cache: compute the cached prefix once per trial and keep it in RAM (small sets)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from asc_bench.api import Cache, CacheRequest, ClipStore, PluginConfig, non_semantic
from asc_bench_plugins.caches._rows import compute_rows


class MemoryConfig(PluginConfig):
    type: Literal["memory"] = "memory"
    workers: int | None = non_semantic(
        None, ge=1, description="Threads computing the rows (default: the trial's torch threads)."
    )


class ArrayStore(ClipStore):
    """Rows held in a numpy array (in RAM or memory-mapped)."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, positions: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self.rows[positions], dtype=np.float32))


class MemoryCache(Cache):
    """Keeps the cached rows of each split in memory (float32, exact), computed in every trial."""

    Config = MemoryConfig
    config: MemoryConfig

    def open(self, request: CacheRequest) -> ClipStore:
        rows = np.empty((request.count, *request.shape), dtype=np.float32)

        def write(start: int, chunk: np.ndarray) -> None:
            rows[start : start + len(chunk)] = chunk

        compute_rows(request, write, workers=self.config.workers or torch.get_num_threads())
        return ArrayStore(rows)
