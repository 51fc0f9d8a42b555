"""Spec composition: `extends:` (a file or a list, relative to the extending file, or `recipe:NAME`), deep merge,
errors at the `file:line:col` of the file that wrote the value, cycles and missing bases refused, YAML merge keys;
the shipped recipes rewritten on bases keep their hashes."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ROOT

from asc_bench.core.errors import UserError
from asc_bench.spec.compose import compose, recipe_names, recipe_path
from asc_bench.spec.hashing import spec_hash
from asc_bench.spec.resolve import resolve_for_run
from asc_bench.spec.validate import load_spec

BASE = """\
name: base
seeds: [1, 2]
data:
  dataset: {type: tau22, root: data/synth, split: fold1, validation: {fraction: 0.2}}
  transforms:
    - {type: mel, n_mels: 64}
model: {type: baseline2024, base_channels: 16}
trainer: {type: supervised, epochs: 3, batch_size: 32, optimizer: {type: adamw, lr: 0.001}}
"""

# The hashes of the shipped recipes before they were rewritten on bases (committed leaderboard entries match them).
RECIPE_HASHES = {
    "baseline2023": "65a5fe2e5a1d5a84",
    "baseline2024": "0683eff6b16d90a6",
    "baseline2025": "635b3b61ffedc796",  # changed with its mask fill (issue 14)
    "cai": "9168cc3ee68c1785",  # its teacher cpjku_teacher changed (issue 14)
    "cpjku": "49361ea34f48de77",  # its teacher cpjku_teacher changed (issue 14)
    "cpjku_teacher": "349f72766317f446",  # the reference CP-ResNet and its training settings (issue 14)
    "quickstart": "5c4ecf0099ba7b84",
    "sweep-quickstart": "654c40ac5061e7b1",
}


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_mappings_merge_and_lists_and_values_replace(tmp_path: Path) -> None:
    _write(tmp_path, "bases/base.yaml", BASE)
    child = _write(
        tmp_path,
        "exp/child.yaml",
        "extends: ../bases/base.yaml\nname: child\n"
        "data:\n  dataset: {split: split25, validation: null}\n  transforms: [{type: mel, n_mels: 32}]\n"
        "trainer: {optimizer: {lr: 0.01}}\n",
    )
    spec = load_spec(child)
    assert spec.name == "child" and spec.seeds == [1, 2]
    dataset = spec.data.dataset
    assert (dataset.root, dataset.split, dataset.validation.fraction) == (Path("data/synth"), "split25", 0.0)
    assert [t.model_dump(exclude={"type"})["n_mels"] for t in spec.data.transforms] == [32], "the list replaced"
    assert (spec.trainer.epochs, spec.trainer.optimizer.type, spec.trainer.optimizer.lr) == (3, "adamw", 0.01)


def test_a_list_of_bases_merges_in_order_then_the_file(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", BASE)
    _write(tmp_path, "b.yaml", "trainer: {epochs: 7, batch_size: 16}\nseeds: [5]\n")
    child = _write(tmp_path, "child.yaml", "extends: [a.yaml, b.yaml]\ntrainer: {batch_size: 8}\n")
    spec = load_spec(child)
    assert (spec.trainer.epochs, spec.trainer.batch_size, spec.seeds, spec.name) == (7, 8, [5], "base")


def test_an_error_in_a_base_value_names_the_base_file_and_line(tmp_path: Path) -> None:
    base = _write(tmp_path, "base.yaml", BASE.replace("epochs: 3", "epochs: -3"))
    child = _write(tmp_path, "child.yaml", "extends: base.yaml\nname: child\n")
    with pytest.raises(UserError) as caught:
        load_spec(child)
    assert f"{base}:{_line_of(base, 'epochs: -3')}:" in str(caught.value) and "trainer.epochs" in str(caught.value)


def test_an_error_in_an_overriding_value_names_the_extending_file(tmp_path: Path) -> None:
    _write(tmp_path, "base.yaml", BASE)
    child = _write(tmp_path, "child.yaml", "extends: base.yaml\n\ntrainer:\n  epochs: zero\n")
    with pytest.raises(UserError, match=rf"{child}:4:3: trainer.epochs"):
        load_spec(child)


def test_a_missing_base_is_named_with_the_extending_line(tmp_path: Path) -> None:
    child = _write(tmp_path, "child.yaml", "name: child\nextends: [gone.yaml]\n")
    with pytest.raises(UserError) as caught:
        compose(child)
    message = str(caught.value)
    assert f"{child}:2:" in message and f"{tmp_path / 'gone.yaml'} does not exist" in message


def test_a_cycle_is_refused_naming_the_chain(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    b = _write(tmp_path, "b.yaml", "extends: c.yaml\n")
    c = _write(tmp_path, "c.yaml", "extends: a.yaml\n")
    with pytest.raises(UserError, match="cycle") as caught:
        compose(a)
    assert f"{a.resolve()} -> {b.resolve()} -> {c.resolve()} -> {a.resolve()}" in str(caught.value)
    assert f"{c}:1:" in str(caught.value), "where the cycle closes"


def test_a_file_extending_itself_is_a_cycle(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.yaml", "extends: ./a.yaml\n")
    with pytest.raises(UserError, match="cycle"):
        compose(a)


def test_extends_takes_only_file_names(tmp_path: Path) -> None:
    child = _write(tmp_path, "child.yaml", "extends: {file: base.yaml}\n")
    with pytest.raises(UserError, match=rf"{child}:1:1: extends.*takes a file name"):
        compose(child)


def test_yaml_merge_keys_work_and_own_keys_win(tmp_path: Path) -> None:
    text = "defaults: &opt {type: adamw, lr: 0.002}\ntrainer:\n  optimizer: {<<: *opt, lr: 0.003}\n"
    data, _ = compose(_write(tmp_path, "merge.yaml", text))
    assert data["trainer"]["optimizer"] == {"type": "adamw", "lr": 0.003}
    text = BASE.replace("seeds: [1, 2]", "seeds: &s [1, 2]") + "runtime: {<<: {channels_last: false}, compile: false}\n"
    spec = load_spec(_write(tmp_path, "merge2.yaml", text))
    assert spec.runtime.channels_last is False and spec.seeds == [1, 2]


def test_a_key_written_twice_is_still_refused_beside_merge_keys(tmp_path: Path) -> None:
    path = _write(tmp_path, "twice.yaml", "a: &x {b: 1}\nc: {<<: *x, d: 1, d: 2}\n")
    with pytest.raises(UserError, match="'d' appears twice"):
        compose(path)


def test_a_merge_key_on_a_scalar_names_its_position(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.yaml", "a: 1\nb:\n  <<: 3\n")
    with pytest.raises(UserError, match=rf"{path}:3:\d+.*merge key"):
        compose(path)


def test_recipe_names_a_shipped_recipe_and_unknown_names_are_refused(tmp_path: Path) -> None:
    child = _write(tmp_path, "mine.yaml", "extends: recipe:quickstart\nname: mine\ntrainer: {epochs: 1}\n")
    spec = load_spec(child)
    assert (spec.name, spec.trainer.epochs, spec.model.type) == ("mine", 1, "baseline2024")
    typo = _write(tmp_path, "typo.yaml", "extends: recipe:quickstrat\n")
    with pytest.raises(UserError, match="no recipe named 'quickstrat'.*Did you mean `quickstart`"):
        compose(typo)


def test_a_recipe_teacher_is_found_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # outside the checkout: no specs/ folder here
    child = _write(tmp_path, "mine.yaml", "extends: recipe:cpjku\nname: mine\n")
    student = resolve_for_run(load_spec(child))
    teacher = resolve_for_run(load_spec(recipe_path("cpjku_teacher")))
    assert str(student.trainer.teacher.spec) == "recipe:cpjku_teacher"
    assert student.trainer.teacher.spec_hash == spec_hash(teacher)
    typo = _write(tmp_path, "typo.yaml", "extends: recipe:cpjku\ntrainer: {teacher: {spec: recipe:cpjku_teachr}}\n")
    with pytest.raises(UserError, match="no recipe named 'cpjku_teachr'.*Did you mean `cpjku_teacher`"):
        resolve_for_run(load_spec(typo))


def test_the_shipped_recipes_keep_their_hashes_and_bases_are_not_recipes() -> None:
    assert set(recipe_names()) == set(RECIPE_HASHES)
    hashes = {name: spec_hash(resolve_for_run(load_spec(Path("specs", f"{name}.yaml")))) for name in RECIPE_HASHES}
    assert hashes == RECIPE_HASHES
    assert "extends: recipe:bases/cpjku-frontend" in (ROOT / "specs" / "cpjku_teacher.yaml").read_text()


def test_specs_in_the_checkout_are_the_package_recipes() -> None:
    assert (ROOT / "specs").resolve() == (ROOT / "asc_bench" / "recipes").resolve()
