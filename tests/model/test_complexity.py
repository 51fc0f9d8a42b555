"""Complexity accounting: published figures (exact), hand counts, fusion, limits, flop-counter flags."""

from __future__ import annotations

import json

import pytest
import torch
import torchinfo
from pydantic import ValidationError
from rich.console import Console
from torch import nn

from asc_bench.cli.tables import render_complexity_table
from asc_bench.core.errors import UserError
from asc_bench.model.complexity import (
    ComplexityReport,
    Limits,
    check_limits,
    count_complexity,
    fuse_conv_bn,
)
from asc_bench_plugins.models.baseline2023 import Baseline2023
from asc_bench_plugins.models.baseline2024 import Baseline2024
from asc_bench_plugins.models.cp_mobile import CPMobile
from asc_bench_plugins.models.tf_sepnet import TFSepNet


def build(cls: type, shape: tuple[int, int, int], **options: object) -> nn.Module:
    torch.manual_seed(0)
    return cls(cls.Config(**options), input_shape=shape, num_classes=10)


# docs/dcase.md §3: (model, input, parameters, MACs at batch 1, torchinfo conventions)
PUBLISHED = [
    (Baseline2024, (1, 256, 65), 61_148, 29_419_156),
    (CPMobile, (1, 256, 64), 126_952, 28_893_268),
    (CPMobile, (1, 256, 65), 126_952, 31_684_180),
    (TFSepNet, (1, 256, 64), 54_270, 29_700_320),
    (TFSepNet, (1, 256, 65), 54_270, 30_397_440),
    (Baseline2023, (1, 40, 51), 46_118, 29_271_638),  # torchinfo's count; published 29,234,920 (TFLite)
]


@pytest.mark.parametrize(("cls", "shape", "params", "macs"), PUBLISHED, ids=lambda v: str(v))
def test_published_figures_exactly(cls: type, shape: tuple[int, int, int], params: int, macs: int) -> None:
    model = build(cls, shape)
    report = count_complexity(model, shape)
    assert (report.params, report.macs) == (params, macs)
    # the same as calling the official tool's way directly
    stats = torchinfo.summary(model, input_size=(1, *shape), verbose=0)
    assert (stats.total_params, stats.total_mult_adds) == (params, macs)
    # the per-layer table adds up to the totals
    assert sum(la.params for la in report.layers) == params
    assert sum(la.macs for la in report.layers) == macs


def test_parameter_bytes_at_published_storage() -> None:
    assert count_complexity(build(Baseline2024, (1, 256, 65)), (1, 256, 65)).param_bytes == 122_296
    assert count_complexity(build(CPMobile, (1, 256, 64)), (1, 256, 64), param_dtype="int8").param_bytes == 126_952
    assert count_complexity(build(TFSepNet, (1, 256, 64)), (1, 256, 64), param_dtype="float32").param_bytes == (
        4 * 54_270
    )


def test_keras_baseline_difference_is_batchnorm_statistics() -> None:
    model = build(Baseline2023, (1, 40, 51))
    stats = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    assert 46_118 + stats == 46_246


class Tiny(nn.Module):
    """Conv(1→4, 3x3, bias) + BN(4) + ReLU + Linear(4*5*6 → 3) on a 1x5x6 input."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 5 * 6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.bn(self.conv(x))).flatten(1))


def test_hand_computed_counts() -> None:
    report = count_complexity(Tiny(), (1, 5, 6), param_dtype="float32")
    positions = 5 * 6
    conv_w, conv_b, bn, fc_w, fc_b = 4 * 1 * 3 * 3, 4, 2 * 4, 120 * 3, 3
    assert report.params == conv_w + conv_b + bn + fc_w + fc_b == 411
    assert report.param_bytes == 4 * 411
    # torchinfo: conv (weights + bias) x positions, BatchNorm 2*C, linear weights + bias
    assert report.macs == (conv_w + conv_b) * positions + bn + fc_w + fc_b == 1_571
    # the flop counter: only the products actually executed
    assert report.flop_counter_macs == conv_w * positions + fc_w == 1_440
    rows = {la.name: la for la in report.layers}
    assert rows["conv"].output_shape == [1, 4, 5, 6]
    assert (rows["conv"].params, rows["conv"].macs, rows["conv"].flop_counter_macs) == (40, 1_200, 1_080)
    assert "bias" in rows["conv"].note
    assert "BatchNorm" in rows["bn"].note and rows["bn"].flop_counter_macs == 0
    assert "bias" in rows["fc"].note


def test_report_is_json_able() -> None:
    report = count_complexity(Tiny(), (1, 5, 6))
    d = json.loads(json.dumps(report.to_dict()))
    assert {"macs", "params", "param_bytes", "param_dtype", "fused", "input_shape", "layers"} <= d.keys()
    assert d["input_shape"] == [1, 5, 6] and d["param_dtype"] == "float16" and d["fused"] is False
    assert {"name", "type", "output_shape", "params", "macs", "flop_counter_macs", "note"} <= d["layers"][0].keys()


def test_counting_leaves_the_model_untouched() -> None:
    model = Tiny().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    count_complexity(model, (1, 5, 6), fused=True)
    assert model.training and isinstance(model.bn, nn.BatchNorm2d)
    assert not model._forward_hooks and not model.conv._forward_hooks and not model.conv._forward_pre_hooks
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_fused_counts_cp_mobile() -> None:
    report = count_complexity(build(CPMobile, (1, 256, 64)), (1, 256, 64), fused=True)
    assert report.fused
    assert report.params == 124_862  # docs/dcase.md §3
    assert report.macs == 29_561_088  # "≈29.56 M after" fusion
    assert not any(la.type.startswith("BatchNorm") for la in report.layers)


def test_fused_counts_tiny_by_hand() -> None:
    report = count_complexity(Tiny(), (1, 5, 6), fused=True)
    # BN (8 params, 8 MACs) folded into the conv, whose bias (4) already existed
    assert report.params == 411 - 8
    assert report.macs == 1_571 - 8


@pytest.mark.parametrize(
    ("cls", "shape"), [(CPMobile, (1, 256, 64)), (Baseline2023, (1, 40, 51)), (TFSepNet, (1, 256, 64))]
)
def test_fusion_preserves_outputs(cls: type, shape: tuple[int, int, int]) -> None:
    model = build(cls, shape).train()
    with torch.no_grad():
        model(torch.randn(4, *shape))  # non-trivial BatchNorm statistics
    model.eval()
    x = torch.randn(2, *shape)
    with torch.no_grad():
        y = model(x)
        fused = fuse_conv_bn(model)
        assert not any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
        assert torch.allclose(fused(x), y, atol=1e-4, rtol=1e-4)


def test_limits_resolution() -> None:
    assert (Limits().max_macs(), Limits().max_param_bytes()) == (30_000_000, 128_000)
    assert Limits().param_dtype == "float16"
    assert Limits(macs=10).max_macs() == 10 and Limits(macs=10).max_param_bytes() == 128_000
    assert (Limits(preset="none").max_macs(), Limits(preset="none").max_param_bytes()) == (None, None)
    assert Limits(preset=None, param_bytes=5).resolved() == {
        "macs": None,
        "param_bytes": 5,
        "param_dtype": "float16",
    }
    with pytest.raises(ValidationError):
        Limits(preset="dcase", mac=1)
    with pytest.raises(ValidationError):
        Limits(param_dtype="bfloat16")
    for name, info in Limits.model_fields.items():
        assert info.description, name


def test_over_the_mac_limit_message() -> None:
    report = count_complexity(build(CPMobile, (1, 256, 65)), (1, 256, 65), param_dtype="int8")
    with pytest.raises(UserError) as err:
        check_limits(report, Limits(param_dtype="int8"))
    msg = str(err.value)
    assert "31,684,180 MACs" in msg and "30,000,000" in msg and "over by 1,684,180" in msg
    assert "1x256x65" in msg and "batch 1" in msg
    assert "Largest layers by MACs: blocks.5.project.0 (Conv2d) 5,225,472" in msg
    assert msg.count("(Conv2d)") == 5
    assert "parameter bytes at int8" in msg and "headroom 1,048" in msg
    assert "limits: {preset: none}" in msg and err.value.fix
    check_limits(report, Limits(preset="none"))
    check_limits(report, Limits(param_dtype="int8", macs=32_000_000))


def test_over_the_memory_limit_message() -> None:
    report = count_complexity(build(Baseline2024, (1, 256, 65)), (1, 256, 65))
    check_limits(report, Limits())  # float16: 122,296 B fits
    with pytest.raises(UserError) as err:
        check_limits(report, Limits(param_dtype="float32"))
    msg = str(err.value)
    assert "244,592 parameter bytes at float32 (61,148 params) > limit 128,000" in msg
    assert "Largest layers by parameters: blocks.5.project.0 (Conv2d)" in msg
    assert "Largest layers by MACs" not in msg


class Functional(nn.Module):
    """A conv module plus a functional matmul that module hooks cannot see."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 1, bias=False)
        self.proj = nn.Parameter(torch.randn(8, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x).flatten(1) @ self.proj


def test_flop_counter_sees_functional_matmul() -> None:
    report = count_complexity(Functional(), (1, 2, 2))
    rows = {la.name: la for la in report.layers}
    assert (rows["conv"].macs, rows["conv"].flop_counter_macs, rows["conv"].note) == (8, 8, "")
    own = rows[""]  # the model's own forward
    assert (own.params, own.macs, own.flop_counter_macs) == (24, 0, 24)
    assert "functional" in own.note
    assert report.params == 2 + 24 and report.macs == 8 and report.flop_counter_macs == 32


def test_flop_counter_counts_linear_over_sequence() -> None:
    class Seq(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 5, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(x.flatten(2).transpose(1, 2))  # (1, 6 positions, 4) -> (1, 6, 5)

    report = count_complexity(Seq(), (4, 2, 3))
    (row,) = report.layers
    assert (row.macs, row.flop_counter_macs) == (20, 120)  # torchinfo: params x batch only
    assert "batch" in row.note


def test_render_table() -> None:
    report = count_complexity(build(Baseline2023, (1, 40, 51)), (1, 40, 51))
    console = Console(record=True, width=220)
    console.print(render_complexity_table(report))
    text = console.export_text()
    assert "features.1.0" in text and "25,622,400" in text and "29,271,638" in text and "Total" in text
    assert "Dropout" not in text
    console.print(render_complexity_table(report, show_all=True))
    assert "Dropout" in console.export_text()


def test_report_largest() -> None:
    report = ComplexityReport(1, 1, 2, "float16", False, (1, 1, 1), 0, [])
    assert report.largest("macs") == []
