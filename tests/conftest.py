"""Shared fixtures: one small synthetic dataset, cache folder, finished run and DCASE 2025 run per test run (made
once even under pytest-xdist: helpers.shared), one local Ray per worker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import spec_file
from helpers.shared import made_once

from asc_bench.plugins import registry


@pytest.fixture(autouse=True)
def _fresh_registry():
    """Each test sees the plugins installed at that moment (tests may add fake distributions)."""
    registry.discover.cache_clear()
    yield
    registry.discover.cache_clear()


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic dataset in the real TAU22 layout, written once per test run (helpers.shared)."""
    from asc_bench_plugins.datasets.tau22.synth import write_synthetic_dataset

    def make(folder: Path) -> None:
        write_synthetic_dataset(folder / "TAU-synthetic", seed=0, cities=3)  # 900 clips: every class and device

    return made_once(tmp_path_factory, "synth", make) / "TAU-synthetic"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder shared by the run's tests, on every worker (set through the environment, as users would)."""
    folder = made_once(tmp_path_factory, "cache", lambda folder: None)
    os.environ["ASC_BENCH_CACHE_DIR"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray for all tests that need it: 2 CPUs, no dashboard, short temp path."""
    import ray

    from asc_bench.runner.tune import start_ray

    start_ray(num_cpus=2)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory: pytest.TempPathFactory, synth_root: Path, cache_dir: Path) -> Path:
    """The trial folder (record.json, model.pt) of one tiny run made by `asc-bench run` (1 seed, 1 epoch)."""
    import subprocess
    import sys

    def make(folder: Path) -> None:
        spec = spec_file(folder, synth_root, name="finished", extra="tune: {resources: {cpu: 1}}")
        env = {**os.environ, "ASC_BENCH_CACHE_DIR": str(cache_dir)}
        done = subprocess.run(
            [sys.executable, "-m", "asc_bench.cli", "run", str(spec), "--no-leaderboard"],
            capture_output=True,
            text=True,
            timeout=900,
            env=env,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    folder = made_once(tmp_path_factory, "finished", make)
    (record,) = (folder / "runs" / "finished").glob("*/*/record.json")
    return record.parent


@pytest.fixture(scope="session")
def run2025(tmp_path_factory: pytest.TempPathFactory, synth_root: Path, cache_dir: Path) -> Path:
    """The folder (spec.yaml, runs/) of one DCASE 2025 run by `asc-bench run`: general model, two device models
    (helpers.dcase2025), the device-specific system; 1 seed, 2 + 1 epochs."""
    from helpers.dcase2025 import asc_bench, spec_2025

    def make(folder: Path) -> None:
        done = asc_bench("run", str(spec_2025(folder, synth_root)), "--no-leaderboard", cache_dir=cache_dir)
        assert done.returncode == 0, done.stdout + done.stderr

    return made_once(tmp_path_factory, "dcase2025", make)
