"""The Python API for notebooks: ``asc_bench.runner`` returns the records of a real run, ``asc_bench.load_records``
turns records into a pandas DataFrame with the per-device and per-city scores as columns."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import spec_file

import asc_bench
from asc_bench.core.errors import UserError


def test_load_records_gives_one_row_per_trial_with_group_columns(finished_run: Path) -> None:
    frame = asc_bench.load_records(finished_run.parent)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["name"] == "finished" and row["seed"] == 1 and 0.0 <= row["macro_acc"] <= 1.0
    assert {"device.a", "device.s6", "city.barcelona", "class.airport"} <= set(frame.columns)
    assert row["macs"] > 0 and row["param_dtype"] == "float16"
    assert Path(row["path"]).name == "record.json"


def test_load_records_refuses_a_folder_without_records(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no result records"):
        asc_bench.load_records(tmp_path)


def test_run_returns_the_records_of_spec_data_with_overrides(
    tmp_path: Path, synth_root: Path, cache_dir: Path, ray_local
) -> None:  # noqa: ANN001
    import yaml

    data = yaml.safe_load(spec_file(tmp_path, synth_root, name="api").read_text())
    records = asc_bench.run(data, ["seeds=[3]"])
    assert [r.seed for r in records] == [3] and records[0].name == "api"
    frame = asc_bench.load_records(tmp_path / "runs" / "api")
    assert frame["macro_acc"].tolist() == [records[0].metrics.macro_acc]


def test_spec_data_may_extend_files_and_recipes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from asc_bench.runner.api import as_spec

    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.yaml").write_text("extends: recipe:quickstart\ntrainer: {epochs: 2}\n")
    spec = as_spec({"extends": "base.yaml", "name": "mine"}, ["seeds=[4]"])
    assert (spec.name, spec.trainer.epochs, spec.seeds, spec.model.type) == ("mine", 2, [4], "baseline2024")
    with pytest.raises(UserError, match="base spec .*missing.yaml does not exist"):
        as_spec({"extends": "missing.yaml"})


def test_import_asc_bench_stays_light() -> None:
    code = "import sys, asc_bench; print('torch' in sys.modules, 'ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "False"]
