"""Shifted crops: K time-shifted 1-s windows of every training clip, one drawn per clip and epoch."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from asc_bench.api import Batch, PluginConfig, Transform, TransformContext


class ShiftedCropsConfig(PluginConfig):
    """Settings of the shifted crops (offsets 0, step, 2·step, … seconds after the clip's start)."""

    type: Literal["shifted_crops"] = "shifted_crops"
    count: int = Field(10, ge=1, description="Crops per training clip, K (the first is the clip itself).")
    step_s: float = Field(0.1, gt=0, description="Seconds between the crops' starts (at the working sample rate).")

    @model_validator(mode="after")
    def _check(self) -> ShiftedCropsConfig:
        if (self.count - 1) * self.step_s >= 1:
            raise ValueError(
                f"the last crop would start {(self.count - 1) * self.step_s:g} s after the clip; offsets must stay "
                "below 1 s (use a smaller count or step_s)"
            )
        return self


class ShiftedCrops(Transform):
    """Time-shifted 1-s crops of each training clip from its recording; the cache holds all K, each epoch
    draws one per clip (evaluation uses the clip itself)."""

    Config = ShiftedCropsConfig
    takes = "waveform"
    gives = "waveform"
    deterministic = True  # the crops themselves are fixed (and cached); the framework draws which one
    config: ShiftedCropsConfig

    def crop_offsets(self) -> tuple[float, ...]:
        return tuple(round(k * self.config.step_s, 9) for k in range(self.config.count))

    def __call__(self, batch: Batch, ctx: TransformContext) -> Batch:
        return batch  # the crop was chosen when the batch was read from the cache
