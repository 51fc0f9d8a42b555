"""The Markdown leaderboard (``leaderboard/README.md``, ``--format md``).

Every kind and dataset gets its own tables (see :func:`asc_bench.leaderboard.entries.tables`): overall, per
class, per device and per city, with notes or sources underneath.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from asc_bench.core.files import atomic_write_text
from asc_bench.leaderboard.entries import Entry, tables
from asc_bench.leaderboard.format import (
    INTRO,
    UNSEEN_MARK,
    entry_link,
    group_names,
    loss,
    md_text,
    pct,
    runs_text,
    size_cells,
    unseen,
)

URL_SAFE = ":/?#[]@!$&'*+,;=%~"
"""Characters kept as they are in a link target; spaces, parentheses, ``<>``, ``|`` and quotes are
percent-encoded, so that a target cannot end the link or the table cell."""


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A table of plain-text headers (escaped here) and cells that are already Markdown (escaped by the caller)."""
    align = ["---" if h in ("system", "dtype", "source", "seeds") else "---:" for h in headers]
    lines = ["| " + " | ".join(map(md_text, headers)) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _md_name(e: Entry, base: Path | None) -> str:
    target = entry_link(e, base)
    return md_text(e.name) if target is None else f"[{md_text(e.name)}]({quote(target, safe=URL_SAFE)})"


def _md_note(e: Entry) -> str:
    """``- **name**: citation. note`` under a table (every part escaped: a description stays one line of text)."""
    parts = (f"{md_text(e.citation)}." if e.citation else "", md_text(e.note))
    return f"- **{md_text(e.name)}**: " + " ".join(part for part in parts if part)


def markdown_tables(title: str, group: Sequence[Entry], base: Path | None) -> list[str]:
    """The Markdown lines of one table: overall, per class, per device and per city."""
    head = [(str(rank), _md_name(e, base)) for rank, e in enumerate(group, 1)]
    sources = len({e.source for e in group}) > 1 and group[0].kind == "measured"
    measured = group[0].kind == "measured"
    headers = ["#", "system", *(["source"] if sources else []), "seeds" if measured else "runs", "macro acc"]
    headers += [*(["float32"] if measured else []), "micro acc", "log loss", "seen", "unseen"]
    rows = [
        [
            *h,
            *([md_text(e.source)] if sources else []),
            md_text(runs_text(e)),
            pct(e.macro_acc),
            *([pct(e.macro_acc_float32)] if measured else []),
            pct(e.micro_acc),
            loss(e.log_loss),
            pct(e.seen_acc),
            pct(e.unseen_acc),
            *map(md_text, size_cells(e)),
        ]
        for h, e in zip(head, group, strict=True)
    ]
    lines = [f"## {md_text(title)}", "", "### Overall", ""]
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
    """Write :func:`render_markdown` to ``path`` atomically (links relative to its folder; the umask's mode)."""
    path = Path(path)
    atomic_write_text(path, render_markdown(entries, base=path.parent))
