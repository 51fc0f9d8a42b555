"""Leaderboard rendering: a rich terminal view and Markdown (leaderboard/README.md).

Every dataset gets its own tables: entries measured on different data are never ranked together.
Accuracies are percentages with two decimals; std is the sample std over seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from asc_bench.leaderboard import Entry, Stat, tables
from asc_bench.results import atomic_write_text

MISSING = "–"
_TERMINAL_HEADERS = ("#", "name", "n", "macro acc %", "log loss", "MMAC", "kB", "dtype", "seen", "unseen")
_DTYPE_SHORT = {"float32": "f32", "float16": "f16", "int8": "int8"}


def pct(stat: Stat | None, *, std: bool = True) -> str:
    """``56.99 ± 0.41`` (percent), or the mean alone; ``–`` when missing."""
    if stat is None:
        return MISSING
    return f"{100 * stat.mean:.2f} ± {100 * stat.std:.2f}" if std else f"{100 * stat.mean:.2f}"


def loss(stat: Stat | None) -> str:
    """``1.575 ± 0.012``; ``–`` when missing."""
    return MISSING if stat is None else f"{stat.mean:.3f} ± {stat.std:.3f}"


def _group_names(entries: Sequence[Entry], attr: str) -> list[str]:
    """Devices or cities that have a score in at least one entry (absent ones are not shown)."""
    return list(dict.fromkeys(n for e in entries for n, stat in getattr(e, attr).items() if stat is not None))


def _size_cells(e: Entry) -> list[str]:
    return [f"{e.macs / 1e6:.2f}", f"{e.params:,}", f"{e.param_bytes / 1000:.2f}", e.param_dtype]


def _table(title: str) -> Table:
    return Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        show_edge=False,
    )


def _short(stat: Stat | None, *, std: bool = False) -> str:
    if stat is None:
        return MISSING
    return f"{100 * stat.mean:.2f}±{100 * stat.std:.2f}" if std else f"{100 * stat.mean:.1f}"


def render_terminal(entries: Sequence[Entry], console: Console) -> None:
    """Print, per dataset, the overall ranking, then accuracy per device and per city (means over seeds),
    compact enough for an 80-column terminal; the Markdown rendering has every figure in full."""
    if not entries:
        console.print("No result records found.")
        return
    for title, group in tables(entries):
        overall = _table(title)
        for header in _TERMINAL_HEADERS:
            name = header == "name"
            overall.add_column(
                header, justify="left" if name else "right", no_wrap=True, min_width=10 if name else None
            )
        for rank, e in enumerate(group, 1):
            overall.add_row(
                str(rank),
                e.name,
                str(len(e.seeds)),
                _short(e.macro_acc, std=True),
                MISSING if e.log_loss is None else f"{e.log_loss.mean:.3f}",
                f"{e.macs / 1e6:.2f}",
                f"{e.param_bytes / 1000:.1f}",
                _DTYPE_SHORT.get(e.param_dtype, e.param_dtype),
                _short(e.seen_acc),
                _short(e.unseen_acc),
            )
        console.print(overall)
        console.print(_group_table("accuracy % per device", group, "per_device"))
        console.print(_group_table("accuracy % per city (first four letters)", group, "per_city"))


def _group_table(title: str, group: Sequence[Entry], attr: str) -> Table:
    table = _table(title)
    table.add_column("#", justify="right")
    names = _group_names(group, attr)
    for name in names:
        table.add_column(name[:4], justify="right")
    for rank, e in enumerate(group, 1):
        table.add_row(str(rank), *(_short(getattr(e, attr).get(n)) for n in names))
    return table


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    align = ["---" if h in ("system", "dtype") else "---:" for h in headers]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return [*lines, ""]


def render_markdown(entries: Sequence[Entry]) -> str:
    """Markdown with, per dataset, an overall, a per-device and a per-city table."""
    lines = [
        "# Leaderboard",
        "",
        "Ranked by macro-averaged class-wise accuracy. Scores are mean ± sample std over seeds, in %;",
        "MACs and parameter bytes are for one 1-s clip at the deployed precision.",
        "",
    ]
    if not entries:
        return "\n".join([*lines, "No result records yet.", ""])
    for title, group in tables(entries):
        devices = _group_names(group, "per_device")
        cities = _group_names(group, "per_city")
        head = [(str(rank), e.name) for rank, e in enumerate(group, 1)]
        overall_headers = ["#", "system", "seeds", "macro acc", "micro acc", "log loss", "seen", "unseen"]
        overall_rows = [
            [
                *h,
                ", ".join(map(str, e.seeds)),
                pct(e.macro_acc),
                pct(e.micro_acc),
                loss(e.log_loss),
                pct(e.seen_acc),
                pct(e.unseen_acc),
                *_size_cells(e),
            ]
            for h, e in zip(head, group, strict=True)
        ]
        device_rows = [[*h, *(pct(e.per_device.get(d)) for d in devices)] for h, e in zip(head, group, strict=True)]
        city_rows = [[*h, *(pct(e.per_city.get(c)) for c in cities)] for h, e in zip(head, group, strict=True)]
        lines += [f"## {title}", "", "### Overall", ""]
        lines += _md_table([*overall_headers, "MMAC", "params", "param kB", "dtype"], overall_rows)
        lines += ["### Per device (accuracy %)", ""] + _md_table(["#", "system", *devices], device_rows)
        lines += ["### Per city (accuracy %)", ""] + _md_table(["#", "system", *cities], city_rows)
    return "\n".join(lines)


def write_markdown(entries: Sequence[Entry], path: Path) -> None:
    """Write :func:`render_markdown` to ``path`` atomically."""
    atomic_write_text(Path(path), render_markdown(entries))
