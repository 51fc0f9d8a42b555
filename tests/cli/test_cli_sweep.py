"""Command-line sweeps: ``--sweep`` and ``--set tune.space.…`` validated like a spec-written space, and a real
``run --sweep`` of two values that trains two configurations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import spec_file

CLI = [sys.executable, "-m", "asc_bench.cli"]
HOLD_OUT = "data.dataset.validation.fraction=0.2"  # a search chooses on validation scores


def cli(*args: str | Path, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "COLUMNS": "200", **env}
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=900, env=full)


def test_validate_takes_sweeps_and_checks_them_as_a_space(tmp_path: Path) -> None:
    spec = spec_file(tmp_path, tmp_path)
    lr = "tune.space.trainer.optimizer.lr={loguniform: [1e-4, 1e-2]}"
    done = cli("validate", spec, "--json", "--set", lr, "--sweep", "trainer.batch_size=32,64")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["space"] == {
        "trainer.optimizer.lr": {"loguniform": [0.0001, 0.01]},
        "trainer.batch_size": {"grid": [32, 64]},
    }
    typo = cli("validate", spec, "--sweep", "trainer.optimiser.lr=1e-3,3e-3")
    message = " ".join(typo.stderr.split())
    assert typo.returncode == 2 and "Traceback" not in message
    assert "error: --sweep trainer.optimiser.lr=1e-3,3e-3: tune.space.trainer.optimiser.lr:" in message
    assert "no field `trainer.optimiser.lr`" in message and "`trainer.optimizer.lr`" in message


@pytest.mark.slow
def test_run_with_a_sweep_of_two_values_trains_two_configurations(
    tmp_path: Path, synth_root: Path, cache_dir: Path
) -> None:
    spec = spec_file(tmp_path, synth_root, name="swept", extra="tune: {resources: {cpu: 1}}")
    sweep = ("--sweep", "trainer.optimizer.lr=1e-3,3e-3")
    done = cli("run", spec, "--set", HOLD_OUT, *sweep, "--no-leaderboard", ASC_BENCH_CACHE_DIR=str(cache_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    records = [json.loads(p.read_text()) for p in (tmp_path / "runs" / "swept").glob("*/*/record.json")]
    assert sorted(r["spec"]["trainer"]["optimizer"]["lr"] for r in records) == [0.001, 0.003]
    assert len({r["spec_hash"] for r in records}) == 2 and "configurations ranked on val_macro_acc" in done.stdout
