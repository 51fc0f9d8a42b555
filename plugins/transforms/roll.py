"""Circular time shift of waveforms, a different random shift for every clip."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field

from asc_bench.api import Batch, PluginConfig, Transform, TransformContext
from asc_bench_plugins.transforms.sampling import randint


class RollConfig(PluginConfig):
    """Settings of the circular time shift."""

    type: Literal["roll"] = "roll"
    max_shift_s: float = Field(
        0.1,
        ge=0,
        description="Largest shift in seconds either way (2024 baseline 0.1; CP-JKU 0.125 = 4,000 @ 32 kHz).",
    )


class Roll(Transform):
    """Circular time shift of each waveform by a random whole number of samples in ±max_shift_s."""

    Config = RollConfig
    takes = "waveform"  # waveform only: before the mel, as in both reference recipes
    gives = "waveform"
    deterministic = False
    train_only = True
    config: RollConfig

    def __init__(self, config: RollConfig, *, sample_rate: int) -> None:
        super().__init__(config, sample_rate=sample_rate)
        self.max_shift = round(config.max_shift_s * sample_rate)  # samples at the working rate

    def __call__(self, batch: Batch, ctx: TransformContext) -> Batch:
        x = batch.x
        n, length = x.shape
        m = min(self.max_shift, length)
        shift = randint(ctx.rng, -m, m + 1, (n,), x.device)
        # out[t] = x[t - shift] (mod length), as torch.roll does row by row: with m samples wrapped
        # around on either side, that is the window of `padded` starting at m - shift.
        padded = torch.cat([x[:, length - m :], x, x[:, :m]], dim=1)
        windows = padded.unfold(1, length, 1)  # (n, 2m + 1, length), a view
        return batch.with_x(windows[torch.arange(n, device=x.device), m - shift])
