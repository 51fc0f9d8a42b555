"""A small synthetic dataset for conformance checks, written once per machine and shared."""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock

from asc_bench.plugins import registry

KIT_DATASET = {"clips": 600, "seed": 0}  # 600 clips: 220 train, 300 test, every class and device
KIT_DATASET_PLUGIN = "tau22"  # the dataset plugin whose generator writes it (``Dataset.synthesize``)
CACHE_DIR_ENV = "ASC_BENCH_CACHE_DIR"


def synthetic_dataset(folder: Path | None = None) -> Path:
    """The root of a small synthetic dataset in the TAU22 layout (600 clips), written if missing.

    Default folder: ``$ASC_BENCH_CACHE_DIR/kit-synthetic`` (else ``~/.cache/asc-bench/kit-synthetic``), so
    every plugin's tests on this machine share one copy. Safe to call from several processes at once. It is
    written by the ``tau22`` dataset plugin's generator, found through the plugin registry.
    """
    if folder is None:
        base = os.environ.get(CACHE_DIR_ENV)
        folder = (Path(base) if base else Path.home() / ".cache" / "asc-bench") / "kit-synthetic"
    folder = Path(folder).expanduser().absolute()
    folder.parent.mkdir(parents=True, exist_ok=True)
    dataset = registry.load("dataset", KIT_DATASET_PLUGIN)
    with FileLock(str(folder) + ".lock"):
        dataset.synthesize(folder, workers=1, **KIT_DATASET)
    return folder
