"""Where and with what a trial ran: package versions, the git state of the code, compute resources."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from asc_bench.plugins import registry

PACKAGES = ("torch", "torchaudio", "ray", "torchmetrics", "torchao", "numpy", "pydantic", "asc-bench")


def capture_environment(repo: Path | None = None, device: str = "cpu") -> dict[str, Any]:
    """Versions, git state and compute resources of this process; ``device`` is the torch device trained on.

    ``repo`` is the folder whose git commit is recorded (default: where asc_bench is installed);
    ``git_commit``/``git_dirty`` are ``None`` when there is no git or no repository.
    """
    import torch

    versions = {}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    plugins = {}
    for group in (f"{registry.GROUP_PREFIX}{kind}" for kind in registry.KINDS):
        for ep in metadata.entry_points(group=group):
            if ep.dist is not None:
                plugins[ep.dist.name] = ep.dist.version
    commit, dirty = _git_state(repo or Path(__file__).resolve().parents[1])
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": versions,
        "plugin_distributions": dict(sorted(plugins.items())),
        "git_commit": commit,
        "git_dirty": dirty,
        "device": device,
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch_build": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
    }


def _git_state(folder: Path) -> tuple[str | None, bool | None]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10, check=True
        ).stdout

    try:
        return git("rev-parse", "HEAD").strip(), bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None, None
