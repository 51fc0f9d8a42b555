"""Machine-readable output through the real command line: ``--json`` on runs, plugins, cache ls, complexity and
validate, ``--out -`` on leaderboard and schema (JSON alone on standard output), and tables printed into a pipe
with whole numbers and names."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from helpers import ROOT, spec_file

CLI = [sys.executable, "-m", "asc_bench.cli"]


def cli(*args: str | Path, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """Run asc-bench with its output in pipes; $COLUMNS unset unless given."""
    base = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run(
        [*CLI, *map(str, args)], capture_output=True, text=True, timeout=600, cwd=cwd, env={**base, **env}
    )


def test_runs_on_a_fresh_checkout_says_there_is_nothing_yet(tmp_path: Path) -> None:
    done = cli("runs", cwd=tmp_path)  # the default folder, runs/, does not exist
    assert done.returncode == 0 and done.stdout.strip() == "no experiments yet under runs", done.stderr
    (tmp_path / "empty").mkdir()
    done = cli("runs", tmp_path / "empty", "--json")
    assert done.returncode == 0 and json.loads(done.stdout) == []


def test_runs_json_lists_the_experiment(finished_run: Path) -> None:
    root = finished_run.parents[2]
    done = cli("runs", root, "--json")
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert row["name"] == "finished" and row["status"] == "finished"
    assert (row["done"], row["total"], row["failed"]) == (1, 1, 0)
    assert row["folder"] == str(finished_run.parent.relative_to(root)) and row["started"].startswith("20")


def test_plugins_json() -> None:
    done = cli("plugins", "--json")
    assert done.returncode == 0, done.stderr
    plugins = json.loads(done.stdout)
    names = {(p["kind"], p["name"]) for p in plugins}
    assert {("dataset", "tau22"), ("cache", "memmap"), ("model", "cp_mobile"), ("trainer", "supervised")} <= names
    assert set(plugins[0]) == {
        *("kind", "name", "distribution", "version", "target", "description", "errors", "warnings", "conflicts")
    }


def test_cache_ls_json(tmp_path: Path) -> None:
    done = cli("cache", "ls", "--cache-dir", tmp_path, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"cache": "memmap", "folder": str(tmp_path), "entries": [], "size": 0}


def test_validate_json_and_an_error_leaves_stdout_empty(tmp_path: Path) -> None:
    spec = spec_file(tmp_path, tmp_path)
    done = cli("validate", spec, "--json")
    data = json.loads(done.stdout)
    assert done.returncode == 0 and data["ok"] is True and data["name"] == "tiny" and len(data["hash"]) == 16
    bad = cli("validate", spec, "--json", "--set", "trainer.epochs=ten")
    assert bad.returncode == 2 and bad.stdout == "" and "trainer.epochs" in bad.stderr


def test_complexity_json_and_80_columns_keep_every_number_whole(tmp_path: Path) -> None:
    spec = spec_file(tmp_path, tmp_path, model="{type: baseline2024}", transforms="    - {type: mel}")
    data = json.loads(cli("complexity", spec, "--json").stdout)
    assert (data["macs"], data["params"], data["param_bytes"]) == (29_419_156, 61_148, 122_296)
    assert data["limits"] == {"max_macs": 30_000_000, "max_param_bytes": 128_000, "param_dtype": "float16"}
    assert data["within_limits"] is True and sum(b["macs"] for b in data["blocks"]) == data["macs"]
    for args, rows in ((), data["blocks"]), (("--layers",), data["layers"]):
        done = cli("complexity", spec, *args, COLUMNS="80")
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert max(map(len, lines)) <= 80 and "…" not in done.stdout
        figures = [data["macs"], data["params"], data["param_bytes"], data["flop_counter_macs"], 30_000_000]
        figures += [row[key] for row in rows for key in ("params", "macs", "flop_counter_macs") if row[key]]
        words = set(done.stdout.split())
        assert all(f"{n:,}" in words for n in figures), [f"{n:,}" for n in figures if f"{n:,}" not in words]
        assert re.search(r"^\[1\] BatchNorm: torchinfo counts", done.stdout, re.M)  # the note, once, as a footnote
        assert done.stdout.count("BatchNorm: torchinfo") == 1
        if not args:  # the summary: a screenful
            assert len(lines) < 30 and "stem" in done.stdout and "within limits" in done.stdout


def test_schema_out_dash_is_standard_output(tmp_path: Path) -> None:
    done = cli("schema", "--of", "record", "--out", "-", cwd=tmp_path)
    assert done.returncode == 0 and "properties" in json.loads(done.stdout)
    assert not (tmp_path / "-").exists()


def test_leaderboard_json_to_standard_output_alone(finished_run: Path, tmp_path: Path) -> None:
    entries = ROOT / "leaderboard" / "entries"
    done = cli("leaderboard", finished_run, "--entries-dir", entries, "--format", "json", "--out", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    board = json.loads(done.stdout)  # nothing but the JSON: no table, no "wrote"
    assert board["format"] == "asc-bench leaderboard" and any(t["kind"] == "measured" for t in board["tables"])
    assert list(tmp_path.iterdir()) == []  # no file named "-"
    markdown = cli("leaderboard", finished_run, "--no-entries", "--format", "md", "--out", "-", cwd=tmp_path)
    assert markdown.returncode == 0 and markdown.stdout.startswith("#") and "finished" in markdown.stdout
    two = cli("leaderboard", finished_run, "--format", "md", "--format", "csv", "--out", "-", cwd=tmp_path)
    assert two.returncode == 2 and "Give exactly one --format" in two.stderr and "Traceback" not in two.stderr
    folder = cli("leaderboard", finished_run, "--no-entries", "--format", "csv", "--out-dir", "new", cwd=tmp_path)
    assert folder.returncode == 0 and (tmp_path / "new" / "leaderboard.csv").is_file()  # a folder, made for it


def test_tables_in_a_pipe_print_whole_numbers_and_names(finished_run: Path) -> None:
    done = cli("leaderboard", finished_run, "--entries-dir", ROOT / "leaderboard" / "entries", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout and "DCASE 2022/2023 baseline" in done.stdout
    board = json.loads(cli("leaderboard", finished_run, "--format", "json", "--out", "-", cwd=ROOT).stdout)
    for table in board["tables"]:
        for entry in table["entries"]:
            assert entry["name"] in done.stdout
            assert f"{entry['complexity']['param_bytes'] / 1000:.1f}" in done.stdout
    runs = cli("runs", finished_run.parents[2])
    assert runs.returncode == 0 and "…" not in runs.stdout and "finished" in runs.stdout


def test_predict_out_dash_writes_the_logits_file_to_standard_output(finished_run: Path, tmp_path: Path) -> None:
    from asc_bench.api.logits import load_logits

    done = subprocess.run(
        [*CLI, "predict", str(finished_run), "--out", "-"], capture_output=True, timeout=600, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b"wrote standard output: logits of" in done.stderr and b"accuracy of these logits" in done.stderr
    (tmp_path / "piped.pt").write_bytes(done.stdout)
    logits = load_logits(tmp_path / "piped.pt")
    assert len(logits.clip_ids) == logits.logits.shape[0] > 0 and len(logits.class_names) == 10
    assert not (tmp_path / "-").exists()
