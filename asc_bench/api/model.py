"""The model plugin contract."""

from __future__ import annotations

from typing import ClassVar

from asc_bench.api.config import PluginConfig


class Model:
    """Marker for the model-plugin contract (the plugin itself is a ``torch.nn.Module`` subclass).

    ``__init__(self, config, *, input_shape, num_classes)`` where ``input_shape`` is one clip's
    ``(channels, n_mels, frames)``; ``forward`` maps ``(B, *input_shape)`` to logits ``(B, num_classes)``.
    """

    Config: ClassVar[type[PluginConfig]]
    default_input_shape: ClassVar[tuple[int, int, int]] = (1, 256, 65)
    """The input its default configuration was published for (docs and conformance tests use it)."""
    teacher: ClassVar[bool] = False
    """True for unconstrained models (e.g. distillation teachers) not meant to meet the DCASE limits."""
