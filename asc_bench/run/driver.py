"""What ``asc-bench run`` does in the driver: check, prepare caches once, run the experiment, show results."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from asc_bench.core.errors import UserError


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
    )


def prepare_data(spec: BaseModel, console: Console) -> None:
    """Refuse a broken dataset, then build every split's shared cache in the driver (once), with a progress bar."""
    from asc_bench.data.prepare import prepare_caches
    from asc_bench.trial.engine import build_data

    setup = build_data(spec)
    for transform in setup.pipeline.transforms:
        transform.prepare()  # e.g. the dir transform's impulse responses: refused before any cache is built
    prepare_caches(setup, console)


def run_spec(
    spec: BaseModel,
    *,
    console: Console,
    address: str | None = None,
    leaderboard: bool = True,
    resume: bool = False,
) -> list[Path]:
    """Validate → complexity → search plan → Ray → teachers → caches → Ray Tune trials → records → leaderboard;
    return the record paths. ``resume`` continues the spec's latest interrupted experiment instead."""
    from asc_bench.run.cluster import check_address, check_resources, start_ray
    from asc_bench.run.teachers import prepare_teachers, resumable
    from asc_bench.run.tune import run_experiment
    from asc_bench.search.sweep import plan_sweep, render_summary
    from asc_bench.spec.validate import resolve_for_run
    from asc_bench.trial.engine import check_complexity, check_runtime

    if address := address or os.environ.get("RAY_ADDRESS"):
        check_address(address)  # a wrong cluster address is refused within seconds, before anything else
    spec = resolve_for_run(spec)
    report = check_complexity(spec)
    check_runtime(spec)
    console.print(
        f"model {spec.model.type}: {report.macs:,} MACs, {report.params:,} parameters = "  # type: ignore[attr-defined]
        f"{report.param_bytes:,} B at {report.param_dtype}; input {'x'.join(map(str, report.input_shape))}"
        " - within limits"
    )
    plan = plan_sweep(spec)
    if plan.is_sweep:
        console.print(
            f"search ({plan.search}): {plan.num_trials} trials = {plan.num_trials // len(plan.seeds)} "
            f"configurations x {len(plan.seeds)} seed(s), choosing on {plan.metric} ({plan.mode})"
        )
    if plan.on_test:
        console.print(
            "[bold yellow]warning:[/bold yellow] the dataset has no validation split; the best configuration is "
            f"chosen on {plan.metric} (tune.select_on_test), so its test scores are optimistic."
        )
    start_ray(address)  # an unreachable cluster or too large trials are refused before any data work
    check_resources(spec.tune.resources.cpu, spec.tune.resources.gpu)  # type: ignore[attr-defined]
    spec, trained_teacher = prepare_teachers(spec, console=console, address=address, resume=resume)
    if resume and trained_teacher and not resumable(spec):
        resume = False  # the teacher was interrupted before this spec's own experiment started
    prepare_data(spec, console)
    epochs = spec.trainer.epochs  # type: ignore[attr-defined]
    shown = plan.metric or "test_macro_acc"
    with _progress(console) as progress:
        tasks: dict[str, Any] = {}
        overall = progress.add_task("trials", total=plan.num_trials * epochs, info="starting Ray")

        def on_result(trial_id: str, result: dict[str, Any]) -> None:
            if trial_id not in tasks:
                tasks[trial_id] = progress.add_task(f"trial {trial_id}", total=epochs, info="")
            score = result.get(shown)
            text = "" if score is None else f"  {shown} {score:.1%}" if "acc" in shown else f"  {shown} {score:.3f}"
            progress.update(tasks[trial_id], completed=result["epoch"], info=f"loss {result['train_loss']:.3f}{text}")
            progress.update(overall, advance=1, info="")

        outcome = run_experiment(spec, plan, address=address, on_result=on_result, resume=resume)
        if not outcome.interrupted:
            progress.update(overall, completed=plan.num_trials * epochs)
    if plan.is_sweep and not outcome.interrupted:
        render_summary(outcome.configs, plan, console)
    outcome.raise_problems()
    records = outcome.records
    if not records:
        raise UserError("the experiment finished without writing any result record.")
    console.print(f"wrote {len(records)} result record(s) under {records[0].parent.parent}")
    if leaderboard:
        show_leaderboard(Path(spec.output.dir), console=console, markdown=None)  # type: ignore[attr-defined]
    return records


def show_leaderboard(runs: Path, *, console: Console, markdown: Path | None) -> None:
    """Print the leaderboard of every record under ``runs``; optionally write the Markdown version."""
    from asc_bench.leaderboard.entries import collect
    from asc_bench.leaderboard.render import render_terminal, write_markdown
    from asc_bench.records.record import find_records

    paths = find_records(runs)
    if not paths:
        raise UserError(
            f"no result records found under {runs}.",
            fix="Run an experiment first (asc-bench run SPEC) or point at the folder holding record.json files.",
        )
    entries = collect([runs])  # one source: seeds of a spec hash group into one entry
    render_terminal(entries, console)
    if markdown:
        write_markdown(entries, markdown)
        console.print(f"wrote {markdown}")
