"""Where a trial computes: its device, memory bound, data paths and training precision (``runtime:``), decided
once when the trial is built and written into its record."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from asc_bench.data.device_batches import choose_path
from asc_bench.data.splits import PreparedSplit
from asc_bench.model.device import bound_memory, free_memory, peak_memory, resolve_device, set_deterministic
from asc_bench.spec.model import Spec


@dataclass
class Compute:
    """A trial's device, its GPU memory bound (a fraction, or ``None``), each split's data path, the training
    precision and whether training drops its last partial batch (a compiled model on a GPU: static shapes)."""

    device: torch.device
    memory_fraction: float | None = None
    data_paths: dict[str, str] = field(default_factory=dict)
    precision: str = "fp32"
    drop_last: bool = False

    def describe(self) -> str:
        """One line for the trial's progress output, e.g. ``cuda:0 bf16, train resident, test resident``."""
        paths = ", ".join(f"{name} {path}" for name, path in self.data_paths.items())
        bound = f" (memory bound {self.memory_fraction:g})" if self.memory_fraction else ""
        return f"{self.device} {self.precision}{bound}, {paths}"

    def record(self) -> dict[str, Any]:
        """The record's ``environment`` entries of this trial's compute (peak GPU memory when on a GPU)."""
        return {
            "precision": self.precision,
            "data_path": dict(self.data_paths),
            "memory_fraction": self.memory_fraction,
            "peak_memory_bytes": peak_memory(self.device),
            "drop_last": self.drop_last,
        }


def start_compute(spec: Spec) -> Compute:
    """The trial's device (``auto``: the GPU Ray gave it, else the CPU), its determinism and memory bound."""
    gpus = spec.tune.resources.gpu
    device = resolve_device(spec.runtime.device, gpus)
    set_deterministic(spec.runtime.deterministic, device)
    drop_last = spec.runtime.compile and device.type != "cpu"
    return Compute(device, bound_memory(device, gpus), drop_last=drop_last)


def _float32_bytes(split: PreparedSplit) -> int:
    """The bytes of a split's rows as float32 (what a resident split takes at most)."""
    rows = len(split.store)
    return rows * math.prod(split.store.get(np.zeros(1, dtype=np.int64)).shape[1:]) * 4 if rows else 0


def place_splits(compute: Compute, splits: dict[str, PreparedSplit], setting: str) -> dict[str, PreparedSplit]:
    """Each split with the data path ``runtime.data_on_device`` picks for it on the trial's device (training
    split first: it is read most); the CPU's ``host`` path leaves a split as it is."""
    placed = {}
    for name in sorted(splits, key=lambda n: n != "train"):
        split = splits[name]
        path = choose_path(setting, compute.device, _float32_bytes(split), _budget(compute))
        placed[name] = split if path == "host" else split.placed(compute.device, path)
        compute.data_paths[name] = path
    return {name: placed[name] for name in splits}


def _budget(compute: Compute) -> int | None:
    """The device memory this trial may still take: the free memory, within its bound."""
    free = free_memory(compute.device)
    if free is None or compute.memory_fraction is None:
        return free
    total = torch.cuda.get_device_properties(compute.device).total_memory
    return min(free, int(compute.memory_fraction * total) - torch.cuda.memory_allocated(compute.device))
