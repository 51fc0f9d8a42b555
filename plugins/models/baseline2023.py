"""The DCASE 2022/2023 Task 1 baseline CNN, ported from Keras to PyTorch.

Three 7x7 conv + BatchNorm + ReLU layers, two Keras-'same' max-poolings, two dense layers, on 40 log-mel
bands x 51 frames (40 ms window, 20 ms hop). torchinfo counts 46,118 parameters and 29,472,598 MACs for this
port. Keras reports 46,246 parameters for the same network: Keras counts each BatchNorm's moving mean and
variance (2 x 64 channels = 128 numbers) as non-trainable weights, whereas PyTorch keeps them as buffers,
which are not parameters. The published 29,234,920 MACs came from the Keras/TFLite counting path; torchinfo
also counts BatchNorm (2*C) and bias MACs.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from pydantic import Field, field_validator
from torch import nn

from asc_bench.api import Model, PluginConfig


class SameMaxPool2d(nn.Module):
    """Max-pooling with Keras ``padding='same'`` for a known input size: output = ceil(input / kernel).

    Padding is -inf, so it never wins the max; it is fixed at construction so the module is FX-traceable.
    """

    def __init__(self, kernel: tuple[int, int], in_size: tuple[int, int]) -> None:
        super().__init__()
        self.kernel = kernel
        self.out_size = (math.ceil(in_size[0] / kernel[0]), math.ceil(in_size[1] / kernel[1]))
        pads: list[int] = []
        for size, out, k in reversed(list(zip(in_size, self.out_size, kernel, strict=True))):
            total = max(out * k - size, 0)
            pads += [total // 2, total - total // 2]
        self.pads = pads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(F.pad(x, self.pads, value=float("-inf")), self.kernel)


def conv_bn_relu(cin: int, cout: int, kernel: int) -> nn.Sequential:
    """Conv ('same' padding, with bias as in Keras) + BatchNorm + ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=kernel // 2), nn.BatchNorm2d(cout), nn.ReLU())


class Baseline2023(nn.Module, Model):
    """DCASE 2022/2023 baseline CNN (Keras port), 40x51 input: 46,118 params (Keras: 46,246)."""

    class Config(PluginConfig):
        type: Literal["baseline2023"] = "baseline2023"
        filters: tuple[int, int, int] = Field((16, 16, 32), description="Filters of the three conv layers.")
        kernel_size: int = Field(7, ge=1, description="Square kernel size of every conv layer (odd: 'same' padding).")
        dense_units: int = Field(100, ge=1, description="Units of the hidden dense layer.")
        dropout: float = Field(0.3, ge=0, lt=1, description="Dropout after each pooling and the hidden dense.")

        @field_validator("kernel_size")
        @classmethod
        def _odd(cls, v: int) -> int:
            if v % 2 == 0:
                raise ValueError(f"kernel_size must be odd for 'same' padding, not {v}")
            return v

    default_input_shape: ClassVar[tuple[int, int, int]] = (1, 40, 51)

    def __init__(self, config: Config, *, input_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__()
        self.config = config
        f1, f2, f3 = config.filters
        k = config.kernel_size
        pool1 = SameMaxPool2d((5, 5), (input_shape[1], input_shape[2]))
        pool2 = SameMaxPool2d((4, 100), pool1.out_size)
        self.features = nn.Sequential(
            conv_bn_relu(input_shape[0], f1, k),
            conv_bn_relu(f1, f2, k),
            pool1,
            nn.Dropout(config.dropout),
            conv_bn_relu(f2, f3, k),
            pool2,
            nn.Dropout(config.dropout),
            nn.Flatten(),
        )
        flat = f3 * pool2.out_size[0] * pool2.out_size[1]
        self.classifier = nn.Sequential(
            nn.Linear(flat, config.dense_units),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.dense_units, num_classes),
        )
        self._init_weights()

    def _init_weights(self) -> None:
        """Glorot-uniform weights and zero biases, as Keras initialises them."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
