"""Where and in which arithmetic a trial computes: ``runtime.device``, ``runtime.precision`` and
``runtime.deterministic`` resolved for one process, the driver's check that the device exists, and the per-trial
GPU memory bound and peak."""

from __future__ import annotations

import os
from typing import Literal

import torch

from asc_bench.core.errors import UserError
from asc_bench.spec.sections import RuntimeSection

Precision = Literal["fp32", "bf16", "fp16"]
AUTOCAST_DTYPES: dict[str, torch.dtype] = {"bf16": torch.bfloat16, "fp16": torch.float16}


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def check_device(runtime: RuntimeSection, gpus: float, *, local: bool = True) -> None:
    """Refuse, in the driver and before any data work, a device this run cannot give its trials: ``cuda`` on a
    machine without CUDA (``local``: the trials run on this machine), a GPU index it does not have, a GPU asked
    for with ``tune.resources.gpu: 0`` (Ray then hides every GPU from the trial), or ``mps`` without Metal."""
    setting = runtime.device
    if setting.startswith("cuda"):
        if gpus <= 0:
            raise UserError(
                f"runtime.device is {setting}, but tune.resources.gpu is 0: Ray gives each trial the GPUs it "
                "reserves for it, none here, so the trial would see no GPU.",
                where="runtime.device",
                fix="Set tune.resources.gpu (e.g. 1, or 0.25 to run four trials per GPU), or runtime.device: auto.",
            )
        if local and not torch.cuda.is_available():
            raise UserError(
                f"runtime.device is {setting}, but this machine has no CUDA GPU that PyTorch can use "
                f"(torch {torch.__version__}, CUDA build {torch.version.cuda or 'none'}).",
                where="runtime.device",
                fix="Run on a machine with an NVIDIA GPU and a CUDA build of torch, or set runtime.device: auto "
                "(the GPU when there is one, else the CPU) or cpu.",
            )
        index = int(setting.partition(":")[2] or 0)
        if local and index >= max(1, int(gpus)):
            raise UserError(
                f"runtime.device is {setting}, but each trial is given {gpus:g} GPU(s), which it sees as cuda:0"
                f"{'' if gpus <= 1 else f' to cuda:{int(gpus) - 1}'} (Ray sets CUDA_VISIBLE_DEVICES per trial).",
                where="runtime.device",
                fix="Use runtime.device: cuda (the trial's first GPU) or auto.",
            )
    if setting == "mps" and not _mps_available():
        raise UserError(
            "runtime.device is mps, but this machine has no Apple Metal (MPS) device that PyTorch can use.",
            where="runtime.device",
            fix="Set runtime.device: auto or cpu.",
        )


def resolve_device(setting: str, gpus: float) -> torch.device:
    """The torch device of a trial given ``gpus`` by Ray: ``auto`` is its first GPU when it has a share of one
    and CUDA works, else the CPU."""
    if setting == "auto":
        return torch.device("cuda", 0) if gpus > 0 and torch.cuda.is_available() else torch.device("cpu")
    if setting == "cuda":
        return torch.device("cuda", 0)
    return torch.device(setting)


def resolve_precision(setting: str, device: torch.device) -> Precision:
    """The training arithmetic on ``device``: ``auto`` is bf16 on a GPU that supports it, fp32 otherwise."""
    if setting != "auto":
        return setting  # type: ignore[return-value]
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return "bf16"
    return "fp32"


def set_deterministic(enabled: bool, device: torch.device) -> None:
    """Deterministic kernels when asked; on CUDA otherwise let cuDNN pick the fastest (autotuned) algorithms."""
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed by deterministic cuBLAS
        torch.use_deterministic_algorithms(True, warn_only=True)  # an op without such a kernel warns, not fails
    if device.type == "cuda":
        torch.backends.cudnn.deterministic = enabled
        torch.backends.cudnn.benchmark = not enabled


def bound_memory(device: torch.device, fraction: float) -> float | None:
    """Bound this process's share of a GPU to ``fraction`` of its memory (a fractional ``tune.resources.gpu``);
    the bound applied, or ``None`` (a whole GPU, or not a GPU)."""
    if device.type != "cuda" or not 0 < fraction < 1:
        return None
    torch.cuda.set_per_process_memory_fraction(fraction, device)
    return fraction


def peak_memory(device: torch.device) -> int | None:
    """The peak bytes allocated on a CUDA device by this process so far (``None`` elsewhere)."""
    return int(torch.cuda.max_memory_allocated(device)) if device.type == "cuda" else None


def free_memory(device: torch.device) -> int | None:
    """Free bytes on a CUDA device (``None`` elsewhere: host memory is not budgeted here)."""
    if device.type != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info(device)
    return int(free)
