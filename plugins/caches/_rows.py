"""Helpers shared by the built-in caches: computing a request's rows chunk by chunk, on several threads."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from asc_bench.api import CacheRequest


def cores() -> int:
    """The CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def compute_rows(
    request: CacheRequest,
    write: Callable[[int, np.ndarray], None],
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> None:
    """Compute every row of ``request`` in chunks of ``request.chunk`` and hand each chunk, in order, to
    ``write(first_row, rows)`` (float32) on the calling thread.

    With ``workers`` > 1 the chunks are computed on that many threads (decoding, resampling and the
    transforms release the GIL). Torch runs one thread per call meanwhile, also with one worker: the
    workers share the cores instead of fighting over them, and the front end's small per-clip operations run
    several times slower on a torch thread pool than on one thread. At most two chunks per worker are in
    flight. An error in any chunk stops the build and is raised here.
    """
    starts = iter(range(0, request.count, request.chunk))

    def one(start: int) -> np.ndarray:
        positions = np.arange(start, min(start + request.chunk, request.count))
        return np.asarray(request.fill(positions), dtype=np.float32)

    def hand_off(start: int, rows: np.ndarray) -> None:
        write(start, rows)
        if progress:
            progress(len(rows))

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    if workers <= 1 or request.count <= request.chunk:
        try:
            for start in starts:
                hand_off(start, one(start))
        finally:
            torch.set_num_threads(threads)
        return
    pool = ThreadPoolExecutor(workers, thread_name_prefix="asc-bench-cache")
    pending: deque[tuple[int, Future[np.ndarray]]] = deque()
    try:
        for start in starts:
            pending.append((start, pool.submit(one, start)))
            if len(pending) >= 2 * workers:
                hand_off(pending[0][0], pending.popleft()[1].result())
        while pending:
            start, future = pending.popleft()
            hand_off(start, future.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        torch.set_num_threads(threads)
