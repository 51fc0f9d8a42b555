"""Shared fixtures: one small synthetic dataset per session, one local Ray per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from asc_bench import registry

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _fresh_registry():
    """Each test sees the plugins installed at that moment (tests may add fake distributions)."""
    registry.discover.cache_clear()
    yield
    registry.discover.cache_clear()


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic dataset in the real TAU22 layout, written once per test session."""
    from asc_bench.synth import write_synthetic_dataset

    root = tmp_path_factory.mktemp("synth") / "TAU-synthetic"
    write_synthetic_dataset(root, seed=0)
    return root


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder shared by the session's tests (set through the environment, as users would)."""
    folder = tmp_path_factory.mktemp("cache")
    os.environ["ASC_BENCH_CACHE_DIR"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray for all tests that need it: 2 CPUs, no dashboard, short temp path."""
    import ray

    from asc_bench.tune import start_ray

    start_ray(num_cpus=2)
    yield ray
    ray.shutdown()
