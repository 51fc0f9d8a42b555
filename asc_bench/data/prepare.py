"""Preparing a spec's data in the driver: check the dataset, then build each split's shared cache once."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from asc_bench.data.check import require_sound

if TYPE_CHECKING:
    from asc_bench.trial.engine import DataSetup


def prepare_caches(setup: DataSetup, console: Console) -> dict[str, str]:
    """Refuse a broken dataset, then ``Cache.prepare`` every split with a progress bar.

    Returns, per split, what happened: ``built in N s`` or ``up to date`` (nothing needed building).
    """
    require_sound(setup.dataset, setup.indices, warn=lambda text: console.print(f"[yellow]warning:[/yellow] {text}"))
    done: dict[str, str] = {}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
    )
    with Progress(*columns, console=console) as progress:
        for name, request in setup.requests.items():
            kind = setup.cache.config.type
            task = progress.add_task(f"cache {name}", total=request.count, info=kind)
            built = 0

            def advance(n: int, task: int = task) -> None:
                nonlocal built
                built += n
                progress.advance(task, n)

            started = time.perf_counter()
            setup.cache.prepare(request, advance)
            seconds = time.perf_counter() - started
            done[name] = f"built in {seconds:.1f} s" if built else "up to date"
            rate = f", {built / seconds:,.0f} rows/s" if built and seconds > 0 else ""
            progress.update(task, completed=request.count, info=f"{kind}: {done[name]}{rate}")
    return done
