"""Deploying a trained model at its declared parameter precision, so the evaluated model is the one that
meets the memory limit: float32 as is, float16-rounded weights, or int8 post-training static quantisation."""

from __future__ import annotations

import copy
import warnings
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
    - ``int8``: an eval-mode, CPU-only copy quantised with FX graph mode post-training static quantisation
      (x86/fbgemm qconfig), calibrated on ``calibration_batches`` (input tensors ``(B, *input_shape)``);
      feed it CPU float32 inputs.
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
    """Post-training static int8 quantisation (FX graph mode), calibrated on the given input batches."""
    import torch
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    name = type(model).__name__
    batches = [b.detach().cpu().float() for b in calibration_batches]
    if not batches:
        raise ValueError("int8 deployment needs at least one calibration batch")
    engines = torch.backends.quantized.supported_engines
    engine = next((e for e in ("x86", "fbgemm", "qnnpack") if e in engines), None)
    if engine is None:
        raise UserError(
            f"cannot quantise {name} to int8: this PyTorch build has no quantised CPU engine ({engines})",
            where="limits.param_dtype",
            fix="Use param_dtype float16 or float32.",
        )
    torch.backends.quantized.engine = engine
    work = copy.deepcopy(model).cpu().eval()
    stage = "tracing the model with torch.fx"
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            prepared = prepare_fx(work, get_default_qconfig_mapping(engine), example_inputs=(batches[0],))
            stage = "calibrating"
            for batch in batches:
                prepared(batch)
            stage = "converting to int8"
            quantized = convert_fx(prepared)
            stage = "running the int8 model"
            quantized(batches[0])
    except Exception as exc:  # noqa: BLE001 - any failure here means "this model cannot be quantised"
        raise UserError(
            f"cannot quantise model {name} to int8: {stage} failed with {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}",
            where="limits.param_dtype",
            fix="Make the model FX-traceable (no data-dependent Python control flow in forward), or store "
            "its parameters as float16 or float32 instead.",
        ) from exc
    return quantized
