"""The ``asc-bench plugins`` and ``asc-bench plugin new`` commands (registered in :mod:`asc_bench.cli.app`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asc_bench.cli.common import console
from asc_bench.plugins import registry

KIND_HELP = ", ".join(registry.KINDS[:-1]) + f" or {registry.KINDS[-1]}."
plugin_app = typer.Typer(help="Write a new plugin package.", no_args_is_help=True)


def plugins(
    check: Annotated[
        bool, typer.Option("--check", help="Import and check every plugin; exit with status 1 on problems.")
    ] = False,
) -> None:
    """List installed plugins of every kind with their distribution and description."""
    from rich.markup import escape
    from rich.table import Table

    from asc_bench.plugins import registry

    results = registry.check_installed()
    table = Table(title="asc-bench plugins")
    for column in ("kind", "name", "distribution", "version", "description"):
        table.add_column(column, overflow="fold")
    for result in results:
        info = result.info
        if result.errors:
            text = "[red]broken:[/red] " + escape(" ".join(result.errors))
        elif check and result.warnings:
            text = escape(result.description) + "\n[yellow]warning:[/yellow] " + escape("; ".join(result.warnings))
        else:
            text = escape(result.description)
        version = info.version + "".join(f"\n(also {o.label})" for o in info.conflicts)
        table.add_row(info.kind, info.name, info.distribution, version, text)
    console.print(table)
    if not check:
        return
    broken = [r for r in results if r.errors]
    warned = [r for r in results if r.warnings and not r.errors]
    console.print(
        f"checked {len(results)} plugins: {len(results) - len(broken)} load and fit the plugin contract, "
        f"{len(broken)} broken, {len(warned)} with documentation warnings."
    )
    if broken:
        raise typer.Exit(1)


@plugin_app.command("new")
def plugin_new(
    name: Annotated[
        str, typer.Argument(help="The plugin's name (`acme-net` or `acme_net`); specs write it `type: acme_net`.")
    ],
    kind: Annotated[str, typer.Option(help=f"The plugin kind: {KIND_HELP}")] = "model",
    dir_: Annotated[Path, typer.Option("--dir", help="Folder to create the package folder in.")] = Path("."),
) -> None:
    """Write a complete, installable plugin package: pyproject, plugin class and config, example spec, test."""
    from asc_bench.plugins.scaffold import scaffold_plugin

    folder, files = scaffold_plugin(name, kind, dir_)  # type: ignore[arg-type]
    type_name = name.replace("-", "_")
    console.print(f"wrote the {kind} plugin {type_name!r} (specs: `type: {type_name}`) to {folder}:")
    for relative in files:
        console.print(f"  {relative}")
    console.print(
        "next:\n"
        f"  cd {folder}\n"
        "  pip install -e .          # into the environment that has asc-bench\n"
        "  asc-bench plugins         # it is listed\n"
        "  pytest                    # the conformance kit checks it\n"
        "  asc-bench run specs/example.yaml   (see the spec's header for the data it needs)"
    )
