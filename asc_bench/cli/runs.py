"""``asc-bench runs``: the experiments under an output folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from asc_bench.runner.experiments import count_records, find_experiments


def render_experiments(root: Path, console: Console) -> None:
    """The table of ``asc-bench runs``: status, trials, best score and path of every experiment (a damaged
    ``experiment.json`` is skipped with a warning)."""

    def skipped(exc: Exception) -> None:
        console.print(f"[yellow]skipped:[/yellow] {escape(str(exc))}")

    found = find_experiments(root, on_damaged=skipped)
    if not found:
        console.print(f"No experiments under {root}.")
        return
    table = Table(title=f"experiments under {root}", title_justify="left")
    for column in ("name", "started", "status", "done", "failed", "stopped", "best", "folder"):
        table.add_column(column, justify="right" if column in ("done", "failed", "stopped") else "left")
    for folder, state in found:
        status = state.effective_status()
        colour = {"finished": "green", "failed": "red", "interrupted": "yellow"}.get(status, "cyan")
        table.add_row(
            escape(state.name),
            state.started.astimezone().strftime("%Y-%m-%d %H:%M"),
            f"[{colour}]{status}[/{colour}]",
            f"{count_records(folder)}/{state.trials.get('total', '?')}",
            str(state.trials.get("failed", "–")),
            str(state.trials.get("stopped", "–")),
            _best_text(state.best),
            str(folder.relative_to(root)) if folder.is_relative_to(root) else str(folder),
        )
    console.print(table)


def _best_text(best: dict[str, Any] | None) -> str:
    if not best:
        return "–"
    score = best["score"]
    value = f"{100 * score:.2f} %" if best["metric"].endswith("acc") else f"{score:.3f}"
    return f"{best['metric']} {value}"
