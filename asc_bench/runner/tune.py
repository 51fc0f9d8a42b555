"""Ray Tune execution: trials from seeds × sampled configurations, schedulers, searches, retries of crashed
trials, resume of an interrupted experiment, locally or on a Ray cluster."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ray.tune import Callback

from asc_bench.core.errors import UserError
from asc_bench.records.io import read_record
from asc_bench.records.layout import RECORD_NAME, trial_folder
from asc_bench.runner.cluster import check_resources, start_ray
from asc_bench.runner.experiments import ExperimentState, latest_resumable, new_state, write_state
from asc_bench.runner.tracking import tracking_callbacks
from asc_bench.runner.trainable import trainable_function, trial_seed, trial_values
from asc_bench.search.space import ray_domain
from asc_bench.search.sweep import ConfigResult, SweepPlan, TrialOutcome, best_summary, rank
from asc_bench.spec.model import Spec

__all__ = ["ExperimentInterrupted", "TrialFailed", "run_experiment", "start_ray"]


_listener: ContextVar[Callable[[str, dict[str, Any]], None] | None] = ContextVar(
    "asc_bench_trial_results", default=None
)


class _ProgressCallback(Callback):
    """Forwards each trial's per-epoch result to the caller of :func:`run_experiment` in this context. Tune pickles
    its callbacks with the experiment state and restores them on resume, so the callback holds no display of its
    own: it finds the current one through a context variable set while ``Tuner.fit`` runs."""

    def on_trial_result(self, iteration, trials, trial, result, **info):  # noqa: ANN001
        display = _listener.get()
        if display is not None:
            display(trial.trial_id, result)


class ExperimentInterrupted(UserError):
    """Ctrl-C stopped the experiment; its state is saved and ``--resume`` continues it (exit status 130)."""

    exit_code = 130


class TrialFailed(RuntimeError):
    """A trial crashed for a reason that is not the user's input (exit status 1)."""


@dataclass
class ExperimentOutcome:
    """What an experiment left: its folder, records, per-configuration results (searches) and problems."""

    folder: Path
    tune_path: str
    records: list[Path]
    configs: list[ConfigResult]
    errors: list[BaseException]
    interrupted: bool

    def raise_problems(self) -> None:
        """Raise :class:`ExperimentInterrupted` or the trials' errors, if any."""
        if self.interrupted:
            raise ExperimentInterrupted(
                f"the experiment's state is saved in {self.folder}; continue it with the same command and --resume."
            )
        if self.errors:
            _raise_trial_errors(self.errors, self.folder, self.tune_path)


def _param_space(spec: Spec, plan: SweepPlan, folder: Path) -> dict[str, Any]:
    from ray import tune

    resources = spec.tune.resources
    space: dict[str, Any] = {
        "spec_json": json.dumps(spec.model_dump(mode="json")),
        "experiment_dir": str(folder),
        "threads": max(1, int(resources.cpu)),
        "metric": plan.metric,
        "seeds": plan.seeds,
    }
    if plan.search == "optuna":
        dims = spec.tune.space
        space["keys"] = list(dims)
        space["choices_json"] = json.dumps(plan.choices)
        space["space"] = {f"p{i}": ray_domain(dim, choice_as_index=True) for i, dim in enumerate(dims.values())}
        return space
    space["seed"] = tune.grid_search(plan.seeds)
    if plan.samples:
        space["samples_json"] = json.dumps(plan.samples)
        space["sample"] = tune.grid_search(list(range(len(plan.samples))))
    return space


def _scheduler(spec: Spec) -> Any:
    from ray.tune.schedulers import ASHAScheduler, MedianStoppingRule

    config = spec.tune.scheduler
    if config is None:
        return None
    if config.type == "asha":
        return ASHAScheduler(
            time_attr="epoch",
            max_t=spec.trainer.epochs,
            grace_period=config.grace_period,
            reduction_factor=config.reduction_factor,
        )
    return MedianStoppingRule(
        time_attr="epoch", grace_period=config.grace_period, min_samples_required=config.min_samples_required
    )


def _tune_config(spec: Spec, plan: SweepPlan) -> Any:
    from ray import tune

    settings = spec.tune
    kwargs: dict[str, Any] = {"max_concurrent_trials": settings.max_concurrent_trials}
    if plan.is_sweep:
        kwargs.update(metric=plan.metric, mode=plan.mode, scheduler=_scheduler(spec))
    if plan.search == "optuna":
        import optuna
        from optuna.samplers import TPESampler
        from ray.tune.search import Repeater
        from ray.tune.search.optuna import OptunaSearch

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        searcher = OptunaSearch(sampler=TPESampler(seed=settings.search.seed), metric=plan.metric, mode=plan.mode)
        kwargs.update(search_alg=Repeater(searcher, repeat=len(plan.seeds)), num_samples=plan.num_trials)
    return tune.TuneConfig(**kwargs)


def _storage(spec: Spec, root: Path) -> str:
    storage = spec.tune.storage
    if storage is None:
        return str(root / "tune")
    return storage if "://" in storage else str(Path(storage).expanduser().resolve())


def _new_folder(root: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder, n = root / stamp, 1
    while folder.exists() or (root / "tune" / folder.name).exists():
        n += 1
        folder = root / f"{stamp}-{n}"
    return folder


def _tuner(spec: Spec, plan: SweepPlan, *, resume: bool) -> tuple[Any, Path, ExperimentState]:
    """A new Tuner, or the restored one of the latest interrupted experiment, with its folder and state."""
    from ray import tune

    name = spec.name
    root = Path(spec.output.dir).resolve() / name
    resources = spec.tune.resources
    trainable = tune.with_resources(trainable_function, {"cpu": resources.cpu, "gpu": resources.gpu})
    base = spec.model_dump(mode="json")
    if resume:
        folder, state = latest_resumable(root, base)
        if not tune.Tuner.can_restore(state.tune_path):
            raise UserError(
                f"Ray Tune's state of experiment {folder} is missing or damaged at {state.tune_path}.",
                fix="Run without --resume to start a new experiment.",
            )
        tuner = tune.Tuner.restore(state.tune_path, trainable, resume_unfinished=True, restart_errored=True)
        state = state.model_copy(
            update={
                "status": "running",
                "finished": None,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "resumed": state.resumed + 1,
            }
        )
        return tuner, folder, state
    folder = _new_folder(root)
    storage = _storage(spec, root)
    tuner = tune.Tuner(
        trainable,
        param_space=_param_space(spec, plan, folder),
        tune_config=_tune_config(spec, plan),
        run_config=tune.RunConfig(
            name=folder.name,
            storage_path=storage,
            verbose=0,
            callbacks=[_ProgressCallback(), *tracking_callbacks(spec)],  # MLflow / W&B: runner/tracking.py
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
            failure_config=tune.FailureConfig(max_failures=spec.tune.max_failures),
        ),
    )
    return tuner, folder, new_state(name, base, f"{storage.rstrip('/')}/{folder.name}", plan.metric, plan.num_trials)


def _outcomes(results: Any, plan: SweepPlan, folder: Path, interrupted: bool) -> list[TrialOutcome]:
    outcomes = []
    for result in results:
        config, metrics = result.config or {}, result.metrics or {}
        seed = trial_seed(config)
        record = trial_folder(folder, seed, str(metrics.get("trial_id"))) / RECORD_NAME
        status = (
            "finished"
            if record.is_file()
            else "failed"
            if result.error is not None
            else "unfinished"
            if interrupted
            else "stopped"
        )
        score = metrics.get(plan.metric) if plan.metric else None
        outcomes.append(TrialOutcome(trial_values(config), seed, status, score, record if record.is_file() else None))
    return outcomes


@contextlib.contextmanager
def _graceful_sigint() -> Iterator[threading.Event]:
    """While Tune runs, the first Ctrl-C (SIGINT) asks Tune to stop gracefully through its SIGUSR1 handler
    (it saves the experiment state for ``--resume``) and is remembered; a second one stops at once."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_sigint(signum: int, frame: Any) -> None:
        if stop.is_set() or signal.getsignal(signal.SIGUSR1) in (signal.SIG_DFL, None):
            raise KeyboardInterrupt
        stop.set()
        os.kill(os.getpid(), signal.SIGUSR1)

    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"  # asc-bench handles SIGINT; Tune keeps SIGUSR1
    previous_int = signal.signal(signal.SIGINT, on_sigint)
    previous_usr1 = signal.getsignal(signal.SIGUSR1)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGUSR1, previous_usr1)


def run_experiment(
    spec: Spec,
    plan: SweepPlan,
    *,
    address: str | None = None,
    on_result: Callable[[str, dict[str, Any]], None] | None = None,
    resume: bool = False,
) -> ExperimentOutcome:
    """Run the trials of a validated, resolved spec (seeds × configurations of ``plan``) through Ray Tune,
    or continue its latest interrupted experiment; keep ``experiment.json`` current."""
    resources = spec.tune.resources
    start_ray(address)
    check_resources(resources.cpu, resources.gpu)
    tuner, folder, state = _tuner(spec, plan, resume=resume)
    write_state(folder, state)
    tune_logger = logging.getLogger("ray.tune")
    level = tune_logger.level
    tune_logger.setLevel(logging.CRITICAL)  # trial errors are reported once, by asc-bench
    token = _listener.set(on_result)
    try:
        with _graceful_sigint() as stop:
            results = tuner.fit()
    except KeyboardInterrupt:  # a second Ctrl-C: Tune saved what it could
        write_state(folder, state.model_copy(update={"status": "interrupted"}))
        raise ExperimentInterrupted(
            f"the experiment in {folder} stopped at once; try the same command with --resume to continue it."
        ) from None
    finally:
        _listener.reset(token)
        tune_logger.setLevel(level)
    interrupted = stop.is_set()
    outcomes = _outcomes(results, plan, folder, interrupted)
    errors = [r.error for r in results if r.error is not None]
    configs = rank(outcomes, plan.mode) if plan.is_sweep else []
    records = sorted(folder.glob(f"*/{RECORD_NAME}"))
    state = state.model_copy(
        update={
            "status": "interrupted" if interrupted else "failed" if errors else "finished",
            "finished": datetime.now(UTC),
            "trials": {
                "total": max(plan.num_trials, len(outcomes)),
                **{s: sum(o.status == s for o in outcomes) for s in ("finished", "failed", "stopped")},
            },
            "best": best_summary(configs, plan) if plan.is_sweep else _seeds_summary(records),
        }
    )
    write_state(folder, state)
    return ExperimentOutcome(folder, state.tune_path, records, configs, errors, interrupted)


def _seeds_summary(records: list[Path]) -> dict[str, Any] | None:
    """Without a search, the experiment's score is its mean test macro accuracy over seeds."""
    scores = [read_record(path).metrics.macro_acc for path in records]
    present = [s for s in scores if s is not None]
    return {"metric": "test_macro_acc", "score": sum(present) / len(present)} if present else None


def _raise_trial_errors(errors: list[BaseException], experiment_dir: Path, tune_path: str) -> None:
    """Re-raise a trial's user error as such; anything else is a failure with the place of Ray's logs."""
    causes = [getattr(e, "cause", None) or e for e in errors]
    for cause in causes:
        if isinstance(cause, UserError):
            raise UserError(str(cause)) from None
    lines = str(causes[0]).strip().splitlines()
    raise TrialFailed(
        f"{len(errors)} trial(s) failed; the first error was: {lines[-1] if lines else type(causes[0]).__name__}. "
        f"Trial folders are under {experiment_dir} and Tune's error files under {tune_path}."
    )
