"""Ray Tune execution: one trial per seed, run locally or on a Ray cluster, with quiet Ray logs."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel
from ray.tune import Callback

from asc_bench.errors import UserError
from asc_bench.results import RECORD_NAME

# Keep Ray quiet and small: no default Tune loggers (asc-bench writes its own records and TensorBoard
# files), rotated and bounded Ray logs, no new-style console reporter.
_RAY_ENV = {
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",
    "RAY_AIR_NEW_OUTPUT": "0",
    "RAY_ROTATION_MAX_BYTES": str(10 * 1024 * 1024),
    "RAY_ROTATION_BACKUP_COUNT": "1",
    "RAY_DEDUP_LOGS": "1",
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "60",
}


def start_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Join ``address`` (or ``$RAY_ADDRESS``) or start a local Ray without dashboard; reuse a running one."""
    import ray

    for key, value in _RAY_ENV.items():
        os.environ.setdefault(key, value)
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS")
    kwargs: dict[str, Any] = {
        "logging_level": logging.ERROR,
        "log_to_driver": False,
        "configure_logging": True,
    }
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, **kwargs)
    except ConnectionError as exc:
        raise UserError(
            f"cannot connect to the Ray cluster at {address}: {exc}.",
            fix="Check the address (ray status on the head node), or omit --address to run locally.",
        ) from None


class _TuneReporter:
    """Per-epoch ``ray.tune.report`` with a checkpoint; restores from ``ray.tune.get_checkpoint``."""

    def report(self, metrics: dict[str, Any], state: dict[str, Any]) -> None:
        from ray import tune

        with tempfile.TemporaryDirectory() as folder:
            torch.save(state, Path(folder) / "state.pt")
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))

    def restore(self) -> dict[str, Any] | None:
        from ray import tune

        checkpoint = tune.get_checkpoint()
        if checkpoint is None:
            return None
        with checkpoint.as_directory() as folder:
            return torch.load(Path(folder) / "state.pt", weights_only=False)


def _trainable(config: dict[str, Any]) -> None:
    from ray import tune

    from asc_bench.engine import run_trial

    context = tune.get_context()
    trial_id = context.get_trial_id()
    run_trial(
        json.loads(config["spec_json"]),
        int(config["seed"]),
        trial_dir=Path(config["experiment_dir"]) / f"seed{config['seed']}-{trial_id}",
        trial_id=trial_id,
        reporter=_TuneReporter(),
        threads=int(config["threads"]),
    )


class _ProgressCallback(Callback):
    """Forwards each trial's per-epoch result to ``on_result`` (the CLI's display).

    Tune pickles its callbacks with the experiment state; the display function stays in the driver.
    """

    def __init__(self, on_result: Callable[[str, dict[str, Any]], None] | None) -> None:
        self.on_result = on_result

    def __getstate__(self) -> dict[str, Any]:
        return {"on_result": None}

    def on_trial_result(self, iteration, trials, trial, result, **info):  # noqa: ANN001
        if self.on_result:
            self.on_result(trial.trial_id, result)


def run_experiment(
    spec: BaseModel,
    *,
    address: str | None = None,
    on_result: Callable[[str, dict[str, Any]], None] | None = None,
) -> list[Path]:
    """Run one Ray Tune trial per seed of a validated spec; return the written record paths."""
    from ray import tune

    start_ray(address)
    name = spec.name  # type: ignore[attr-defined]
    root = Path(spec.output.dir).resolve() / name  # type: ignore[attr-defined]
    experiment = datetime.now().strftime("%Y%m%d-%H%M%S")
    experiment_dir = root / experiment
    resources = spec.tune.resources  # type: ignore[attr-defined]
    trainable = tune.with_resources(_trainable, {"cpu": resources.cpu, "gpu": resources.gpu})
    tuner = tune.Tuner(
        trainable,
        param_space={
            "spec_json": json.dumps(spec.model_dump(mode="json")),
            "seed": tune.grid_search(list(spec.seeds)),  # type: ignore[attr-defined]
            "experiment_dir": str(experiment_dir),
            "threads": max(1, int(resources.cpu)),
        },
        tune_config=tune.TuneConfig(max_concurrent_trials=spec.tune.max_concurrent_trials),  # type: ignore[attr-defined]
        run_config=tune.RunConfig(
            name=experiment,
            storage_path=str(root / "tune"),
            verbose=0,
            callbacks=[_ProgressCallback(on_result)],
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
        ),
    )
    tune_logger = logging.getLogger("ray.tune")
    level = tune_logger.level
    tune_logger.setLevel(logging.CRITICAL)  # trial errors are reported once, by asc-bench, below
    try:
        results = tuner.fit()
    finally:
        tune_logger.setLevel(level)
    errors = [r.error for r in results if r.error is not None]
    if errors:
        _raise_trial_errors(errors, experiment_dir)
    return sorted(experiment_dir.glob(f"*/{RECORD_NAME}"))


def _raise_trial_errors(errors: list[BaseException], experiment_dir: Path) -> None:
    """Re-raise a trial's user error as such; anything else is a failure with the place of Ray's logs."""
    causes = [getattr(e, "cause", None) or e for e in errors]
    for cause in causes:
        if isinstance(cause, UserError):
            raise UserError(str(cause)) from None
    lines = str(causes[0]).strip().splitlines()
    raise TrialFailed(
        f"{len(errors)} trial(s) failed; the first error was: {lines[-1] if lines else type(causes[0]).__name__}. "
        f"Trial folders are under {experiment_dir} and Tune's error files under {experiment_dir.parent / 'tune'}."
    )


class TrialFailed(RuntimeError):
    """A trial crashed for a reason that is not the user's input (exit status 1)."""
