"""`asc-bench init` (a starter spec extending a shipped recipe, never over a file, the recipes as choices) and
`asc-bench show` (the merged spec), through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from helpers import ROOT

from asc_bench.spec.compose import recipe_names
from asc_bench.spec.hashing import spec_hash
from asc_bench.spec.validate import load_spec

CLI = [sys.executable, "-m", "asc_bench.cli"]


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "300"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


def _refused(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stderr


def test_init_writes_a_starter_that_extends_the_recipe_with_the_modeline(tmp_path: Path) -> None:
    done = _cli("init", "--recipe", "quickstart", "my exp.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "my exp.yaml"
    lines = path.read_text().splitlines()
    assert lines[0] == "# yaml-language-server: $schema=asc-bench.schema.json"
    assert "extends: recipe:quickstart" in lines and "name: my-exp" in lines
    spec = load_spec(path)
    assert spec.name == "my-exp"
    assert spec_hash(spec) == spec_hash(load_spec(ROOT / "specs" / "quickstart.yaml")), "the recipe, renamed"
    schema = json.loads((tmp_path / "asc-bench.schema.json").read_text())
    assert "extends" in schema["properties"] and "trainer" in schema["properties"]


def test_init_never_overwrites_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: precious\n")
    error = _refused(_cli("init", str(path), "--no-schema"))
    assert f"{path} already exists" in error
    assert path.read_text() == "name: precious\n"
    assert not (tmp_path / "asc-bench.schema.json").exists()


def test_init_defaults_to_quickstart_and_its_recipes_are_listed(tmp_path: Path) -> None:
    assert _cli("init", "--no-schema", cwd=tmp_path).returncode == 0
    assert load_spec(tmp_path / "my-quickstart.yaml").name == "my-quickstart"
    listed = _cli("init", "--list")
    assert listed.returncode == 0 and all(name in listed.stdout for name in recipe_names())
    assert "CP-JKU 2023 recipe" in listed.stdout and "bases" not in listed.stdout
    helped = _cli("init", "--help")
    assert "cpjku_teacher" in helped.stdout and "sweep-quickstart" in helped.stdout
    unknown = _cli("init", "--recipe", "nope", str(tmp_path / "x.yaml"))
    assert unknown.returncode == 2 and "nope" in unknown.stderr and not (tmp_path / "x.yaml").exists()


def test_show_prints_the_merged_spec(tmp_path: Path) -> None:
    child = tmp_path / "child.yaml"
    child.write_text("extends: recipe:cpjku_teacher\nname: child\ntrainer: {epochs: 5}\n")
    done = _cli("show", str(child), "--set", "seeds=[4]", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    shown = yaml.safe_load(done.stdout)
    assert shown == load_spec(child, ["seeds=[4]"]).model_dump(mode="json")
    assert (shown["name"], shown["seeds"], shown["trainer"]["epochs"], shown["trainer"]["batch_size"]) == (
        "child",
        [4],
        5,
        256,
    )
    assert shown["data"]["transforms"][2]["fmax"] == 15500, "the front end of the recipe's base"
    assert json.loads(_cli("show", str(child), "--json").stdout)["name"] == "child"


def test_validate_names_the_extending_file_and_line(tmp_path: Path) -> None:
    child = tmp_path / "child.yaml"
    child.write_text("extends: recipe:quickstart\nname: child\ntrainer:\n  batch_size: -1\n")
    assert f"{child}:4:3: trainer.batch_size" in _refused(_cli("validate", str(child)))
    missing = tmp_path / "missing.yaml"
    missing.write_text("name: m\nextends: base.yaml\n")
    assert f"{missing}:2:" in _refused(_cli("validate", str(missing)))


def test_an_empty_spec_points_at_init(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    assert "asc-bench init --recipe quickstart" in _refused(_cli("validate", str(empty)))
