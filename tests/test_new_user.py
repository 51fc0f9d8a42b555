"""The new user's path (issue 15, "Done when"): a pip-installed asc-bench (a wheel built from this checkout, installed
into a fresh virtual environment that borrows the project's dependencies) → `asc-bench init --recipe quickstart`
outside any checkout → the spec extended and overridden → `asc-bench run` with MLflow tracking to a file store →
the MLflow runs read back → `asc_bench.load_records` as a pandas DataFrame with per-device columns."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from helpers import ROOT

import asc_bench

SOURCES = ("asc_bench", "plugins", "pyproject.toml", "README.md")
"""What a wheel is built from (copied, so that the build writes nothing into the checkout)."""


def _installed_venv(tmp: Path) -> Path:
    """A new virtual environment holding asc-bench from its wheel; the project's site-packages, appended to its path
    by a .pth file, lend the dependencies (their .pth files, such as the editable install's, are not run)."""
    source = tmp / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    wheels = tmp / "wheels"
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels), str(source)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = Path(
        subprocess.check_output(
            [venv / "bin" / "python", "-c", "import site; print(site.getsitepackages()[0])"], text=True
        ).strip()
    )
    borrowed = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (site / "zz_project_dependencies.pth").write_text("\n".join(borrowed) + "\n")
    (wheel,) = wheels.glob("asc_bench-*.whl")
    install = [*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps", "--no-index", str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    return venv


@pytest.mark.slow
def test_from_pip_install_to_mlflow_and_pandas(
    tmp_path: Path, synth_root: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # reading a file store, as docs/tracking.md says

    venv = _installed_venv(tmp_path)
    home = tmp_path / "project"  # the user's own folder: no checkout, no specs/ here
    home.mkdir()
    env = {**os.environ, "COLUMNS": "160", "ASC_BENCH_CACHE_DIR": str(cache_dir), "PYTHONPATH": ""}
    where = subprocess.check_output(
        [venv / "bin" / "python", "-c", "import asc_bench; print(asc_bench.__file__)"], cwd=home, env=env, text=True
    )
    assert Path(where).is_relative_to(venv) and not Path(where).is_relative_to(ROOT / "asc_bench"), where

    cli = str(venv / "bin" / "asc-bench")
    init = subprocess.run(
        [cli, "init", "--recipe", "quickstart", "my.yaml"],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    spec = home / "my.yaml"
    assert spec.read_text().startswith("# yaml-language-server: $schema=asc-bench.schema.json\n")
    assert (home / "asc-bench.schema.json").is_file()
    with spec.open("a") as file:  # the user's edits: their data, a smaller front end and model, two epochs, MLflow
        file.write(
            f"data:\n  dataset: {{root: {synth_root}}}\n"
            "  transforms: [{type: roll, max_shift_s: 0.1}, {type: mel, n_mels: 64}, {type: freq_mask, max_bins: 8}]\n"
            "model: {base_channels: 16}\n"
            "trainer: {epochs: 2, batch_size: 64}\n"
            "tune: {resources: {cpu: 1}}\n"
            "tracking: {mlflow: {uri: mlruns}}\n"
        )
    run = subprocess.run(
        [cli, "run", "my.yaml", "--no-leaderboard"], cwd=home, env=env, capture_output=True, text=True, timeout=900
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "wrote 1 result record(s)" in run.stdout

    client = MlflowClient((home / "mlruns").as_uri())
    (mlflow_run,) = client.search_runs([client.get_experiment_by_name("my").experiment_id])
    assert mlflow_run.data.params["trainer.epochs"] == "2" and mlflow_run.data.params["model.base_channels"] == "16"
    assert [m.step for m in client.get_metric_history(mlflow_run.info.run_id, "test_macro_acc")] == [1, 2]
    assert [a.path for a in client.list_artifacts(mlflow_run.info.run_id)] == ["record.json"]

    frame = asc_bench.load_records(home / "runs" / "my")
    assert len(frame) == 1 and frame.loc[0, "name"] == "my" and frame.loc[0, "seed"] == 1
    devices = {column for column in frame.columns if column.startswith("device.")}
    assert {"device.a", "device.s6"} <= devices
    (record,) = (home / "runs" / "my").glob("*/*/record.json")
    assert frame.loc[0, "macro_acc"] == pytest.approx(json.loads(record.read_text())["metrics"]["macro_acc"])
