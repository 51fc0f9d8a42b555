"""The ``tune:`` section of a spec: trial resources, the search space, search, scheduler and failures.

Not part of the spec hash: it says how configurations are run and searched, not what they are.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from asc_bench.core.strict import StrictModel
from asc_bench.spec.space import Distribution

METRIC_MODES = {"macro_acc": "max", "log_loss": "min"}


class Resources(StrictModel):
    """Resources Ray Tune gives each trial (a trial runs on one node)."""

    cpu: float = Field(1.0, gt=0, description="CPU cores per trial (also torch's thread count).")
    gpu: float = Field(0.0, ge=0, description="GPUs per trial (fractions allowed, e.g. 0.5 runs two per GPU).")


class AshaScheduler(StrictModel):
    """Asynchronous successive halving: stop the worse trials at epochs grace_period·rf^k."""

    type: Literal["asha"]
    grace_period: int = Field(1, ge=1, description="Epochs every trial runs before it may be stopped.")
    reduction_factor: float = Field(2.0, gt=1, description="Keep the best 1/reduction_factor at each rung.")


class MedianScheduler(StrictModel):
    """Median stopping: stop a trial whose score falls below the median of the others at the same epoch."""

    type: Literal["median"]
    grace_period: int = Field(1, ge=1, description="Epochs every trial runs before it may be stopped.")
    min_samples_required: int = Field(3, ge=1, description="Other trials needed before a median is taken.")


Scheduler = Annotated[AshaScheduler | MedianScheduler, Field(discriminator="type")]


class Search(StrictModel):
    """How configurations are drawn from the space."""

    type: Literal["random", "optuna"] = Field(
        "random",
        description="random: Ray Tune's random and grid search; optuna: Optuna's TPE through Ray Tune "
        "(pip install 'asc-bench[optuna]').",
    )
    seed: int = Field(0, description="Seed of the sampling (same seed, same configurations).")


class TuneSection(StrictModel):
    """How the trials run under Ray Tune, and what a search explores."""

    space: dict[str, Distribution] = Field(
        default_factory=dict,
        description="Dotted spec path -> distribution, e.g. trainer.optimizer.lr: {loguniform: [1.0e-4, 1.0e-2]}.",
    )
    num_samples: int = Field(
        1, ge=1, description="Configurations drawn from the space (times every grid combination); each runs per seed."
    )
    metric: Literal["macro_acc", "log_loss"] = Field(
        "macro_acc", description="What a search optimises, measured on the validation split each epoch."
    )
    mode: Literal["max", "min"] | None = Field(None, description="Default: max for macro_acc, min for log_loss.")
    select_on_test: bool = Field(
        False,
        description="Allow a search on data without a validation split to choose on TEST scores (optimistic; "
        "the choice is marked as such).",
    )
    search: Search = Field(default_factory=Search)
    scheduler: Scheduler | None = Field(None, description="Early stopping of poor trials: asha or median.")
    resources: Resources = Field(default_factory=Resources)
    max_concurrent_trials: int | None = Field(
        None, ge=1, description="At most this many trials at once (default: as many as resources allow)."
    )
    max_failures: int = Field(2, ge=0, description="Retries of a crashed trial, each from its last epoch checkpoint.")
    max_trials: int = Field(
        10_000,
        ge=1,
        description="A search planning more trials (configurations x seeds) is refused before anything runs; "
        "raise it for a larger search on purpose.",
    )
    storage: str | None = Field(
        None,
        description="Where Ray Tune keeps experiment state and checkpoints: a folder shared by every node or a "
        "URI such as s3://bucket/path (default: <output.dir>/<name>/tune).",
    )

    @model_validator(mode="after")
    def _mode_matches_metric(self) -> TuneSection:
        if self.mode is not None and self.mode != METRIC_MODES[self.metric]:
            raise ValueError(
                f"mode {self.mode} would prefer the {'lowest' if self.mode == 'min' else 'highest'} {self.metric}; "
                f"{self.metric} needs mode {METRIC_MODES[self.metric]} (or leave mode out)"
            )
        return self

    @property
    def best_mode(self) -> Literal["max", "min"]:
        """``mode``, or the metric's natural direction."""
        return self.mode or METRIC_MODES[self.metric]  # type: ignore[return-value]
