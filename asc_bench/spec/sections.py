"""The framework-owned sections of a spec: ``data`` (its plugin slots typed by the plugin API), ``runtime`` and
``output``. The plugin slots are narrowed to the configs of the named plugins when a spec is validated."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from asc_bench.api.config import NOT_SEMANTIC, PluginConfig
from asc_bench.core.strict import StrictModel


class DataSection(StrictModel):
    """Where the clips come from, how they are cached and the ordered transform pipeline."""

    dataset: PluginConfig
    sample_rate: int = Field(32000, gt=0, description="Working sample rate (Hz); audio is resampled.")
    cache: PluginConfig
    transforms: list[PluginConfig] = Field(
        default_factory=list, description="The ordered pipeline: waveform -> features -> batch."
    )
    eval_batch_size: int = Field(256, gt=0, description="Batch size for evaluation and cache building.")


HASHED_UNLESS_DEFAULT = {"semantic": "unless_default"}
"""``json_schema_extra`` of a field hashed only when it differs from its default (added after specs were hashed)."""

DEVICE_PATTERN = r"^(auto|cpu|mps|cuda(:\d+)?)$"


class RuntimeSection(StrictModel):
    """How a trial computes. ``channels_last`` and ``compile`` are hashed (they change floating-point results
    slightly); ``precision`` and ``deterministic`` only when not at their default, so that the specs hashed
    before they existed keep their hash; ``device`` and ``data_on_device`` are not (the record says where and
    how a trial ran)."""

    channels_last: bool = Field(
        True, description="Run the model in channels-last memory format (faster convolutions on CPU and GPU)."
    )
    compile: bool = Field(
        False,
        description="torch.compile the model for training (slower start, faster steps; needs a C compiler). On a "
        "GPU the last partial training batch is dropped so that every step has the same shape.",
    )
    device: str = Field(
        "auto",
        pattern=DEVICE_PATTERN,
        json_schema_extra=NOT_SEMANTIC,
        description="Where a trial trains: auto (the GPU Ray gives the trial when tune.resources.gpu > 0, else "
        "the CPU), cpu, cuda, cuda:N or mps.",
    )
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto",
        json_schema_extra=HASHED_UNLESS_DEFAULT,
        description="Training arithmetic: auto = bf16 autocast on GPUs that support it, else fp32 (always fp32 on "
        "the CPU); fp16 adds a gradient scaler. Evaluation is at limits.param_dtype as always.",
    )
    deterministic: bool = Field(
        False,
        json_schema_extra=HASHED_UNLESS_DEFAULT,
        description="Deterministic algorithms (torch.use_deterministic_algorithms, cuDNN without autotuning): the "
        "same spec and seed give identical metrics on the same GPU, at some speed. CPU runs are deterministic anyway.",
    )
    data_on_device: Literal["auto", "always", "never"] = Field(
        "auto",
        json_schema_extra=NOT_SEMANTIC,
        description="Keep each prepared split in device memory (auto: when it fits in half the free memory; "
        "never on the CPU), else stream batches from pinned host memory with the next batch prefetched.",
    )


class OutputSection(StrictModel):
    """Where results go (not part of the spec hash)."""

    dir: Path = Field(Path("runs"), description="Experiments are written to DIR/<spec name>/.")
