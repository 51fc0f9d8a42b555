"""CP-ResNet (Koutini et al., CP-JKU): the receptive-field-regularised ResNet CP-JKU trained as a DCASE 2023 teacher.

The defaults build the network of fschmid56/cpjku_dcase23 (``models/cp_resnet.py``, ``Network``) exactly as
``run_cp-resnet_training.py`` configures it (``get_model(base_channels=32)``: rho 8, channel multiplier 2, stage-3
channels cut by 36, blocks (2, 1, 1), stage 2 grouped in 2): 127,684 parameters, 28.8 MMAC on its input of
256 mel bands x 43 frames (hop 750 at 32 kHz). The golden test (tests/builtin/models/test_golden_models.py)
checks the eval logits, one training step and the initialisation against the reference.

The layers: a stem (5x5 conv, stride 2, padding 1, + BN + ReLU); stages of basic blocks (conv k1 + BN + ReLU,
conv k2 + BN, added to the shortcut — the identity, or 1x1 conv + BN when the widths differ —, then ReLU), every
conv padded by ``k // 3`` (the reference's ``calc_padding``: 'same' for 1 and 3) and grouped by its stage's
``groups``; max-poolings at the stage's ``maxpool_positions`` (0 = before the first block, n = after block n);
a head of 1x1 conv + BN to the classes, then global average pooling. The receptive field is set by the kernel
lists (the reference derives them from rho; the defaults are rho 8's). Initialisation as the reference's
constructor: Kaiming-normal (fan-in) convs, unit BatchNorm, then a zero classifier conv and its Fixup-style
rescaling of every block (first conv N(0, 2 / (k1² · width) / blocks), second conv zero, shortcut conv
N(0, 2 / width)); the reference counts blocks process-wide, so its second network in one process is initialised
with a larger count; here it is always this network's own.

Left out, as the 2023 training script leaves it off: ``pooling_padding`` (always 0). A stage of 0 blocks keeps its
input width (the reference does so for stage 3 only). Beyond the reference: the number of stages is free (it has
three). The model is a teacher, trained in float32: its spec takes ``limits: {preset: none}``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from pydantic import ConfigDict, Field, model_validator
from torch import nn

from asc_bench.api import Model, PluginConfig, StrictModel

Pair = tuple[int, int]


class Stage(StrictModel):
    """One stage of basic blocks: their kernels, the max-poolings between them, the conv groups, the width cut."""

    model_config = ConfigDict(extra="forbid", frozen=True)  # DEFAULT_STAGES is shared by every default config
    blocks: int = Field(..., ge=0, description="Number of basic blocks.")
    k1s: tuple[int, ...] = Field(..., description="Kernel of each block's first conv (one per block).")
    k2s: tuple[int, ...] = Field(..., description="Kernel of each block's second conv (one per block).")
    maxpool_positions: tuple[int, ...] = Field(
        (), description="Max-poolings: 0 = before the first block, n = after block n."
    )
    first_pool: Pair | None = Field(
        None, description="Kernel (= stride) of the position-0 max-pooling; null: maxpool_kernel / maxpool_stride."
    )
    groups: int = Field(1, ge=1, description="Groups of every conv in the stage (its shortcut conv too).")
    cut_channels: int = Field(
        0, ge=0, description="Channels taken off this stage's width base_channels * channels_multiplier ** index."
    )

    @model_validator(mode="after")
    def _one_kernel_per_block(self) -> Stage:
        if len(self.k1s) != self.blocks or len(self.k2s) != self.blocks:
            raise ValueError(
                f"a stage of {self.blocks} blocks needs {self.blocks} k1s and k2s (got {len(self.k1s)} and "
                f"{len(self.k2s)}): give one kernel per block"
            )
        if any(k < 1 for k in self.k1s + self.k2s):
            raise ValueError("kernels must be at least 1")
        bad = sorted(p for p in self.maxpool_positions if not 0 <= p <= self.blocks)
        if bad:
            raise ValueError(
                f"maxpool_positions {bad} are outside 0..{self.blocks}: 0 pools before the first block, n after block n"
            )
        return self


DEFAULT_STAGES = (
    Stage(blocks=2, k1s=(3, 3), k2s=(1, 3), maxpool_positions=(0, 1, 2), first_pool=(2, 2)),
    Stage(blocks=1, k1s=(3,), k2s=(3,), groups=2),
    Stage(blocks=1, k1s=(3,), k2s=(1,), cut_channels=36),
)
"""``run_cp-resnet_training.py``'s network: ``get_model``'s rho 8 kernels and pooling (its stage-1 pooling after
block 4 never happens with 2 blocks, so it is not listed)."""


def _conv(cin: int, cout: int, kernel: int | Pair, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """A bias-free conv padded by ``kernel // 3`` (the reference's ``calc_padding``)."""
    padding = tuple(k // 3 for k in kernel) if isinstance(kernel, tuple) else kernel // 3
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, groups=groups, bias=False)


class BasicBlock(nn.Module):
    """conv k1 + BN + ReLU, conv k2 + BN, plus the shortcut (1x1 conv + BN when widths differ), then ReLU."""

    def __init__(self, cin: int, cout: int, k1: int, k2: int, groups: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = _conv(cin, cout, k1, groups=groups), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = _conv(cout, cout, k2, groups=groups), nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if cin != cout:
            self.shortcut = nn.Sequential(_conv(cin, cout, 1, groups=groups), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + self.shortcut(x))

    def fixup(self, blocks: int) -> None:
        """The reference's rescaling: conv1 ~ N(0, 2 / (k1² width) / blocks), conv2 = 0, shortcut ~ N(0, 2 / width)."""
        with torch.no_grad():
            fan = self.conv1.kernel_size[0] * self.conv1.kernel_size[1] * self.conv1.out_channels
            self.conv1.weight.normal_(0, blocks**-0.5 * (2 / fan) ** 0.5)
            self.conv2.weight.zero_()
            if len(self.shortcut):
                self.shortcut[0].weight.normal_(0, (2 / self.shortcut[0].out_channels) ** 0.5)


class CPResNet(nn.Module, Model):
    """CP-ResNet (CP-JKU 2023 teacher): 127,684 params, 28.8 MMAC at 256x43; trained unconstrained."""

    class Config(PluginConfig):
        type: Literal["cp_resnet"] = "cp_resnet"
        base_channels: int = Field(32, ge=1, description="Width of the stem and the first stage.")
        channels_multiplier: int = Field(2, ge=1, description="Width factor from one stage to the next.")
        stages: tuple[Stage, ...] = Field(DEFAULT_STAGES, description="The stages, in order.")
        maxpool_kernel: Pair = Field((2, 1), description="Kernel of the max-poolings (frequency, time).")
        maxpool_stride: Pair = Field((2, 1), description="Stride of the max-poolings (frequency, time).")

        @model_validator(mode="after")
        def _widths_fit_the_groups(self) -> CPResNet.Config:
            cin = self.base_channels
            for index, (stage, width) in enumerate(zip(self.stages, self.widths(), strict=True), 1):
                if width < 1 or (stage.blocks and (cin % stage.groups or width % stage.groups)):
                    raise ValueError(
                        f"stage {index} is {cin} -> {width} channels, which its groups ({stage.groups}) must divide "
                        "and which must be positive: change base_channels, cut_channels or groups"
                    )
                cin = width if stage.blocks else cin
            return self

        def widths(self) -> list[int]:
            """Each stage's width: base_channels * channels_multiplier ** index - cut_channels."""
            return [
                self.base_channels * self.channels_multiplier**i - s.cut_channels for i, s in enumerate(self.stages)
            ]

    default_input_shape: ClassVar[tuple[int, int, int]] = (1, 256, 43)
    teacher: ClassVar[bool] = True  # trained unconstrained, in float32

    def __init__(self, config: Config, *, input_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__()
        self.config = config
        c = config.base_channels
        self.stem = nn.Sequential(
            nn.Conv2d(input_shape[0], c, 5, stride=2, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU()
        )
        stages = []
        for stage, width in zip(config.stages, config.widths(), strict=True):
            stages.append(self._stage(stage, c, width))
            c = width if stage.blocks else c
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(_conv(c, num_classes, 1), nn.BatchNorm2d(num_classes), nn.AdaptiveAvgPool2d(1))
        self._initialise()

    def _stage(self, stage: Stage, cin: int, cout: int) -> nn.Sequential:
        """The stage's blocks, with its max-poolings before (position 0) and after the blocks they name."""
        pool = self.config.maxpool_kernel, self.config.maxpool_stride
        layers: list[nn.Module] = []
        if 0 in stage.maxpool_positions:
            first = (stage.first_pool, stage.first_pool) if stage.first_pool else pool
            layers.append(nn.MaxPool2d(*first))
        for number, (k1, k2) in enumerate(zip(stage.k1s, stage.k2s, strict=True), 1):
            layers.append(BasicBlock(cin, cout, k1, k2, stage.groups))
            cin = cout
            layers += [nn.MaxPool2d(*pool) for p in stage.maxpool_positions if p == number]
        return nn.Sequential(*layers)

    def _initialise(self) -> None:
        """The reference constructor's initialisation, drawn in its order (so equal seeds give equal weights)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.zeros_(self.head[0].weight)
        blocks = [m for m in self.modules() if isinstance(m, BasicBlock)]
        for block in blocks:
            block.fixup(len(blocks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x))).flatten(1)
