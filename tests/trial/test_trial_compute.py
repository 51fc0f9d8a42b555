"""The device-generic trial on the CPU: every data path gives the metrics of the host path exactly, and the
record says where and how the trial computed."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import spec_file
from helpers.trials import MemoryReporter, run_one_trial

import asc_bench.trial.compute as compute_module
from asc_bench.records.schema import ResultRecord


@pytest.fixture(scope="module")
def host_run(tmp_path_factory: pytest.TempPathFactory, synth_root: Path, cache_dir: Path) -> ResultRecord:
    spec = spec_file(tmp_path_factory.mktemp("host"), synth_root, epochs="2")
    return run_one_trial(spec, tmp_path_factory.mktemp("host-trial") / "trial", MemoryReporter())


def _same_training(a: ResultRecord, b: ResultRecord) -> None:
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    assert a.metrics == b.metrics and a.metrics_float32 == b.metrics_float32
    assert a.spec_hash == b.spec_hash


def test_the_cpu_trial_records_its_compute(host_run: ResultRecord) -> None:
    env = host_run.environment
    assert env["device"] == "cpu" and env["precision"] == "fp32" and env["deployed_on"] == "cpu"
    assert env["data_path"] == {"train": "host", "test": "host"} and env["peak_memory_bytes"] is None
    assert env["drop_last"] is False and env["memory_fraction"] is None


def test_a_resident_split_trains_exactly_as_the_host_path(
    host_run: ResultRecord, synth_root: Path, tmp_path: Path
) -> None:
    spec = spec_file(tmp_path, synth_root, epochs="2", extra="runtime: {device: cpu, data_on_device: always}")
    resident = run_one_trial(spec, tmp_path / "trial", MemoryReporter())
    assert resident.environment["data_path"] == {"train": "resident", "test": "resident"}
    _same_training(host_run, resident)


def test_streamed_batches_train_exactly_as_the_host_path(
    host_run: ResultRecord, synth_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compute_module, "choose_path", lambda *args: "streamed")  # what a GPU without room takes
    spec = spec_file(tmp_path, synth_root, epochs="2")
    streamed = run_one_trial(spec, tmp_path / "trial", MemoryReporter())
    assert streamed.environment["data_path"] == {"train": "streamed", "test": "streamed"}
    _same_training(host_run, streamed)


def test_the_progress_line_names_device_precision_and_paths() -> None:
    import torch

    compute = compute_module.Compute(torch.device("cuda", 0), 0.25, {"train": "resident", "test": "streamed"}, "bf16")
    assert compute.describe() == "cuda:0 bf16 (memory bound 0.25), train resident, test streamed"
