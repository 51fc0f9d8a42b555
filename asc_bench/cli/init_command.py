"""``asc-bench init``: write a starter spec that extends a recipe shipped with asc-bench (and, beside it, the
JSON Schema its editor modeline names); ``--list`` shows the recipes."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from asc_bench.cli.common import console
from asc_bench.spec.compose import recipe_names

Recipe = Enum("Recipe", {name: name for name in recipe_names()}, type=str)  # type: ignore[misc]
"""The shipped recipes, as choices that ``--help`` lists."""


def init(
    path: Annotated[
        Path | None,
        typer.Argument(help="The spec file to write (default: my-RECIPE.yaml here).", show_default=False),
    ] = None,
    recipe: Annotated[Recipe, typer.Option(help="The shipped recipe the spec extends.")] = "quickstart",  # type: ignore[assignment]
    list_: Annotated[bool, typer.Option("--list", help="List the shipped recipes and exit.")] = False,
    schema: Annotated[
        bool, typer.Option(help="Write asc-bench.schema.json beside the spec for editor completion, if not there.")
    ] = True,
) -> None:
    """Write a starter spec that extends a shipped recipe; it never overwrites a file."""
    from rich.table import Table

    from asc_bench.spec.starter import SCHEMA_FILE, recipe_descriptions, write_starter

    if list_:
        table = Table("recipe", "description", title="Shipped recipes (asc-bench init --recipe NAME)")
        for name, description in recipe_descriptions().items():
            table.add_row(name, description)
        console.print(table)
        return
    name = Recipe(recipe).value
    written = write_starter(path or Path(f"my-{name}.yaml"), name)
    console.print(f"wrote {written} (extends recipe:{name})")
    schema_path = written.parent / SCHEMA_FILE
    if schema and not schema_path.exists():
        import json

        from asc_bench.core.files import atomic_write_text
        from asc_bench.spec.model import full_schema

        atomic_write_text(schema_path, json.dumps(full_schema(), indent=2) + "\n")
        console.print(f"wrote {schema_path} (the schema its first line names, for editor completion)")
    console.print(f"next: asc-bench show {written}   then: asc-bench run {written}")
