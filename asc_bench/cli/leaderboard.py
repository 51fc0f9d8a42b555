"""``asc-bench leaderboard``: the terminal view of a leaderboard, and the command that shows, writes or commits one.

The library (:mod:`asc_bench.leaderboard`) ranks the entries and writes the files; this module prints. The
terminal view is compact enough for an 80-column terminal; the Markdown and HTML renderings have every figure.
Names and titles from records are printed as text: rich markup in them is shown, never interpreted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from asc_bench.leaderboard.entries import Entry, Stat, tables
from asc_bench.leaderboard.format import MISSING, group_names, spread
from asc_bench.leaderboard.store import add_entry, board_entries, committed_folder, publish, write_formats

HEADERS = ("#", "name", "n", "macro acc %", "log loss", "MMAC", "kB", "dtype", "seen", "unseen")
"""The columns of the terminal view's overall table."""
DTYPE_SHORT = {"float32": "f32", "float16": "f16", "int8": "int8"}


def _table(title: str) -> Table:
    return Table(
        title=escape(title),
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
    if not std:
        return f"{100 * stat.mean:.1f}"
    return f"{100 * stat.mean:.2f}" + (f"±{100 * stat.std:.2f}" if spread(stat) else "")


def overall_table(title: str, group: Sequence[Entry]) -> Table:
    """One table's ranking: runs, macro accuracy ± std, log loss, size and seen / unseen device accuracy."""
    table = _table(title)
    for header in HEADERS:
        name = header == "name"
        table.add_column(header, justify="left" if name else "right", no_wrap=True, min_width=10 if name else None)
    one_source = len({e.source for e in group}) == 1
    for rank, e in enumerate(group, 1):
        table.add_row(
            str(rank),
            escape(e.name if e.kind == "reported" or one_source else f"{e.name} ({e.source})"),
            MISSING if e.runs is None else str(e.runs),
            _short(e.macro_acc, std=True),
            MISSING if e.log_loss is None else f"{e.log_loss.mean:.3f}",
            f"{e.macs / 1e6:.2f}",
            f"{e.param_bytes / 1000:.1f}",
            escape(DTYPE_SHORT.get(e.param_dtype, e.param_dtype)),
            _short(e.seen_acc),
            _short(e.unseen_acc),
        )
    return table


def group_table(title: str, group: Sequence[Entry], attr: str) -> Table:
    """Accuracy (mean over seeds) per device or city (``attr``: ``per_device``, ``per_city``), by rank."""
    table = _table(title)
    table.add_column("#", justify="right")
    names = group_names(group, attr)
    for name in names:
        table.add_column(escape(name[:4]), justify="right")
    for rank, e in enumerate(group, 1):
        table.add_row(str(rank), *(_short(getattr(e, attr).get(n)) for n in names))
    return table


def print_leaderboard(entries: Sequence[Entry], console: Console) -> None:
    """Print, per table, the overall ranking, then (for measured entries) accuracy per device and per city."""
    if not entries:
        console.print("No result records found.")
        return
    for title, group in tables(entries):
        console.print(overall_table(title, group))
        if group[0].kind == "reported":
            continue
        console.print(group_table("accuracy % per device", group, "per_device"))
        if group_names(group, "per_city"):
            console.print(group_table("accuracy % per city (first four letters)", group, "per_city"))


def leaderboard_command(
    sources: Sequence[Path],
    *,
    entries_dir: Path | None,
    reported: bool,
    formats: Sequence[str],
    out: Path | None,
    add: str | None,
    replace: bool,
    publish_only: bool,
    console: Console,
) -> None:
    """What ``asc-bench leaderboard`` does (see its help): add an entry and publish, or show and write files."""
    if add is not None or publish_only:
        committed = committed_folder(entries_dir, formats=formats, sources=sources, add=add)
        if add is not None:
            target = add_entry(sources, committed, add, replace=replace)
            console.print(f"added entry {escape(add)}: {escape(str(target))}")
        for path in publish(committed):
            console.print(f"wrote {escape(str(path))}")
        return
    entries = board_entries(sources, entries_dir=entries_dir, reported=reported)
    print_leaderboard(entries, console)
    for path in write_formats(entries, formats, out):
        console.print(f"wrote {escape(str(path))}")
