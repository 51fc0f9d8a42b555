"""The transform plugin contract: batches on their way through the pipeline, and the context a step sees."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from asc_bench.api.config import Domain, PluginConfig

if TYPE_CHECKING:
    import torch


@dataclass
class Batch:
    """A batch on its way through the transform pipeline.

    ``x`` is ``(B, samples)`` in the waveform domain and ``(B, 1, n_mels, frames)`` in the features
    domain. ``target`` holds soft targets ``(B, num_classes)`` (one-hot until a mixing transform mixes
    them); ``label``, ``device``, ``city`` and ``clip`` (row in the clip table) are ``(B,)`` int64.
    ``mixes`` records every target mix in order as ``(partner, weight)`` pairs of ``(B,)`` tensors (the
    mixed target is ``weight·own + (1 − weight)·target[partner]``), so a trainer can mix other per-clip
    targets, e.g. a teacher's probabilities, the same way with :meth:`remix`.
    """

    x: torch.Tensor
    target: torch.Tensor
    label: torch.Tensor
    device: torch.Tensor
    city: torch.Tensor
    clip: torch.Tensor
    mixes: tuple[tuple[torch.Tensor, torch.Tensor], ...] = ()

    def with_x(self, x: torch.Tensor) -> Batch:
        """The same batch with new inputs."""
        return replace(self, x=x)

    def remix(self, values: torch.Tensor) -> torch.Tensor:
        """Per-clip ``values`` ``(B, ...)`` mixed exactly as the batch's targets were mixed."""
        for partner, weight in self.mixes:
            w = weight.to(values).reshape(-1, *([1] * (values.dim() - 1)))
            values = w * values + (1 - w) * values[partner]
        return values


@dataclass
class TransformContext:
    """What a transform may use besides the batch: the seeded generator, the phase, and the dataset's device
    names (``Batch.device`` indexes them; empty when unknown, e.g. for files outside a dataset)."""

    rng: torch.Generator
    training: bool
    sample_rate: int
    device_names: tuple[str, ...] = ()


class Transform(ABC):
    """A step of the ``data.transforms`` pipeline, applied to whole batches.

    ``deterministic`` transforms give the same output for the same input and may be cached;
    ``train_only`` transforms (augmentations) run only while training. The framework reads ``deterministic``
    on the instance, so it may be a property that depends on the settings (e.g. ``mel`` with band-edge jitter).
    """

    Config: ClassVar[type[PluginConfig]]
    takes: ClassVar[Domain] = "waveform"
    gives: ClassVar[Domain] = "waveform"
    deterministic: ClassVar[bool] = True
    train_only: ClassVar[bool] = False

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Load or check what the transform needs from outside the spec (e.g. files), so that a missing resource
        is reported before any data work. The driver calls it once before the trials; a transform also calls it
        itself when first used. Construction stays cheap, so `asc-bench complexity` needs no such files."""

    def crop_offsets(self) -> tuple[float, ...] | None:
        """Offsets in seconds, each in [0, 1), of the time-shifted versions of each training clip this step
        makes; ``None`` (the default) for an ordinary transform.

        A transform that returns offsets must come first in ``data.transforms``. For every training clip the
        framework then takes the 1-s windows starting at those offsets in the clip's recording (the clip and
        its neighbour joined, at the working sample rate), runs the cached prefix of the pipeline on each
        and caches them all; each epoch one window per clip is drawn from ``ctx.rng``. Evaluation uses the
        window at offset 0. The transform's ``__call__`` then sees the chosen window and may return it as is.
        """
        return None

    def __init__(self, config: PluginConfig, *, sample_rate: int) -> None:
        self.config = config
        self.sample_rate = sample_rate

    @abstractmethod
    def __call__(self, batch: Batch, ctx: TransformContext) -> Batch: ...
