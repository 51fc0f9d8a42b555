"""The ordered transform pipeline: domain checks, the cacheable prefix and the model's input shape."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import torch

from asc_bench import registry
from asc_bench.api import Batch, PluginConfig, Transform, TransformContext
from asc_bench.errors import UserError


class Pipeline:
    """The spec's ``data.transforms``, instantiated, checked and split at the cache boundary.

    The pipeline starts in the waveform domain and must end in the features domain (the model input).
    ``cached`` is the longest prefix of deterministic, always-applied transforms: its output is what a
    cache stores; ``online`` is the rest, run batch by batch during training and evaluation.
    """

    def __init__(self, configs: Sequence[PluginConfig], *, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.configs = list(configs)
        self.transforms: list[Transform] = [
            registry.build("transform", cfg, where=f"data.transforms[{i}]", sample_rate=sample_rate)
            for i, cfg in enumerate(self.configs)
        ]
        self._check_domains()
        cut = 0
        while cut < len(self.transforms) and _cacheable(self.transforms[cut]):
            cut += 1
        self.cached = self.transforms[:cut]
        self.online = self.transforms[cut:]

    def _check_domains(self) -> None:
        domain = "waveform"
        for i, transform in enumerate(self.transforms):
            if transform.takes != domain:
                raise UserError(
                    f"data.transforms[{i}] ({self.configs[i].type}) takes {transform.takes} input but the "
                    f"pipeline gives it {domain} there.",
                    fix="Reorder the transforms: waveform transforms first, then the front end (e.g. mel), "
                    "then feature and batch transforms.",
                )
            domain = transform.gives
        if domain != "features":
            raise UserError(
                "data.transforms never turns the waveform into features, so there is no model input.",
                fix="Add a front end such as `{type: mel}` to data.transforms.",
            )

    def cache_fingerprint(self) -> str:
        """A hash of the cached prefix's transforms and settings (part of the cache key)."""
        parts = [cfg.model_dump(mode="json") for cfg in self.configs[: len(self.cached)]]
        text = json.dumps({"sample_rate": self.sample_rate, "cached": parts}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def run(self, transforms: Sequence[Transform], batch: Batch, ctx: TransformContext) -> Batch:
        """Apply ``transforms`` to a batch, skipping train-only ones outside training."""
        for transform in transforms:
            if ctx.training or not transform.train_only:
                batch = transform(batch, ctx)
        return batch

    def _evaluate(self, transforms: Sequence[Transform], waveforms: torch.Tensor) -> torch.Tensor:
        n = waveforms.shape[0]
        zeros = torch.zeros(n, dtype=torch.long)
        batch = Batch(waveforms, torch.zeros(n, 1), zeros, zeros, zeros, zeros)
        ctx = TransformContext(torch.Generator().manual_seed(0), training=False, sample_rate=self.sample_rate)
        with torch.no_grad():
            return self.run(transforms, batch, ctx).x

    def cached_rows(self, waveforms: torch.Tensor) -> torch.Tensor:
        """The cached prefix applied to decoded waveforms ``(n, samples)``."""
        return self._evaluate(self.cached, waveforms)

    def input_shape(self) -> tuple[int, ...]:
        """The model's input shape for one 1-s clip (what the evaluation-time pipeline makes of it)."""
        return tuple(self._evaluate(self.transforms, torch.zeros(1, self.sample_rate)).shape[1:])


def _cacheable(transform: Transform) -> bool:
    return bool(transform.deterministic) and not transform.train_only
