"""Preparing a spec's data in the driver: check the dataset, then build each split's shared cache once."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from asc_bench.data.check import require_sound
from asc_bench.data.setup import DataSetup


class CacheProgress(Protocol):
    """What a caller is told while caches are prepared (the CLI draws a progress bar from it)."""

    def start(self, split: str, total: int, cache: str) -> None:
        """A split's cache is about to be prepared: ``total`` rows by the ``cache`` plugin."""

    def advance(self, split: str, rows: int) -> None:
        """``rows`` more rows of the split were built."""

    def finish(self, split: str, outcome: str) -> None:
        """The split's cache is ready; ``outcome`` says how (e.g. ``built in 3.1 s, 1,118 rows/s``)."""


def prepare_caches(
    setup: DataSetup, progress: CacheProgress | None = None, warn: Callable[[str], None] | None = None
) -> dict[str, str]:
    """Refuse a broken dataset (``warn`` receives its warnings), then ``Cache.prepare`` every split.

    Returns, per split, what happened: ``built in N s`` or ``up to date`` (nothing needed building).
    """
    require_sound(setup.dataset, setup.indices, warn=warn or (lambda text: None))
    done: dict[str, str] = {}
    kind = setup.cache.config.type
    for name, request in setup.requests.items():
        if progress:
            progress.start(name, request.count, kind)
        built = 0

        def advance(n: int, name: str = name) -> None:
            nonlocal built
            built += n
            if progress:
                progress.advance(name, n)

        started = time.perf_counter()
        setup.cache.prepare(request, advance)
        seconds = time.perf_counter() - started
        done[name] = f"built in {seconds:.1f} s" if built else "up to date"
        rate = f", {built / seconds:,.0f} rows/s" if built and seconds > 0 else ""
        if progress:
            progress.finish(name, f"{kind}: {done[name]}{rate}")
    return done


def prepare_data(
    setup: DataSetup, progress: CacheProgress | None = None, warn: Callable[[str], None] | None = None
) -> dict[str, str]:
    """What the driver does before any trial: every transform's outside resources checked (``Transform.prepare``,
    e.g. the impulse responses of ``dir``), then :func:`prepare_caches`."""
    for transform in setup.pipeline.transforms:
        transform.prepare()
    return prepare_caches(setup, progress, warn)
