"""The trial on a CUDA GPU (skipped without one): the model, batches and metrics on the GPU, every data path
giving the same rows, fp16 with its scaler, deterministic runs identical, fractional GPUs through `asc-bench run`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import spec_file
from helpers.gpu import NEEDS_CUDA
from helpers.trials import MemoryReporter, run_one_trial
from helpers.tune import run_cli

from asc_bench.data.prepare import prepare_data
from asc_bench.data.setup import build_data
from asc_bench.records.io import read_record
from asc_bench.spec.validate import load_spec

pytestmark = NEEDS_CUDA
GPU = torch.device("cuda", 0)


def test_rows_are_the_same_on_every_path(synth_root: Path, tmp_path: Path, cache_dir: Path) -> None:
    setup = build_data(load_spec(spec_file(tmp_path, synth_root)))
    prepare_data(setup)
    train = setup.split("train")
    order = [np.random.default_rng(0).permutation(len(train))[i : i + 64] for i in range(0, len(train), 64)]
    host = [rows.to(GPU) for rows in train.rows.batches(order)]
    for path in ("resident", "streamed"):
        got = list(train.placed(GPU, path).rows.batches(order))
        assert all(torch.equal(a, b) and b.device == GPU for a, b in zip(host, got, strict=True)), path


def test_a_trial_trains_on_the_gpu_and_records_it(synth_root: Path, tmp_path: Path, cache_dir: Path) -> None:
    spec = spec_file(tmp_path, synth_root, epochs="2", extra="runtime: {device: cuda}")
    record = run_one_trial(spec, tmp_path / "trial", MemoryReporter())
    env = record.environment
    assert env["device"] == "cuda:0" and env["data_path"]["train"] == "resident"
    assert env["precision"] == ("bf16" if torch.cuda.is_bf16_supported() else "fp32")
    assert env["peak_memory_bytes"] > 0 and record.history[-1]["train_loss"] > 0
    assert record.metrics.macro_acc is not None


def test_fp16_trains_with_its_scaler(synth_root: Path, tmp_path: Path, cache_dir: Path) -> None:
    spec = spec_file(tmp_path, synth_root, extra="runtime: {device: cuda, precision: fp16, data_on_device: never}")
    record = run_one_trial(spec, tmp_path / "trial", MemoryReporter())
    assert record.environment["precision"] == "fp16" and record.environment["data_path"]["train"] == "streamed"
    assert np.isfinite(record.history[-1]["train_loss"])


def test_deterministic_runs_on_one_gpu_are_identical(synth_root: Path, tmp_path: Path, cache_dir: Path) -> None:
    spec = spec_file(tmp_path, synth_root, epochs="2", extra="runtime: {device: cuda, deterministic: true}")
    a = run_one_trial(spec, tmp_path / "a", MemoryReporter())
    b = run_one_trial(spec, tmp_path / "b", MemoryReporter())
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    assert a.metrics == b.metrics


def test_four_trials_share_one_gpu_through_asc_bench_run(synth_root: Path, tmp_path: Path, cache_dir: Path) -> None:
    pytest.importorskip("ray")
    extra = "runtime: {device: auto}\ntune: {resources: {cpu: 1, gpu: 0.25}}"
    spec = spec_file(tmp_path, synth_root, name="shared", seeds="[1, 2, 3, 4]", extra=extra)
    done = run_cli("run", spec, "--no-leaderboard", env={"ASC_BENCH_CACHE_DIR": str(cache_dir)})
    assert done.returncode == 0, done.stdout + done.stderr
    records = [read_record(p) for p in (tmp_path / "runs" / "shared").glob("*/*/record.json")]
    assert len(records) == 4
    for record in records:
        assert record.environment["device"] == "cuda:0" and record.environment["memory_fraction"] == 0.25
        assert 0 < record.environment["peak_memory_bytes"] <= 0.25 * torch.cuda.get_device_properties(0).total_memory
