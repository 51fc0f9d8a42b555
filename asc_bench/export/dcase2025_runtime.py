"""What a DCASE 2025 Task 1 inference package written by ``asc-bench export dcase2025`` runs: the functions behind
its module's ``load_model``, ``load_inputs``, ``get_model_for_device`` and ``predict`` (docs/dcase.md §7).

The checkpoint (``ckpts/<label>_<index>.pt``) holds the system's spec, seed, class names and float32 weights; the
model is rebuilt from the spec by the same code that trained it (the architectures live in asc-bench's plugins,
and the official complexity check needs them as real modules) and deployed at the spec's precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from asc_bench.core.errors import UserError
from asc_bench.core.safe_load import load_tensors
from asc_bench.data.pipeline import Pipeline
from asc_bench.evaluation.predict import read_clip
from asc_bench.model.build import build_model
from asc_bench.model.precision import deploy_model
from asc_bench.spec.validate import validate_spec

UNKNOWN = "unknown"


class PackagedSystem(nn.Module):
    """The deployed system of an inference package with its front end and class order."""

    def __init__(self, model: nn.Module, pipeline: Pipeline, class_names: Sequence[str]) -> None:
        super().__init__()
        self.model = model
        self.pipeline = pipeline
        self.class_names = list(class_names)

    def forward(self, x: torch.Tensor, devices: Sequence[str] | None = None) -> torch.Tensor:
        if getattr(self.model, "routes_devices", False):
            return self.model(x, devices)
        return self.model(x)


def checkpoint_content(spec: dict[str, Any], seed: int, class_names: Sequence[str], state: dict) -> dict[str, Any]:
    """What an inference package's checkpoint holds (plain data and tensors: loadable with weights_only)."""
    return {"spec": spec, "seed": seed, "class_names": list(class_names), "state": state}


def load_system(checkpoint: Path) -> PackagedSystem:
    """The deployed system of a package checkpoint, in eval mode on the CPU."""
    data = load_tensors(Path(checkpoint), what="checkpoint", fix="Pass the .pt file of an exported package.")
    spec = validate_spec(data["spec"], source=str(checkpoint))
    pipeline = Pipeline(spec.data.transforms, sample_rate=spec.data.sample_rate)
    model = build_model(spec, pipeline.input_shape(), len(data["class_names"]), int(data["seed"]))
    model.load_state_dict(data["state"])
    if spec.limits.param_dtype == "int8":
        raise UserError(
            "int8 systems cannot be packaged yet: their quantisation is calibrated on the training data.",
            where=str(checkpoint),
            fix="Export a float16 or float32 system.",
        )
    return PackagedSystem(deploy_model(model.eval(), spec.limits.param_dtype), pipeline, data["class_names"]).eval()


def load_inputs(file_paths: Sequence[str], device_ids: Sequence[str], model: PackagedSystem) -> list[torch.Tensor]:
    """Each file's model input (the front end at evaluation time), in order."""
    if len(file_paths) != len(device_ids):
        raise UserError(f"{len(file_paths)} files but {len(device_ids)} device ids.", fix="Give one id per file.")
    rate = model.pipeline.sample_rate
    with torch.inference_mode():
        return [model.pipeline.model_inputs(read_clip(Path(p), rate)[None])[0] for p in file_paths]


def model_for_device(model: PackagedSystem, device_id: str) -> nn.Module:
    """The model that classifies clips of ``device_id`` (the general model for unknown devices)."""
    inner = model.model
    return inner.model_for(device_id) if getattr(inner, "routes_devices", False) else inner


def predict(
    file_paths: Sequence[str], device_ids: Sequence[str], model: PackagedSystem
) -> tuple[list[torch.Tensor], list[str]]:
    """One logit vector per file (in input order) from its device's model, and the class order."""
    inputs = load_inputs(file_paths, device_ids, model)
    groups: dict[int, tuple[nn.Module, list[int]]] = {}
    for i, device in enumerate(device_ids):
        sub = model_for_device(model, device)
        groups.setdefault(id(sub), (sub, []))[1].append(i)
    logits: list[torch.Tensor | None] = [None] * len(inputs)
    with torch.inference_mode():
        for sub, rows in groups.values():
            for row, out in zip(rows, sub(torch.stack([inputs[r] for r in rows])).float(), strict=True):
                logits[row] = out
    return [t for t in logits if t is not None], model.class_names
