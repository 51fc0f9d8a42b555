"""The ``asc-bench`` command line. Thin: every command calls into the library; torch and Ray load lazily."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from asc_bench.cli.data import cache_app, data_app
from asc_bench.cli.plugins import plugin_app, plugins
from asc_bench.core.errors import UserError

app = typer.Typer(
    name="asc-bench",
    help="Config-first benchmark harness for low-complexity acoustic scene classification (DCASE Task 1).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(data_app, name="data")
app.add_typer(cache_app, name="cache")
export_app = typer.Typer(help="Export a run in other formats: the DCASE submission files.", no_args_is_help=True)
app.add_typer(export_app, name="export")
console = Console()
err_console = Console(stderr=True)

SpecArg = Annotated[Path, typer.Argument(help="The spec YAML file.", show_default=False)]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a spec field, e.g. --set trainer.epochs=2 (repeatable)."),
]


def _load(spec_path: Path, overrides: list[str] | None):  # noqa: ANN202
    from asc_bench.spec.validate import load_spec

    return load_spec(spec_path, overrides or [])


@app.command()
def validate(spec: SpecArg, set_: SetOpt = None) -> None:
    """Check a spec (fields, plugin names, types; teacher specs too) without touching any data."""
    from asc_bench.spec.validate import resolve_for_run, spec_hash

    loaded = resolve_for_run(_load(spec, set_))  # the hash its records will carry (teacher hashes included)
    console.print(f"[green]ok[/green] {spec}: spec '{loaded.name}', hash {spec_hash(loaded)}")


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option(help="Write the JSON Schema here.")] = None,
    of: Annotated[str, typer.Option(help="spec, record (a result record) or reported (a reported entry).")] = "spec",
) -> None:
    """Print the JSON Schema of a spec (with every installed plugin's options), a result record or a reported entry."""
    from asc_bench.leaderboard.reported import reported_schema
    from asc_bench.records.record import atomic_write_text, record_schema
    from asc_bench.spec.validate import full_schema

    makers = {"spec": full_schema, "record": record_schema, "reported": reported_schema}
    if of not in makers:
        raise UserError(f"--of {of!r} is not a schema asc-bench has.", fix="Use --of spec, record or reported.")
    text = json.dumps(makers[of](), indent=2)
    if out:
        atomic_write_text(out, text + "\n")
        console.print(f"wrote {out}")
    else:
        sys.stdout.write(text + "\n")


app.command()(plugins)
app.add_typer(plugin_app, name="plugin")


def _limit(value: int | None) -> str:
    return "none" if value is None else f"{value:,}"


@app.command()
def complexity(
    spec: SpecArg,
    set_: SetOpt = None,
    fused: Annotated[bool, typer.Option(help="Count after folding conv+BatchNorm pairs.")] = False,
    all_layers: Annotated[bool, typer.Option("--all", help="Show containers too, not only leaf layers.")] = False,
) -> None:
    """Count the spec's model (MACs, parameters, bytes) on one clip, layer by layer, against the limits."""
    from asc_bench.model.complexity import check_limits, render_complexity_table
    from asc_bench.trial.engine import check_complexity

    loaded = _load(spec, set_)
    report = check_complexity(loaded, fused=fused, enforce=False)
    console.print(render_complexity_table(report, show_all=all_layers))
    check_limits(report, loaded.limits)
    limits = loaded.limits
    console.print(
        f"[green]within limits[/green]: {report.macs:,} MACs (limit {_limit(limits.max_macs())}), "
        f"{report.param_bytes:,} B at {report.param_dtype} (limit {_limit(limits.max_param_bytes())})"
    )


@app.command()
def docs(
    folder: Annotated[Path, typer.Option(help="Where to write the generated pages.")] = Path("docs"),
) -> None:
    """Regenerate docs/models.md (model counts) and docs/plugin-options.md from the installed plugins."""
    from asc_bench.cli.docgen import write_docs

    for path in write_docs(folder):
        console.print(f"wrote {path}")


@app.command()
def run(
    spec: SpecArg,
    set_: SetOpt = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster address (default: $RAY_ADDRESS or local).")] = None,
    leaderboard: Annotated[bool, typer.Option(help="Print the leaderboard of this spec's runs at the end.")] = True,
    resume: Annotated[
        bool, typer.Option(help="Continue this spec's latest interrupted experiment (unfinished and failed trials).")
    ] = False,
) -> None:
    """Validate, check complexity, prepare the data cache, train every seed (and searched configuration)
    through Ray Tune, write records."""
    from asc_bench.run.driver import run_spec

    loaded = _load(spec, set_)
    run_spec(loaded, console=console, address=address, leaderboard=leaderboard, resume=resume)


@app.command()
def runs(
    folder: Annotated[Path, typer.Argument(help="The output folder of the runs.")] = Path("runs"),
) -> None:
    """List experiments: status, trials done / failed / stopped, best score and folder."""
    from asc_bench.run.experiments import render_experiments

    render_experiments(folder, console)


@app.command("leaderboard")
def leaderboard_cmd(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(help="Result records: folders or record.json files (default: runs/).", show_default=False),
    ] = None,
    entries: Annotated[Path, typer.Option(help="The committed entries, shown beside your runs.")] = Path(
        "leaderboard/entries"
    ),
    no_entries: Annotated[bool, typer.Option("--no-entries", help="Leave the committed entries out.")] = False,
    reported: Annotated[bool, typer.Option(help="Show the published (reported) reference figures.")] = True,
    format_: Annotated[
        list[str] | None, typer.Option("--format", help="Write md, csv, json or html (repeatable).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="The file (one --format) or folder to write; default leaderboard.<ext> here.")
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
) -> None:
    """Rank result records (mean ± std over seeds) beside the committed and reported entries; write files."""
    from asc_bench.leaderboard.store import run_leaderboard

    if markdown and format_:
        raise UserError("--markdown is short for --format md --out FILE; give one or the other.")
    run_leaderboard(
        sources or [],
        entries_dir=None if no_entries else entries,
        reported=reported,
        formats=["md"] if markdown else format_ or [],
        out=markdown or out,
        add=add,
        replace=replace,
        publish_only=publish,
        console=console,
    )


@app.command()
def reproduce(
    record: Annotated[Path, typer.Argument(help="The record.json to re-run.", show_default=False)],
    set_: SetOpt = None,
    tolerance: Annotated[
        float, typer.Option(help="Largest accepted |difference| of accuracies and log losses (0: exact).")
    ] = 0.0,
    out: Annotated[Path | None, typer.Option(help="Keep the new run here (default: a temporary folder).")] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster address (default: $RAY_ADDRESS or local).")] = None,
) -> None:
    """Re-run a record's spec and seed and compare every figure with it; exit status 1 when one differs."""
    from asc_bench.run.reproduce import render_checks
    from asc_bench.run.reproduce import reproduce as run_reproduction

    _, _, checks = run_reproduction(
        record, overrides=set_, tolerance=tolerance, out_dir=out, console=console, address=address
    )
    if not render_checks(checks, tolerance, console):
        raise typer.Exit(1)


@app.command()
def predict(
    runs: Annotated[
        list[Path],
        typer.Argument(help="Finished runs: record.json files, trial folders or folders above.", show_default=False),
    ],
    out: Annotated[Path, typer.Option(help="The logits file to write (docs/recipes.md describes the format).")],
    split: Annotated[
        str, typer.Option(help="Clips to predict: train, validation, test or all (every clip in meta.csv).")
    ] = "test",
    folder: Annotated[
        Path | None, typer.Option(help="Predict every WAV under this folder instead (keyed by file name).")
    ] = None,
    precision: Annotated[
        str, typer.Option(help="deployed (each run's limits.param_dtype, as its record) or float32.")
    ] = "deployed",
) -> None:
    """Predict logits with one or several finished runs (averaged as an ensemble) and write a logits file."""
    from rich.progress import Progress

    from asc_bench.api.logits import save_logits
    from asc_bench.evaluation.predict import find_run_records, predict_folder, predict_split, split_accuracy

    if split not in ("train", "validation", "test", "all"):
        raise UserError(
            f"--split {split!r} is not a split asc-bench predicts.", fix="Use --split train, validation, test or all."
        )
    if precision not in ("deployed", "float32"):
        raise UserError(f"--precision {precision!r} is unknown.", fix="Use --precision deployed or float32.")
    records = find_run_records(runs)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"predicting with {len(records)} run(s)", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        if folder is not None:
            logits = predict_folder(records, folder, precision=precision, progress=advance)  # type: ignore[arg-type]
        else:
            logits = predict_split(records, split, precision=precision, progress=advance)  # type: ignore[arg-type]
    save_logits(out, logits)
    what = f"the WAV files under {folder}" if folder is not None else f"the {split} split"
    console.print(
        f"wrote {out}: logits of {len(logits.clip_ids):,} clips ({what}) x {len(logits.class_names)} classes, "
        f"averaged over {len(records)} run(s)"
    )
    if folder is None:
        console.print(f"accuracy of these logits on {what}: {split_accuracy(logits, records[0]):.1%}")


@export_app.command("dcase")
def export_dcase_cmd(
    run: Annotated[Path, typer.Argument(help="A trial folder (record.json, model.pt) or experiment folder.")],
    label: Annotated[str, typer.Option(help="The submission label <LASTNAME>_<INSTITUTE>_task1_<1-4>.")],
    eval_folder: Annotated[
        Path | None, typer.Option(help="The evaluation set's audio folder: predict every WAV under it.")
    ] = None,
    logits: Annotated[
        Path | None, typer.Option(help="Or the logits already predicted on it (asc-bench predict RUN --folder DIR).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder to write the two files into.")] = Path("."),
    seed: Annotated[int | None, typer.Option(help="Which seed, when RUN holds several.")] = None,
    split: Annotated[int | None, typer.Option(help="The training split in % (default: from the record).")] = None,
    name: Annotated[str | None, typer.Option(help="The system name in meta.yaml (default: the spec name).")] = None,
) -> None:
    """Write <label>.output.split_<X>.csv (labels and probabilities per evaluation file) and <label>.meta.yaml."""
    from asc_bench.export.dcase import check_label, export_dcase, find_run_record

    check_label(label)
    if (eval_folder is None) == (logits is None):
        raise UserError("give the evaluation audio as --eval-folder DIR, or its predicted logits as --logits FILE.")
    record = find_run_record(run, seed)
    if eval_folder is not None:
        from asc_bench.evaluation.predict import predict_folder

        with console.status(f"predicting the WAV files under {eval_folder}"):
            predicted = predict_folder([record], eval_folder)
    else:
        from asc_bench.api.logits import load_logits

        predicted = load_logits(logits, where="--logits")  # type: ignore[arg-type]
    paths = export_dcase(record, predicted, label=label, out_dir=out, split=split, name=name)
    for path in paths:
        console.print(f"wrote {path}")


def main() -> None:
    """Console-script entry point: user errors print one paragraph and exit with status 2."""
    from asc_bench.core.allocator import keep_freed_memory

    keep_freed_memory()  # the driver builds caches and predicts: the same large, short-lived buffers as training
    try:
        app()
    except UserError as exc:
        label = "[yellow]interrupted:[/yellow]" if exc.exit_code == 130 else "[bold red]error:[/bold red]"
        err_console.print(f"{label} {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/yellow]")
        raise SystemExit(130) from None
    except RuntimeError as exc:
        from asc_bench.run.tune import TrialFailed

        if not isinstance(exc, TrialFailed):
            raise
        err_console.print(f"[bold red]failed:[/bold red] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
