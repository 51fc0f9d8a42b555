"""Careless spec input through `asc-bench validate`: control characters, names that leave the output folder,
repeated seeds, and --set values whose errors name the --set argument."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ROOT

CLI = [sys.executable, "-m", "asc_bench.cli"]


def _validate(spec: Path, *args: str) -> str:
    """Run `asc-bench validate`; the one-paragraph error (exit 2, no traceback)."""
    env = {**os.environ, "COLUMNS": "300"}
    done = subprocess.run([*CLI, "validate", str(spec), *args], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stderr


def _quickstart(tmp_path: Path, **changes: object) -> Path:
    spec = yaml.safe_load((ROOT / "specs" / "quickstart.yaml").read_text())
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({**spec, **changes}, sort_keys=False))
    return path


@pytest.mark.parametrize("char", ["\x00", "\x1b"])
def test_control_characters_are_named_with_their_position(tmp_path: Path, char: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text((ROOT / "specs" / "quickstart.yaml").read_text().replace("name: ", f"name: x{char}", 1))
    error = _validate(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if char in text)
    assert f"{path}:{line}:" in error and f"U+{ord(char):04X}" in error


@pytest.mark.parametrize("name", [".", ".."])
def test_names_that_are_not_a_folder_inside_the_output_are_refused(tmp_path: Path, name: str) -> None:
    error = _validate(_quickstart(tmp_path, name=name))
    assert f"{tmp_path / 'spec.yaml'}:1:1: name" in error and "output folder" in error
    assert "--set name" in _validate(_quickstart(tmp_path), "--set", f"name={name}")


def test_repeated_seeds_are_refused(tmp_path: Path) -> None:
    error = _validate(_quickstart(tmp_path, seeds=[1, 2, 1]))
    assert "seeds" in error and "seed 1 is listed more than once" in error


def test_set_value_errors_point_at_the_set_argument(tmp_path: Path) -> None:
    spec = _quickstart(tmp_path)
    error = _validate(spec, "--set", "trainer.epochs=-3")
    assert "--set trainer.epochs=-3: trainer.epochs" in error and f"{spec}:" not in error
    nested = _validate(spec, "--set", "trainer={type: supervised, epochs: 0}")
    assert "--set trainer={type: supervised, epochs: 0}: trainer.epochs" in nested
    from_file = _validate(_quickstart(tmp_path, trainer={"type": "supervised", "epochs": 0}), "--set", "seeds=[3]")
    assert f"{spec}:" in from_file and "trainer.epochs" in from_file  # the file's own error keeps its line
