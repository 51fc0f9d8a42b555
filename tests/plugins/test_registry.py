"""Plugin discovery: listing without importing, lazy loading, broken and duplicate plugins, `plugins --check`,
the schema of installed plugins, and the plugins a spec uses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Literal

import pytest
from helpers import spec_file

from asc_bench.core.errors import UserError
from asc_bench.plugins import registry
from asc_bench.spec.model import full_schema, plugins_used
from asc_bench.spec.validate import load_spec

CLI = [sys.executable, "-m", "asc_bench.cli"]
GOOD_MODULE = """
from typing import Literal
from pydantic import Field
from torch import nn
from asc_bench.api import Model, PluginConfig

class Config(PluginConfig):
    type: Literal["good"] = "good"
    width: int = Field(3, description="How wide the good model is.")

class Good(nn.Module, Model):
    '''A good third-party model.'''
    Config = Config
"""


def _fake_distribution(site: Path, name: str, entry_points: str, modules: dict[str, str] | None = None) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    for module, source in (modules or {}).items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def _cli(site: Path, *args: str | Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "250"}
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300, env=env)


def test_builtins_are_listed_with_their_distribution() -> None:
    models = registry.available("model")
    assert {"baseline2024", "cp_mobile", "tf_sepnet"} <= set(models)
    assert models["baseline2024"].distribution == "asc-bench"
    assert set(registry.available("cache")) >= {"memmap", "memory", "none"}


def test_listing_does_not_import(site: Path) -> None:
    _fake_distribution(
        site,
        "lazy_plugin",
        "[asc_bench.model]\nlazy = lazy_mod:Model\n",
        {"lazy_mod": "raise RuntimeError('imported too early')\n"},
    )
    assert "lazy" in registry.available("model")
    assert "lazy_mod" not in sys.modules


def test_broken_plugin_is_reported_and_others_still_load(site: Path) -> None:
    _fake_distribution(
        site,
        "broken_plugin",
        "[asc_bench.model]\nbroken = broken_mod:Model\n",
        {"broken_mod": "import does_not_exist_anywhere\n"},
    )
    with pytest.raises(registry.PluginLoadError, match=r"broken.*broken_plugin.*does_not_exist_anywhere"):
        registry.load("model", "broken")
    assert registry.load("model", "baseline2024").__name__ == "Baseline2024"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("class Model: pass\n", 'type: Literal\\["noconfig"\\]'),
        (
            "from typing import Literal\nfrom pydantic import BaseModel\n"
            "class Model:\n    class Config(BaseModel):\n        type: Literal['noconfig'] = 'noconfig'\n",
            "subclass of asc_bench.api.PluginConfig",
        ),
        (
            "from typing import Literal\nfrom asc_bench.api import PluginConfig\n"
            "class Model:\n    class Config(PluginConfig):\n        type: Literal['noconfig'] = 'noconfig'\n",
            "must subclass asc_bench.api.Model",
        ),
    ],
)
def test_plugin_outside_the_contract_is_refused(site: Path, source: str, problem: str) -> None:
    _fake_distribution(site, "noconfig", "[asc_bench.model]\nnoconfig = noconfig_mod:Model\n", {"noconfig_mod": source})
    with pytest.raises(registry.PluginLoadError, match=problem):
        registry.load("model", "noconfig")


def test_duplicate_names_are_refused_naming_both_while_the_rest_works(site: Path) -> None:
    _fake_distribution(site, "dupe_plugin", "[asc_bench.model]\nbaseline2024 = dupe_mod:Model\n")
    info = registry.available("model")["baseline2024"]
    assert {info.distribution, *(o.distribution for o in info.conflicts)} == {"asc-bench", "dupe_plugin"}
    with pytest.raises(registry.PluginLoadError, match=r"asc-bench.*dupe_plugin|dupe_plugin.*asc-bench") as err:
        registry.load("model", "baseline2024", where="spec.yaml:9:8: model.type")
    assert str(err.value).startswith("spec.yaml:9:8: model.type:")
    assert registry.load("model", "cp_mobile").__name__ == "CPMobile"


def test_unknown_name_suggests_close_match() -> None:
    with pytest.raises(UserError, match=r"Did you mean 'baseline2024'"):
        registry.lookup("model", "baseline2042")


def test_in_process_registration_is_scoped() -> None:
    base = registry.load("model", "baseline2024")

    class Copy(base):
        """A copy of the 2024 baseline, not installed."""

        class Config(base.Config):
            type: Literal["copy"] = "copy"

    with registry.in_process("model", "copy", Copy) as info:
        with registry.in_process("model", "copy", Copy):
            pass
        assert registry.load("model", "copy") is Copy and info.distribution == "(in-process)"
    assert "copy" not in registry.available("model")
    with (
        pytest.raises(registry.PluginLoadError, match='Literal\\["other"\\]'),
        registry.in_process("model", "other", Copy),
    ):
        pass


def test_schema_has_third_party_options_and_skips_broken_plugins(site: Path) -> None:
    _fake_distribution(
        site,
        "third_party",
        "[asc_bench.model]\ngood = good_mod:Good\nbroken = broken_mod:Model\n",
        {"good_mod": GOOD_MODULE, "broken_mod": "raise ImportError('no')\n"},
    )
    text = json.dumps(full_schema())
    assert '"good"' in text and "How wide the good model is." in text
    assert '"broken"' not in text


def test_cli_lists_broken_and_duplicate_plugins_and_still_validates(site: Path, tmp_path: Path) -> None:
    _fake_distribution(
        site,
        "third_party",
        "[asc_bench.model]\ngood = good_mod:Good\nbroken = broken_mod:Model\n"
        "[asc_bench.cache]\nmemory = good_mod:Good\n",
        {"good_mod": GOOD_MODULE, "broken_mod": "import does_not_exist_anywhere\n"},
    )
    listing = _cli(site, "plugins")
    assert listing.returncode == 0, listing.stderr
    out = " ".join(listing.stdout.split())
    assert "A good third-party model." in out and "third_party" in out
    assert "broken: the model plugin 'broken' from third_party 1.0" in out and "does_not_exist_anywhere" in out
    assert "(also third_party 1.0)" in out

    check = _cli(site, "plugins", "--check")
    assert check.returncode == 1
    assert "2 broken" in check.stdout  # the broken import and the duplicate cache name

    spec = spec_file(tmp_path, tmp_path)  # names neither the broken model nor the duplicated cache
    ok = _cli(site, "validate", spec, "--set", "data.cache.type=memmap")
    assert ok.returncode == 0, ok.stderr
    bad = _cli(site, "validate", spec, "--set", "model={type: broken}")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    message = " ".join(bad.stderr.split())
    assert "model.type" in message and "does_not_exist_anywhere" in message and "third_party" in message


def test_check_passes_for_the_builtins() -> None:
    result = subprocess.run([*CLI, "plugins", "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken, 0 with documentation warnings" in " ".join(result.stdout.split())


def test_plugins_used_names_distribution_and_version(tmp_path: Path) -> None:
    spec = load_spec(spec_file(tmp_path, tmp_path))
    used = {(p["kind"], p["name"]): p for p in plugins_used(spec)}
    assert list(used) == [
        ("dataset", "tau22"),
        ("cache", "memmap"),
        ("model", "baseline2024"),
        ("trainer", "supervised"),
        ("transform", "roll"),
        ("transform", "mel"),
        ("transform", "freq_mask"),
    ]
    assert used[("model", "baseline2024")]["distribution"] == "asc-bench"
    assert used[("model", "baseline2024")]["version"] == registry.available("model")["baseline2024"].version
