"""CP-Mobile (Schmid et al., CP-JKU, DCASE 2023 winner): inverted residuals with GRN."""

from __future__ import annotations

from typing import ClassVar, Literal

from asc_bench.api import Model, PluginConfig
from asc_bench_plugins.models.cp_mobile_blocks import CPMobileNet, CPMobileSettings


class CPMobile(CPMobileNet, Model):
    """CP-Mobile (CP-JKU 2023): inverted-residual CNN with GRN; 126,952 params, 28.9 MMAC at 256x64."""

    class Config(PluginConfig, CPMobileSettings):
        type: Literal["cp_mobile"] = "cp_mobile"

    default_input_shape: ClassVar[tuple[int, int, int]] = (1, 256, 64)

    def __init__(self, config: Config, *, input_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__(config, in_channels=input_shape[0], num_classes=num_classes)
        self.config = config
