"""Experiment trackers through Ray Tune's own logger callbacks (the spec's ``tracking`` section, docs/tracking.md).

Each trial becomes one tracker run: its parameters are the trial's resolved spec, flattened to the dotted paths
``--set`` takes (``trainer.optimizer.lr``, ``data.transforms.1.n_mels``) plus ``seed``; its metrics are the
per-epoch report (losses, validation and test scores) at step = epoch; at the end the trial's ``record.json`` is
logged as an artifact. The callbacks run in the driver, like Tune's other callbacks."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from types import MappingProxyType
from typing import Any

from asc_bench.core.errors import UserError
from asc_bench.records.layout import RECORD_NAME, trial_folder
from asc_bench.runner.trainable import trial_seed, trial_values
from asc_bench.search.sweep import concrete_spec
from asc_bench.spec.model import Spec
from asc_bench.spec.tracking import MLflowTracking, TrackingSection, WandbTracking

PACKAGES = (("mlflow", "mlflow"), ("wandb", "wandb"))
"""Each tracker's field in ``tracking`` and the module it needs."""
EXTRAS = MappingProxyType({"mlflow": "'asc-bench[mlflow]'"})
"""How to install a tracker that asc-bench has an extra for (W&B has none yet: docs/tracking.md)."""
MAX_PARAMS_PER_BATCH = 100  # MLflow's limit for one log_batch call


def check_tracking(tracking: TrackingSection, where: str = "tracking") -> None:
    """Refuse a tracker whose package is not installed, before anything runs."""
    for name, module in PACKAGES:
        if getattr(tracking, name) is not None and importlib.util.find_spec(module) is None:
            raise UserError(
                f"{where}.{name} asks for {name} tracking, but the {module} package is not installed.",
                where=f"{where}.{name}",
                fix=f"Install it (`pip install {EXTRAS.get(name, module)}`), or remove {where}.{name} from the spec.",
            )


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """Nested spec data as ``dotted.path → text`` (list items by index; empty mappings and lists as ``{}``/``[]``)."""
    if isinstance(data, dict) and data:
        items = data.items()
    elif isinstance(data, list) and data:
        items = ((str(i), value) for i, value in enumerate(data))
    else:
        text = data if isinstance(data, str) else json.dumps(data)
        return {prefix: text} if prefix else {}
    out: dict[str, str] = {}
    for key, value in items:
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def trial_params(config: dict[str, Any]) -> dict[str, str]:
    """A trial's resolved spec (sampled values applied), flattened, with its seed."""
    spec = json.loads(config["spec_json"])
    values = trial_values(config)
    spec = concrete_spec(spec, values) if values else spec
    spec.pop("tracking", None)
    return {**flatten(spec), "seed": str(trial_seed(config))}


def epoch_metrics(result: dict[str, Any]) -> dict[str, float]:
    """The numbers of a trial's epoch report, without Tune's bookkeeping (times, host, iteration counters)."""
    from ray.tune.result import AUTO_RESULT_KEYS

    skip = {*AUTO_RESULT_KEYS, "epoch", "epochs", "done"}
    return {
        key: float(value)
        for key, value in result.items()
        if key not in skip and isinstance(value, int | float) and not isinstance(value, bool)
    }


def record_of(config: dict[str, Any], trial_id: str) -> Path:
    """Where a trial writes its record."""
    return trial_folder(Path(config["experiment_dir"]), trial_seed(config), trial_id) / RECORD_NAME


def tracking_uri(uri: str | None) -> str | None:
    """A folder becomes an absolute ``file://`` URI (a local file store); URIs with a scheme pass unchanged."""
    if uri is None or "://" in uri or uri.split(":", 1)[0] in ("sqlite", "databricks", "postgresql", "mysql"):
        return uri
    return Path(uri).expanduser().resolve().as_uri()


def _mlflow_callback(settings: MLflowTracking, spec: Spec) -> Any:
    from mlflow.entities import Param
    from mlflow.tracking import MlflowClient
    from ray.air.integrations.mlflow import MLflowLoggerCallback

    class MLflowCallback(MLflowLoggerCallback):
        """Ray Tune's MLflow logger with asc-bench's parameters, metrics and record artifact."""

        def setup(self, *args: Any, **kwargs: Any) -> None:
            if (self.tracking_uri or "").startswith("file:"):  # the spec asks for a local file store
                os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
            super().setup(*args, **kwargs)

        def log_trial_start(self, trial: Any) -> None:
            if trial in self._trial_runs:  # resumed: the run exists, with its parameters
                return
            seed = trial_seed(trial.config)
            tags = {**self.tags, "trial_name": str(trial), "trial_id": trial.trial_id}
            run = self.mlflow_util.start_run(tags=tags, run_name=f"seed{seed}-{trial.trial_id}")
            self._trial_runs[trial] = run.info.run_id
            params = [Param(key, value) for key, value in trial_params(trial.config).items()]
            client = MlflowClient(self.tracking_uri)
            for start in range(0, len(params), MAX_PARAMS_PER_BATCH):
                client.log_batch(run.info.run_id, params=params[start : start + MAX_PARAMS_PER_BATCH])

        def log_trial_result(self, iteration: int, trial: Any, result: dict[str, Any]) -> None:
            step = int(result.get("epoch", iteration))
            self.mlflow_util.log_metrics(
                step=step, metrics_to_log=epoch_metrics(result), run_id=self._trial_runs[trial]
            )

        def log_trial_end(self, trial: Any, failed: bool = False) -> None:
            run_id = self._trial_runs[trial]
            record = record_of(trial.config, trial.trial_id)
            if record.is_file():
                MlflowClient(self.tracking_uri).log_artifact(run_id, str(record))
            self.mlflow_util.end_run(run_id=run_id, status="FAILED" if failed else "FINISHED")

    return MLflowCallback(
        tracking_uri(settings.uri), experiment_name=settings.experiment or spec.name, tags=dict(settings.tags)
    )


def _wandb_callback(settings: WandbTracking, spec: Spec) -> Any:
    from ray.air.integrations.wandb import WandbLoggerCallback

    class WandbCallback(WandbLoggerCallback):
        """Ray Tune's W&B logger; the spec's mode reaches Ray's key check (which reads $WANDB_MODE only)."""

        def setup(self, *args: Any, **kwargs: Any) -> None:
            if settings.mode != "online":
                os.environ["WANDB_MODE"] = settings.mode  # offline and disabled runs need no API key
            try:
                super().setup(*args, **kwargs)
            except ValueError as exc:  # no API key for an online run
                raise UserError(
                    f"W&B tracking cannot start: {exc}.",
                    where="tracking.wandb",
                    fix="Run `wandb login` (or set $WANDB_API_KEY), or set tracking.wandb.mode to offline.",
                ) from None

        def log_trial_start(self, trial: Any) -> None:
            self.kwargs["config"] = trial_params(trial.config)  # wandb.init's config: the flattened spec
            try:
                super().log_trial_start(trial)
            finally:
                del self.kwargs["config"]

        def log_trial_result(self, iteration: int, trial: Any, result: dict[str, Any]) -> None:
            super().log_trial_result(iteration, trial, {**epoch_metrics(result), "epoch": result.get("epoch")})

    folder = None if settings.dir is None else str(settings.dir.expanduser().resolve())
    return WandbCallback(
        project=settings.project,
        entity=settings.entity,
        group=settings.group or spec.name,
        mode=settings.mode,
        dir=folder,
    )


def tracking_callbacks(spec: Spec) -> list[Any]:
    """The Tune logger callbacks of the spec's ``tracking`` section (none when it is empty)."""
    tracking = spec.tracking
    check_tracking(tracking)
    callbacks = []
    if tracking.mlflow is not None:
        callbacks.append(_mlflow_callback(tracking.mlflow, spec))
    if tracking.wandb is not None:
        callbacks.append(_wandb_callback(tracking.wandb, spec))
    return callbacks
