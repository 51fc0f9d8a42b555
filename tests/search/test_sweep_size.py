"""Large searches: each distinct configuration is validated once, progress is reported while they are, and a
plan above tune.max_trials is refused at once (through `asc-bench run`, before Ray or any data work)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers.tune import LR, run_cli, sweep_spec, user_error

import asc_bench.search.sweep as sweep
from asc_bench.core.errors import UserError
from asc_bench.spec.resolve import resolve_for_run
from asc_bench.spec.validate import load_spec


def _spec(tmp_path: Path, root: Path, **tune: object):  # noqa: ANN202
    return resolve_for_run(load_spec(sweep_spec(tmp_path, root, tune=tune)))


def test_a_huge_sweep_is_refused_at_once_through_the_cli(tmp_path: Path, synth_root: Path, cache_dir: Path) -> None:
    path = sweep_spec(tmp_path, synth_root, tune={"space": {LR: {"loguniform": [0.001, 0.01]}}})
    started = time.monotonic()
    result = run_cli("run", path, "--set", "tune.num_samples=100000", env={"ASC_BENCH_CACHE_DIR": str(cache_dir)})
    message = user_error(result, "tune.num_samples", "100,000 trials", "tune.max_trials (10,000)")
    assert "set tune.max_trials higher" in message
    assert time.monotonic() - started < 120 and "cache train" not in result.stdout  # before any data work


def test_max_trials_counts_grid_and_seeds_and_can_be_raised(tmp_path: Path, synth_root: Path) -> None:
    tune = {"space": {LR: {"grid": [0.001, 0.01, 0.1]}}, "max_trials": 5}
    path = sweep_spec(tmp_path, synth_root, seeds=[1, 2], tune=tune)
    with pytest.raises(UserError, match=r"6 trials \(1 samples x 3 grid combinations x 2 seed"):
        load_spec(path)
    assert sweep.plan_sweep(resolve_for_run(load_spec(path, ["tune.max_trials=6"]))).num_trials == 6
    huge = user_error(run_cli("validate", path, "--set", "tune.num_samples=100000000000"), "100,000,000,000")
    assert "--set tune.num_samples=100000000000: tune.num_samples" in huge  # `validate` refuses it too


def test_distinct_configurations_are_validated_once_with_progress(
    tmp_path: Path, synth_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated: list[dict] = []
    real = sweep.concrete_spec

    def counting(base, values, **kwargs):  # noqa: ANN001, ANN003, ANN202
        validated.append(values)
        return real(base, values, **kwargs)

    monkeypatch.setattr(sweep, "concrete_spec", counting)
    reports: list[tuple[int, int]] = []
    spec = _spec(tmp_path, synth_root, space={LR: {"grid": [0.001, 0.01]}}, num_samples=150)
    plan = sweep.plan_sweep(spec, progress=lambda done, total: reports.append((done, total)))
    assert len(plan.samples) == 300 and len(validated) == 2  # 300 samples of 2 distinct configurations
    assert reports == [(100, 300), (200, 300), (300, 300)]
    started = time.monotonic()
    random = _spec(tmp_path, synth_root, space={LR: {"loguniform": [0.001, 0.01]}}, num_samples=200)
    assert len(sweep.plan_sweep(random).samples) == 200
    assert time.monotonic() - started < 60  # ~5 ms a configuration (one spec model for all), not ~50
