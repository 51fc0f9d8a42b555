"""The ``asc-bench plugins`` and ``asc-bench plugin new`` commands (registered in :mod:`asc_bench.cli.app`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from asc_bench.cli.common import JsonOpt, console, print_json, renamed
from asc_bench.plugins import registry

KindChoice = StrEnum("KindChoice", {kind: kind for kind in registry.KINDS})  # type: ignore[misc]
"""The plugin kinds, as the choices of ``--kind``."""
plugin_app = typer.Typer(help="Write a new plugin package.", no_args_is_help=True)


def _result_json(result: registry.CheckResult) -> dict[str, Any]:
    info = result.info
    return {
        "kind": info.kind,
        "name": info.name,
        "distribution": info.distribution,
        "version": info.version,
        "target": info.target,
        "description": result.description,
        "errors": list(result.errors),
        "warnings": list(result.warnings),
        "conflicts": [o.label for o in info.conflicts],
    }


def plugins(
    check: Annotated[
        bool, typer.Option("--check", help="Import and check every plugin; exit with status 1 on problems.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """List installed plugins of every kind with their distribution and description."""
    from rich.markup import escape
    from rich.table import Table

    results = registry.check_installed()
    if as_json:
        print_json([_result_json(result) for result in results])
        if check and any(r.errors for r in results):
            raise typer.Exit(1)
        return
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
    kind: Annotated[KindChoice, typer.Option(help="The plugin kind.")] = KindChoice.model,  # type: ignore[attr-defined]
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", help="Folder to create the package folder in (default: the current folder)."),
    ] = None,
    old_dir: Annotated[Path | None, typer.Option("--dir", hidden=True, help="Old spelling of --out-dir.")] = None,
) -> None:
    """Write a complete, installable plugin package: pyproject, plugin class and config, example spec, test."""
    from asc_bench.plugins.scaffold import scaffold_plugin

    kind = kind.value  # type: ignore[assignment]
    parent = renamed(out_dir, old_dir, ("--out-dir", "--dir"), Path("."))
    folder, files = scaffold_plugin(name, kind, parent)  # type: ignore[arg-type]
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
