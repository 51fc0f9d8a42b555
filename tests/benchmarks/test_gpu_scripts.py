"""The GPU check's helpers, as far as they run without a GPU: asc-bench made importable from the source tree
with its entry points, and the shell scripts well formed."""

from __future__ import annotations

import importlib.util
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
from helpers import ROOT


def _gpu_site():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("gpu_site", ROOT / "benchmarks" / "gpu_site.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_the_site_folder_holds_the_plugins_and_their_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gpu_site = _gpu_site()

    def not_installed(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(gpu_site.metadata, "distribution", not_installed)
    assert "made importable" in gpu_site.write_site(tmp_path)
    assert (tmp_path / "asc_bench_plugins" / "transforms" / "mel.py").is_file()
    (info,) = tmp_path.glob("asc_bench-*.dist-info")
    dist = metadata.PathDistribution(info)
    assert dist.metadata["Name"] == "asc-bench"
    points = {(p.group, p.name): p.value for p in dist.entry_points}
    assert points[("asc_bench.transform", "mel")] == "asc_bench_plugins.transforms.mel:Mel"
    assert ("asc_bench.model", "baseline2024") in points


@pytest.mark.parametrize("script", ["gpu_check.sh", "gpu_wheels.sh"])
def test_the_shell_scripts_parse(script: str) -> None:
    done = subprocess.run(["bash", "-n", str(ROOT / "benchmarks" / script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
