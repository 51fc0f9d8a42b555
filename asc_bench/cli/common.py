"""What every command module shares: the consoles, the spec argument and ``--set`` / ``--sweep`` options, loading
a spec, JSON output, standard output as ``--out -`` and the hidden old spellings of renamed options.

Naming rules of the options (docs/cli.md): a file a command writes is ``--out FILE`` (``-``: standard output), a
folder it writes into is ``--out-dir DIR``, a folder it reads is ``--<what>-dir`` (``--cache-dir``,
``--audio-dir``, ``--eval-dir``), ``--split`` is a dataset split as the spec names it, ``--json`` prints JSON.
"""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from asc_bench.core.errors import UserError

if TYPE_CHECKING:
    from asc_bench.spec.model import Spec

PIPE_WIDTH = 1000
"""The console width when standard output is not a terminal (and $COLUMNS is unset): tables print whole."""


def _width(stream: Any) -> int | None:
    """None (rich measures the terminal) for a terminal or with $COLUMNS set; else :data:`PIPE_WIDTH`."""
    return None if "COLUMNS" in os.environ or stream.isatty() else PIPE_WIDTH


console = Console(width=_width(sys.stdout))
err_console = Console(stderr=True, width=_width(sys.stderr))

SpecArg = Annotated[Path, typer.Argument(help="The spec YAML file.", show_default=False)]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Override a spec field, e.g. --set trainer.epochs=2 or "
        "--set 'tune.space.trainer.optimizer.lr={loguniform: [1e-4, 1e-2]}' (repeatable).",
    ),
]
SeedOpt = Annotated[int | None, typer.Option(help="Which seed, when RUN holds several.")]
OldOutOpt = Annotated[Path | None, typer.Option("--out", hidden=True, help="Old spelling of --out-dir.")]
"""The hidden old spelling of ``--out-dir`` (kept for one release; see :func:`renamed`)."""
SweepOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--sweep",
        metavar="PATH=V1,V2",
        help="Search a spec field over a grid, e.g. --sweep trainer.optimizer.lr=1e-3,3e-3 (repeatable; the grids "
        "cross).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (keys in docs/cli.md) and nothing else.")]
AddressOpt = Annotated[str | None, typer.Option(help="Ray cluster address (default: $RAY_ADDRESS or local).")]

T = TypeVar("T")
E = TypeVar("E", bound=Enum)


def load(spec_path: Path, overrides: list[str] | None, sweeps: list[str] | None = None) -> Spec:
    """Load, override (``--set``, then ``--sweep``) and validate a spec file."""
    from asc_bench.spec.overrides import sweep_overrides
    from asc_bench.spec.validate import load_spec

    return load_spec(spec_path, [*(overrides or []), *sweep_overrides(sweeps or [])])


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to standard output (dates and paths as text)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def is_stdout(path: Path | None) -> bool:
    """Whether an ``--out`` names standard output (``-``)."""
    return path is not None and str(path) == "-"


def renamed(new: T | None, old: T | None, names: tuple[str, str], default: T) -> T:
    """The value of an option given under its name or under its hidden old spelling (``names``: new, old), which
    is kept for one release with a note on standard error."""
    if old is None:
        return default if new is None else new
    if new is not None:
        raise UserError(f"{names[1]} is the old spelling of {names[0]}; give one of them.", fix=f"Use {names[0]}.")
    err_console.print(
        f"[yellow]note:[/yellow] {names[1]} is now {names[0]}; the old spelling goes in the next release."
    )
    return old


def choice(cls: type[E], value: str | E, flag: str) -> E:
    """``value`` as a member of the choice enum ``cls`` (for the old spellings, which take plain text)."""
    try:
        return cls(value)
    except ValueError:
        names = ", ".join(member.value for member in cls)
        raise UserError(f"{flag} {value!r} is not one of {names}.", fix=f"Use {flag} with one of {names}.") from None


def keep_whole(table: Table, *headers: str) -> Table:
    """Give the columns named ``headers`` (numbers, dates, short codes) a minimum width that fits every cell, so a
    narrow terminal shrinks and ellipsizes only the other (text) columns; returns ``table``."""
    for column in table.columns:
        header = str(column.header)
        if header in headers:
            words = [Text(word).cell_len for word in header.split()]  # a header may wrap between its words
            cells = [Text.from_markup(c).cell_len if isinstance(c, str) else 1 for c in column.cells]
            column.min_width = max([*words, *cells])
    return table
