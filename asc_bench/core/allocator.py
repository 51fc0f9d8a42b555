"""Keep freed memory in the process (glibc): training allocates and frees the same large activation buffers
every step, and glibc's defaults hand each one back to the OS and fault it in again page by page.

glibc serves allocations above a (dynamic, at most 32 MiB) threshold with fresh ``mmap`` pages and returns
them on ``free``; a batch of 256 clips through the 2024 baseline allocates hundreds of MB of activations per
step, so the process spends much of each step in page faults (measured: 12 million minor faults and a third of
the CPU time in the kernel over two epochs; half the epoch time). Raising the mmap and trim thresholds to 2 GiB
keeps freed blocks in the heap for reuse. Threads other than the main one allocate from their own arenas, whose
heaps are at most 64 MiB, so larger blocks would still be mapped and unmapped every time: one arena for all
threads fixes that (Ray Tune runs a trial's function in a thread). Numerical results do not change; resident
memory stays at its peak. Set ``ASC_BENCH_KEEP_FREED_MEMORY=0`` to keep glibc's defaults.

A thread takes its arena at its first allocation, so the arena limit must be in place before a trial's threads
start: Ray workers get it from their environment (:func:`worker_environment`), the driver from
:func:`keep_freed_memory` called first thing.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
LIMIT = 2**31 - 1


def _enabled() -> bool:
    return sys.platform.startswith("linux") and os.environ.get("ASC_BENCH_KEEP_FREED_MEMORY") != "0"


def worker_environment() -> dict[str, str]:
    """The same settings as environment variables, for processes started later (Ray workers)."""
    if not _enabled():
        return {}
    return {"MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_THRESHOLD_": str(LIMIT), "MALLOC_TRIM_THRESHOLD_": str(LIMIT)}


def keep_freed_memory() -> bool:
    """Tune glibc's allocator for this process; ``False`` where there is no glibc (nothing changes there) or
    ``$ASC_BENCH_KEEP_FREED_MEMORY`` is ``0``."""
    if not _enabled():
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    settings = ((M_ARENA_MAX, 1), (M_MMAP_THRESHOLD, LIMIT), (M_TRIM_THRESHOLD, LIMIT))
    return all([bool(mallopt(parameter, value)) for parameter, value in settings])
