"""Helpers shared by the built-in caches: filling row arrays chunk by chunk."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from asc_bench.api import CacheRequest


def fill_rows(request: CacheRequest, out: np.ndarray, progress: Callable[[int], None] | None = None) -> None:
    """Compute every row of ``request`` into ``out`` (any array-like of the right shape)."""
    for start in range(0, request.count, request.chunk):
        positions = np.arange(start, min(start + request.chunk, request.count))
        out[start : start + len(positions)] = request.fill(positions)
        if progress:
            progress(len(positions))
