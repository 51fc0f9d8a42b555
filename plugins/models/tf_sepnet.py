"""TF-SepNet (Cai et al., XJTLU, DCASE 2023): time-frequency separable convolutions with AdaResNorm."""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from pydantic import Field, model_validator
from torch import nn

from asc_bench.api import Model, PluginConfig
from asc_bench_plugins.models.cp_mobile_blocks import conv_bn, init_weights

LAYOUT = ("N", 1, 1, "N", "M", 1.5, 1.5, "N", "M", 2, 2, "N", 2.5, 2.5, 2.5, "N")
"""After the stem: a number v is a block of round(v * width) channels, N AdaResNorm, M 2x2 max-pooling."""


class AdaResNorm(nn.Module):
    """Adaptive residual normalisation (Cai 2023): gamma * (rho * x + (1 - rho) * norm(x)) + beta.

    ``norm`` normalises each frequency bin over channels and time with the unbiased variance, as the reference
    (yqcai888/DCASE2023 ``common.py``: ``x.mean((1, 3))``, ``x.var((1, 3))``); rho, gamma, beta are per channel.
    """

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        # Names avoid "weight"/"bias" so torchinfo counts these as parameters with 0 MACs.
        self.rho = nn.Parameter(torch.full((1, channels, 1, 1), 0.5))
        self.gamma = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean((1, 3), keepdim=True)
        var = x.var((1, 3), keepdim=True)
        normed = (x - mean) / (var + self.eps).sqrt()
        return self.gamma * (self.rho * x + (1 - self.rho) * normed) + self.beta


class ChannelShuffle(nn.Module):
    """The reference's channel shuffle: channels as (c // group, group), transposed, i.e. the textbook shuffle
    with ``c // group`` groups (yqcai888/DCASE2023 ``ShuffleLayer``)."""

    def __init__(self, group: int) -> None:
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(1, (-1, self.group)).transpose(1, 2).flatten(1, 2)


class SeparableBranch(nn.Module):
    """Depthwise conv along one axis, mean over that axis, 1x1 conv, dropout, plus the branch input."""

    def __init__(self, channels: int, axis: Literal["freq", "time"], dropout: float) -> None:
        super().__init__()
        kernel, padding = ((3, 1), (1, 0)) if axis == "freq" else ((1, 3), (0, 1))
        self.axis = 2 if axis == "freq" else 3
        self.depthwise = nn.Sequential(
            nn.Conv2d(channels, channels, kernel, padding=padding, groups=channels, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
        )
        self.pointwise = conv_bn(channels, channels, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.depthwise(x).mean(dim=self.axis, keepdim=True)
        return x + self.dropout(self.pointwise(y))  # x first: the int8 add then broadcasts the second operand


class TFSepBlock(nn.Module):
    """(1x1 transition when cin != cout) → channel shuffle (unless ``shuffle_groups`` is None) → frequency half ‖
    time half."""

    def __init__(self, cin: int, cout: int, *, shuffle_groups: int | None, dropout: float) -> None:
        super().__init__()
        self.transition: nn.Module = conv_bn(cin, cout, 1) if cin != cout else nn.Identity()
        self.shuffle: nn.Module = nn.Identity() if shuffle_groups is None else ChannelShuffle(shuffle_groups)
        self.half = cout // 2
        self.freq = SeparableBranch(self.half, "freq", dropout)
        self.time = SeparableBranch(self.half, "time", dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.shuffle(self.transition(x))
        f, t = torch.split(x, self.half, dim=1)
        return torch.cat([self.freq(f), self.time(t)], dim=1)


class TFSepNet(nn.Module, Model):
    """TF-SepNet (Cai 2023): time/frequency separable convs, AdaResNorm; width 40 = 54,270 params."""

    class Config(PluginConfig):
        type: Literal["tf_sepnet"] = "tf_sepnet"
        width: int = Field(40, ge=4, description="Base width w; a layout entry v is a block of round(v*w) channels.")
        dropout: float = Field(0.2, ge=0, lt=1, description="Dropout after each branch's 1x1 conv.")
        shuffle: bool = Field(True, description="Shuffle channels before each block's split (the reference's shuffle).")
        shuffle_groups: int = Field(
            10,
            ge=1,
            description="The reference's shuffle group g: channels viewed as (c // g, g) and transposed, i.e. the "
            "textbook shuffle with c // g groups.",
        )

        @model_validator(mode="after")
        def _widths_fit_shuffle(self) -> TFSepNet.Config:
            widths = sorted({round(float(v) * self.width) for v in LAYOUT if v not in ("N", "M")})
            bad = [c for c in widths if c % 2 or (self.shuffle and c % self.shuffle_groups)]
            if bad:
                raise ValueError(
                    f"width {self.width} gives block widths {bad}, which must be even and divisible by "
                    f"shuffle_groups={self.shuffle_groups} (width 40 gives 40, 60, 80, 100)"
                )
            return self

    default_input_shape: ClassVar[tuple[int, int, int]] = (1, 256, 64)

    def __init__(self, config: Config, *, input_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.stem = nn.Conv2d(input_shape[0], 2 * w, 5, stride=2, padding=2, bias=False)
        layers: list[nn.Module] = []
        channels = 2 * w
        for entry in LAYOUT:
            if entry == "N":
                layers.append(AdaResNorm(channels))
            elif entry == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                cout = round(float(entry) * w)
                groups = config.shuffle_groups if config.shuffle else None
                layers.append(TFSepBlock(channels, cout, shuffle_groups=groups, dropout=config.dropout))
                channels = cout
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(channels, num_classes, 1, bias=True)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.stem(x))).mean(dim=(2, 3))
