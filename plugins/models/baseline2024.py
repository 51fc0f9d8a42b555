"""The DCASE 2024 Task 1 baseline: a simplified CP-Mobile (no GRN, different strides)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from asc_bench.api import Model, PluginConfig
from asc_bench_plugins.models.cp_mobile_blocks import CPMobileNet, CPMobileSettings


class Baseline2024(CPMobileNet, Model):
    """DCASE 2024 baseline (simplified CP-Mobile, no GRN): 61,148 params, 29.4 MMAC at 256x65."""

    class Config(PluginConfig, CPMobileSettings):
        type: Literal["baseline2024"] = "baseline2024"
        channels_multiplier: float = Field(
            1.8, gt=0, description="Stage i has make_divisible(base_channels * multiplier**i) channels."
        )
        expansion_rate: float = Field(2.1, gt=0, description="Hidden-channel expansion of each inverted residual.")
        strides: dict[int, tuple[int, int]] = Field(
            default_factory=lambda: {2: (1, 1), 3: (1, 2), 4: (2, 1)},
            description="(frequency, time) stride of the depthwise conv per block, keyed by 1-based block "
            "number across all stages; unlisted blocks have stride (1, 1).",
        )
        grn: bool = Field(False, description="Apply global response normalisation before each block's ReLU.")

    default_input_shape: ClassVar[tuple[int, int, int]] = (1, 256, 65)

    def __init__(self, config: Config, *, input_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__(config, in_channels=input_shape[0], num_classes=num_classes)
        self.config = config
