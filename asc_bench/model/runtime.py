"""How a trial computes: memory format and ``torch.compile`` (the spec's ``runtime:`` section)."""

from __future__ import annotations

import os
import shutil
from typing import Any

import torch

from asc_bench.core.errors import UserError
from asc_bench.spec.sections import RuntimeSection


def check_runtime(runtime: RuntimeSection) -> None:
    """Refuse ``runtime.compile`` in the driver when no C++ compiler is found: torch.compile's CPU backend
    builds its kernels with one, and would otherwise fail inside the first trial with a long traceback."""
    if not runtime.compile:
        return
    candidates = [os.environ.get("CXX", ""), "g++", "clang++", "c++"]
    if not any(name and shutil.which(name) for name in candidates):
        raise UserError(
            "runtime.compile is true, but no C++ compiler (g++, clang++, c++ or $CXX) is on this machine's PATH; "
            "torch.compile builds its CPU kernels with one.",
            where="runtime.compile",
            fix="Install one (e.g. apt install g++) or set runtime.compile: false.",
        )


def _to_channels_last(module: torch.nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    x = args[0]
    return (x.contiguous(memory_format=torch.channels_last), *args[1:]) if x.dim() == 4 else args


def apply_runtime(model: torch.nn.Module, runtime: RuntimeSection) -> torch.nn.Module:
    """Set the model's memory format (in place) and return what the trainer should call: the model, or
    its ``torch.compile`` wrapper (which shares its parameters, so checkpoints stay plain state dicts)."""
    if runtime.channels_last:
        model.to(memory_format=torch.channels_last)
        model.register_forward_pre_hook(_to_channels_last)
    return torch.compile(model) if runtime.compile else model
