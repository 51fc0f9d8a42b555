"""Commands about a spec: ``validate``, ``schema``, ``complexity``, ``docs``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from asc_bench.cli.common import SetOpt, SpecArg, console, load
from asc_bench.core.errors import UserError


def validate(spec: SpecArg, set_: SetOpt = None) -> None:
    """Check a spec (fields, plugin names, types; teacher specs too) without touching any data."""
    from asc_bench.spec.hashing import spec_hash
    from asc_bench.spec.resolve import resolve_for_run

    loaded = resolve_for_run(load(spec, set_))  # the hash its records will carry (teacher hashes included)
    console.print(f"[green]ok[/green] {spec}: spec '{loaded.name}', hash {spec_hash(loaded)}")


def schema(
    out: Annotated[Path | None, typer.Option(help="Write the JSON Schema here.")] = None,
    of: Annotated[str, typer.Option(help="spec, record (a result record) or reported (a reported entry).")] = "spec",
) -> None:
    """Print the JSON Schema of a spec (with every installed plugin's options), a result record or a reported entry."""
    from asc_bench.core.files import atomic_write_text
    from asc_bench.leaderboard.reported import reported_schema
    from asc_bench.records.io import record_schema
    from asc_bench.spec.model import full_schema

    makers = {"spec": full_schema, "record": record_schema, "reported": reported_schema}
    if of not in makers:
        raise UserError(f"--of {of!r} is not a schema asc-bench has.", fix="Use --of spec, record or reported.")
    text = json.dumps(makers[of](), indent=2)
    if out:
        atomic_write_text(out, text + "\n")
        console.print(f"wrote {out}")
    else:
        sys.stdout.write(text + "\n")


def _limit(value: int | None) -> str:
    return "none" if value is None else f"{value:,}"


def complexity(
    spec: SpecArg,
    set_: SetOpt = None,
    fused: Annotated[bool, typer.Option(help="Count after folding conv+BatchNorm pairs.")] = False,
    all_layers: Annotated[bool, typer.Option("--all", help="Show containers too, not only leaf layers.")] = False,
) -> None:
    """Count the spec's model (MACs, parameters, bytes) on one clip, layer by layer, against the limits."""
    from asc_bench.cli.tables import render_complexity_table, render_device_table
    from asc_bench.model.build import check_complexity
    from asc_bench.model.complexity import check_limits

    loaded = load(spec, set_)
    report = check_complexity(loaded, fused=fused, enforce=False)
    console.print(render_complexity_table(report, show_all=all_layers))
    devices = render_device_table(report)
    if devices is not None:
        console.print(devices)
    check_limits(report, loaded.limits)
    limits = loaded.limits
    console.print(
        f"[green]within limits[/green]{' (the largest device model)' if devices else ''}: "
        f"{report.macs:,} MACs (limit {_limit(limits.max_macs())}), "
        f"{report.param_bytes:,} B at {report.param_dtype} (limit {_limit(limits.max_param_bytes())})"
    )


def docs(
    folder: Annotated[Path, typer.Option(help="Where to write the generated pages.")] = Path("docs"),
) -> None:
    """Regenerate docs/models.md (model counts) and docs/plugin-options.md from the installed plugins."""
    from asc_bench.cli.docgen import write_docs

    for path in write_docs(folder):
        console.print(f"wrote {path}")
