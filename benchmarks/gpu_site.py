"""Make asc-bench importable from its source tree in a bare Python (a GPU image) without pip installing it: in
SITE (a folder on ``PYTHONPATH``) the ``asc_bench_plugins`` package as a link to ``plugins/``, and a
``.dist-info`` holding ``pyproject.toml``'s entry points, so the plugin registry finds the built-in plugins.

    python3 benchmarks/gpu_site.py SITE        (benchmarks/gpu_check.sh does this)
"""

from __future__ import annotations

import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_site(site: Path) -> str:
    """Fill ``site``; what was done, for the log."""
    try:
        dist = metadata.distribution("asc-bench")
        return f"asc-bench {dist.version} is installed already: nothing to do"
    except metadata.PackageNotFoundError:
        pass
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    site.mkdir(parents=True, exist_ok=True)
    link = site / "asc_bench_plugins"
    if not link.exists():
        link.symlink_to(ROOT / "plugins")
    info = site / f"asc_bench-{project['version']}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    groups = [
        f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in points.items())
        for group, points in project["entry-points"].items()
    ]
    (info / "entry_points.txt").write_text("\n".join(groups))
    return f"asc-bench {project['version']} made importable from {ROOT} through {site}"


if __name__ == "__main__":
    print(write_site(Path(sys.argv[1])))
