"""`asc-bench reproduce`: the comparison rules, the spec checks, and a real re-run of a short run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.records import make_metrics, make_record
from rich.console import Console

from asc_bench.cli.tables import print_checks
from asc_bench.core.errors import UserError
from asc_bench.records.io import read_record
from asc_bench.records.schema import ResultRecord
from asc_bench.runner.reproduce import compare, reproduction_spec

CLI = [sys.executable, "-m", "asc_bench.cli"]


def failed(checks) -> list[str]:
    return [c.name for c in checks if not c.ok]


def with_metrics(record: ResultRecord, **changes) -> ResultRecord:
    data = record.model_dump()
    for path, value in changes.items():
        node = data
        *parents, last = path.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    return ResultRecord.model_validate(data)


def test_identical_records_pass_exactly():
    record = make_record(seed=1)
    record.metrics_float32 = record.metrics
    checks = compare(record, make_record(seed=1).model_copy(update={"metrics_float32": record.metrics}), 0.0)
    assert failed(checks) == []
    total = sum(c.count for c in checks)
    assert total == 1 + 3 + 2 * (6 + 3 * (10 + 9 + 10) + (10 + 100))  # data, complexity, both metric sets
    console = Console(record=True, width=160)
    assert print_checks(checks, 0.0, console)
    text = console.export_text()
    assert f"all {total} figures match" in text and "tolerance exact" in text


def test_any_difference_fails_at_tolerance_zero():
    record = make_record(seed=1)
    again = with_metrics(record, metrics__macro_acc=record.metrics.macro_acc + 1e-12)
    assert failed(compare(record, again, 0.0)) == ["macro_acc"]
    assert failed(compare(record, again, 1e-9)) == []
    device = with_metrics(record, metrics__per_device__s6__acc=0.40)
    assert failed(compare(record, device, 0.0)) == ["per_device"]
    assert failed(compare(record, device, 0.1)) == []  # 0.4858 vs 0.40
    console = Console(record=True, width=160)
    assert not print_checks(compare(record, device, 0.0), 0.0, console)
    text = console.export_text()
    assert "FAIL" in text and "not reproduced: per_device" in text


def test_counts_and_complexity_must_match_whatever_the_tolerance():
    record = make_record(seed=1)
    clips = with_metrics(record, metrics__per_city__lyon__count=2000)
    assert failed(compare(record, clips, 0.5)) == ["per_city"]
    confusion = [row[:] for row in record.metrics.confusion]
    confusion[0][0] -= 1  # one clip fewer in class 0
    assert failed(compare(record, with_metrics(record, metrics__confusion=confusion), 0.5)) == ["confusion"]
    moved = [row[:] for row in record.metrics.confusion]
    moved[0][0], moved[0][1] = moved[0][0] - 3, moved[0][1] + 3  # three clips predicted differently
    assert failed(compare(record, with_metrics(record, metrics__confusion=moved), 0.0)) == ["confusion"]
    assert failed(compare(record, with_metrics(record, metrics__confusion=moved), 0.01)) == []
    bigger = with_metrics(record, complexity__macs=record.complexity.macs + 1)
    assert failed(compare(record, bigger, 1.0)) == ["complexity.macs"]


def test_data_and_missing_float32_are_checked():
    record = make_record(seed=1)
    other = make_record(seed=1, fingerprint="0000")
    assert failed(compare(record, other, 0.0)) == ["data"]
    record.dataset.identity = other.dataset.identity = "synthetic (v1)"  # same content on another machine
    assert failed(compare(record, other, 0.0)) == []
    record.metrics_float32 = ResultRecord.model_validate({**record.model_dump(), "metrics": make_metrics(0.5)}).metrics
    assert failed(compare(record, other, 0.0)) == ["float32 metrics"]


def test_reproduction_spec_checks(finished_run: Path, tmp_path: Path):
    record = read_record(finished_run / "record.json")
    spec = reproduction_spec(record, [], tmp_path, source="r.json")
    assert spec.seeds == [record.seed] and spec.output.dir == tmp_path
    renamed = reproduction_spec(record, ["name=again"], tmp_path, source="r.json")  # outside the hash
    assert renamed.name == "again"
    with pytest.raises(UserError, match="hashes to .* but the record says") as info:
        reproduction_spec(record, ["trainer.epochs=2"], tmp_path, source="r.json")
    assert "r.json" in str(info.value)
    moved = record.model_copy(deep=True)
    moved.spec["data"]["dataset"]["root"] = str(tmp_path / "elsewhere")
    with pytest.raises(UserError, match="data.dataset.root .* does not exist") as info:
        reproduction_spec(moved, [], tmp_path, source="r.json")
    assert "--set data.dataset.root=PATH" in str(info.value)


def test_reproduce_cli_reruns_and_compares(finished_run: Path, tmp_path: Path, cache_dir: Path):
    """One real re-run: every figure matches exactly except the one edited in the record, so exit status 1."""
    data = json.loads((finished_run / "record.json").read_text())
    data["metrics"]["per_device"]["s6"]["acc"] += 0.01
    edited = tmp_path / "record.json"
    edited.write_text(json.dumps(data))
    env = {**os.environ, "COLUMNS": "160", "ASC_BENCH_CACHE_DIR": str(cache_dir)}
    done = subprocess.run(
        [*CLI, "reproduce", str(edited), "--out", str(tmp_path / "again")],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in done.stdout.splitlines() if "│" in line]
    rows = {row[0]: " ".join(row) for row in cells if row}
    assert "pass" in rows["macro_acc"] and "pass" in rows["per_class"] and "pass" in rows["per_city"]
    assert "FAIL" in rows["per_device"] and "not reproduced: per_device" in done.stdout
    (again,) = (tmp_path / "again").glob("*/*/*/record.json")
    assert read_record(again).metrics == read_record(finished_run / "record.json").metrics  # exact


def test_reproduce_cli_bad_input(tmp_path: Path):
    for args, message in (
        (["reproduce", str(tmp_path / "missing.json")], "cannot read result record"),
        (["reproduce", str(tmp_path), "--tolerance", "-1"], "--tolerance must be"),
    ):
        done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and message in " ".join(done.stderr.split()), done.stderr
