"""SpecAugment-style frequency and time masks on features, drawn independently for every clip."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field

from asc_bench.api import Batch, PluginConfig, Transform, TransformContext
from asc_bench_plugins.transforms.sampling import randint, uniform


class FreqMaskConfig(PluginConfig):
    """Settings of the frequency mask."""

    type: Literal["freq_mask"] = "freq_mask"
    max_bins: int = Field(48, ge=0, description="Widest mask in mel bins; each clip's width is uniform in 0…max_bins.")
    value: float = Field(
        0.0,
        description="Value of the masked bins (CP-JKU: 0 before its (x + 4.5) / 5, i.e. 0.9 after it).",
    )


class TimeMaskConfig(PluginConfig):
    """Settings of the time mask."""

    type: Literal["time_mask"] = "time_mask"
    max_frames: int = Field(8, ge=0, description="Widest mask in frames; each clip's width is uniform in 0…max_frames.")
    value: float = Field(0.0, description="Value written into the masked frames.")


def mask_along(x: torch.Tensor, dim: int, max_width: int, value: float, rng: torch.Generator) -> torch.Tensor:
    """Fill one band of random width (0…max_width) at a random position along ``dim`` of each clip."""
    size = x.shape[dim]
    n = x.shape[0]
    width = randint(rng, 0, min(max_width, size) + 1, (n,), x.device)
    start = torch.minimum((uniform(rng, (n,), x.device) * (size - width + 1)).long(), size - width)
    position = torch.arange(size, device=x.device)
    band = (position >= start[:, None]) & (position < (start + width)[:, None])  # (n, size)
    shape = [n] + [1] * (x.dim() - 1)
    shape[dim] = size
    return x.masked_fill(band.view(shape), value)


class FreqMask(Transform):
    """Masks a random band of up to max_bins mel bins in each clip's features."""

    Config = FreqMaskConfig
    takes = "features"
    gives = "features"
    deterministic = False
    train_only = True
    config: FreqMaskConfig

    def __call__(self, batch: Batch, ctx: TransformContext) -> Batch:
        return batch.with_x(mask_along(batch.x, 2, self.config.max_bins, self.config.value, ctx.rng))


class TimeMask(Transform):
    """Masks a random span of up to max_frames frames in each clip's features."""

    Config = TimeMaskConfig
    takes = "features"
    gives = "features"
    deterministic = False
    train_only = True
    config: TimeMaskConfig

    def __call__(self, batch: Batch, ctx: TransformContext) -> Batch:
        return batch.with_x(mask_along(batch.x, 3, self.config.max_frames, self.config.value, ctx.rng))
