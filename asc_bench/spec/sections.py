"""The framework-owned sections of a spec: ``data`` (its plugin slots typed by the plugin API), ``runtime`` and
``output``. The plugin slots are narrowed to the configs of the named plugins when a spec is validated."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from asc_bench.api.config import PluginConfig
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


class RuntimeSection(StrictModel):
    """How a trial computes (part of the spec hash: these change floating-point results slightly)."""

    channels_last: bool = Field(
        True, description="Run the model in channels-last memory format (faster convolutions on CPU)."
    )
    compile: bool = Field(
        False, description="torch.compile the model for training (slower start, faster steps; needs a C compiler)."
    )


class OutputSection(StrictModel):
    """Where results go (not part of the spec hash)."""

    dir: Path = Field(Path("runs"), description="Experiments are written to DIR/<spec name>/.")
