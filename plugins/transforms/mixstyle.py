"""Freq-MixStyle: mixes the per-frequency statistics of pairs of clips (CP-JKU, DCASE 2023/2024)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from asc_bench.api import Batch, PluginConfig, Transform, TransformContext
from asc_bench_plugins.transforms.sampling import beta, permutation, uniform

EPS = 1e-6


class FreqMixStyleConfig(PluginConfig):
    """Settings of Freq-MixStyle."""

    type: Literal["freq_mixstyle"] = "freq_mixstyle"
    p: float = Field(0.4, ge=0, le=1, description="Probability that a batch is mixed at all.")
    alpha: float = Field(0.3, gt=0, description="λ ~ Beta(alpha, alpha), one λ per clip.")


class FreqMixStyle(Transform):
    """Re-scales each clip's frequency bins with a λ-mix of its own and a random partner's bin statistics."""

    Config = FreqMixStyleConfig
    takes = "features"
    gives = "features"
    deterministic = False
    train_only = True
    config: FreqMixStyleConfig

    def __call__(self, batch: Batch, ctx: TransformContext) -> Batch:
        x = batch.x
        device = x.device
        if uniform(ctx.rng, (1,), ctx.rng.device).item() >= self.config.p:
            return batch
        n = x.shape[0]
        mean = x.mean(dim=(1, 3), keepdim=True).detach()  # (n, 1, n_mels, 1): per clip and frequency bin
        std = (x.var(dim=(1, 3), keepdim=True) + EPS).sqrt().detach()
        lam = beta(ctx.rng, self.config.alpha, (n, 1, 1, 1), device)
        partner = permutation(ctx.rng, n, device)
        mixed_mean = lam * mean + (1 - lam) * mean[partner]
        mixed_std = lam * std + (1 - lam) * std[partner]
        return batch.with_x((x - mean) / std * mixed_std + mixed_mean)
