"""Cell formatting shared by the leaderboard renderers (Markdown, CSV, JSON, HTML and the CLI's terminal view).

Accuracies are percentages with two decimals; ± is the sample std over seeds (or the published spread of a
reported figure), shown only when there is one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from asc_bench.leaderboard.entries import Entry, Stat
from asc_bench.leaderboard.reported import web_url

MISSING = "–"
UNSEEN_MARK = "†"
INTRO = (
    "Ranked by macro-averaged class-wise accuracy (the DCASE ranking metric). Scores are mean ± sample std over "
    "seeds, in %, at the deployed parameter precision; MACs and parameter bytes are for one 1-s clip. "
    "*Measured* entries are result records made by asc-bench (each links to its records, which "
    "`asc-bench reproduce` re-runs); *reported* entries are published figures with their source. Entries on "
    "different data, and measured and reported entries, are never ranked in one table."
)
"""The paragraph under the title of the Markdown and HTML leaderboards."""
_MD_SPECIAL = re.compile(r"[\\`*\[\]<>|~]|(?<![^\W_])_|_(?![^\W_])")  # "_" inside a word is plain text
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


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


def md_text(text: str) -> str:
    """Free text for one Markdown line or table cell: whitespace (newlines too) collapsed, and every character
    that could start markup, a link, raw HTML or a cell border backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\g<0>", " ".join(text.split()))


def csv_cell(value: object) -> object:
    """A CSV cell that a spreadsheet will not run as a formula: text starting with ``= + - @``, tab or CR gets a
    leading apostrophe (numbers pass unchanged); a CR becomes a newline, which the writer quotes."""
    if not isinstance(value, str):
        return value
    if value[:1] in _FORMULA_START and not _NUMBER.fullmatch(value):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def link(target: Path | str, base: Path | None) -> str:
    """``target`` relative to ``base`` (the folder of the file being written), POSIX style; URLs unchanged."""
    if isinstance(target, str):
        return target
    if base is None:
        return Path(target).resolve().as_posix()
    return Path(os.path.relpath(Path(target).resolve(), Path(base).resolve())).as_posix()


def entry_link(e: Entry, base: Path | None) -> str | None:
    """Where a row's name links to: the published source (http/https only, else no link), or its first record's
    folder (percent-encoded, so that no folder name reads as a scheme)."""
    if e.kind == "reported":
        return web_url(e.url)
    if len(e.records) == 1:
        return quote(link(Path(e.records[0]), base))
    return quote(link(Path(os.path.commonpath([Path(p).resolve().parent for p in e.records])), base))
