"""MixUp: convex combinations of pairs of clips and of their soft targets."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import Field

from asc_bench.api import Batch, PluginConfig, Transform, TransformContext
from asc_bench_plugins.transforms.sampling import beta, permutation


class MixUpConfig(PluginConfig):
    """Settings of MixUp."""

    type: Literal["mixup"] = "mixup"
    alpha: float = Field(0.3, gt=0, description="λ ~ Beta(alpha, alpha), one λ per batch (as in the references).")


class MixUp(Transform):
    """Mixes each clip's features and soft target with a random partner's: λ·a + (1 − λ)·b."""

    Config = MixUpConfig
    takes = "features"
    gives = "features"
    deterministic = False
    train_only = True
    config: MixUpConfig

    def __call__(self, batch: Batch, ctx: TransformContext) -> Batch:
        device = batch.x.device
        lam = beta(ctx.rng, self.config.alpha, (1,), device)
        partner = permutation(ctx.rng, batch.x.shape[0], device)
        x = lam * batch.x + (1 - lam) * batch.x[partner]
        target = lam * batch.target + (1 - lam) * batch.target[partner]
        mix = (partner, lam.expand(batch.x.shape[0]))
        return replace(batch, x=x, target=target, mixes=(*batch.mixes, mix))
