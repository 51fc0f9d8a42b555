"""Building blocks of the CP-Mobile family (CP-JKU 2023), shared by ``cp_mobile`` and ``baseline2024``.

The family: a two-conv stem, stages of inverted-residual blocks, and a 1x1-conv head with global average
pooling (docs/dcase.md §4). No convolution has a bias. CP-Mobile ends each block with GRN + ReLU; the DCASE
2024 baseline ends it with ReLU only.
"""

from __future__ import annotations

import torch
from pydantic import BaseModel, Field, model_validator
from torch import nn

Stride = tuple[int, int]


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round ``value`` to a multiple of ``divisor`` (at least ``divisor``), never more than 10 % below it."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def conv_bn(
    cin: int, cout: int, kernel: int = 1, stride: Stride | int = 1, *, groups: int = 1, relu: bool = True
) -> nn.Sequential:
    """Conv (no bias, 'same'-style padding) + BatchNorm (+ ReLU)."""
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class GRN(nn.Module):
    """Global response normalisation with scalar learnable gamma and beta (both start at 0: identity)."""

    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        # Names avoid "weight"/"bias": torchinfo counts free-standing parameters with 0 MACs only then.
        self.gamma = nn.Parameter(torch.zeros(1))
        self.beta = nn.Parameter(torch.zeros(1))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = torch.linalg.vector_norm(x, ord=2, dim=(2, 3), keepdim=True)
        n = g / (g.mean(dim=1, keepdim=True) + self.eps)
        return self.gamma * (x * n) + self.beta + x


class InvertedResidual(nn.Module):
    """Expand (1x1) → depthwise 3x3 with the block's stride → project (1x1), shortcut when cin == cout."""

    def __init__(self, cin: int, cout: int, *, expansion: float, stride: Stride, grn: bool) -> None:
        super().__init__()
        hidden = make_divisible(cin * expansion)
        self.expand = conv_bn(cin, hidden, 1)
        self.depthwise = conv_bn(hidden, hidden, 3, stride, groups=hidden)
        self.project = conv_bn(hidden, cout, 1, relu=False)
        self.use_shortcut = cin == cout
        if self.use_shortcut and tuple(stride) != (1, 1):
            self.shortcut: nn.Module = nn.AvgPool2d(3, stride=stride, padding=1)
        else:
            self.shortcut = nn.Identity()
        self.grn = GRN() if grn else nn.Identity()
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.depthwise(self.expand(x)))
        if self.use_shortcut:
            y = y + self.shortcut(x)
        return self.act(self.grn(y))


class CPMobileSettings(BaseModel):
    """The knobs of a CP-Mobile-family network (mixed into each model plugin's ``Config``)."""

    base_channels: int = Field(32, ge=8, description="Channels after the stem and in the first stage.")
    channels_multiplier: float = Field(
        2.3, gt=0, description="Stage i has make_divisible(base_channels * multiplier**i) channels."
    )
    expansion_rate: float = Field(3.0, gt=0, description="Hidden-channel expansion of each inverted residual.")
    blocks_per_stage: tuple[int, ...] = Field(
        (3, 2, 1), min_length=1, description="Number of inverted-residual blocks in each stage."
    )
    strides: dict[int, tuple[int, int]] = Field(
        default_factory=lambda: {2: (2, 2), 4: (2, 1)},
        description="(frequency, time) stride of the depthwise conv per block, keyed by 1-based block "
        "number across all stages; unlisted blocks have stride (1, 1).",
    )
    grn: bool = Field(True, description="Apply global response normalisation before each block's ReLU.")

    @model_validator(mode="after")
    def _strides_name_real_blocks(self) -> CPMobileSettings:
        total = sum(self.blocks_per_stage)
        bad = sorted(b for b in self.strides if not 1 <= b <= total)
        if bad:
            raise ValueError(f"strides names block(s) {bad}, but the network has blocks 1..{total}")
        return self


def stage_channels(base: int, multiplier: float, n_stages: int) -> list[int]:
    """Output channels of each stage."""
    return [make_divisible(base * multiplier**i) for i in range(n_stages)]


class CPMobileNet(nn.Module):
    """A CP-Mobile-family network built from :class:`CPMobileSettings`."""

    def __init__(self, s: CPMobileSettings, *, in_channels: int, num_classes: int) -> None:
        super().__init__()
        base = make_divisible(s.base_channels)
        self.stem = nn.Sequential(conv_bn(in_channels, base // 4, 3, 2), conv_bn(base // 4, base, 3, 2))
        blocks: list[nn.Module] = []
        cin, number = base, 0
        for cout, count in zip(
            stage_channels(base, s.channels_multiplier, len(s.blocks_per_stage)),
            s.blocks_per_stage,
            strict=True,
        ):
            for _ in range(count):
                number += 1
                stride = tuple(s.strides.get(number, (1, 1)))
                blocks.append(InvertedResidual(cin, cout, expansion=s.expansion_rate, stride=stride, grn=s.grn))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(conv_bn(cin, num_classes, 1, relu=False), nn.AdaptiveAvgPool2d(1))
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x))).flatten(1)


def init_weights(module: nn.Module) -> None:
    """Kaiming-normal (fan-out) convs, unit BatchNorm, small-normal linears; zero biases."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.GroupNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
