"""CP-ResNet's config (errors that name the fix, stages of no blocks) and the teacher spec built on it; the function
itself is checked against the reference in test_golden_models.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers import ROOT, spec_file
from helpers.tune import run_cli, user_error

from asc_bench.model.build import check_complexity
from asc_bench.plugins import registry
from asc_bench.spec.validate import load_spec

CPResNet = registry.load("model", "cp_resnet")


@pytest.mark.parametrize(
    ("stage", "message"),
    [
        ({"blocks": 2, "k1s": [3], "k2s": [3, 3]}, "a stage of 2 blocks needs 2 k1s and k2s (got 1 and 2)"),
        ({"blocks": 1, "k1s": [3], "k2s": [0]}, "kernels must be at least 1"),
        ({"blocks": 1, "k1s": [3], "k2s": [3], "maxpool_positions": [2]}, "maxpool_positions [2] are outside 0..1"),
    ],
)
def test_a_bad_stage_is_refused_with_its_fix(stage: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        CPResNet.Config(stages=[stage])


def test_widths_must_suit_the_groups() -> None:
    with pytest.raises(ValueError, match="stage 2 is 15 -> 30 channels.*change base_channels, cut_channels or groups"):
        CPResNet.Config(base_channels=15)
    with pytest.raises(ValueError, match="stage 3 is 16 -> -4 channels"):
        CPResNet.Config(base_channels=8)


def test_a_stage_of_no_blocks_keeps_its_width_and_still_pools() -> None:
    stages = [
        {"blocks": 0, "k1s": [], "k2s": [], "maxpool_positions": [0], "first_pool": [2, 2]},
        {"blocks": 1, "k1s": [3], "k2s": [1], "cut_channels": 4},
    ]
    model = CPResNet(CPResNet.Config(base_channels=8, stages=stages), input_shape=(1, 32, 20), num_classes=3)
    assert [type(m).__name__ for m in model.stages[0]] == ["MaxPool2d"]
    assert model.stages[1][0].conv1.in_channels == 8 and model.stages[1][0].conv1.out_channels == 12
    assert model(torch.randn(2, 1, 32, 20)).shape == (2, 3)


def test_the_teacher_spec_is_the_reference_network_on_its_input() -> None:
    """specs/cpjku_teacher.yaml feeds 256 x 43 (hop 750), the reference's input: its counts are the reference's."""
    report = check_complexity(load_spec(ROOT / "specs" / "cpjku_teacher.yaml"))
    assert (report.macs, report.params, report.param_dtype) == (28_840_396, 127_684, "float32")


def test_a_bad_stage_in_a_spec_is_one_paragraph(tmp_path: Path) -> None:
    model = "{type: cp_resnet, stages: [{blocks: 2, k1s: [3], k2s: [3, 3]}]}"
    result = run_cli("validate", spec_file(tmp_path, tmp_path, model=model))
    user_error(result, "spec.yaml:10:", "model.stages[0]", "needs 2 k1s and k2s", "give one kernel per block")
