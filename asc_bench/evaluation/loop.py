"""The one evaluation loop: a model over a prepared split at evaluation time (no augmentation, fixed order).
Per-epoch scores, the final scores, int8 calibration and predictions all go through :func:`eval_batches`.
Batches, logits and the metric state are on the device of the split's row source (``PreparedSplit.placed``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Any

import torch

from asc_bench.api.transform import Batch
from asc_bench.data.setup import DataSetup
from asc_bench.data.splits import PreparedSplit, iterate_batches
from asc_bench.evaluation.metrics import SceneMetrics, named_metrics

CALIBRATION_BATCHES = 4


def eval_batches(
    split: PreparedSplit, setup: DataSetup, *, on_batch: Callable[[int], None] | None = None
) -> Iterator[Batch]:
    """The split's batches as the model sees them at evaluation time, in split order."""
    return iterate_batches(
        split,
        setup.eval_batch_size,
        pipeline=setup.pipeline,
        ctx=setup.pipeline.eval_context(),
        num_classes=setup.num_classes,
        shuffle=False,
        on_batch=on_batch,
    )


def forward(model: torch.nn.Module, batch: Batch, device_names: Sequence[str]) -> torch.Tensor:
    """The model's logits for a batch; a device-specific system (``routes_devices``) gets each clip's device name."""
    if getattr(model, "routes_devices", False):
        return model(batch.x, [device_names[d] for d in batch.device.tolist()])  # one read, not one per clip
    return model(batch.x)


def predict_logits(
    model: torch.nn.Module, split: PreparedSplit, setup: DataSetup, on_batch: Callable[[int], None] | None = None
) -> torch.Tensor:
    """The model's float32 logits for every clip of the split, in split order."""
    model.eval()
    with torch.inference_mode():
        names = setup.clips.device_names
        logits = [forward(model, b, names).float() for b in eval_batches(split, setup, on_batch=on_batch)]
        return torch.cat(logits).cpu()


def evaluate(model: torch.nn.Module, split: PreparedSplit, setup: DataSetup) -> dict[str, Any]:
    """The raw scores (grouped confusion, log loss) of ``model`` on a split; :func:`named_scores` names them."""
    clips = setup.clips
    metric = SceneMetrics(len(clips.class_names), len(clips.device_names), len(clips.city_names))
    metric = metric.to(split.rows.device)  # the confusion state lives where the batches are made
    model.eval()
    with torch.inference_mode():
        for batch in eval_batches(split, setup):
            metric.update(forward(model, batch, clips.device_names), batch.label, batch.device, batch.city)
    return metric.compute()


def named_scores(raw: dict[str, Any], setup: DataSetup, seen_devices: list[str]) -> dict[str, Any]:
    """Raw scores with class, device and city names (the record's ``metrics``)."""
    c = setup.clips
    return named_metrics(raw, c.class_names, c.device_names, c.city_names, seen_devices=seen_devices)


def calibration_inputs(split: PreparedSplit, setup: DataSetup) -> list[torch.Tensor]:
    """The first few evaluation-time input batches of a split (int8 calibration reads the training split)."""
    return [batch.x for batch in islice(eval_batches(split, setup), CALIBRATION_BATCHES)]
