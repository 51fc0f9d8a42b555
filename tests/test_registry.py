"""Plugin discovery: listing without importing, lazy loading, broken and duplicate plugins."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from asc_bench import registry
from asc_bench.errors import UserError


def _fake_distribution(site: Path, name: str, entry_points: str, modules: dict[str, str] | None = None) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    for module, source in (modules or {}).items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


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


def test_plugin_without_valid_config_is_refused(site: Path) -> None:
    _fake_distribution(
        site,
        "noconfig",
        "[asc_bench.model]\nnoconfig = noconfig_mod:Model\n",
        {"noconfig_mod": "class Model: pass\n"},
    )
    with pytest.raises(registry.PluginLoadError, match='type: Literal\\["noconfig"\\]'):
        registry.load("model", "noconfig")


def test_duplicate_names_across_distributions_name_both(site: Path) -> None:
    _fake_distribution(site, "dupe_plugin", "[asc_bench.model]\nbaseline2024 = dupe_mod:Model\n")
    with pytest.raises(UserError, match=r"asc-bench.*dupe_plugin|dupe_plugin.*asc-bench"):
        registry.discover()


def test_unknown_name_suggests_close_match() -> None:
    with pytest.raises(UserError, match=r"Did you mean 'baseline2024'"):
        registry.lookup("model", "baseline2042")
