"""The DCASE 2022/2023 Task 1 baseline CNN, ported from Keras to PyTorch.

Three 7x7 conv + BatchNorm + ReLU layers, two Keras max-poolings (``padding='valid'``, the Keras default: 40x51
→ 8x10 → 2x1), two dense layers, on 40 log-mel bands x 51 frames (40 ms window, 20 ms hop at 44.1 kHz). The
layers follow the official system's ``task1.yaml`` (github.com/marmoi/dcase2022_task1_baseline): Keras
BatchNormalization (epsilon 1e-3, momentum 0.99, i.e. PyTorch momentum 0.01), Glorot-uniform convs, dense layers
initialised ``uniform`` (Keras: U(-0.05, 0.05)), zero biases, and flattening in Keras' channels-last order, so
Keras weights port one to one.

Counts (docs/models.md): 46,118 parameters (Keras reports 46,246: it counts each BatchNorm's moving mean and
variance, 2 x 64 = 128 numbers, as non-trainable weights; PyTorch keeps them as buffers). The published
29,234,920 MACs are the TFLite table of the baseline's README: convs 1,599,360 + 25,589,760 + 2,007,040 (as here),
plus the two max-poolings' comparisons (32,000 and 2,560), plus the dense layers counted as 3,200 (its tool
counts 32 inputs for the 64 of the flattened 2x1x32) and 1,000.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from pydantic import Field, field_validator
from torch import nn

from asc_bench.api import Model, PluginConfig, UserError

KERAS_BN = {"eps": 1e-3, "momentum": 0.01}
"""Keras' BatchNormalization defaults (epsilon 1e-3, momentum 0.99) in PyTorch's convention."""


def keras_moving_variance(bn: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
    """A forward hook giving a BatchNorm Keras' moving variance: Keras averages the batch's biased variance,
    PyTorch the unbiased one (``n / (n - 1)`` times larger); take the difference back out after each training
    step. (A hook rather than a BatchNorm subclass, so that conv+BatchNorm fusion for int8 still finds the pair.)"""
    if not bn.training or bn.running_var is None:
        return
    x = inputs[0].detach()
    n = x.numel() // x.shape[1]
    if n > 1:
        # through .data: autograd keeps the buffer as an input of batch_norm (its training backward does not read
        # it), and an in-place change it could see would fail the backward's version check
        bn.running_var.data.sub_(bn.momentum * x.var(dim=(0, 2, 3), unbiased=False) / (n - 1))


def conv_bn_relu(cin: int, cout: int, kernel: int) -> nn.Sequential:
    """Conv ('same' padding, with bias as in Keras) + Keras BatchNorm (defaults, moving variance) + ReLU."""
    bn = nn.BatchNorm2d(cout, **KERAS_BN)
    bn.register_forward_hook(keras_moving_variance)
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=kernel // 2), bn, nn.ReLU())


class Baseline2023(nn.Module, Model):
    """DCASE 2022/2023 baseline CNN (Keras port), 40x51 input: 46,118 params (Keras: 46,246), 29.2 MMAC."""

    class Config(PluginConfig):
        type: Literal["baseline2023"] = "baseline2023"
        filters: tuple[int, int, int] = Field((16, 16, 32), description="Filters of the three conv layers.")
        kernel_size: int = Field(7, ge=1, description="Square kernel size of every conv layer (odd: 'same' padding).")
        dense_units: int = Field(100, ge=1, description="Units of the hidden dense layer.")
        dropout: float = Field(0.3, ge=0, lt=1, description="Dropout after each pooling and the hidden dense.")
        pools: tuple[tuple[int, int], tuple[int, int]] = Field(
            ((5, 5), (4, 10)),
            description="(frequency, time) sizes of the two max-poolings (Keras 'valid': stride = size, the "
            "remainder dropped).",
        )

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
        (p1f, p1t), (p2f, p2t) = config.pools
        out_f, out_t = input_shape[1] // p1f // p2f, input_shape[2] // p1t // p2t
        if out_f < 1 or out_t < 1:
            raise UserError(
                f"baseline2023: its input of {input_shape[1]} bands x {input_shape[2]} frames is too small for "
                f"the max-poolings {[list(p) for p in config.pools]} (Keras 'valid' pooling leaves nothing)",
                where="model.pools",
                fix="Give smaller pool sizes (e.g. --set 'model.pools=[[5, 5], [4, 3]]') or a front end with "
                "more bands or frames.",
            )
        self.features = nn.Sequential(
            conv_bn_relu(input_shape[0], f1, k),
            conv_bn_relu(f1, f2, k),
            nn.MaxPool2d(config.pools[0]),
            nn.Dropout(config.dropout),
            conv_bn_relu(f2, f3, k),
            nn.MaxPool2d(config.pools[1]),
            nn.Dropout(config.dropout),
        )
        self.classifier = nn.Sequential(
            nn.Linear(f3 * out_f * out_t, config.dense_units),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.dense_units, num_classes),
        )
        self._init_weights()

    def _init_weights(self) -> None:
        """As Keras initialises them: Glorot-uniform convs, U(-0.05, 0.05) dense kernels, zero biases."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.uniform_(m.weight, -0.05, 0.05)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Keras flattens channels-last: (frequency, time, channel)
        return self.classifier(self.features(x).permute(0, 2, 3, 1).flatten(1))
