"""Commands that train: ``run``, ``runs`` and ``reproduce``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asc_bench.cli.common import AddressOpt, JsonOpt, OldOutOpt, SetOpt, SpecArg, SweepOpt, console, load, renamed


def run(
    spec: SpecArg,
    set_: SetOpt = None,
    sweep: SweepOpt = None,
    address: AddressOpt = None,
    leaderboard: Annotated[bool, typer.Option(help="Print the leaderboard of this spec's runs at the end.")] = True,
    resume: Annotated[
        bool, typer.Option(help="Continue this spec's latest interrupted experiment (unfinished and failed trials).")
    ] = False,
) -> None:
    """Train a spec: every seed and searched configuration, through Ray Tune, writing records.

    It validates the spec, checks the model's complexity and prepares the data cache before any training.
    """
    from asc_bench.cli.leaderboard import print_leaderboard
    from asc_bench.cli.progress import ConsoleRunListener
    from asc_bench.leaderboard.entries import collect
    from asc_bench.runner.driver import run_spec

    loaded = load(spec, set_, sweep)
    run_spec(loaded, listener=ConsoleRunListener(console), address=address, resume=resume)
    if leaderboard:  # one source: the seeds of a spec hash group into one entry
        print_leaderboard(collect([loaded.output.dir.expanduser().absolute()]), console)


def runs(
    folder: Annotated[Path, typer.Argument(help="The output folder of the runs.")] = Path("runs"),
    as_json: JsonOpt = False,
) -> None:
    """List experiments: status, trials done / failed / stopped, best score and folder."""
    from asc_bench.cli.common import err_console
    from asc_bench.cli.runs import render_experiments

    render_experiments(folder, console, err_console, as_json=as_json)


def reproduce(
    record: Annotated[Path, typer.Argument(help="The record.json to re-run.", show_default=False)],
    set_: SetOpt = None,
    tolerance: Annotated[
        float, typer.Option(help="Largest accepted |difference| of accuracies and log losses (0: exact).")
    ] = 0.0,
    out_dir: Annotated[
        Path | None, typer.Option("--out-dir", help="Keep the new run here (default: a temporary folder).")
    ] = None,
    address: AddressOpt = None,
    old_out: OldOutOpt = None,
) -> None:
    """Re-run a record's spec and seed and compare every figure with it; exit status 1 when one differs."""
    from asc_bench.cli.progress import ConsoleRunListener
    from asc_bench.cli.tables import print_checks
    from asc_bench.records.io import read_record
    from asc_bench.runner.reproduce import check_tolerance
    from asc_bench.runner.reproduce import reproduce as run_reproduction

    check_tolerance(tolerance)
    out = renamed(out_dir, old_out, ("--out-dir", "--out"), None)
    recorded = read_record(record)
    console.print(f"re-running {recorded.name} seed {recorded.seed} (spec hash {recorded.spec_hash})")
    listener = ConsoleRunListener(console)
    _, _, checks = run_reproduction(
        record, overrides=set_, tolerance=tolerance, out_dir=out, listener=listener, address=address
    )
    if not print_checks(checks, tolerance, console):
        raise typer.Exit(1)
