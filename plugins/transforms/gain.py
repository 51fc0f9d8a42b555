"""Random gain of waveforms, a different gain for every clip."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from asc_bench.api import Batch, PluginConfig, Transform, TransformContext
from asc_bench_plugins.transforms.sampling import uniform


class GainConfig(PluginConfig):
    """Settings of the random gain."""

    type: Literal["gain"] = "gain"
    min_db: float = Field(-6.0, description="Lowest gain in dB.")
    max_db: float = Field(6.0, description="Highest gain in dB; each clip's gain is uniform in [min_db, max_db].")

    @model_validator(mode="after")
    def _check(self) -> GainConfig:
        if self.min_db > self.max_db:
            raise ValueError(f"min_db ({self.min_db}) must not exceed max_db ({self.max_db})")
        return self


class Gain(Transform):
    """Multiplies each waveform by a random gain, uniform in dB between min_db and max_db."""

    Config = GainConfig
    takes = "waveform"
    gives = "waveform"
    deterministic = False
    train_only = True
    config: GainConfig

    def __call__(self, batch: Batch, ctx: TransformContext) -> Batch:
        x = batch.x
        c = self.config
        db = c.min_db + (c.max_db - c.min_db) * uniform(ctx.rng, (x.shape[0], 1), x.device)
        return batch.with_x(x * 10.0 ** (db / 20.0))
