"""SpecAugment-style frequency and time masks on features, drawn independently for every clip.

The draws follow torchaudio's ``FrequencyMasking`` / ``TimeMasking`` with ``iid_masks=True`` (which the DCASE 2024
baseline and CP-JKU use): width ``floor(U1 · max)`` (0 … max − 1), start ``floor(U2 · (size − U1 · max))``; with
the same uniform numbers the masks are identical. Where a recipe masks inside its front end, ``value`` is what
the masked bins hold after the whole front end (docs/recipes.md).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field

from asc_bench.api import Batch, PluginConfig, Transform, TransformContext
from asc_bench_plugins.transforms.sampling import uniform


class FreqMaskConfig(PluginConfig):
    """Settings of the frequency mask."""

    type: Literal["freq_mask"] = "freq_mask"
    max_bins: int = Field(
        48, ge=0, description="Mask width parameter: each clip's width is floor(U * max_bins), 0…max_bins-1."
    )
    value: float = Field(
        0.0,
        description="Value of the masked bins after the front end (2024 baseline, masking the power mel: "
        "ln(1e-5) = -11.512925; CP-JKU, masking the log-mel before (x + 4.5) / 5: 0.9).",
    )


class TimeMaskConfig(PluginConfig):
    """Settings of the time mask."""

    type: Literal["time_mask"] = "time_mask"
    max_frames: int = Field(
        8, ge=0, description="Mask width parameter: each clip's width is floor(U * max_frames), 0…max_frames-1."
    )
    value: float = Field(0.0, description="Value written into the masked frames.")


def mask_along(x: torch.Tensor, dim: int, max_width: int, value: float, rng: torch.Generator) -> torch.Tensor:
    """Fill one band along ``dim`` of each clip, drawn as torchaudio's ``mask_along_axis_iid`` draws it."""
    if max_width < 1:
        return x
    size = x.shape[dim]
    n = x.shape[0]
    width = uniform(rng, (n,), x.device) * max_width
    start = (uniform(rng, (n,), x.device) * (size - width)).long()
    end = start + width.long()
    position = torch.arange(size, device=x.device)
    band = (position >= start[:, None]) & (position < end[:, None])  # (n, size)
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
