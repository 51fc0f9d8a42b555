"""Conformance of a model plugin: shapes, gradients, seeded initialisation, limits, deployment precisions."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from asc_bench.api import Model
from asc_bench.core.errors import UserError
from asc_bench.model.complexity import ComplexityReport, check_limits, count_complexity
from asc_bench.model.precision import deploy_model, int8_weight_count
from asc_bench.spec.limits import Limits
from asc_bench.testing._common import check_config, config_for, expect, fail

INT8_MAX_RELATIVE_ERROR = 0.25


def _build(cls: type, config: Any, shape: tuple[int, ...], num_classes: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = cls(config, input_shape=shape, num_classes=num_classes)
    expect(isinstance(model, nn.Module), cls, "constructing it must give a torch.nn.Module")
    return model


def _trained_looking(model: nn.Module, shape: tuple[int, ...]) -> nn.Module:
    """``model`` in eval mode after two training-mode passes (BatchNorm statistics no longer trivial); weights
    initialised to all zeros (Fixup-style classifiers, zero-initialised residual branches) get small seeded
    values first, as training would give them, so that float and int8 logits can be compared."""
    model.train()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() > 1 and not parameter.any():
                fan_in = parameter[0].numel()
                parameter.copy_(torch.randn(parameter.shape, generator=generator) / fan_in**0.5)
        for _ in range(2):
            model(torch.randn(4, *shape))
    return model.eval()


def check_model(
    cls: type,
    config: Any = None,
    *,
    input_shape: tuple[int, int, int] | None = None,
    num_classes: int = 10,
    limits: Limits | None = None,
    int8: bool = True,
) -> ComplexityReport:
    """Check a model plugin the way the built-in models are checked; returns its complexity report.

    - the plugin contract and documented options (:func:`check_config`);
    - ``forward`` maps ``(B, *input_shape)`` to finite logits ``(B, num_classes)`` for any ``num_classes``,
      is deterministic in eval mode, and every parameter gets a gradient;
    - initialisation is seeded: ``torch.manual_seed(s)`` before construction gives equal weights for equal
      ``s`` and different ones for different ``s``; ``load_state_dict`` restores a model exactly;
    - complexity at batch 1 within ``limits`` (default: the DCASE limits with int8 parameters, the loosest
      storage the rules allow; pass e.g. ``Limits(param_dtype="float16")`` for a model stored as float16),
      unless the class declares ``teacher = True``;
    - deployment: float16-rounded weights give logits close to float32 ones, and (unless ``int8=False``)
      int8 post-training quantisation runs and stays close.

    ``input_shape`` defaults to the class's ``default_input_shape``; ``config`` to the Config's defaults.
    """
    check_config(cls, "model")
    expect(issubclass(cls, nn.Module) and issubclass(cls, Model), cls, "must subclass torch.nn.Module and api.Model")
    config = config_for(cls, config)
    shape = tuple(input_shape or cls.default_input_shape)
    expect(len(shape) == 3 and min(shape) >= 1, cls, f"input_shape must be (channels, n_mels, frames), got {shape}")

    model = _build(cls, config, shape, num_classes, seed=0).eval()
    x = torch.randn(3, *shape)
    with torch.no_grad():
        y, y_again = model(x), model(x)
    wanted = (3, num_classes)
    expect(y.shape == wanted, cls, f"forward gave {tuple(y.shape)} for input {tuple(x.shape)}, expected {wanted}")
    expect(bool(torch.isfinite(y).all()), cls, "forward gave non-finite logits")
    expect(torch.equal(y, y_again), cls, "forward in eval mode is not deterministic")

    other = _build(cls, config, shape, num_classes=7, seed=0).train()
    out = other(torch.randn(2, *shape))
    expect(out.shape == (2, 7), cls, f"with num_classes=7 forward gave {tuple(out.shape)}, expected (2, 7)")
    out.sum().backward()
    no_grad = [n for n, p in other.named_parameters() if p.requires_grad and p.grad is None]
    expect(not no_grad, cls, f"parameters without a gradient (unused in forward?): {', '.join(no_grad[:5])}")

    a, b = (_build(cls, config, shape, num_classes, seed=3).state_dict() for _ in range(2))
    c = _build(cls, config, shape, num_classes, seed=4).state_dict()
    expect(all(torch.equal(a[k], b[k]) for k in a), cls, "equal seeds gave different initial weights")
    expect(
        any(not torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point()),
        cls,
        "different seeds gave identical initial weights (draw them from torch's global generator)",
    )
    restored = _build(cls, config, shape, num_classes, seed=5)
    restored.load_state_dict(model.state_dict())
    with torch.no_grad():
        expect(torch.equal(restored.eval()(x), y), cls, "load_state_dict does not restore the model's outputs")

    limits = limits or Limits(param_dtype="int8")
    report = count_complexity(model, shape, param_dtype=limits.param_dtype)
    if not getattr(cls, "teacher", False):
        try:
            check_limits(report, limits)
        except UserError as exc:
            fail(cls, f"over its limits at input {shape}: {exc}")

    _check_deployment(cls, _trained_looking(model, shape), shape, int8)
    return report


def _check_deployment(cls: type, model: nn.Module, shape: tuple[int, ...], int8: bool) -> None:
    x = torch.randn(4, *shape)
    with torch.no_grad():
        y = model(x)
        half = deploy_model(model, "float16")
        expect(
            all(torch.equal(p, p.half().float()) for p in half.parameters() if p.dtype == torch.float32),
            cls,
            "float16 deployment left weights that are not float16-representable",
        )
        close = torch.allclose(half(x), y, rtol=1e-2, atol=1e-2 * float(y.abs().max()))
        expect(close, cls, "float16-rounded weights change the logits by more than 1 %")
    if not int8:
        return
    calibration = [torch.randn(2, *shape), x]
    try:
        quantized = deploy_model(model, "int8", calibration)
    except UserError as exc:
        fail(cls, f"int8 deployment fails ({exc}); pass int8=False if the model is never stored as int8")
    with torch.no_grad():
        yq = quantized(x)
    expect(yq.shape == y.shape and yq.dtype == torch.float32, cls, "int8 model gives logits of another shape")
    relative = float((yq - y).norm() / y.norm())
    expect(
        relative < INT8_MAX_RELATIVE_ERROR,
        cls,
        f"int8 logits are too far from float32 ones (relative error {relative:.3f})",
    )
    expect(int8_weight_count(quantized) > 0, cls, "int8 deployment stored no weights as int8")
