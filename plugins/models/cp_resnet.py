"""CP-ResNet (Koutini et al., CP-JKU): a receptive-field-regularised ResNet, used as an unconstrained teacher.

Receptive-field regularisation: each 3x3 conv becomes 1x1 once a 3x3 kernel would push the network's
receptive field (in input bins) past ``max_receptive_field``; deeper layers then only mix channels. This
model is far over the DCASE limits by design: give its spec ``limits: {preset: none}``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from pydantic import Field, model_validator
from torch import nn

from asc_bench.api import Model, PluginConfig
from asc_bench_plugins.models.cp_mobile_blocks import conv_bn, init_weights


class BasicBlock(nn.Module):
    """Two convs (kernel k1, then k2) with BatchNorm, plus a shortcut (1x1 conv + BN when widths differ)."""

    def __init__(self, cin: int, cout: int, k1: int, k2: int) -> None:
        super().__init__()
        self.conv1 = conv_bn(cin, cout, k1)
        self.conv2 = conv_bn(cout, cout, k2, relu=False)
        self.shortcut: nn.Module = conv_bn(cin, cout, 1, relu=False) if cin != cout else nn.Identity()
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv2(self.conv1(x)) + self.shortcut(x))


class _ReceptiveField:
    """Tracks the receptive field (rf) and the input-bin distance between neighbouring outputs (jump)."""

    def __init__(self, limit: int) -> None:
        self.rf, self.jump, self.limit = 1, 1, limit

    def kernel(self) -> int:
        """3 if a 3x3 conv keeps the receptive field within the limit, else 1."""
        k = 3 if self.rf + 2 * self.jump <= self.limit else 1
        self.add(k, 1)
        return k

    def add(self, kernel: int, stride: int) -> None:
        self.rf += (kernel - 1) * self.jump
        self.jump *= stride


class CPResNet(nn.Module, Model):
    """CP-ResNet (CP-JKU): receptive-field-regularised ResNet teacher; far over DCASE limits by design."""

    class Config(PluginConfig):
        type: Literal["cp_resnet"] = "cp_resnet"
        width: int = Field(64, ge=4, description="Channels of the first stage; each later stage doubles them.")
        blocks_per_stage: tuple[int, ...] = Field(
            (4, 1, 2), min_length=1, description="Number of residual blocks in each stage."
        )
        pool_after: tuple[int, ...] = Field(
            (1, 2, 4), description="1-based block numbers followed by a 2x2 max-pooling."
        )
        max_receptive_field: int = Field(
            100, ge=5, description="Receptive-field bound in input bins; 3x3 convs past it become 1x1."
        )

        @model_validator(mode="after")
        def _pools_name_real_blocks(self) -> CPResNet.Config:
            total = sum(self.blocks_per_stage)
            bad = sorted(b for b in self.pool_after if not 1 <= b <= total)
            if bad:
                raise ValueError(f"pool_after names block(s) {bad}, but the network has blocks 1..{total}")
            return self

    default_input_shape: ClassVar[tuple[int, int, int]] = (1, 256, 64)
    teacher: ClassVar[bool] = True  # not meant to meet the DCASE limits

    def __init__(self, config: Config, *, input_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__()
        self.config = config
        rf = _ReceptiveField(config.max_receptive_field)
        self.stem = conv_bn(input_shape[0], config.width, 5, 2)
        rf.add(5, 2)
        layers: list[nn.Module] = []
        cin, number = config.width, 0
        for stage, count in enumerate(config.blocks_per_stage):
            cout = config.width * 2**stage
            for _ in range(count):
                number += 1
                k1 = rf.kernel()
                layers.append(BasicBlock(cin, cout, k1, rf.kernel()))
                cin = cout
                if number in config.pool_after:
                    layers.append(nn.MaxPool2d(2))
                    rf.add(2, 2)
        self.blocks = nn.Sequential(*layers)
        self.receptive_field = rf.rf
        self.head = nn.Sequential(conv_bn(cin, num_classes, 1, relu=False), nn.AdaptiveAvgPool2d(1))
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x))).flatten(1)
