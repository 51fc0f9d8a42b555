"""What every command module shares: the consoles, the spec argument and ``--set`` option, loading a spec."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from asc_bench.spec.model import Spec

console = Console()
err_console = Console(stderr=True)

SpecArg = Annotated[Path, typer.Argument(help="The spec YAML file.", show_default=False)]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a spec field, e.g. --set trainer.epochs=2 (repeatable)."),
]
AddressOpt = Annotated[str | None, typer.Option(help="Ray cluster address (default: $RAY_ADDRESS or local).")]


def load(spec_path: Path, overrides: list[str] | None) -> Spec:
    """Load, override and validate a spec file."""
    from asc_bench.spec.validate import load_spec

    return load_spec(spec_path, overrides or [])
