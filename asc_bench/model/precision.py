"""Deploying a trained model at its declared parameter precision, so the evaluated model is the one that
meets the memory limit: float32 as is, float16-rounded weights, or int8 post-training static quantisation (PT2E)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING

from asc_bench.core.errors import UserError

if TYPE_CHECKING:
    import torch
    from torch import nn


def deploy_model(
    model: nn.Module, param_dtype: str, calibration_batches: Iterable[torch.Tensor] | None = None
) -> nn.Module:
    """The model as it is evaluated at ``param_dtype``.

    - ``float32``: ``model`` itself, unchanged.
    - ``float16``: an eval-mode copy whose parameters and floating buffers are rounded to float16 (stored as
      float32, so it runs anywhere at float32 speed with exactly the accuracy of float16-stored weights).
    - ``int8``: an eval-mode CPU copy quantised with PT2E post-training static quantisation (torchao's x86
      quantizer, see :func:`quantize_int8`), calibrated on ``calibration_batches`` (input tensors
      ``(B, *input_shape)``); feed it CPU float32 inputs.
    """
    if param_dtype == "float32":
        return model
    if getattr(model, "routes_devices", False):  # a device-specific system: each model deployed on its own
        from asc_bench.model.devices import map_members

        return map_members(model, lambda member: deploy_model(member, param_dtype, calibration_batches)).eval()
    if param_dtype == "float16":
        return round_to_float16(model)
    if param_dtype == "int8":
        if calibration_batches is None:
            raise ValueError("int8 deployment needs calibration_batches (a few batches of model inputs)")
        return quantize_int8(model, calibration_batches)
    raise ValueError(f"param_dtype must be float32, float16 or int8, not {param_dtype!r}")


def round_to_float16(model: nn.Module) -> nn.Module:
    """An eval-mode copy with every floating parameter and buffer rounded to float16 and back."""
    import torch

    out = copy.deepcopy(model).eval()
    with torch.no_grad():
        for tensor in [*out.parameters(), *out.buffers()]:
            if tensor.is_floating_point():
                tensor.copy_(tensor.to(torch.float16).to(tensor.dtype))
    return out


def quantize_int8(model: nn.Module, calibration_batches: Iterable[torch.Tensor]) -> nn.Module:
    """Post-training static int8 quantisation through PT2E: ``torch.export`` and torchao's x86 quantizer.

    The model is exported with a dynamic batch dimension and annotated by torchao's ``X86InductorQuantizer``
    (int8 weights per output channel, symmetric; uint8 activations per tensor, affine; BatchNorm folded into
    the preceding convolution), calibrated on ``calibration_batches`` and converted. The result is PT2E's
    reference representation: int8 weights and a quantize/dequantize pair around every quantised operator, so
    it computes on the integer grid of the x86 int8 kernels, in float32 arithmetic between those steps.
    """
    import torch

    name = type(model).__name__
    batches = [b.detach().cpu().float() for b in calibration_batches]
    if not batches:
        raise ValueError("int8 deployment needs at least one calibration batch")
    work = copy.deepcopy(model).cpu().eval()
    progress = ["importing torchao"]
    try:
        with torch.no_grad():
            quantized = _pt2e_int8(work, batches, progress)
    except Exception as exc:  # noqa: BLE001 - any failure here means "this model cannot be quantised"
        raise UserError(
            f"cannot quantise model {name} to int8: {progress[-1]} failed with {type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
            where="limits.param_dtype",
            fix="Make the model exportable with torch.export (no data-dependent Python control flow in "
            "forward, no tensors created from Python numbers in forward), or store its parameters as float16 "
            "or float32 instead.",
        ) from exc
    return quantized


def _pt2e_int8(model: nn.Module, batches: list[torch.Tensor], progress: list[str]) -> nn.Module:
    """Export, annotate, calibrate and convert ``model``; ``progress`` names the step under way."""
    import torch
    from torchao.quantization.pt2e import allow_exported_model_train_eval
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
    from torchao.quantization.pt2e.quantizer.x86_inductor_quantizer import (
        X86InductorQuantizer,
        get_default_x86_inductor_quantization_config,
    )

    progress.append("exporting the model with torch.export")
    batch = torch.export.Dim.DYNAMIC
    exported = torch.export.export(model, (batches[0],), dynamic_shapes=({0: batch},)).module()
    progress.append("annotating it for int8")
    quantizer = X86InductorQuantizer().set_global(get_default_x86_inductor_quantization_config())
    prepared = prepare_pt2e(exported, quantizer)
    progress.append("calibrating")
    for calibration in batches:
        prepared(calibration)
    progress.append("converting to int8")
    quantized = convert_pt2e(prepared)
    allow_exported_model_train_eval(quantized)  # so that .eval() on a container of it keeps working
    progress.append("running the int8 model")
    quantized(batches[0])
    return quantized


def int8_weight_count(model: nn.Module) -> int:
    """How many stored weights of a model from :func:`quantize_int8` are int8 (0 for any other model)."""
    import torch

    return sum(t.numel() for t in model.state_dict().values() if t.dtype == torch.int8)
