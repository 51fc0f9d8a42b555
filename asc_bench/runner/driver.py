"""What ``asc-bench run`` does in the driver: check every stage, start Ray, then for each stage (teachers first)
prepare its caches once and run its trials through Ray Tune. Progress goes to a :class:`RunListener`."""

from __future__ import annotations

import os
from pathlib import Path

from asc_bench.core.errors import UserError
from asc_bench.data.prepare import prepare_data
from asc_bench.data.setup import build_data
from asc_bench.model.build import check_complexity
from asc_bench.model.device import check_device
from asc_bench.model.runtime import check_runtime
from asc_bench.runner.cluster import check_address, check_resources, start_ray
from asc_bench.runner.events import RunListener, TeacherEvent
from asc_bench.runner.experiments import has_resumable
from asc_bench.runner.output import check_output
from asc_bench.runner.stages import Stage, finished_stage, plan_stages
from asc_bench.runner.tracking import check_tracking
from asc_bench.runner.tune import ExperimentOutcome, run_experiment
from asc_bench.search.sweep import SweepPlan, plan_sweep
from asc_bench.spec.model import Spec
from asc_bench.spec.resolve import resolve_for_run
from asc_bench.spec.rules import check_rules


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
    check_output([stage.spec for stage in stages], resume=resume)  # writable output; safe checkpoints to resume
    plans = [stage.sweep(_check(stage.spec, listener)) for stage in reversed(stages)][::-1]  # the student first
    for stage in stages:  # a device this run cannot give its trials is refused before any data work
        check_device(stage.spec.runtime, stage.spec.tune.resources.gpu, local=address in (None, "local"))
        stage.check_data()
    start_ray(address)  # an unreachable cluster or too large trials are refused before any data work
    for stage in stages:
        check_resources(stage.spec.tune.resources.cpu, stage.spec.tune.resources.gpu)
    return _run_stages(stages, plans, listener, address, resume)


def _run_stages(
    stages: list[Stage], plans: list[SweepPlan], listener: RunListener, address: str | None, resume: bool
) -> list[Path]:
    """Run the stages in order (each later one reading the experiment folders of those before it); the last
    stage's records. With ``resume``, stages that finished from the same spec are reused until one trains."""
    trained = False  # a stage trained in this run: the stages after it start anew
    folders: dict[str, Path] = {}
    records: list[Path] = []
    for stage, plan in zip(stages, plans, strict=True):
        if stage.teacher is not None:
            trained |= _run_teacher(stage, plan, listener, address, resume)
            continue
        stage = stage.with_folders(folders)
        reused = finished_stage(stage.spec) if resume and not trained and stage.kind != "train" else None
        if reused is not None:
            listener.stage_reused(stage.spec, reused)
            records = reused
        else:
            # continue this stage's interrupted experiment; the plain student also when a teacher was interrupted
            again = resume and (has_resumable(stage.spec) or (stage.kind == "train" and not trained))
            records = _run_stage(stage.spec, plan, listener, address, again)
            trained = True
        folders[stage.kind] = records[0].parent.parent
    return records


def _check(spec: Spec, listener: RunListener) -> SweepPlan:
    """Refuse a stage whose model is over its limits, whose runtime cannot work here or whose search is wrong."""
    check_rules(spec)
    report = check_complexity(spec)
    check_runtime(spec.runtime)
    check_tracking(spec.tracking)  # a tracker's package is missing: refused before anything runs
    listener.model_checked(spec, report)
    plan = plan_sweep(spec, progress=listener.search_progress)
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
