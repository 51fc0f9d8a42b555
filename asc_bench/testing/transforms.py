"""Conformance of a transform plugin: batch shape and dtype, untouched inputs, seeded draws, honest flags."""

from __future__ import annotations

from typing import Any

import torch

from asc_bench.api import Batch, Transform, TransformContext
from asc_bench.testing._common import check_config, config_for, expect

SEEDS = range(8)  # a random transform must change its output for at least one of these seeds
DEVICE_NAMES = ("a", "b", "c")  # what batch.device indexes in the kit's batches


def make_batch(
    domain: str,
    *,
    batch_size: int = 4,
    samples: int = 32000,
    n_mels: int = 64,
    frames: int = 65,
    num_classes: int = 10,
    seed: int = 0,
) -> Batch:
    """A batch of random inputs in ``domain`` ("waveform": ``(B, samples)``; "features": ``(B, 1, n_mels,
    frames)``) with one-hot targets and distinct labels, devices (indices into ``DEVICE_NAMES``), cities and
    clip rows."""
    g = torch.Generator().manual_seed(seed)
    if domain == "waveform":
        x = torch.randn(batch_size, samples, generator=g) * 0.1
    else:
        x = torch.randn(batch_size, 1, n_mels, frames, generator=g) * 2 - 4
    label = torch.arange(batch_size) % num_classes
    target = torch.nn.functional.one_hot(label, num_classes).float()
    return Batch(x, target, label, torch.arange(batch_size) % 3, torch.arange(batch_size) % 2, torch.arange(batch_size))


def _context(seed: int, training: bool, sample_rate: int) -> TransformContext:
    rng = torch.Generator().manual_seed(seed)
    return TransformContext(rng, training=training, sample_rate=sample_rate, device_names=DEVICE_NAMES)


def _clone(batch: Batch) -> Batch:
    fields = {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in vars(batch).items()}
    return Batch(**fields)


def check_transform(cls: type, config: Any = None, *, sample_rate: int = 32000, batch_size: int = 4) -> Transform:
    """Check a transform plugin the way the built-in transforms are checked; returns the instance.

    - the plugin contract and documented options; ``takes``/``gives`` are "waveform" or "features";
    - in training and evaluation: a :class:`~asc_bench.api.Batch` comes back with finite float32 ``x``
      of the same shape (of shape ``(B, C, n_mels, frames)`` for a waveform → features front end),
      labels, devices, cities and clip rows unchanged, targets still distributions; the input batch is
      not modified in place;
    - seeded: the same ``ctx.rng`` seed gives the same output;
    - the ``deterministic`` flag is honest (read on the instance: it may depend on the settings): a
      deterministic transform gives one output whatever the seed; a random one changes with the seed.
    """
    check_config(cls, "transform")
    expect(issubclass(cls, Transform), cls, "must subclass asc_bench.api.Transform")
    transform = cls(config_for(cls, config), sample_rate=sample_rate)
    transform.prepare()
    domains = ("waveform", "features")
    expect(transform.takes in domains and transform.gives in domains, cls, "takes/gives must be waveform or features")
    expect(
        not (transform.takes == "features" and transform.gives == "waveform"),
        cls,
        "cannot turn features back into a waveform",
    )
    batch = make_batch(transform.takes, batch_size=batch_size, samples=sample_rate)
    for training in (True, False):
        original = _clone(batch)
        out = transform(batch, _context(0, training, sample_rate))
        phase = "training" if training else "evaluation"
        _check_output(cls, transform, original, out, phase)
        unchanged = all(torch.equal(getattr(batch, k), getattr(original, k)) for k in ("x", "target", "label"))
        expect(unchanged, cls, f"modified its input batch in place ({phase}); return a new tensor instead")
        again = transform(batch, _context(0, training, sample_rate))
        expect(torch.equal(out.x, again.x), cls, f"the same seed gave different outputs ({phase})")

    outputs = [transform(batch, _context(seed, True, sample_rate)).x for seed in SEEDS]
    same = all(torch.equal(outputs[0], o) for o in outputs[1:])
    if transform.deterministic:
        expect(same, cls, "declares deterministic = True but its output depends on ctx.rng (it would be cached)")
    else:
        expect(not same, cls, "declares deterministic = False but its output never depends on ctx.rng")
    return transform


def _check_output(cls: type, transform: Transform, batch: Batch, out: Any, phase: str) -> None:
    expect(isinstance(out, Batch), cls, f"must return an asc_bench.api.Batch ({phase})")
    x = out.x
    expect(x.dtype == torch.float32, cls, f"gave {x.dtype} inputs, expected float32 ({phase})")
    expect(bool(torch.isfinite(x).all()), cls, f"gave non-finite values ({phase})")
    n = batch.x.shape[0]
    if transform.gives == transform.takes:
        expect(x.shape == batch.x.shape, cls, f"changed the shape {tuple(batch.x.shape)} → {tuple(x.shape)} ({phase})")
    else:
        expect(x.dim() == 4 and x.shape[0] == n, cls, f"features must be (B, C, n_mels, frames), got {tuple(x.shape)}")
    for name in ("label", "device", "city", "clip"):
        expect(torch.equal(getattr(out, name), getattr(batch, name)), cls, f"changed batch.{name} ({phase})")
    target = out.target
    expect(target.shape == batch.target.shape, cls, f"changed the target shape ({phase})")
    sums = target.sum(dim=1)
    distributions = bool((target >= 0).all()) and torch.allclose(sums, torch.ones_like(sums), atol=1e-5)
    expect(distributions, cls, f"targets are no longer probability distributions ({phase})")
