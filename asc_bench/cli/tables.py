"""Tables the commands print: a model's per-layer complexity, a reproduction's checks."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from asc_bench.model.complexity import ComplexityReport
from asc_bench.runner.reproduce import Check


def render_complexity_table(report: ComplexityReport, *, show_all: bool = False) -> Table:
    """A rich table of the per-layer counts (rows with no parameters and no MACs hidden unless show_all)."""
    shape = "x".join(str(s) for s in report.input_shape)
    table = Table(
        title=f"Complexity at input 1x{shape} (batch 1){', conv+BN fused' if report.fused else ''}",
        caption=f"{report.params:,} params = {report.param_bytes:,} B at {report.param_dtype}; "
        f"{report.macs:,} MACs (torchinfo), {report.flop_counter_macs:,} (flop counter)",
        show_footer=True,
    )
    table.add_column("Layer", footer="Total")
    table.add_column("Type")
    table.add_column("Output shape")
    table.add_column("Params", justify="right", footer=f"{report.params:,}")
    table.add_column("MACs", justify="right", footer=f"{report.macs:,}")
    table.add_column("Flop-counter MACs", justify="right", footer=f"{report.flop_counter_macs:,}")
    table.add_column("Note", overflow="fold")
    for la in report.layers:
        if not (show_all or la.params or la.macs or la.flop_counter_macs):
            continue
        table.add_row(
            la.name or "(model)",
            la.type,
            "x".join(str(s) for s in la.output_shape),
            f"{la.params:,}" if la.params else "-",
            f"{la.macs:,}" if la.macs else "-",
            f"{la.flop_counter_macs:,}" if la.flop_counter_macs else "-",
            la.note,
        )
    return table


def render_device_table(report: ComplexityReport) -> Table | None:
    """A device-specific system's models (DCASE 2025: the limits hold for each on its own), or None."""
    if not report.per_device:
        return None
    table = Table(title="Per-device models (each must meet the limits)", title_justify="left")
    for column in ("model", "MACs", "params", f"bytes at {report.param_dtype}"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, counts in report.per_device.items():
        table.add_row(name, f"{counts['macs']:,}", f"{counts['params']:,}", f"{counts['param_bytes']:,}")
    return table


def print_checks(checks: list[Check], tolerance: float, console: Console) -> bool:
    """Print the pass/fail table; return True when every check passed."""
    table = Table(title=f"reproduction (tolerance {'exact' if tolerance == 0 else tolerance})", title_justify="left")
    for column in ("figure", "recorded", "reproduced", "|Δ|", "result"):
        table.add_column(column, justify="left" if column in ("figure", "result") else "right")
    for c in checks:
        diff = "–" if math.isinf(c.diff) else f"{c.diff:.2e}" if c.diff else "0"
        table.add_row(c.name, c.recorded, c.reproduced, diff, "[green]pass[/green]" if c.ok else "[red]FAIL[/red]")
    console.print(table)
    failed = [c.name for c in checks if not c.ok]
    if failed:
        console.print(f"[red]not reproduced[/red]: {', '.join(failed)}")
    else:
        console.print(f"[green]reproduced[/green]: all {sum(c.count for c in checks)} figures match")
    return not failed
