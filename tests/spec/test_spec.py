"""Spec loading: positions in errors, unknown fields and plugins, overrides and the spec hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from asc_bench.core.errors import UserError
from asc_bench.spec.hashing import spec_hash
from asc_bench.spec.model import full_schema
from asc_bench.spec.overrides import apply_overrides
from asc_bench.spec.validate import load_spec

QUICKSTART = Path(__file__).resolve().parents[2] / "specs" / "quickstart.yaml"

GOOD = """\
name: t
seeds: [1, 2]
data:
  dataset: {type: tau22, root: /somewhere}
  transforms:
    - {type: mel}
model: {type: baseline2024}
trainer: {type: supervised, epochs: 2}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


def test_good_spec_validates_with_defaults(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, GOOD))
    assert spec.data.cache.type == "memmap"
    assert spec.trainer.epochs == 2
    assert spec.trainer.optimizer.type == "adamw"
    assert spec.limits.max_macs() == 30_000_000


def test_quickstart_spec_validates() -> None:
    assert load_spec(QUICKSTART).name == "quickstart"


def test_malformed_yaml_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\ndata: {dataset: [\n")
    with pytest.raises(UserError, match=r"spec\.yaml:\d+:\d+.*not valid YAML"):
        load_spec(path)


def test_unknown_field_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("epochs: 2}", "epochs: 2, epoch: 3}"))
    with pytest.raises(UserError) as info:
        load_spec(path)
    message = str(info.value)
    assert "spec.yaml:8:" in message and "trainer.epoch" in message and "unknown field" in message


def test_wrong_type_names_field_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("epochs: 2", "epochs: many"))
    with pytest.raises(UserError, match=r"spec\.yaml:8:\d+: trainer\.epochs: .*integer.*'many'"):
        load_spec(path)


def test_unknown_plugin_suggests_a_name(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("baseline2024", "baseline2042"))
    with pytest.raises(UserError, match=r"spec\.yaml:7:\d+: model\.type.*Did you mean 'baseline2024'"):
        load_spec(path)


def test_missing_section_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("model: {type: baseline2024}\n", ""))
    with pytest.raises(UserError, match=r"model: required field is missing"):
        load_spec(path)


def test_transform_field_error_points_into_the_list(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("{type: mel}", "{type: mel, n_mel: 3}"))
    with pytest.raises(UserError, match=r"spec\.yaml:6:\d+: data\.transforms\[0\]\.n_mel: unknown field"):
        load_spec(path)


def test_overrides_apply_and_validate(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, GOOD), ["trainer.epochs=5", "data.transforms.0.n_mels=128", "seeds=[3]"])
    assert spec.trainer.epochs == 5
    assert spec.data.transforms[0].n_mels == 128
    assert spec.seeds == [3]
    with pytest.raises(UserError, match="path=value"):
        apply_overrides({}, ["trainer.epochs"])


def test_hash_ignores_name_seeds_and_paths_but_not_settings(tmp_path: Path) -> None:
    base = load_spec(write(tmp_path, GOOD))
    same = load_spec(write(tmp_path, GOOD), ["name=other", "seeds=[9]", "data.dataset.root=/elsewhere"])
    different = load_spec(write(tmp_path, GOOD), ["trainer.epochs=3"])
    assert spec_hash(base) == spec_hash(same)
    assert spec_hash(base) != spec_hash(different)


def test_schema_lists_every_installed_plugin() -> None:
    schema = full_schema()
    text = str(schema)
    for name in ("baseline2024", "cp_mobile", "tau22", "mel", "memmap", "supervised"):
        assert name in text
