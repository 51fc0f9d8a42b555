"""The whole spine as a user drives it: spec → Ray Tune (two seeds) → records → leaderboard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import spec_file

CLI = [sys.executable, "-m", "asc_bench.cli"]


@pytest.mark.slow
def test_run_writes_records_and_a_leaderboard(tmp_path: Path, synth_root: Path, cache_dir: Path) -> None:
    spec = spec_file(tmp_path, synth_root, seeds="[1, 2]", extra="tune: {resources: {cpu: 1}}")
    env = {**os.environ, "COLUMNS": "120", "ASC_BENCH_CACHE_DIR": str(cache_dir)}
    result = subprocess.run(
        [*CLI, "run", str(spec), "--set", "name=e2e"], capture_output=True, text=True, timeout=900, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "within limits" in result.stdout and "wrote 2 result record(s)" in result.stdout

    records = sorted((tmp_path / "runs" / "e2e").glob("*/*/record.json"))
    assert len(records) == 2
    data = [json.loads(p.read_text()) for p in records]
    assert sorted(r["seed"] for r in data) == [1, 2]
    assert data[0]["spec_hash"] == data[1]["spec_hash"]
    for record in data:
        assert record["schema_version"] == 2
        assert record["complexity"]["input_shape"] == [1, 64, 65]
        assert set(record["metrics"]["per_device"]) == {"a", "b", "c", "s1", "s2", "s3", "s4", "s5", "s6"}
        cities = {name for name, score in record["metrics"]["per_city"].items() if score["count"]}
        assert cities == {"barcelona", "helsinki", "lisbon"}
        assert record["history"][0]["epoch"] == 1
        assert (p := records[0].parent / "tensorboard").is_dir() and any(p.iterdir())

    markdown = tmp_path / "board.md"
    board = subprocess.run(
        [*CLI, "leaderboard", str(tmp_path / "runs"), "--no-entries", "--markdown", str(markdown)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert board.returncode == 0, board.stderr
    assert "e2e" in board.stdout and "per device" in board.stdout
    text = markdown.read_text()
    mean = sum(r["metrics"]["macro_acc"] for r in data) / 2
    assert f"{100 * mean:.2f} ±" in text
    assert "### Per device" in text and "### Per city" in text and "| s6 † |" in text  # † unseen in training
    assert "| lisbon |" in text and "vienna" not in text  # cities without clips are not shown
