"""asc_bench.core.allocator: freed large buffers stay in the process instead of being faulted in again each time."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import resource, threading
from asc_bench.core.allocator import keep_freed_memory
tuned = keep_freed_memory()
import torch

def steps():  # in a thread of its own, as Ray Tune runs a trial
    for _ in range(5):  # warm-up: the heap grows to its working size
        torch.ones(25_000_000).sum()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        torch.ones(25_000_000).sum()  # 100 MB allocated, touched and freed, like a step's activations
    print(tuned, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)

thread = threading.Thread(target=steps)
thread.start()
thread.join()
"""


def _faults(**env: str) -> tuple[bool, int]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env={**os.environ, **env}, check=True
    )
    tuned, faults = done.stdout.split()
    return tuned == "True", int(faults)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_kept_memory_is_not_faulted_in_again() -> None:
    tuned, faults = _faults()
    untuned, default_faults = _faults(ASC_BENCH_KEEP_FREED_MEMORY="0")
    assert tuned and not untuned
    pages = 100_000_000 // 4096
    assert default_faults > 10 * pages, "glibc's defaults fault every buffer in again"
    # kept memory is faulted in again only when the heap must grow around something else (rarely; seen twice in 20)
    assert faults * 4 < default_faults and faults < 5 * pages, "kept memory is mostly not faulted in again"


def test_ray_workers_start_with_the_same_settings(ray_local) -> None:  # noqa: ANN001
    from asc_bench.core.allocator import worker_environment

    @ray_local.remote
    def environment() -> dict[str, str]:
        return {key: os.environ.get(key, "") for key in worker_environment()}

    assert worker_environment()["MALLOC_ARENA_MAX"] == "1"
    assert ray_local.get(environment.remote()) == worker_environment()
