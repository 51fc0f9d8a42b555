"""What ``asc-bench run`` does in the driver: check every stage, start Ray, then for each stage (teachers first)
prepare its caches once and run its trials through Ray Tune. Progress goes to a :class:`RunListener`."""

from __future__ import annotations

import os
from pathlib import Path

from asc_bench.core.errors import UserError
from asc_bench.data.prepare import prepare_data
from asc_bench.data.setup import build_data
from asc_bench.model.build import check_complexity
from asc_bench.model.runtime import check_runtime
from asc_bench.run.cluster import check_address, check_resources, start_ray
from asc_bench.run.events import RunListener, TeacherEvent
from asc_bench.run.experiments import has_resumable
from asc_bench.run.stages import Stage, plan_stages
from asc_bench.run.tune import ExperimentOutcome, run_experiment
from asc_bench.search.sweep import SweepPlan, plan_sweep
from asc_bench.spec.model import Spec
from asc_bench.spec.resolve import resolve_for_run


def run_spec(
    spec: Spec,
    *,
    listener: RunListener | None = None,
    address: str | None = None,
    resume: bool = False,
) -> list[Path]:
    """Validate → complexity → search plan → Ray → (teachers →) caches → Ray Tune trials → records; return the
    spec's record paths. ``resume`` continues the latest interrupted experiment of each stage instead."""
    listener = listener or RunListener()
    if address := address or os.environ.get("RAY_ADDRESS"):
        check_address(address)  # a wrong cluster address is refused within seconds, before anything else
    stages = plan_stages(resolve_for_run(spec))
    plans = [_check(stage.spec, listener) for stage in reversed(stages)][::-1]  # the student is checked first
    start_ray(address)  # an unreachable cluster or too large trials are refused before any data work
    for stage in stages:
        check_resources(stage.spec.tune.resources.cpu, stage.spec.tune.resources.gpu)
    trained_teacher = False
    for stage, plan in zip(stages[:-1], plans[:-1], strict=True):
        trained_teacher |= _run_teacher(stage, plan, listener, address, resume)
    final = stages[-1].spec
    resume = resume and (not trained_teacher or has_resumable(final))  # a teacher was interrupted before it
    return _run_stage(final, plans[-1], listener, address, resume)


def _check(spec: Spec, listener: RunListener) -> SweepPlan:
    """Refuse a stage whose model is over its limits, whose runtime cannot work here or whose search is wrong."""
    report = check_complexity(spec)
    check_runtime(spec.runtime)
    listener.model_checked(spec, report)
    plan = plan_sweep(spec)
    listener.search_planned(spec, plan)
    return plan


def _run_teacher(stage: Stage, plan: SweepPlan, listener: RunListener, address: str | None, resume: bool) -> bool:
    """Train a teacher stage unless its logits are up to date; write them. Whether it trained."""
    output = stage.teacher
    assert output is not None
    name = stage.spec.name
    if output.up_to_date():
        listener.teacher(TeacherEvent(name, "reused", output.logits))
        return False
    seeds = tuple(stage.spec.seeds)
    listener.teacher(TeacherEvent(name, "training", output.logits, stage.spec_file, seeds))
    resume = resume and has_resumable(stage.spec)  # continue an interrupted teacher; a finished one runs anew
    records = _run_stage(stage.spec, plan, listener, address, resume)
    logits = output.write(records)
    listener.teacher(TeacherEvent(name, "written", output.logits, stage.spec_file, seeds, len(logits.clip_ids)))
    return True


def _run_stage(spec: Spec, plan: SweepPlan, listener: RunListener, address: str | None, resume: bool) -> list[Path]:
    """Prepare a stage's caches, run its trials; return its record paths."""
    prepare_data(build_data(spec), listener, listener.warning)
    listener.experiment_started(spec, plan)
    outcome: ExperimentOutcome | None = None
    try:
        outcome = run_experiment(spec, plan, address=address, on_result=listener.trial_result, resume=resume)
    finally:
        listener.experiment_finished(spec, plan, outcome)
    outcome.raise_problems()
    if not outcome.records:
        raise UserError("the experiment finished without writing any result record.")
    listener.records_written(spec, outcome.records)
    return outcome.records
