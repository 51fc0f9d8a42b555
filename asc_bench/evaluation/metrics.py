"""Scene-classification metrics from one grouped state: accuracy and log loss per class, device and city.

The state is a confusion tensor ``counts[device, city, true, pred]`` and a negative-log-likelihood sum
``nll[device, city, true]``; every reported figure is a reduction of these two, so per-group scores cost
nothing extra and sum exactly across batches and processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torchmetrics import Metric


class SceneMetrics(Metric):
    """Macro/micro accuracy and log loss, overall and per class, device and city (DCASE Task 1).

    ``compute()`` returns plain Python values (JSON-able); groups without clips score ``None``.
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    counts: torch.Tensor
    nll: torch.Tensor

    def __init__(self, num_classes: int, num_devices: int, num_cities: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if min(num_classes, num_devices, num_cities) < 1:
            raise ValueError("SceneMetrics needs at least one class, one device and one city")
        self.num_classes = num_classes
        self.num_devices = num_devices
        self.num_cities = num_cities
        groups = (num_devices, num_cities, num_classes)
        self.add_state("counts", torch.zeros(*groups, num_classes, dtype=torch.int64), dist_reduce_fx="sum")
        self.add_state("nll", torch.zeros(groups, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, logits: torch.Tensor, labels: torch.Tensor, devices: torch.Tensor, cities: torch.Tensor) -> None:
        """Add a batch: ``logits`` ``(B, C)``; ``labels``, ``devices``, ``cities``: ``(B,)`` indices."""
        if logits.ndim != 2 or logits.shape[1] != self.num_classes:
            raise ValueError(f"logits must be (batch, {self.num_classes}), got {tuple(logits.shape)}")
        labels, devices, cities = (t.reshape(-1).long() for t in (labels, devices, cities))
        for name, t, n in (
            ("labels", labels, self.num_classes),
            ("devices", devices, self.num_devices),
            ("cities", cities, self.num_cities),
        ):
            if t.numel() != logits.shape[0]:
                raise ValueError(f"{name} has {t.numel()} entries for {logits.shape[0]} logits")
            if t.numel() and (int(t.min()) < 0 or int(t.max()) >= n):
                raise ValueError(f"{name} must lie in [0, {n}), got [{int(t.min())}, {int(t.max())}]")
        c = self.num_classes
        group = (devices * self.num_cities + cities) * c + labels
        pred = logits.argmax(dim=1)
        self.counts += torch.bincount(group * c + pred, minlength=self.counts.numel()).view_as(self.counts)
        nll = -logits.double().log_softmax(dim=1).gather(1, labels[:, None]).squeeze(1)
        self.nll.view(-1).index_add_(0, group, nll)  # deterministic on CUDA, unlike weighted bincount

    def compute(self) -> dict[str, Any]:
        """Reduce the state to plain Python numbers and lists (see the module docstring)."""
        counts, nll = self.counts, self.nll
        n = counts.sum(dim=3)  # clips per (device, city, true)
        correct = torch.diagonal(counts, dim1=2, dim2=3)  # (device, city, true)
        class_n, class_correct, class_nll = n.sum((0, 1)), correct.sum((0, 1)), nll.sum((0, 1))
        class_acc = _ratio(class_correct, class_n)
        class_log_loss = _ratio(class_nll, class_n)
        total = int(n.sum())
        return {
            "count": total,
            "macro_acc": _mean_present(class_acc),
            "micro_acc": float(correct.sum()) / total if total else None,
            "log_loss": float(nll.sum()) / total if total else None,
            "macro_log_loss": _mean_present(class_log_loss),
            "class_acc": class_acc,
            "class_log_loss": class_log_loss,
            "class_count": class_n.tolist(),
            "device_acc": _ratio(correct.sum((1, 2)), n.sum((1, 2))),
            "device_log_loss": _ratio(nll.sum((1, 2)), n.sum((1, 2))),
            "device_count": n.sum((1, 2)).tolist(),
            "city_acc": _ratio(correct.sum((0, 2)), n.sum((0, 2))),
            "city_log_loss": _ratio(nll.sum((0, 2)), n.sum((0, 2))),
            "city_count": n.sum((0, 2)).tolist(),
            "confusion": counts.sum((0, 1)).tolist(),
        }


def _ratio(num: torch.Tensor, den: torch.Tensor) -> list[float | None]:
    """Element-wise ``num / den`` as Python floats, ``None`` where ``den`` is 0."""
    values = (num.double() / den.clamp(min=1).double()).tolist()
    return [v if d else None for v, d in zip(values, den.tolist(), strict=True)]


def _mean_present(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def seen_unseen(metrics: dict[str, Any], device_names: Sequence[str], seen_devices: Iterable[str]) -> dict:
    """Clip-weighted accuracy over the devices seen in training and over the others.

    ``metrics`` is the dict from :meth:`SceneMetrics.compute`; ``device_names`` names its device axis.
    Returns ``seen_acc``, ``unseen_acc`` (``None`` without clips), ``seen_count`` and ``unseen_count``.
    """
    seen = set(seen_devices)
    unknown = seen.difference(device_names)
    if unknown:
        raise ValueError(f"seen devices {sorted(unknown)} are not among the devices {list(device_names)}")
    hits = {True: 0.0, False: 0.0}
    clips = {True: 0, False: 0}
    for name, acc, count in zip(device_names, metrics["device_acc"], metrics["device_count"], strict=True):
        if count:
            hits[name in seen] += acc * count
            clips[name in seen] += count
    return {
        "seen_acc": hits[True] / clips[True] if clips[True] else None,
        "unseen_acc": hits[False] / clips[False] if clips[False] else None,
        "seen_count": clips[True],
        "unseen_count": clips[False],
    }


def named_metrics(
    raw: dict[str, Any],
    class_names: Sequence[str],
    device_names: Sequence[str],
    city_names: Sequence[str],
    seen_devices: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The ``metrics`` section of a result record: :meth:`SceneMetrics.compute` output keyed by names.

    ``seen_devices`` are the devices of the training split; without them seen/unseen scores are ``None``.
    The confusion matrix has true classes as rows and predictions as columns, in ``class_names`` order.
    """

    def groups(prefix: str, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        columns = (names, raw[f"{prefix}_acc"], raw[f"{prefix}_log_loss"], raw[f"{prefix}_count"])
        if len(names) != len(columns[-1]):
            raise ValueError(f"{len(names)} {prefix} names for {len(columns[-1])} {prefix} groups")
        return {name: {"acc": a, "log_loss": ll, "count": n} for name, a, ll, n in zip(*columns, strict=True)}

    seen = sorted(seen_devices) if seen_devices is not None else None
    split = seen_unseen(raw, device_names, seen) if seen is not None else {}
    return {
        "macro_acc": raw["macro_acc"],
        "micro_acc": raw["micro_acc"],
        "log_loss": raw["log_loss"],
        "macro_log_loss": raw["macro_log_loss"],
        "count": raw["count"],
        "seen_acc": split.get("seen_acc"),
        "unseen_acc": split.get("unseen_acc"),
        "seen_devices": seen,
        "per_class": groups("class", class_names),
        "per_device": groups("device", device_names),
        "per_city": groups("city", city_names),
        "confusion": raw["confusion"],
    }
