"""Leaderboard rendering: a rich terminal view and Markdown (``leaderboard/README.md``).

Every kind and dataset gets its own tables (see :func:`asc_bench.leaderboard.entries.tables`). Accuracies are
percentages with two decimals; ± is the sample std over seeds (or the published spread for reported figures).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from asc_bench.leaderboard.entries import Entry, Stat, tables
from asc_bench.records.record import atomic_write_text

MISSING = "–"
UNSEEN_MARK = "†"
_TERMINAL_HEADERS = ("#", "name", "n", "macro acc %", "log loss", "MMAC", "kB", "dtype", "seen", "unseen")
_DTYPE_SHORT = {"float32": "f32", "float16": "f16", "int8": "int8"}
INTRO = (
    "Ranked by macro-averaged class-wise accuracy (the DCASE ranking metric). Scores are mean ± sample std over "
    "seeds, in %, at the deployed parameter precision; MACs and parameter bytes are for one 1-s clip. "
    "*Measured* entries are result records made by asc-bench (each links to its records, which "
    "`asc-bench reproduce` re-runs); *reported* entries are published figures with their source. Entries on "
    "different data, and measured and reported entries, are never ranked in one table."
)


def spread(stat: Stat) -> bool:
    """Whether a statistic has a spread worth showing: known, and over more than one seed."""
    return stat.std is not None and stat.n != 1


def pct(stat: Stat | None, *, std: bool = True) -> str:
    """``56.99 ± 0.41`` (percent), or the mean alone (also for a single seed); ``–`` when missing."""
    if stat is None:
        return MISSING
    if std and spread(stat):
        return f"{100 * stat.mean:.2f} ± {100 * stat.std:.2f}"
    return f"{100 * stat.mean:.2f}"


def loss(stat: Stat | None) -> str:
    """``1.575 ± 0.012``; ``–`` when missing."""
    if stat is None:
        return MISSING
    return f"{stat.mean:.3f} ± {stat.std:.3f}" if spread(stat) else f"{stat.mean:.3f}"


def runs_text(entry: Entry) -> str:
    """The seeds of a measured entry (``1, 2, 3``); the number of published runs of a reported one."""
    if entry.kind == "measured":
        return ", ".join(map(str, entry.seeds))
    return MISSING if entry.runs is None else f"{entry.runs} runs"


def group_names(entries: Sequence[Entry], attr: str) -> list[str]:
    """Classes, devices or cities with a score in at least one entry (absent ones are not shown)."""
    return list(dict.fromkeys(n for e in entries for n, stat in getattr(e, attr).items() if stat is not None))


def unseen(entries: Sequence[Entry], device: str) -> bool:
    """True when no entry of the table that names its training devices trained on ``device`` (marked †)."""
    known = [e for e in entries if e.seen_devices]
    return bool(known) and all(device not in e.seen_devices for e in known)


def size_cells(e: Entry) -> list[str]:
    """MMAC, parameters, parameter kB and dtype."""
    return [f"{e.macs / 1e6:.2f}", f"{e.params:,}", f"{e.param_bytes / 1000:.2f}", e.param_dtype]


def link(target: Path | str, base: Path | None) -> str:
    """``target`` relative to ``base`` (the folder of the file being written), POSIX style; URLs unchanged."""
    if isinstance(target, str):
        return target
    if base is None:
        return Path(target).resolve().as_posix()
    return Path(os.path.relpath(Path(target).resolve(), Path(base).resolve())).as_posix()


def entry_link(e: Entry, base: Path | None) -> str:
    """Where a row's name links to: the published source, or its first record's folder."""
    if e.kind == "reported":
        return e.url
    if len(e.records) == 1:
        return link(Path(e.records[0]), base)
    return link(Path(os.path.commonpath([Path(p).resolve().parent for p in e.records])), base)


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
    if not std:
        return f"{100 * stat.mean:.1f}"
    return f"{100 * stat.mean:.2f}" + (f"±{100 * stat.std:.2f}" if spread(stat) else "")


def render_terminal(entries: Sequence[Entry], console: Console) -> None:
    """Print, per table, the overall ranking, then (for measured entries) accuracy per device and per city
    (means over seeds), compact enough for an 80-column terminal; the Markdown rendering has every figure."""
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
                e.name if e.kind == "reported" or len({x.source for x in group}) == 1 else f"{e.name} ({e.source})",
                MISSING if e.runs is None else str(e.runs),
                _short(e.macro_acc, std=True),
                MISSING if e.log_loss is None else f"{e.log_loss.mean:.3f}",
                f"{e.macs / 1e6:.2f}",
                f"{e.param_bytes / 1000:.1f}",
                _DTYPE_SHORT.get(e.param_dtype, e.param_dtype),
                _short(e.seen_acc),
                _short(e.unseen_acc),
            )
        console.print(overall)
        if group[0].kind == "reported":
            continue
        console.print(_group_table("accuracy % per device", group, "per_device"))
        if group_names(group, "per_city"):
            console.print(_group_table("accuracy % per city (first four letters)", group, "per_city"))


def _group_table(title: str, group: Sequence[Entry], attr: str) -> Table:
    table = _table(title)
    table.add_column("#", justify="right")
    names = group_names(group, attr)
    for name in names:
        table.add_column(name[:4], justify="right")
    for rank, e in enumerate(group, 1):
        table.add_row(str(rank), *(_short(getattr(e, attr).get(n)) for n in names))
    return table


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    align = ["---" if h in ("system", "dtype", "source", "seeds") else "---:" for h in headers]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _md_name(e: Entry, base: Path | None) -> str:
    return f"[{e.name}]({entry_link(e, base)})"


def _md_note(e: Entry) -> str:
    """``- **name**: citation. note`` under a table."""
    return f"- **{e.name}**: " + " ".join(part for part in (f"{e.citation}." if e.citation else "", e.note) if part)


def markdown_tables(title: str, group: Sequence[Entry], base: Path | None) -> list[str]:
    """The Markdown of one table: overall, per class, per device and per city."""
    head = [(str(rank), _md_name(e, base)) for rank, e in enumerate(group, 1)]
    sources = len({e.source for e in group}) > 1 and group[0].kind == "measured"
    measured = group[0].kind == "measured"
    headers = ["#", "system", *(["source"] if sources else []), "seeds" if measured else "runs", "macro acc"]
    headers += [*(["float32"] if measured else []), "micro acc", "log loss", "seen", "unseen"]
    rows = [
        [
            *h,
            *([e.source] if sources else []),
            runs_text(e),
            pct(e.macro_acc),
            *([pct(e.macro_acc_float32)] if measured else []),
            pct(e.micro_acc),
            loss(e.log_loss),
            pct(e.seen_acc),
            pct(e.unseen_acc),
            *size_cells(e),
        ]
        for h, e in zip(head, group, strict=True)
    ]
    lines = [f"## {title}", "", "### Overall", ""]
    lines += _md_table([*headers, "MMAC", "params", "param kB", "dtype"], rows)
    for label, attr in (("class", "per_class"), ("device", "per_device"), ("city", "per_city")):
        names = group_names(group, attr)
        if not names:
            continue
        cols = [f"{n} {UNSEEN_MARK}" if attr == "per_device" and unseen(group, n) else n for n in names]
        rows = [[*h, *(pct(getattr(e, attr).get(n)) for n in names)] for h, e in zip(head, group, strict=True)]
        lines += [f"### Per {label} (accuracy %)", ""] + _md_table(["#", "system", *cols], rows)
    if any(unseen(group, n) for n in group_names(group, "per_device")):
        lines += [f"{UNSEEN_MARK} device not in the training split (unseen).", ""]
    notes = [_md_note(e) for e in group if e.citation or e.note]
    return [*lines, *(["Notes:" if group[0].kind == "measured" else "Sources:", "", *notes, ""] if notes else [])]


def render_markdown(entries: Sequence[Entry], base: Path | None = None) -> str:
    """Markdown with, per table, overall, per-class, per-device and per-city tables; links relative to ``base``."""
    lines = ["# Leaderboard", "", INTRO, ""]
    if not entries:
        return "\n".join([*lines, "No entries yet.", ""])
    for title, group in tables(entries):
        lines += markdown_tables(title, group, base)
    return "\n".join(lines)


def write_markdown(entries: Sequence[Entry], path: Path) -> None:
    """Write :func:`render_markdown` to ``path`` atomically (links relative to its folder)."""
    path = Path(path)
    atomic_write_text(path, render_markdown(entries, base=path.parent))
