"""The ``tracking`` section: experiment trackers fed through Ray Tune's own logger callbacks (MLflow, Weights &
Biases). Not part of the spec hash, and left out of the spec's dump while empty (records and hashes of specs
without it are unchanged)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from asc_bench.core.strict import StrictModel


class MLflowTracking(StrictModel):
    """One MLflow run per trial: the resolved spec as parameters, per-epoch metrics, the record as an artifact."""

    uri: str | None = Field(
        None,
        description="Tracking URI: a folder (a local file store, relative to the current folder), file://..., "
        "http(s)://... (default: $MLFLOW_TRACKING_URI, else MLflow's own default).",
    )
    experiment: str | None = Field(None, description="MLflow experiment name (default: the spec's name).")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags set on every run.")


class WandbTracking(StrictModel):
    """One W&B run per trial, through Ray Tune's ``WandbLoggerCallback``."""

    project: str = Field(..., min_length=1, description="W&B project.")
    entity: str | None = Field(None, description="W&B entity (team or user; default: yours).")
    group: str | None = Field(None, description="Run group (default: the spec's name).")
    mode: Literal["online", "offline", "disabled"] = Field(
        "online", description="online: sync as it runs; offline: write under dir for `wandb sync`; disabled."
    )
    dir: Path | None = Field(None, description="Where W&B writes its files (default: W&B's, ./wandb).")


class TrackingSection(StrictModel):
    """Experiment trackers (optional packages: `pip install asc-bench[mlflow]`, `asc-bench[wandb]`)."""

    mlflow: MLflowTracking | None = Field(None, description="Log every trial to MLflow.")
    wandb: WandbTracking | None = Field(None, description="Log every trial to Weights & Biases.")

    def is_empty(self) -> bool:
        """No tracker configured."""
        return self.mlflow is None and self.wandb is None
