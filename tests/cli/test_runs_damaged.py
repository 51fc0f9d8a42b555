"""`asc-bench runs` over an output folder where one experiment.json is damaged: the others are listed, the
damaged one is skipped with a warning whose advice keeps the records beside it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from asc_bench.records.layout import EXPERIMENT_STATE, RECORD_NAME
from asc_bench.runner.experiments import new_state, write_state

CLI = [sys.executable, "-m", "asc_bench.cli"]


def test_a_damaged_experiment_is_skipped_with_a_warning(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    good = runs / "good" / "20250101-000000"
    good.mkdir(parents=True)
    write_state(good, new_state("good", {"name": "good"}, str(runs / "good" / "tune"), None, 1))
    damaged = runs / "bad" / "20250101-000000"
    (damaged / "seed1-x").mkdir(parents=True)
    (damaged / "seed1-x" / RECORD_NAME).write_text("{}")  # a trial's record that must not be deleted
    (damaged / EXPERIMENT_STATE).write_text('{"name": "bad", "status": "runn')
    env = {**os.environ, "COLUMNS": "250"}
    done = subprocess.run([*CLI, "runs", str(runs)], capture_output=True, text=True, timeout=300, env=env)
    out = " ".join((done.stdout + done.stderr).split())  # the warning goes to standard error
    assert done.returncode == 0 and "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert f"skipped: {damaged / EXPERIMENT_STATE}: cannot read the experiment state" in out
    assert "good" in out and "0/1" in out  # the valid experiment is listed
    assert "delete only this file" in out and "delete the experiment folder" not in out
