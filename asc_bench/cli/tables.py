"""Tables the commands print: a model's complexity per block or per layer, against the limits, with footnotes;
a reproduction's checks."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table

from asc_bench.cli.common import keep_whole
from asc_bench.model.complexity import ComplexityReport, block_summary

if TYPE_CHECKING:
    from asc_bench.runner.reproduce import Check


NUMBERS = ("Params", "MACs", "Flop-counter MACs", "Layers", "Output shape", "Note", "count", "limit", "headroom")
"""Complexity table columns that never shrink."""


def _count(value: int) -> str:
    return f"{value:,}" if value else "-"


def _complexity_table(report: ComplexityReport, first: str, what: str) -> Table:
    shape = "x".join(str(s) for s in report.input_shape)
    table = Table(
        title=f"{what} at input 1x{shape} (batch 1){', conv+BN fused' if report.fused else ''}",
        title_justify="left",
        show_footer=True,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column(first, footer="Total", overflow="fold")
    totals = (("Params", report.params), ("MACs", report.macs), ("Flop-counter MACs", report.flop_counter_macs))
    for header, total in totals:
        table.add_column(header, justify="right", footer=f"{total:,}")
    return table


def _note_marks(notes: list[str], footnotes: list[str]) -> str:
    """The footnote numbers of ``notes`` (each new note appended to ``footnotes``)."""
    for note in notes:
        if note not in footnotes:
            footnotes.append(note)
    return ",".join(str(footnotes.index(note) + 1) for note in notes)


def render_complexity_table(
    report: ComplexityReport, *, show_all: bool = False, footnotes: list[str] | None = None
) -> Table:
    """A rich table of the per-layer counts (rows with no parameters and no MACs hidden unless show_all); the
    notes on why the two counts differ become numbers referring to ``footnotes`` (appended to)."""
    footnotes = [] if footnotes is None else footnotes
    table = _complexity_table(report, "Layer (type)", "Complexity per layer")
    table.add_column("Output shape")
    table.add_column("Note")
    for la in report.layers:
        if not (show_all or la.params or la.macs or la.flop_counter_macs):
            continue
        shape = "x".join(str(s) for s in la.output_shape)
        marks = _note_marks([la.note] if la.note else [], footnotes)
        counts = (_count(la.params), _count(la.macs), _count(la.flop_counter_macs))
        table.add_row(f"{la.name or '(model)'} ({la.type})", *counts, shape, marks)
    return keep_whole(table, *NUMBERS)


def render_complexity_summary(report: ComplexityReport, footnotes: list[str]) -> Table:
    """The counts summed per block of the model (:func:`asc_bench.model.complexity.block_summary`)."""
    table = _complexity_table(report, "Block", "Complexity per block")
    table.add_column("Layers", justify="right")
    table.add_column("Note")
    for block in block_summary(report):
        counts = (_count(block.params), _count(block.macs), _count(block.flop_counter_macs))
        table.add_row(block.name, *counts, str(block.layers), _note_marks(block.notes, footnotes))
    return keep_whole(table, *NUMBERS)


def render_footnotes(footnotes: list[str]) -> Table:
    """``[1] note`` lines, each wrapped under its own text."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for number, note in enumerate(footnotes, 1):
        grid.add_row(f"[{number}]", note)
    return grid


def render_limits_table(report: ComplexityReport, max_macs: int | None, max_bytes: int | None) -> Table:
    """The totals against the limits: count, limit and headroom of MACs and parameter bytes."""
    table = Table(title="Totals against the limits", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("measure", overflow="ellipsis")
    for column in ("count", "limit", "headroom"):
        table.add_column(column, justify="right")
    rows = (
        ("MACs", report.macs, max_macs),
        (f"parameter bytes at {report.param_dtype}", report.param_bytes, max_bytes),
    )
    for label, value, limit in rows:
        room = "–" if limit is None else f"{limit - value:,} ({100 * (limit - value) / limit:.1f} %)"
        table.add_row(label, f"{value:,}", "none" if limit is None else f"{limit:,}", room)
    table.add_row("parameters", f"{report.params:,}", "", "")
    return keep_whole(table, *NUMBERS)


def render_device_table(report: ComplexityReport) -> Table | None:
    """A device-specific system's models (DCASE 2025: the limits hold for each on its own), or None."""
    if not report.per_device:
        return None
    table = Table(title="Per-device models (each must meet the limits)", title_justify="left")
    for column in ("model", "MACs", "params", f"bytes at {report.param_dtype}"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, counts in report.per_device.items():
        table.add_row(name, f"{counts['macs']:,}", f"{counts['params']:,}", f"{counts['param_bytes']:,}")
    return keep_whole(table, "MACs", "params", f"bytes at {report.param_dtype}")


def print_checks(checks: list[Check], tolerance: float, console: Console) -> bool:
    """Print the pass/fail table; return True when every check passed."""
    table = Table(title=f"reproduction (tolerance {'exact' if tolerance == 0 else tolerance})", title_justify="left")
    for column in ("figure", "recorded", "reproduced", "|Δ|", "result"):
        table.add_column(column, justify="left" if column in ("figure", "result") else "right")
    for c in checks:
        diff = "–" if math.isinf(c.diff) else f"{c.diff:.2e}" if c.diff else "0"
        table.add_row(c.name, c.recorded, c.reproduced, diff, "[green]pass[/green]" if c.ok else "[red]FAIL[/red]")
    console.print(keep_whole(table, "recorded", "reproduced", "|Δ|", "result"))
    failed = [c.name for c in checks if not c.ok]
    if failed:
        console.print(f"[red]not reproduced[/red]: {', '.join(failed)}")
    else:
        console.print(f"[green]reproduced[/green]: all {sum(c.count for c in checks)} figures match")
    return not failed
