"""Commands about a spec: ``validate``, ``show``, ``schema``, ``complexity``, ``docs``."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from asc_bench.cli.common import (
    JsonOpt,
    SetOpt,
    SpecArg,
    SweepOpt,
    console,
    err_console,
    is_stdout,
    load,
    print_json,
    renamed,
)

if TYPE_CHECKING:
    from asc_bench.model.complexity import ComplexityReport
    from asc_bench.spec.limits import Limits


def validate(spec: SpecArg, set_: SetOpt = None, sweep: SweepOpt = None, as_json: JsonOpt = False) -> None:
    """Check a spec (fields, plugin names, types; teacher specs too) without touching any data."""
    from asc_bench.spec.hashing import spec_hash
    from asc_bench.spec.resolve import resolve_for_run

    loaded = resolve_for_run(load(spec, set_, sweep))  # the hash its records will carry (teacher hashes included)
    if as_json:
        space = {key: dim.model_dump(exclude_none=True) for key, dim in (loaded.tune.space or {}).items()}
        print_json({"ok": True, "spec": str(spec), "name": loaded.name, "hash": spec_hash(loaded), "space": space})
    else:
        console.print(f"[green]ok[/green] {spec}: spec '{loaded.name}', hash {spec_hash(loaded)}")


def show(spec: SpecArg, set_: SetOpt = None, sweep: SweepOpt = None, as_json: JsonOpt = False) -> None:
    """Print the spec as it will run: its `extends` bases merged in, --set applied, every default filled in."""
    import yaml

    data = load(spec, set_, sweep).model_dump(mode="json")
    if as_json:
        print_json(data)
    else:
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120))


class SchemaOf(StrEnum):
    """The schemas ``asc-bench schema --of`` prints."""

    spec = "spec"
    record = "record"
    reported = "reported"


def schema(
    out: Annotated[Path | None, typer.Option(help="Write the JSON Schema to this file (-: standard output).")] = None,
    of: Annotated[SchemaOf, typer.Option(help="The spec, a result record or a reported entry.")] = SchemaOf.spec,
) -> None:
    """Print the JSON Schema of a spec (with every installed plugin's options), a result record or a reported entry."""
    from asc_bench.core.files import atomic_write_text
    from asc_bench.leaderboard.reported import reported_schema
    from asc_bench.records.io import record_schema
    from asc_bench.spec.model import full_schema

    makers = {SchemaOf.spec: full_schema, SchemaOf.record: record_schema, SchemaOf.reported: reported_schema}
    text = json.dumps(makers[of](), indent=2)
    if out is not None and not is_stdout(out):
        atomic_write_text(out, text + "\n")
        err_console.print(f"wrote {out}")
    else:
        sys.stdout.write(text + "\n")


def complexity(
    spec: SpecArg,
    set_: SetOpt = None,
    fused: Annotated[bool, typer.Option(help="Count after folding conv+BatchNorm pairs.")] = False,
    layers: Annotated[bool, typer.Option("--layers", help="Show every layer, not the summary per block.")] = False,
    all_layers: Annotated[
        bool, typer.Option("--all", help="With --layers: show layers without parameters or MACs too.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Count the spec's model (MACs, parameters, bytes) on one clip, per block or per layer, against the limits."""
    from asc_bench.model.build import check_complexity
    from asc_bench.model.complexity import check_limits

    loaded = load(spec, set_)
    report = check_complexity(loaded, fused=fused, enforce=False)
    limits = loaded.limits
    if as_json:
        print_json(_complexity_json(report, limits))
    else:
        _print_complexity(
            report, limits.max_macs(), limits.max_param_bytes(), layers=layers or all_layers, all_layers=all_layers
        )
    check_limits(report, limits)
    if not as_json:
        console.print(f"[green]within limits[/green]{' (the largest device model)' if report.per_device else ''}")


def _complexity_json(report: ComplexityReport, limits: Limits) -> dict[str, Any]:
    """``complexity --json``: the report (totals, layers, per-device models), its blocks and the limits."""
    from dataclasses import asdict

    from asc_bench.model.complexity import block_summary, param_bytes

    max_macs, max_bytes = limits.max_macs(), limits.max_param_bytes()
    nbytes = param_bytes(report.params, limits.param_dtype)
    within = (max_macs is None or report.macs <= max_macs) and (max_bytes is None or nbytes <= max_bytes)
    return {
        **report.to_dict(),
        "blocks": [asdict(block) for block in block_summary(report)],
        "limits": {"max_macs": max_macs, "max_param_bytes": max_bytes, "param_dtype": limits.param_dtype},
        "within_limits": within,
    }


def _print_complexity(
    report: ComplexityReport, max_macs: int | None, max_bytes: int | None, *, layers: bool, all_layers: bool
) -> None:
    from asc_bench.cli.tables import (
        render_complexity_summary,
        render_complexity_table,
        render_device_table,
        render_footnotes,
        render_limits_table,
    )

    footnotes: list[str] = []
    if layers:
        console.print(render_complexity_table(report, show_all=all_layers, footnotes=footnotes))
    else:
        console.print(render_complexity_summary(report, footnotes))
    if footnotes:
        console.print(render_footnotes(footnotes), highlight=False)
    devices = render_device_table(report)
    if devices is not None:
        console.print(devices)
    console.print(render_limits_table(report, max_macs, max_bytes))
    if not layers:
        console.print("(--layers: every layer)", style="dim")


def docs(
    out_dir: Annotated[
        Path | None, typer.Option("--out-dir", help="Where to write the generated pages (default: docs).")
    ] = None,
    old_folder: Annotated[Path | None, typer.Option("--folder", hidden=True, help="Old spelling of --out-dir.")] = None,
) -> None:
    """Regenerate docs/models.md (model counts) and docs/plugin-options.md from the installed plugins."""
    from asc_bench.cli.docgen import write_docs

    for path in write_docs(renamed(out_dir, old_folder, ("--out-dir", "--folder"), Path("docs"))):
        console.print(f"wrote {path}")
