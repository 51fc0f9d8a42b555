"""The committed leaderboard: entries under ``leaderboard/entries/`` and the files rendered from them.

``entries/measured/<name>/seed<N>/record.json`` are verbatim copies of result records (one spec on one
dataset per ``<name>``), so every number can be traced and re-run (``asc-bench reproduce``);
``entries/reported/*.json`` are published figures (:mod:`asc_bench.leaderboard.reported`). ``README.md`` and
``index.html`` next to ``entries/`` are rendered from them and nothing else. Every function here returns data
(entries, written paths); ``asc-bench leaderboard`` (:mod:`asc_bench.cli.leaderboard`) shows it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from asc_bench.core.errors import UserError
from asc_bench.core.files import atomic_folder, atomic_write_text
from asc_bench.leaderboard.entries import Entry, collect, rank, reported_entry
from asc_bench.leaderboard.files import FORMATS, Format, render
from asc_bench.leaderboard.html import render_html
from asc_bench.leaderboard.markdown import render_markdown
from asc_bench.leaderboard.reported import find_reported, read_reported
from asc_bench.records.io import find_records, read_record
from asc_bench.records.layout import RECORD_NAME

COMMITTED = "committed"
"""The source label of committed measured entries."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def committed_measured(entries_dir: Path) -> list[Entry]:
    """One measured entry per folder of ``entries_dir/measured`` (named after the folder)."""
    folder = Path(entries_dir) / "measured"
    entries: list[Entry] = []
    subs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")) if folder.is_dir() else []
    for sub in subs:
        found = collect([sub], source=COMMITTED, name=sub.name)
        if len(found) != 1:
            raise UserError(
                f"the committed entry {sub.name} holds records of {len(found)} different specs or datasets.",
                where=str(sub),
                fix="An entry is one spec on one dataset: move the other records into their own entry folder.",
            )
        entries += found
    return entries


def committed_reported(entries_dir: Path) -> list[Entry]:
    """The reported entries of ``entries_dir/reported``."""
    return [reported_entry(read_reported(path), path) for path in find_reported(Path(entries_dir) / "reported")]


def load_board(sources: Sequence[Path], *, entries_dir: Path | None, reported: bool = True) -> list[Entry]:
    """Entries from result records under ``sources``, beside the committed entries of ``entries_dir``.

    Records that are already committed (same content) are not counted twice. Without ``reported`` the
    published figures are left out.
    """
    committed = committed_measured(entries_dir) if entries_dir else []
    skip = frozenset(d for e in committed for d in e.digests)
    entries = [*committed, *(e for source in sources for e in collect([source], skip=skip))]
    if entries_dir and reported:
        entries += committed_reported(entries_dir)
    return rank(entries)


def add_entry(sources: Sequence[Path], entries_dir: Path, name: str, *, replace: bool = False) -> Path:
    """Copy the records under ``sources`` (one spec on one dataset) into ``entries_dir/measured/<name>``."""
    if not _NAME.match(name):
        raise UserError(f"entry name {name!r} is not a folder name.", fix="Use letters, digits, '.', '_' and '-' only.")
    entries = collect(sources, source=COMMITTED)
    if len(entries) != 1:
        found = ", ".join(sorted({f"{e.name} ({e.spec_hash}, {e.dataset.split})" for e in entries})) or "none"
        raise UserError(
            f"an entry is one spec on one dataset, but the records under {', '.join(map(str, sources))} "
            f"form {len(entries)}: {found}.",
            fix="Pass one experiment folder, e.g. runs/quickstart/<timestamp>.",
        )
    target = Path(entries_dir) / "measured" / name
    if target.exists() and not replace:
        raise UserError(
            f"the leaderboard already has an entry named {name}.",
            where=str(target),
            fix="Choose another NAME for --add, or pass --replace to overwrite it.",
        )
    with atomic_folder(target, prefix=f".{name}.partial-{os.getpid()}-") as staging:
        for path in entries[0].records:
            seed = read_record(path).seed
            (staging / f"seed{seed}").mkdir()
            shutil.copyfile(path, staging / f"seed{seed}" / RECORD_NAME)
        if target.exists():  # --replace: the old entry goes just before the new one takes its place
            shutil.rmtree(target)
    return target


def publish(entries_dir: Path, out_dir: Path | None = None) -> list[Path]:
    """Render ``README.md`` and ``index.html`` (in ``out_dir``, default: the parent of ``entries_dir``)
    from the committed entries alone; return the written paths."""
    out_dir = Path(out_dir) if out_dir else Path(entries_dir).parent
    entries = load_board([], entries_dir=entries_dir)
    written = []
    for name, renderer in (("README.md", render_markdown), ("index.html", render_html)):
        path = out_dir / name
        atomic_write_text(path, renderer(entries, base=out_dir))
        written.append(path)
    return written


def has_records(path: Path) -> bool:
    """True when ``path`` exists and holds at least one result record."""
    with contextlib.suppress(UserError):
        return bool(find_records(path))
    return False


def write_formats(entries: Sequence[Entry], formats: Sequence[Format], out: Path | None) -> list[Path]:
    """Write the leaderboard in each of ``formats`` (md, csv, json, html).

    ``out`` is the file when there is one format and ``out`` is not a folder; otherwise the folder that
    receives ``leaderboard.<ext>`` files (default: the current folder).
    """
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise UserError(f"unknown --format {', '.join(unknown)}.", fix=f"Use one of {', '.join(FORMATS)}.")
    formats = list(dict.fromkeys(formats))
    single = out is not None and len(formats) == 1 and not out.is_dir()
    written = []
    for fmt in formats:
        path = out if single and out is not None else (out or Path(".")) / f"leaderboard.{fmt}"
        atomic_write_text(path, render(entries, fmt, base=path.parent))
        written.append(path)
    return written


def committed_folder(
    entries_dir: Path | None, *, formats: Sequence[str], sources: Sequence[Path], add: str | None
) -> Path:
    """Check the options of ``--add`` / ``--publish``, which write the committed leaderboard; return ``entries_dir``."""
    if entries_dir is None or formats:
        raise UserError(
            "--add and --publish write the committed leaderboard; they go with neither --no-entries nor --format.",
            fix="Run them on their own, then asc-bench leaderboard --format ... for other files.",
        )
    if add is not None and not sources:
        raise UserError(
            "--add needs the run to add.", fix="Name its folder, e.g. asc-bench leaderboard runs/x --add NAME."
        )
    return entries_dir


def board_entries(sources: Sequence[Path], *, entries_dir: Path | None, reported: bool) -> list[Entry]:
    """The ranked entries ``asc-bench leaderboard`` shows: the records under ``sources`` (default ``runs/`` when it
    holds any) beside the committed entries of ``entries_dir`` (when that folder exists).

    A source folder without records, or nothing to show at all, is a :class:`UserError`.
    """
    for source in sources:
        if not has_records(source) and Path(source).is_dir():
            raise UserError(
                f"no result records found under {source}.",
                fix="Point at a folder holding record.json files, e.g. runs/ after asc-bench run SPEC.",
            )
    if not sources and has_records(Path("runs")):
        sources = [Path("runs")]
    committed = entries_dir if entries_dir is not None and entries_dir.is_dir() else None
    entries = load_board(sources, entries_dir=committed, reported=reported)
    if not entries:
        raise UserError(
            f"no result records found under {', '.join(map(str, sources)) or 'runs'} and no committed entries.",
            fix="Run an experiment first (asc-bench run SPEC) or point at the folder holding record.json files.",
        )
    return entries
