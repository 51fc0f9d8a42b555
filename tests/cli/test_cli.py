"""The command line, as a user runs it (subprocesses): help, validate, complexity and every bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import spec_file

CLI = [sys.executable, "-m", "asc_bench.cli"]


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    message = " ".join(result.stderr.split())
    for fragment in fragments:
        assert fragment in message, message


def test_help_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("run", "validate", "complexity", "leaderboard", "plugins", "schema", "data"):
        assert command in result.stdout


def test_plugins_lists_every_kind() -> None:
    result = subprocess.run(
        [*CLI, "plugins"], capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"}
    )
    assert result.returncode == 0
    for name in ("tau22", "memmap", "mel", "freq_mixstyle", "baseline2024", "cp_mobile", "supervised"):
        assert name in result.stdout


def test_validate_good_spec(tmp_path: Path) -> None:
    result = run_cli("validate", spec_file(tmp_path, tmp_path))
    assert result.returncode == 0 and "ok" in result.stdout


def test_schema_is_json_with_plugin_options(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert run_cli("schema", "--out", out).returncode == 0
    assert '"n_mels"' in out.read_text() and '"baseline2024"' in out.read_text()


def test_complexity_table_shows_published_totals(tmp_path: Path) -> None:
    spec = spec_file(tmp_path, tmp_path, model="{type: baseline2024}", transforms="    - {type: mel}")
    result = subprocess.run(
        [*CLI, "complexity", str(spec)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    assert "29,419,156" in result.stdout and "61,148" in result.stdout and "within limits" in result.stdout


def test_malformed_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ndata: {dataset: [\n")
    assert_user_error(run_cli("validate", path), "bad.yaml:3:1", "not valid YAML")


def test_unknown_field(tmp_path: Path) -> None:
    path = spec_file(tmp_path, tmp_path, extra="limts: {preset: dcase}")
    assert_user_error(run_cli("validate", path), "spec.yaml:13:1: limts: unknown field")


def test_unknown_plugin(tmp_path: Path) -> None:
    path = spec_file(tmp_path, tmp_path, model="{type: cpmobile}")
    assert_user_error(run_cli("validate", path), "model.type", "no model plugin named 'cpmobile'", "cp_mobile")


def test_wrong_type(tmp_path: Path) -> None:
    path = spec_file(tmp_path, tmp_path, epochs="ten")
    assert_user_error(run_cli("validate", path), "trainer.epochs", "valid integer", "'ten'")


def test_wrong_override(tmp_path: Path) -> None:
    assert_user_error(run_cli("validate", spec_file(tmp_path, tmp_path), "--set", "trainer.epochs"), "path=value")


def test_missing_dataset_root_writes_nothing(tmp_path: Path) -> None:
    path = spec_file(tmp_path, tmp_path / "nowhere")
    assert_user_error(run_cli("run", path), "nowhere", "meta.csv", "asc-bench data synth")
    assert not (tmp_path / "runs").exists()


def test_model_over_the_limits_is_refused_before_any_data_work(tmp_path: Path) -> None:
    path = spec_file(tmp_path, tmp_path / "nowhere", model="{type: cp_resnet}", transforms="    - {type: mel}")
    result = run_cli("run", path)
    assert_user_error(result, "MACs", "30,000,000", "limits")
    assert "nowhere" not in result.stderr  # refused before the dataset was looked at
    assert not (tmp_path / "runs").exists()


def test_missing_spec_file(tmp_path: Path) -> None:
    assert_user_error(run_cli("validate", tmp_path / "nope.yaml"), "nope.yaml", "does not exist")


@pytest.mark.parametrize("command", ["leaderboard"])
def test_leaderboard_without_records(command: str, tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    assert_user_error(run_cli(command, tmp_path / "runs"), "no result records")
