"""The DCASE 2025 rules (limits.preset: dcase2025): training on split25 only, never choosing on the test split."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from asc_bench.core.errors import UserError
from asc_bench.spec.rules import check_rules
from asc_bench.spec.validate import validate_spec

ROOT = Path(__file__).resolve().parents[2]


def _spec(**changes: object) -> dict:
    data = yaml.safe_load((ROOT / "specs" / "baseline2025.yaml").read_text())
    data["data"]["dataset"]["root"] = "/nonexistent"
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split("__")
        for key in path:
            node = node.setdefault(key, {})
        node[last] = value
    return data


def test_the_2025_baseline_spec_keeps_the_rules_and_the_2024_limits():
    spec = validate_spec(_spec())
    check_rules(spec)
    assert (spec.limits.max_macs(), spec.limits.max_param_bytes()) == (30_000_000, 128_000)


@pytest.mark.parametrize("split", ["fold1", "split100", "split50"])
def test_training_on_anything_but_split25_is_refused_naming_the_rule(split: str):
    with pytest.raises(UserError) as err:
        check_rules(validate_spec(_spec(data__dataset__split=split)))
    assert err.value.where == "data.dataset.split"
    assert "DCASE 2025" in str(err.value) and "split25" in str(err.value) and split in str(err.value)


def test_choosing_on_the_test_split_is_refused():
    with pytest.raises(UserError, match="development-test split only for evaluation") as err:
        check_rules(validate_spec(_spec(tune__select_on_test=True)))
    assert err.value.where == "tune.select_on_test"


def test_other_presets_have_no_2025_rules():
    check_rules(validate_spec(_spec(data__dataset__split="fold1", limits__preset="dcase")))


def test_asc_bench_run_refuses_a_rule_break_before_anything_runs(tmp_path: Path):
    spec = tmp_path / "spec.yaml"
    data = _spec(data__dataset__split="split100", output={"dir": str(tmp_path / "runs")})
    spec.write_text(yaml.safe_dump(data))
    done = subprocess.run(
        [sys.executable, "-m", "asc_bench.cli", "run", str(spec)], capture_output=True, text=True, env=os.environ
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "DCASE 2025 Task 1 rules" in done.stdout + done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.rglob("experiment.json"))
