"""``asc-bench runs``: the experiments under an output folder, as a table or as JSON."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from asc_bench.cli.common import keep_whole, print_json
from asc_bench.runner.experiments import experiment_summaries


def render_experiments(
    root: Path, console: Console, err_console: Console | None = None, *, as_json: bool = False
) -> None:
    """The table (or, with ``as_json``, the JSON list) of ``asc-bench runs``: status, trials, best score and
    folder of every experiment; a damaged ``experiment.json`` is skipped with a warning on ``err_console``
    (default: ``console``)."""

    def skipped(exc: Exception) -> None:
        (err_console or console).print(f"[yellow]skipped:[/yellow] {escape(str(exc))}")

    found = experiment_summaries(root, on_damaged=skipped)
    if as_json:
        print_json(found)
        return
    if not found:
        console.print(f"no experiments yet under {escape(str(root))}")
        return
    table = Table(title=f"experiments under {escape(str(root))}", title_justify="left")
    counts = ("done", "failed", "stopped")
    for column in ("name", "started", "status", *counts, "best", "folder"):
        table.add_column(column, justify="right" if column in counts else "left")
    for row in found:
        colour = {"finished": "green", "failed": "red", "interrupted": "yellow"}.get(row["status"], "cyan")
        table.add_row(
            escape(row["name"]),
            datetime.fromisoformat(row["started"]).astimezone().strftime("%Y-%m-%d %H:%M"),
            f"[{colour}]{row['status']}[/{colour}]",
            f"{row['done']}/{_count(row['total'], '?')}",
            _count(row["failed"], "–"),
            _count(row["stopped"], "–"),
            _best_text(row["best"]),
            escape(row["folder"]),
        )
    console.print(keep_whole(table, "started", "status", *counts, "best"))


def _count(value: int | None, missing: str) -> str:
    return missing if value is None else str(value)


def _best_text(best: dict[str, Any] | None) -> str:
    if not best:
        return "–"
    score = best["score"]
    value = f"{100 * score:.2f} %" if best["metric"].endswith("acc") else f"{score:.3f}"
    return f"{best['metric']} {value}"
