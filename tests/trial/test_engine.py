"""One trial without Ray: determinism, resume from an epoch checkpoint, record content."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import spec_file
from helpers.trials import MemoryReporter, run_one_trial


@pytest.fixture(scope="module")
def two_epoch_spec(tmp_path_factory: pytest.TempPathFactory, synth_root: Path, cache_dir: Path) -> Path:
    return spec_file(tmp_path_factory.mktemp("engine"), synth_root, epochs="2")


@pytest.fixture(scope="module")
def first_run(two_epoch_spec: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    reporter = MemoryReporter()
    record = run_one_trial(two_epoch_spec, tmp_path_factory.mktemp("a") / "trial", reporter)
    return record, reporter


def test_record_has_scores_per_class_device_and_city(first_run, synth_root: Path) -> None:  # noqa: ANN001
    record, reporter = first_run
    assert [row["epoch"] for row in reporter.rows] == [1, 2]
    metrics = record.metrics
    assert set(metrics.per_device) == {"a", "b", "c", "s1", "s2", "s3", "s4", "s5", "s6"}
    assert metrics.seen_devices == ["a", "b", "c", "s1", "s2", "s3"]
    assert metrics.per_device["s4"].count > 0 and metrics.unseen_acc is not None
    assert len(metrics.per_class) == 10 and sum(map(sum, metrics.confusion)) == metrics.count
    assert 0.0 <= metrics.macro_acc <= 1.0 and metrics.log_loss > 0
    assert record.complexity.param_dtype == "float16"
    assert record.complexity.input_shape == [1, 64, 65]
    assert record.metrics_float32 is not None
    assert record.dataset.fingerprint and record.spec_hash
    assert (Path(record.trial_id).name == "trial") and record.environment["packages"]["torch"].startswith("2.14")


def test_tensorboard_events_are_written(first_run, tmp_path_factory: pytest.TempPathFactory) -> None:  # noqa: ANN001
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    record, _ = first_run
    folder = next(tmp_path_factory.getbasetemp().glob("a*/trial/tensorboard"))
    events = EventAccumulator(str(folder))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert "train/loss" in tags and "test/macro_acc" in tags and "per_device/s4" in tags
    assert [e.step for e in events.Scalars("train/loss")] == [1, 2]


def test_same_seed_gives_identical_metrics(first_run, two_epoch_spec: Path, tmp_path: Path) -> None:  # noqa: ANN001
    record, _ = first_run
    again = run_one_trial(two_epoch_spec, tmp_path / "trial", MemoryReporter())
    assert again.metrics == record.metrics
    assert [h["train_loss"] for h in again.history] == [h["train_loss"] for h in record.history]


def test_other_seed_gives_other_training(first_run, two_epoch_spec: Path, tmp_path: Path) -> None:  # noqa: ANN001
    record, _ = first_run
    other = run_one_trial(two_epoch_spec, tmp_path / "trial", MemoryReporter(), seed=2)
    assert other.history[0]["train_loss"] != record.history[0]["train_loss"]


def test_resume_from_epoch_checkpoint_equals_uninterrupted(first_run, two_epoch_spec: Path, tmp_path: Path) -> None:  # noqa: ANN001
    record, reporter = first_run
    resumed_reporter = MemoryReporter(start=reporter.states[0])
    resumed = run_one_trial(two_epoch_spec, tmp_path / "trial", resumed_reporter)
    assert [row["epoch"] for row in resumed_reporter.rows] == [2]
    assert resumed.metrics == record.metrics
