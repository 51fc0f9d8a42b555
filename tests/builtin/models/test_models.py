"""Every registered model plugin through the conformance kit (as third-party models are checked), plus the
deployment helper's own error paths and the built-in models' config validation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from asc_bench.core.errors import UserError
from asc_bench.model.complexity import check_limits, count_complexity
from asc_bench.model.precision import deploy_model
from asc_bench.plugins import registry
from asc_bench.spec.limits import Limits
from asc_bench.testing import check_model

MODEL_NAMES = sorted(registry.available("model"))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_conforms(name: str) -> None:
    check_model(registry.load("model", name))


@pytest.mark.parametrize("name", [n for n in MODEL_NAMES if registry.load("model", n).teacher])
def test_teachers_are_over_the_limits_by_design(name: str) -> None:
    """At float32, the precision teachers are trained and stored at (CP-ResNet would fit at int8: 127,684
    parameters, 28.8 MMAC at its 256x43 input)."""
    cls = registry.load("model", name)
    torch.manual_seed(0)
    model = cls(cls.Config(), input_shape=cls.default_input_shape, num_classes=10)
    report = count_complexity(model, cls.default_input_shape, param_dtype="float32")
    with pytest.raises(UserError):
        check_limits(report, Limits(param_dtype="float32"))


def test_int8_failure_names_the_model() -> None:
    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.sum() > 0:  # data-dependent control flow: torch.export cannot capture it
                return self.fc(x)
            return -self.fc(x)

    with pytest.raises(UserError, match="Branchy") as err:
        deploy_model(Branchy(), "int8", [torch.randn(2, 4)])
    assert "float16" in str(err.value)


def test_deploy_rejects_unknown_dtype_and_missing_calibration() -> None:
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError):
        deploy_model(model, "bfloat16")
    with pytest.raises(ValueError):
        deploy_model(model, "int8")


def test_config_validation_messages() -> None:
    with pytest.raises(ValueError, match="blocks 1..6"):
        registry.load("model", "cp_mobile").Config(strides={9: (2, 2)})
    with pytest.raises(ValueError, match="shuffle_groups"):
        registry.load("model", "tf_sepnet").Config(width=44)
    with pytest.raises(ValueError, match="odd"):
        registry.load("model", "baseline2023").Config(kernel_size=6)
    with pytest.raises(ValueError, match="maxpool_positions"):
        registry.load("model", "cp_resnet").Config(
            stages=[{"blocks": 1, "k1s": [3], "k2s": [3], "maxpool_positions": [9]}]
        )
