"""Leaderboard rendering: a rich terminal view and Markdown (leaderboard/README.md).

Every dataset gets its own tables: entries measured on different data are never ranked together.
Accuracies are percentages with two decimals; std is the sample std over seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from asc_bench.leaderboard import Entry, Stat, tables
from asc_bench.results import atomic_write_text

MISSING = "–"
_TERMINAL_HEADERS = ("#", "name", "seeds", "macro acc %", "log loss", "MMAC", "params", "param kB", "dtype")


def pct(stat: Stat | None, *, std: bool = True) -> str:
    """``56.99 ± 0.41`` (percent), or the mean alone; ``–`` when missing."""
    if stat is None:
        return MISSING
    return f"{100 * stat.mean:.2f} ± {100 * stat.std:.2f}" if std else f"{100 * stat.mean:.2f}"


def loss(stat: Stat | None) -> str:
    """``1.575 ± 0.012``; ``–`` when missing."""
    return MISSING if stat is None else f"{stat.mean:.3f} ± {stat.std:.3f}"


def _group_names(entries: Sequence[Entry], attr: str) -> list[str]:
    return list(dict.fromkeys(name for e in entries for name in getattr(e, attr)))


def _size_cells(e: Entry) -> list[str]:
    return [f"{e.macs / 1e6:.2f}", f"{e.params:,}", f"{e.param_bytes / 1000:.2f}", e.param_dtype]


def render_terminal(entries: Sequence[Entry], console: Console) -> None:
    """Print, per dataset, an overall table with per-device columns and a per-city table."""
    if not entries:
        console.print("No result records found.")
        return
    for title, group in tables(entries):
        devices = _group_names(group, "per_device")
        overall = Table(title=title, title_justify="left")
        for header in _TERMINAL_HEADERS:
            overall.add_column(header, justify="left" if header in ("name", "dtype") else "right")
        for header in (*devices, "seen", "unseen"):
            overall.add_column(header, justify="right")
        for rank, e in enumerate(group, 1):
            overall.add_row(
                str(rank),
                e.name,
                str(len(e.seeds)),
                pct(e.macro_acc),
                loss(e.log_loss),
                *_size_cells(e),
                *(pct(e.per_device.get(d), std=False) for d in devices),
                pct(e.seen_acc, std=False),
                pct(e.unseen_acc, std=False),
            )
        console.print(overall)
        cities = _group_names(group, "per_city")
        by_city = Table(title=f"{title} — accuracy % per city", title_justify="left")
        for header in ("#", "name", *cities):
            by_city.add_column(header, justify="left" if header == "name" else "right")
        for rank, e in enumerate(group, 1):
            by_city.add_row(str(rank), e.name, *(pct(e.per_city.get(c), std=False) for c in cities))
        console.print(by_city)


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
        device_rows = [
            [*h, *(pct(e.per_device.get(d)) for d in devices)] for h, e in zip(head, group, strict=True)
        ]
        city_rows = [
            [*h, *(pct(e.per_city.get(c)) for c in cities)] for h, e in zip(head, group, strict=True)
        ]
        lines += [f"## {title}", "", "### Overall", ""]
        lines += _md_table([*overall_headers, "MMAC", "params", "param kB", "dtype"], overall_rows)
        lines += ["### Per device (accuracy %)", ""] + _md_table(["#", "system", *devices], device_rows)
        lines += ["### Per city (accuracy %)", ""] + _md_table(["#", "system", *cities], city_rows)
    return "\n".join(lines)


def write_markdown(entries: Sequence[Entry], path: Path) -> None:
    """Write :func:`render_markdown` to ``path`` atomically."""
    atomic_write_text(Path(path), render_markdown(entries))
