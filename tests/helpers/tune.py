"""Helpers of the Ray Tune tests: tiny search specs on the synthetic dataset, CLI runs and their records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

CLI = [sys.executable, "-m", "asc_bench.cli"]
LR = "trainer.optimizer.lr"
PIPES: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}


def sweep_spec(folder: Path, root: Path, *, name: str = "sw", tune: dict[str, Any] | None = None, **top: Any) -> Path:
    """A tiny spec with a validation split and a search over the learning rate, written to folder/NAME.yaml."""
    spec: dict[str, Any] = {
        "name": name,
        "seeds": [1],
        "data": {
            "dataset": {"type": "tau22", "root": str(root), "validation": {"fraction": 0.2}},
            "transforms": [{"type": "mel", "n_mels": 64}],
        },
        "model": {"type": "baseline2024", "base_channels": 16},
        "trainer": {"type": "supervised", "epochs": 2, "batch_size": 64, "schedule": {"type": "cosine"}},
        "output": {"dir": str(folder / "runs")},
        "tune": {"resources": {"cpu": 1}, "space": {LR: {"grid": [0.001, 0.01]}}, **(tune or {})},
        **top,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def run_cli(*args: Any, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=full_env)


def records(runs: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """Every record under ``runs`` by (spec hash, seed)."""
    found = {}
    for path in runs.rglob("record.json"):
        record = json.loads(path.read_text())
        found[(record["spec_hash"], record["seed"])] = record
    return found


def user_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    message = " ".join(result.stderr.split())
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for fragment in fragments:
        assert fragment in message, message
    return message
