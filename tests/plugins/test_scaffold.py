"""`asc-bench plugin new`: a complete package for every kind, lint-clean, whose example spec validates."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from asc_bench.core.errors import UserError
from asc_bench.plugins import registry, scaffold
from asc_bench.spec.validate import load_spec
from asc_bench.testing import check_config

CLI = [sys.executable, "-m", "asc_bench.cli"]
RUFF = Path(sys.executable).with_name("ruff")


def _import_plugin(folder: Path, names: scaffold.PluginNames, monkeypatch: pytest.MonkeyPatch) -> type:
    monkeypatch.syspath_prepend(str(folder / "src"))
    module = __import__(f"{names.package}.{names.kind}", fromlist=[names.cls])
    return getattr(module, names.cls)


def test_every_kind_gives_a_complete_lint_clean_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for kind in registry.KINDS:
        name = f"new_{kind}"
        folder, files = scaffold.scaffold_plugin(name, kind, tmp_path)
        names = scaffold.names_for(name, kind)
        assert folder == tmp_path / f"asc-bench-new-{kind}"
        assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == files
        assert f"tests/test_{name}.py" in files and "specs/example.yaml" in files
        project = tomllib.loads((folder / "pyproject.toml").read_text())
        assert project["project"]["name"] == f"asc-bench-new-{kind}"
        entry = project["project"]["entry-points"][f"asc_bench.{kind}"]
        assert entry == {name: f"asc_bench_new_{kind}.{kind}:{names.cls}"}
        spec_path = folder / "specs" / "example.yaml"
        assert spec_path.read_text().startswith("# yaml-language-server: $schema=../asc-bench.schema.json\n")

        cls = _import_plugin(folder, names, monkeypatch)
        assert check_config(cls, kind) == name
        with registry.in_process(kind, name, cls):
            spec = load_spec(spec_path)
        section = {"dataset": spec.data.dataset, "cache": spec.data.cache, "model": spec.model, "trainer": spec.trainer}
        used = [t.type for t in spec.data.transforms] if kind == "transform" else [section[kind].type]
        assert name in used

    lint = subprocess.run([str(RUFF), "check", "-q", str(tmp_path)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatting = subprocess.run([str(RUFF), "format", "--check", "-q", str(tmp_path)], capture_output=True, text=True)
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr


def test_cli_writes_a_package_and_refuses_bad_input(tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "COLUMNS": "200"}
        return subprocess.run([*CLI, "plugin", "new", *args], capture_output=True, text=True, timeout=120, env=env)

    made = cli("noisy", "--kind", "transform", "--dir", str(tmp_path))
    assert made.returncode == 0, made.stderr
    assert "src/asc_bench_noisy/transform.py" in made.stdout and "pip install -e ." in made.stdout
    assert (tmp_path / "asc-bench-noisy" / "tests" / "test_noisy.py").is_file()

    for args, fragment in [
        (("noisy", "--kind", "transform"), "already exists"),
        (("Bad-Name",), "not a valid plugin name"),
        (("fine", "--kind", "widget"), "'widget' is not one of 'dataset', 'cache'"),
        (("baseline2024", "--kind", "model"), "already installed (from asc-bench"),
    ]:
        result = cli(*args, "--dir", str(tmp_path))
        assert result.returncode == 2, result.stdout + result.stderr
        assert fragment in " ".join(result.stderr.split()) and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["asc-bench-noisy"]


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def failing(template: str, values: dict[str, str]) -> str:
        calls.append(template)
        if len(calls) == 3:
            raise OSError("disk full")
        return template

    monkeypatch.setattr(scaffold, "render", failing)
    with pytest.raises(UserError, match="disk full. Nothing was left behind"):
        scaffold.scaffold_plugin("half", "model", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_names_and_templates() -> None:
    names = scaffold.names_for("two_words", "trainer")
    assert (names.dist, names.package, names.cls) == ("asc-bench-two-words", "asc_bench_two_words", "TwoWords")
    assert scaffold.render("{{a}}-{{b}}", {"a": "x", "b": "y"}) == "x-y"
    with pytest.raises(KeyError, match="missing"):
        scaffold.render("{{missing}}", {})
    with pytest.raises(UserError, match="not a valid plugin name"):
        scaffold.names_for("9lives", "model")
    hyphenated = scaffold.names_for("acme-net", "model")  # distributions are hyphenated; modules and types are not
    assert (hyphenated.name, hyphenated.dist, hyphenated.package) == (
        "acme_net",
        "asc-bench-acme-net",
        "asc_bench_acme_net",
    )


def test_plugin_new_accepts_a_hyphenated_name(tmp_path: Path) -> None:
    done = subprocess.run(
        [*CLI, "plugin", "new", "acme-net", "--kind", "transform", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "type: acme_net" in done.stdout
    package = tmp_path / "asc-bench-acme-net"
    assert (package / "src" / "asc_bench_acme_net" / "transform.py").is_file()
    assert 'acme_net = "asc_bench_acme_net.transform:AcmeNet"' in (package / "pyproject.toml").read_text()
