"""Experiment tracking: the `tracking` section (not in the hash), MLflow through Ray Tune's logger callback against
a real local file store (parameters, per-epoch metrics, the record as an artifact), a missing package refused."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from helpers import ROOT, spec_file
from rich.console import Console

from asc_bench.cli.progress import ConsoleRunListener
from asc_bench.core.errors import UserError
from asc_bench.runner import tracking
from asc_bench.spec.hashing import spec_hash
from asc_bench.spec.validate import load_spec


def test_flatten_gives_the_dotted_paths_set_takes() -> None:
    flat = tracking.flatten({"a": {"b": [1, {"c": "x"}], "d": {}, "e": None, "f": True}})
    assert flat == {"a.b.0": "1", "a.b.1.c": "x", "a.d": "{}", "a.e": "null", "a.f": "true"}


def test_a_folder_becomes_a_file_store_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert tracking.tracking_uri("mlruns") == (tmp_path / "mlruns").as_uri()
    assert tracking.tracking_uri("http://host:5000") == "http://host:5000"
    assert tracking.tracking_uri("sqlite:///x.db") == "sqlite:///x.db"
    assert tracking.tracking_uri(None) is None


def test_tracking_is_not_part_of_the_hash_and_left_out_of_dumps_while_empty() -> None:
    path = ROOT / "specs" / "quickstart.yaml"
    plain = load_spec(path)
    tracked = load_spec(path, ["tracking.mlflow={uri: mlruns}", "tracking.wandb={project: p, mode: offline}"])
    assert spec_hash(tracked) == spec_hash(plain)
    assert "tracking" not in plain.model_dump(mode="json")
    assert tracked.model_dump(mode="json")["tracking"]["mlflow"]["uri"] == "mlruns"


def test_a_tracker_whose_package_is_missing_is_refused_before_anything_runs(
    tmp_path: Path, synth_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asc_bench.runner.driver import run_spec

    monkeypatch.setattr(tracking, "PACKAGES", (("mlflow", "asc_bench_no_such_tracker"),))
    spec = load_spec(spec_file(tmp_path, synth_root), ["tracking.mlflow={uri: mlruns}"])
    with pytest.raises(UserError, match=r"tracking.mlflow.*package is not installed.*asc-bench\[mlflow\]"):
        run_spec(spec, listener=ConsoleRunListener(Console(file=io.StringIO())))
    assert not (tmp_path / "runs").exists() and not (tmp_path / "mlruns").exists()


def test_mlflow_gets_params_per_epoch_metrics_and_the_record(
    tmp_path: Path, synth_root: Path, cache_dir: Path, ray_local, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)  # the run opts in for the store the spec names

    from asc_bench.runner.driver import run_spec

    store = tmp_path / "mlruns"
    extra = f"tune: {{resources: {{cpu: 1}}}}\ntracking: {{mlflow: {{uri: {store}, experiment: tiny-exp}}}}"
    spec = load_spec(spec_file(tmp_path, synth_root, epochs="2", extra=extra))
    (record_path,) = run_spec(spec, listener=ConsoleRunListener(Console(file=io.StringIO())))

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # reading a file store, as docs/tracking.md says
    client = MlflowClient(store.as_uri())
    experiment = client.get_experiment_by_name("tiny-exp")
    (run,) = client.search_runs([experiment.experiment_id])
    params = run.data.params
    assert (params["trainer.epochs"], params["seed"], params["data.transforms.1.n_mels"]) == ("2", "1", "64")
    assert params["model.type"] == "baseline2024" and not any(key.startswith("tracking") for key in params)
    record = json.loads(record_path.read_text())
    history = client.get_metric_history(run.info.run_id, "test_macro_acc")
    assert [(m.step, m.value) for m in history] == [(row["epoch"], row["test_macro_acc"]) for row in record["history"]]
    assert [m.step for m in history] == [1, 2] and run.info.status == "FINISHED"
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["record.json"]
    artifact = client.download_artifacts(run.info.run_id, "record.json", str(tmp_path))
    assert json.loads(Path(artifact).read_text()) == record
