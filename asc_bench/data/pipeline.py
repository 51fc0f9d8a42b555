"""The ordered transform pipeline: domain checks, the cacheable prefix and the model's input shape."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import torch

from asc_bench.api import Batch, Domain, PluginConfig, Transform, TransformContext
from asc_bench.core.errors import UserError
from asc_bench.plugins import registry


class Pipeline:
    """The spec's ``data.transforms``, instantiated, checked and split at the cache boundary.

    The pipeline starts in the waveform domain and must end in the features domain (the model input).
    ``cached`` is the longest prefix of deterministic, always-applied transforms: its output is what a
    cache stores; ``online`` is the rest, run batch by batch during training and evaluation.
    ``crop_offsets`` are the offsets (s) of the shifted crops of each training clip when the first
    transform makes them (:meth:`Transform.crop_offsets`), else ``None``.
    """

    def __init__(self, configs: Sequence[PluginConfig], *, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.configs = list(configs)
        self.transforms: list[Transform] = [
            registry.build("transform", cfg, where=f"data.transforms[{i}]", sample_rate=sample_rate)
            for i, cfg in enumerate(self.configs)
        ]
        self._check_domains()
        self.crop_offsets = self._crop_offsets()
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

    def _crop_offsets(self) -> tuple[float, ...] | None:
        found = None
        for i, transform in enumerate(self.transforms):
            offsets = transform.crop_offsets()
            if offsets is None:
                continue
            if i != 0:
                raise UserError(
                    f"data.transforms[{i}] ({self.configs[i].type}) makes shifted crops of each clip, so it must "
                    "come first: it chooses which audio the rest of the pipeline sees.",
                    fix=f"Move {self.configs[i].type} to the top of data.transforms.",
                )
            if not offsets or any(not 0 <= o < 1 for o in offsets):
                raise UserError(
                    f"data.transforms[0] ({self.configs[0].type}) gives crop offsets {list(offsets)}; each must be "
                    "in [0, 1) seconds.",
                    fix="Change its settings.",
                )
            found = tuple(float(o) for o in offsets)
        return found

    def cache_description(self) -> dict[str, Any]:
        """What the cached prefix does: the working sample rate and each cached transform's settings.

        A transform making shifted crops is left out: the crops are part of the training split's cache
        key instead (the other splits are not cropped).
        """
        parts = [
            cfg.model_dump(mode="json")
            for cfg, transform in zip(self.configs, self.cached, strict=False)
            if transform.crop_offsets() is None
        ]
        return {"sample_rate": self.sample_rate, "cached": parts}

    def cache_fingerprint(self) -> str:
        """A hash of the cached prefix's transforms and settings (part of the cache key)."""
        text = json.dumps(self.cache_description(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def cached_domain(self) -> Domain:
        """What cached rows are: waveforms, or features when the cached prefix includes the front end."""
        domain: Domain = "waveform"
        for transform in self.cached:
            domain = transform.gives
        return domain

    def run(self, transforms: Sequence[Transform], batch: Batch, ctx: TransformContext) -> Batch:
        """Apply ``transforms`` to a batch, skipping train-only ones outside training."""
        for transform in transforms:
            if ctx.training or not transform.train_only:
                batch = transform(batch, ctx)
        return batch

    def eval_context(self) -> TransformContext:
        """The context of every evaluation-time pass (no augmentation; a fixed generator)."""
        return TransformContext(torch.Generator().manual_seed(0), training=False, sample_rate=self.sample_rate)

    def _evaluate(self, transforms: Sequence[Transform], waveforms: torch.Tensor) -> torch.Tensor:
        n = waveforms.shape[0]
        zeros = torch.zeros(n, dtype=torch.long)
        batch = Batch(waveforms, torch.zeros(n, 1), zeros, zeros, zeros, zeros)
        with torch.no_grad():
            return self.run(transforms, batch, self.eval_context()).x

    def model_inputs(self, waveforms: torch.Tensor) -> torch.Tensor:
        """The whole evaluation-time pipeline applied to decoded waveforms ``(n, samples)``: the model's input."""
        return self._evaluate(self.transforms, waveforms)

    def cached_rows(self, waveforms: torch.Tensor) -> torch.Tensor:
        """The cached prefix applied to decoded waveforms ``(n, samples)``."""
        return self._evaluate(self.cached, waveforms)

    def input_shape(self) -> tuple[int, ...]:
        """The model's input shape for one 1-s clip (what the evaluation-time pipeline makes of it)."""
        return tuple(self.model_inputs(torch.zeros(1, self.sample_rate)).shape[1:])


def _cacheable(transform: Transform) -> bool:
    return bool(transform.deterministic) and not transform.train_only
