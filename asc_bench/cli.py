"""The ``asc-bench`` command line. Thin: every command calls into the library; torch and Ray load lazily."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from asc_bench.errors import UserError

app = typer.Typer(
    name="asc-bench",
    help="Config-first benchmark harness for low-complexity acoustic scene classification (DCASE Task 1).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Datasets: write a synthetic one in the real TAU22 layout.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console()
err_console = Console(stderr=True)

SpecArg = Annotated[Path, typer.Argument(help="The spec YAML file.", show_default=False)]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a spec field, e.g. --set trainer.epochs=2 (repeatable)."),
]


def _load(spec_path: Path, overrides: list[str] | None):  # noqa: ANN202
    from asc_bench.spec import load_spec

    return load_spec(spec_path, overrides or [])


@app.command()
def validate(spec: SpecArg, set_: SetOpt = None) -> None:
    """Check a spec (fields, plugin names, types) without touching any data."""
    from asc_bench.spec import spec_hash

    loaded = _load(spec, set_)
    console.print(f"[green]ok[/green] {spec}: spec '{loaded.name}', hash {spec_hash(loaded)}")


@app.command()
def schema(out: Annotated[Path | None, typer.Option(help="Write the JSON Schema here.")] = None) -> None:
    """Print the JSON Schema of a spec, including every installed plugin's options."""
    from asc_bench.results import atomic_write_text
    from asc_bench.spec import full_schema

    text = json.dumps(full_schema(), indent=2)
    if out:
        atomic_write_text(out, text + "\n")
        console.print(f"wrote {out}")
    else:
        sys.stdout.write(text + "\n")


@app.command()
def plugins() -> None:
    """List installed plugins of every kind with their distribution and description."""
    from rich.table import Table

    from asc_bench import registry

    table = Table(title="asc-bench plugins")
    for column in ("kind", "name", "distribution", "version", "description"):
        table.add_column(column)
    for kind in registry.KINDS:
        for name, info in sorted(registry.available(kind).items()):
            try:
                text = registry.description(info.load())
            except registry.PluginLoadError as exc:
                text = f"[red]broken:[/red] {exc}"
            table.add_row(kind, name, info.distribution, info.version, text)
    console.print(table)


@app.command()
def complexity(
    spec: SpecArg,
    set_: SetOpt = None,
    fused: Annotated[bool, typer.Option(help="Count after folding conv+BatchNorm pairs.")] = False,
    all_layers: Annotated[bool, typer.Option("--all", help="Show containers too, not only leaf layers.")] = False,
) -> None:
    """Count the spec's model (MACs, parameters, bytes) on one clip, layer by layer, against the limits."""
    from asc_bench.complexity import check_limits, render_complexity_table
    from asc_bench.engine import check_complexity

    loaded = _load(spec, set_)
    report = check_complexity(loaded, fused=fused, enforce=False)
    console.print(render_complexity_table(report, show_all=all_layers))
    check_limits(report, loaded.limits)
    limits = loaded.limits
    console.print(
        f"[green]within limits[/green]: {report.macs:,} MACs (limit {limits.max_macs() or 'none'}), "
        f"{report.param_bytes:,} B at {report.param_dtype} (limit {limits.max_param_bytes() or 'none'})"
    )


@app.command()
def run(
    spec: SpecArg,
    set_: SetOpt = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster address (default: $RAY_ADDRESS or local).")] = None,
    leaderboard: Annotated[bool, typer.Option(help="Print the leaderboard of this spec's runs at the end.")] = True,
) -> None:
    """Validate, check complexity, prepare the data cache, train every seed through Ray Tune, write records."""
    from asc_bench.runner import run_spec

    loaded = _load(spec, set_)
    run_spec(loaded, console=console, address=address, leaderboard=leaderboard)


@app.command("leaderboard")
def leaderboard_cmd(
    runs: Annotated[Path, typer.Argument(help="Folder searched for result records.")] = Path("runs"),
    markdown: Annotated[Path | None, typer.Option(help="Also write the Markdown leaderboard here.")] = Path(
        "leaderboard/README.md"
    ),
) -> None:
    """Rank result records (mean ± std over seeds) and print the leaderboard tables."""
    from asc_bench.runner import show_leaderboard

    show_leaderboard(runs, console=console, markdown=markdown)


FULL_SIZE = {
    "locations_per_pair": 12,
    "segments_per_location": 12,
    "parallel_fraction": 0.075,
    "devices_per_parallel": 8,
}


@data_app.command("synth")
def data_synth(
    root: Annotated[Path, typer.Argument(help="Folder to write the dataset into.")],
    clips: Annotated[int | None, typer.Option(help="At least this many clips (default: 3,000).")] = None,
    full_size: Annotated[bool, typer.Option(help="The full TAU22 size: 230,400 clips, about 30 GB.")] = False,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 0,
    dry_run: Annotated[bool, typer.Option(help="Only print the clip counts it would write.")] = False,
) -> None:
    """Write a synthetic dataset in the real TAU22 layout (WAV files, meta.csv, evaluation_setup/, split_setup/)."""
    from rich.progress import Progress

    from asc_bench.synth import params_for_clips, synthetic_dataset_size, write_synthetic_dataset

    if clips is not None and full_size:
        raise UserError("--clips and --full-size exclude each other.", fix="Give one of them.")
    params = FULL_SIZE if full_size else params_for_clips(clips) if clips is not None else {}
    if dry_run:
        console.print(synthetic_dataset_size(seed=seed, **params))
        return
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"writing {root}", total=None)
        info = write_synthetic_dataset(
            root,
            seed=seed,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            **params,
        )
    console.print(info["message"])


def main() -> None:
    """Console-script entry point: user errors print one paragraph and exit with status 2."""
    try:
        app()
    except UserError as exc:
        err_console.print(f"[bold red]error:[/bold red] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/yellow]")
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
