"""The result record: one versioned JSON file per trial, with everything needed to rank and reproduce it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NotRequired

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict  # pydantic needs this TypedDict before Python 3.12

from asc_bench.core.strict import StrictModel
from asc_bench.spec.limits import ParamDtype

SCHEMA_VERSION = 2
"""Version 2 added ``environment.device``, ``complexity.macs_fused``/``params_fused`` and ``dataset.identity``."""


class GroupScore(StrictModel):
    """Accuracy and log loss over one class, device or city; ``None`` when it has no clips."""

    acc: float | None
    log_loss: float | None
    count: int


class Metrics(StrictModel):
    """Scores of one evaluation, as made by :func:`asc_bench.evaluation.metrics.named_metrics`."""

    macro_acc: float | None
    micro_acc: float | None
    log_loss: float | None
    macro_log_loss: float | None
    count: int
    seen_acc: float | None
    unseen_acc: float | None
    seen_devices: list[str] | None
    per_class: dict[str, GroupScore]
    per_device: dict[str, GroupScore]
    per_city: dict[str, GroupScore]
    confusion: list[list[int]]


class DatasetInfo(StrictModel):
    """Which data a record was measured on.

    Records compare only on equal type and split and equal data: the same ``identity`` when the dataset
    vouches for one (a machine-independent name of its exact content, e.g. the synthetic generator's
    version and parameters), otherwise the same ``fingerprint`` (a hash that includes file times).
    """

    type: str
    fingerprint: str
    split: str
    describe: str = ""
    identity: str | None = None


class Complexity(BaseModel):
    """Model size as checked against the limits (extra keys, e.g. the limits and per-layer table, are kept).

    ``macs``/``params`` are counted as the model runs (``fused`` says whether conv+BatchNorm pairs were
    folded first); ``macs_fused``/``params_fused`` after folding them, ``None`` when not counted.
    """

    model_config = ConfigDict(extra="allow")
    macs: int
    params: int
    param_bytes: int
    param_dtype: ParamDtype
    input_shape: list[int]
    fused: bool = False
    macs_fused: int | None
    params_fused: int | None


class Environment(TypedDict):
    """Where a trial ran: versions, git state, compute device (further keys are kept).

    Records written since GPU training (same schema version; older records lack these keys): ``precision`` the
    training arithmetic (fp32, bf16, fp16), ``data_path`` each split's path to the device (host, resident,
    streamed), ``memory_fraction`` the GPU memory bound of a fractional GPU, ``peak_memory_bytes`` the peak GPU
    memory allocated, ``drop_last`` whether training dropped its last partial batch, ``deployed_on`` where the
    deployed model was scored (int8: always the CPU).
    """

    __pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[misc]
    python: str
    platform: str
    packages: dict[str, str]
    git_commit: str | None
    git_dirty: bool | None
    device: str
    threads: NotRequired[int]
    precision: NotRequired[str]
    data_path: NotRequired[dict[str, str]]
    memory_fraction: NotRequired[float | None]
    peak_memory_bytes: NotRequired[int | None]
    drop_last: NotRequired[bool]
    deployed_on: NotRequired[str]


class Timings(BaseModel):
    """Wall-clock seconds of the trial's phases (extra phases are kept)."""

    model_config = ConfigDict(extra="allow")
    train_s: float
    eval_s: float
    total_s: float
    clips_per_s: float


class ResultRecord(StrictModel):
    """One trial's result. ``metrics`` are those of the model at its deployed precision."""

    schema_version: int = SCHEMA_VERSION
    name: str
    spec: dict[str, Any]
    spec_hash: str
    seed: int
    trial_id: str
    dataset: DatasetInfo
    environment: Environment
    complexity: Complexity
    metrics: Metrics
    metrics_float32: Metrics | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)
    timings: Timings
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))
