"""What a trial is built from: its spec's data (opened from the cache), the seeded model, the trainer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from asc_bench.api.devices import device_models_of
from asc_bench.api.trainer import Trainer
from asc_bench.data.setup import DataSetup, build_data
from asc_bench.data.splits import PreparedSplit
from asc_bench.model.build import build_model
from asc_bench.model.complexity import ComplexityReport, check_limits, count_complexity
from asc_bench.model.device import resolve_precision
from asc_bench.model.runtime import apply_runtime
from asc_bench.plugins import registry
from asc_bench.spec.model import Spec
from asc_bench.trial.compute import Compute, place_splits, start_compute
from asc_bench.trial.devices import assemble_system, device_train_split, init_from_general


@dataclass
class TrialParts:
    """One trial's spec, seed, folder, data, model (float32, as trained) and trainer."""

    spec: Spec
    seed: int
    folder: Path
    trial_id: str
    setup: DataSetup
    splits: dict[str, PreparedSplit]
    input_shape: tuple[int, ...]
    model: torch.nn.Module
    complexity: ComplexityReport
    trainer: Trainer
    compute: Compute
    sources: dict[str, Path] | None = None  # a device-specific system: the trial folder of each of its models

    @property
    def assembled(self) -> bool:
        """Whether the model was assembled from trained models (a device-specific system): nothing to train."""
        return self.sources is not None

    @property
    def train(self) -> PreparedSplit:
        """The training split."""
        return self.splits["train"]

    def seen_devices(self) -> list[str]:
        """The devices of the training split (the others are *unseen* in the scores)."""
        devices = self.setup.clips.device_names
        return sorted({devices[d] for d in np.unique(self.train.devices.cpu().numpy())})


def build_parts(spec: Spec, seed: int, folder: Path, trial_id: str) -> TrialParts:
    """Open the spec's data, build the seeded model (refused when over the limits) and its trainer."""
    folder.mkdir(parents=True, exist_ok=True)
    compute = start_compute(spec)
    setup = build_data(spec)
    splits = setup.splits()
    input_shape = setup.pipeline.input_shape()
    model = build_model(spec, input_shape, setup.num_classes, seed)
    complexity = count_complexity(model, input_shape, param_dtype=spec.limits.param_dtype)
    check_limits(complexity, spec.limits)
    sources = None
    devices = device_models_of(spec.trainer)
    if devices is not None and devices.role == "device":
        init_from_general(model, devices, seed)
        splits["train"] = device_train_split(setup, splits["train"], str(devices.device))
    elif devices is not None and devices.role == "system":
        sources = assemble_system(model, devices, seed)
    model.to(compute.device)  # initialised on the CPU from the seed: the same weights on every device
    splits = place_splits(compute, splits, spec.runtime.data_on_device)
    train = splits["train"]
    batches = len(train) // spec.trainer.batch_size if compute.drop_last else -(-len(train) // spec.trainer.batch_size)
    trainer = registry.build(
        "trainer",
        spec.trainer,
        where="trainer",
        model=apply_runtime(model, spec.runtime),
        steps_per_epoch=max(1, batches),
        clips=setup.clips,
        train_rows=train.indices,
    )
    compute.precision = trainer.use_precision(resolve_precision(spec.runtime.precision, compute.device))
    return TrialParts(
        spec, seed, folder, trial_id, setup, splits, input_shape, model, complexity, trainer, compute, sources
    )
