"""Conformance of every registered model plugin: config, shapes, seeding, limits, deployment precisions."""

from __future__ import annotations

import typing
from importlib.metadata import entry_points

import pytest
import torch
from torch import nn

from asc_bench.api import Model, PluginConfig
from asc_bench.complexity import Limits, check_limits, count_complexity
from asc_bench.errors import UserError
from asc_bench.precision import deploy_model

MODEL_NAMES = sorted(ep.name for ep in entry_points(group="asc_bench.model"))


def load(name: str) -> type:
    (ep,) = [ep for ep in entry_points(group="asc_bench.model") if ep.name == name]
    return ep.load()


def build(name: str, seed: int = 0, num_classes: int = 10) -> nn.Module:
    cls = load(name)
    torch.manual_seed(seed)
    return cls(cls.Config(), input_shape=cls.default_input_shape, num_classes=num_classes)


def trained_looking(name: str) -> tuple[nn.Module, tuple[int, int, int]]:
    """A model in eval mode whose BatchNorm statistics are not the trivial initial ones."""
    model = build(name)
    shape = load(name).default_input_shape
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(4, *shape))
    return model.eval(), shape


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_plugin_contract(name: str) -> None:
    cls = load(name)
    assert issubclass(cls, nn.Module) and issubclass(cls, Model)
    assert issubclass(cls.Config, PluginConfig)
    config = cls.Config()
    assert config.type == name
    assert typing.get_args(cls.Config.model_fields["type"].annotation) == (name,)
    for field, info in cls.Config.model_fields.items():
        assert field == "type" or info.description, f"{name}.Config.{field} has no description"
    doc = (cls.__doc__ or "").strip()
    assert doc and "\n" not in doc, "the class docstring must be one line"
    channels, n_mels, frames = cls.default_input_shape
    assert channels >= 1 and n_mels >= 1 and frames >= 1
    with pytest.raises(ValueError):
        cls.Config(no_such_option=1)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_forward_shape(name: str) -> None:
    shape = load(name).default_input_shape
    model = build(name).eval()
    with torch.no_grad():
        assert model(torch.randn(3, *shape)).shape == (3, 10)
    other = build(name, num_classes=7).train()
    out = other(torch.randn(2, *shape))
    assert out.shape == (2, 7)
    out.sum().backward()  # trainable end to end
    assert all(p.grad is not None for p in other.parameters() if p.requires_grad)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_deterministic_initialisation(name: str) -> None:
    a, b, c = (
        build(name, seed=3).state_dict(),
        build(name, seed=3).state_dict(),
        build(name, seed=4).state_dict(),
    )
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point())


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_within_dcase_limits_unless_teacher(name: str) -> None:
    cls = load(name)
    report = count_complexity(build(name), cls.default_input_shape, param_dtype="int8")
    if getattr(cls, "teacher", False):
        with pytest.raises(UserError):
            check_limits(report, Limits(param_dtype="int8"))
        check_limits(report, Limits(preset="none"))
    else:
        check_limits(report, Limits(param_dtype="int8"))  # int8 is the loosest storage the rules allow


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_float16_deployment_matches_float32(name: str) -> None:
    model, shape = trained_looking(name)
    x = torch.randn(4, *shape)
    deployed = deploy_model(model, "float16")
    assert deployed is not model
    assert all(p.dtype == torch.float32 for p in deployed.parameters())
    for p in deployed.parameters():
        assert torch.equal(p, p.half().float()), "float16 deployment must hold float16-representable weights"
    with torch.no_grad():
        y, yh = model(x), deployed(x)
    assert torch.allclose(yh, y, rtol=1e-2, atol=1e-2 * float(y.abs().max()))
    assert deploy_model(model, "float32") is model


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_int8_deployment_runs_and_is_close(name: str) -> None:
    model, shape = trained_looking(name)
    torch.manual_seed(1)
    x = torch.randn(2, *shape)
    calibration = [torch.randn(2, *shape), x]
    quantized = deploy_model(model, "int8", calibration)
    with torch.no_grad():
        y, yq = model(x), quantized(x)
    assert yq.shape == y.shape and yq.dtype == torch.float32
    relative = float((yq - y).norm() / y.norm())
    assert relative < 0.25, f"int8 logits too far from float32 (relative error {relative:.3f})"
    assert any(".quantized" in type(m).__module__ for m in quantized.modules()), "no int8 layers"


def test_int8_failure_names_the_model() -> None:
    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.sum() > 0:  # data-dependent control flow: not FX-traceable
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
        load("cp_mobile").Config(strides={9: (2, 2)})
    with pytest.raises(ValueError, match="shuffle_groups"):
        load("tf_sepnet").Config(width=44)
    with pytest.raises(ValueError, match="odd"):
        load("baseline2023").Config(kernel_size=6)
    with pytest.raises(ValueError, match="pool_after"):
        load("cp_resnet").Config(pool_after=(99,))
