"""``asc-bench leaderboard``: the terminal view of a leaderboard, and the command that shows, writes or commits one.

The library (:mod:`asc_bench.leaderboard`) ranks the entries and writes the files; this module prints. The
terminal view is compact enough for an 80-column terminal; the Markdown and HTML renderings have every figure.
Names and titles from records are printed as text: rich markup in them is shown, never interpreted.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from asc_bench.cli.common import is_stdout, keep_whole, renamed
from asc_bench.core.errors import UserError
from asc_bench.leaderboard.entries import Entry, Stat, tables
from asc_bench.leaderboard.files import FORMATS, render
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
    return keep_whole(table, *(h for h in HEADERS if h != "name"))


def group_table(title: str, group: Sequence[Entry], attr: str) -> Table:
    """Accuracy (mean over seeds) per device or city (``attr``: ``per_device``, ``per_city``), by rank."""
    table = _table(title)
    table.add_column("#", justify="right")
    names = group_names(group, attr)
    for name in names:
        table.add_column(escape(name[:4]), justify="right")
    for rank, e in enumerate(group, 1):
        table.add_row(str(rank), *(_short(getattr(e, attr).get(n)) for n in names))
    return keep_whole(table, "#", *(escape(name[:4]) for name in names))


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


FormatChoice = StrEnum("FormatChoice", {fmt: fmt for fmt in FORMATS})  # type: ignore[misc]
"""The leaderboard file formats, as the choices of ``--format``."""


def leaderboard_cmd(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(help="Result records: folders or record.json files (default: runs/).", show_default=False),
    ] = None,
    entries_dir: Annotated[
        Path | None,
        typer.Option(
            "--entries-dir", help="The committed entries, shown beside your runs (default: leaderboard/entries)."
        ),
    ] = None,
    no_entries: Annotated[bool, typer.Option("--no-entries", help="Leave the committed entries out.")] = False,
    reported: Annotated[bool, typer.Option(help="Show the published (reported) reference figures.")] = True,
    format_: Annotated[
        list[FormatChoice] | None, typer.Option("--format", help="Write this format (repeatable).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="The file to write (one --format); - prints it instead of the table.")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out-dir", help="The folder to write leaderboard.<ext> files into (default: .).")
    ] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write Markdown to this file (--format md --out).")] = None,
    add: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Commit the records of SOURCES as entry NAME and re-render the leaderboard."),
    ] = None,
    replace: Annotated[bool, typer.Option(help="With --add: overwrite an entry of that name.")] = False,
    publish: Annotated[
        bool, typer.Option(help="Re-render README.md and index.html beside the entries folder from the entries.")
    ] = False,
    old_entries: Annotated[
        Path | None, typer.Option("--entries", hidden=True, help="Old spelling of --entries-dir.")
    ] = None,
) -> None:
    """Rank result records (mean ± std over seeds) beside the committed and reported entries; write files."""
    from asc_bench.cli.common import console

    if markdown and format_:
        raise UserError("--markdown is short for --format md --out FILE; give one or the other.")
    if out is not None and out_dir is not None:
        raise UserError("--out is one file and --out-dir a folder; give one of them.")
    entries = renamed(entries_dir, old_entries, ("--entries-dir", "--entries"), Path("leaderboard/entries"))
    formats = ["md"] if markdown else [f.value for f in format_ or []]
    if out_dir is not None and len(formats) == 1:  # a folder, even one that does not exist yet
        out_dir = out_dir / f"leaderboard.{formats[0]}"
    leaderboard_command(
        sources or [],
        entries_dir=None if no_entries else entries,
        reported=reported,
        formats=formats,
        out=markdown or out or out_dir,
        add=add,
        replace=replace,
        publish_only=publish,
        console=console,
    )


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
    """What ``asc-bench leaderboard`` does (see its help): add an entry and publish, show and write files, or
    (``out`` is ``-``) print one format alone."""
    if add is not None or publish_only:
        committed = committed_folder(entries_dir, formats=formats, sources=sources, add=add)
        if add is not None:
            target = add_entry(sources, committed, add, replace=replace)
            console.print(f"added entry {escape(add)}: {escape(str(target))}")
        for path in publish(committed):
            console.print(f"wrote {escape(str(path))}")
        return
    if is_stdout(out) and len(formats) != 1:
        raise UserError("--out - prints one format to standard output.", fix="Give exactly one --format.")
    entries = board_entries(sources, entries_dir=entries_dir, reported=reported)
    if is_stdout(out):
        sys.stdout.write(render(entries, formats[0], base=Path.cwd()))  # type: ignore[arg-type]
        return
    print_leaderboard(entries, console)
    for path in write_formats(entries, formats, out):
        console.print(f"wrote {escape(str(path))}")
