import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import torch
from helpers.records import CITIES, CLASSES, DEVICES, SEEN, make_record

from asc_bench.core.errors import UserError
from asc_bench.evaluation.metrics import SceneMetrics, named_metrics
from asc_bench.leaderboard.reported import reported_schema
from asc_bench.records.environment import capture_environment
from asc_bench.records.io import find_records, read_record, record_digest, record_schema, write_record
from asc_bench.records.schema import SCHEMA_VERSION, ResultRecord

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "leaderboard" / "schema"


def test_round_trip(tmp_path):
    record = make_record(seed=3)
    path = tmp_path / "trial" / "record.json"
    write_record(record, path)
    assert read_record(path) == record
    data = json.loads(path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["metrics"]["per_device"]["s4"]["count"] == 3300
    assert data["created"].startswith("2025-01-01T00:00:00")


def test_record_accepts_real_named_metrics():
    gen = torch.Generator().manual_seed(0)
    metric = SceneMetrics(len(CLASSES), len(DEVICES), len(CITIES))
    metric.update(
        torch.randn(200, 10, generator=gen),
        torch.randint(0, 10, (200,), generator=gen),
        torch.randint(0, 6, (200,), generator=gen),  # s4-s6 absent: their scores are None
        torch.randint(0, 10, (200,), generator=gen),
    )
    named = named_metrics(metric.compute(), CLASSES, DEVICES, CITIES, seen_devices=SEEN)
    record = ResultRecord.model_validate({**make_record().model_dump(), "metrics": named})
    again = ResultRecord.model_validate_json(record.model_dump_json())
    assert again.metrics.model_dump() == named
    assert again.metrics.per_device["s6"].acc is None


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "record.json"
    write_record(make_record(seed=1), path)
    write_record(make_record(seed=2), path)  # overwrite in place
    assert os.listdir(tmp_path) == ["record.json"]

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_record(make_record(seed=3), path)
    assert os.listdir(tmp_path) == ["record.json"]
    assert read_record(path).seed == 2


def test_newer_schema_version_is_a_clear_user_error(tmp_path):
    path = tmp_path / "record.json"
    data = json.loads(make_record().model_dump_json())
    data["schema_version"] = SCHEMA_VERSION + 1
    path.write_text(json.dumps(data))
    with pytest.raises(UserError, match="newer asc-bench") as info:
        read_record(path)
    assert str(path) in str(info.value)
    assert "Upgrade" in str(info.value)


def test_unknown_schema_version_and_missing_version(tmp_path):
    path = tmp_path / "record.json"
    path.write_text(json.dumps({"schema_version": "one"}))
    with pytest.raises(UserError, match="schema_version 'one'"):
        read_record(path)
    path.write_text(json.dumps({"name": "x"}))
    with pytest.raises(UserError, match="not an asc-bench result record"):
        read_record(path)


def test_corrupt_json_is_a_user_error_with_path(tmp_path):
    path = tmp_path / "record.json"
    path.write_text(make_record().model_dump_json()[:200])  # truncated
    with pytest.raises(UserError, match="not valid JSON") as info:
        read_record(path)
    assert str(path) in str(info.value)


def test_missing_field_is_named(tmp_path):
    path = tmp_path / "record.json"
    data = json.loads(make_record().model_dump_json())
    del data["metrics"]["macro_acc"]
    del data["spec_hash"]
    path.write_text(json.dumps(data))
    with pytest.raises(UserError, match="spec_hash: Field required") as info:
        read_record(path)
    assert "metrics.macro_acc" in str(info.value)
    assert str(path) in str(info.value)


def test_unreadable_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="cannot read"):
        read_record(tmp_path / "missing.json")


def test_find_records_is_recursive_and_sorted(tmp_path):
    for folder in ("exp/b_trial", "exp/a_trial", "exp/a_trial/nested"):
        write_record(make_record(), tmp_path / folder / "record.json")
    (tmp_path / "exp" / "other.json").write_text("{}")
    found = find_records(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "exp/a_trial/nested/record.json",
        "exp/a_trial/record.json",
        "exp/b_trial/record.json",
    ]
    assert find_records(found[0]) == [found[0]]
    with pytest.raises(UserError, match="no such"):
        find_records(tmp_path / "nope")


def test_capture_environment(tmp_path, monkeypatch):
    env = capture_environment()
    assert torch.__version__.startswith(env["packages"]["torch"])
    assert env["torch_threads"] >= 1
    assert {
        "python",
        "platform",
        "plugin_distributions",
        "git_commit",
        "git_dirty",
        "cuda_devices",
    } <= env.keys()
    json.dumps(env)  # JSON-able
    assert capture_environment(repo=tmp_path)["git_commit"] is None  # not a repository
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert capture_environment()["git_dirty"] is None


def _v1_data() -> dict:
    """A record as schema version 1 wrote it: no device, fused counts or dataset identity."""
    data = json.loads(make_record(seed=4).model_dump_json())
    data["schema_version"] = 1
    del data["environment"]["device"], data["complexity"]["macs_fused"], data["complexity"]["params_fused"]
    del data["dataset"]["identity"]
    return data


def test_version_1_records_are_read_and_upgraded(tmp_path):
    path = tmp_path / "record.json"
    path.write_text(json.dumps(_v1_data()))
    record = read_record(path)
    assert record.schema_version == SCHEMA_VERSION == 2
    assert record.environment["device"] == "cpu"  # version 1 trained on the CPU only
    assert record.complexity.macs_fused is None and record.complexity.params_fused is None
    assert record.dataset.identity is None
    assert record.metrics == make_record(seed=4).metrics


def test_versions_before_1_are_refused(tmp_path):
    path = tmp_path / "record.json"
    path.write_text(json.dumps({**_v1_data(), "schema_version": 0}))
    with pytest.raises(UserError, match="schema_version 0; this asc-bench reads versions 1, 2") as info:
        read_record(path)
    assert "not written by asc-bench" in str(info.value)


def test_v2_fields_are_required(tmp_path):
    data = json.loads(make_record().model_dump_json())
    del data["environment"]["device"]
    path = tmp_path / "record.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UserError, match="environment.device: Field required"):
        read_record(path)


def test_records_validate_against_the_published_schema(tmp_path):
    schema = json.loads((SCHEMA_DIR / "record.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    data = json.loads(make_record().model_dump_json())
    jsonschema.validate(data, schema)
    del data["metrics"]["per_device"]
    with pytest.raises(jsonschema.ValidationError, match="per_device"):
        jsonschema.validate(data, schema)


def test_published_schemas_are_current():
    """The committed files are what `asc-bench schema --of record|reported` writes today."""
    for name, schema in (("record", record_schema()), ("reported", reported_schema())):
        committed = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
        assert committed == schema, f"leaderboard/schema/{name}.schema.json is stale: run asc-bench schema --of {name}"


def test_schema_command_writes_the_published_file(tmp_path):
    out = tmp_path / "record.schema.json"
    cmd = [sys.executable, "-m", "asc_bench.cli", "schema", "--of", "record", "--out", str(out)]
    assert subprocess.run(cmd, capture_output=True, timeout=120).returncode == 0
    assert out.read_text() == (SCHEMA_DIR / "record.schema.json").read_text()


def test_record_digest_follows_content():
    a, b = make_record(seed=1), make_record(seed=1)
    assert record_digest(a) == record_digest(b) and len(record_digest(a)) == 16
    assert record_digest(a) != record_digest(make_record(seed=2))
    assert record_digest(ResultRecord.model_validate_json(a.model_dump_json())) == record_digest(a)


def test_synthetic_data_has_a_machine_independent_identity(synth_root, tmp_path):
    """Records on the synthetic set name its generator and parameters, so they rank across machines."""
    from asc_bench_plugins.datasets.tau22.dataset import TAU22Config, TAU22Dataset

    dataset = TAU22Dataset(TAU22Config(type="tau22", root=synth_root))
    marker = json.loads((synth_root / ".asc-bench-synthetic.json").read_text())
    identity = dataset.identity()
    assert identity.startswith(f"synthetic (asc-bench synth v{marker['version']}: cities=3, ")
    assert f"seed={marker['params']['seed']}" in identity
    dataset.root = tmp_path  # no marker: the real dataset vouches for nothing beyond its fingerprint
    assert dataset.identity() is None
