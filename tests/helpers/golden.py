"""Golden-output checks against public reference implementations (tests/fixtures/golden/README.md).

Weights and inputs are not stored: both come from seeds through :func:`fill_weights` and :func:`seeded`, here
and in the fixture generator (``tests/fixtures/golden/make_golden.py``), which mapped them onto the reference
model and saved only the reference's outputs. Gradients are stored as a few random projections per tensor
(:func:`project`), which keeps the files small and preserves relative errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from helpers import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "golden"
"""The saved reference outputs (``<name>.pt``) and their provenance (``sources.json``)."""

PROJECTIONS = 16
"""Random directions each gradient tensor is projected on."""

TOLERANCE = 1e-5
"""Largest relative error allowed (float32)."""

MODEL_SEED = 1
"""Seed of the weights every golden model test fills in (:func:`fill_weights`)."""

MODEL_SHAPES = {
    "tf_sepnet": (1, 256, 64),
    "baseline2024": (1, 256, 65),
    "cp_mobile": (1, 256, 64),
    "cp_resnet": (1, 256, 43),
    "cp_resnet_rho10": (1, 64, 43),
}
"""Input shape of each golden model fixture (the CP-ResNet ones: its 256x43 input and a 64-band variant)."""

BATCH = 4
"""Inputs per golden model fixture."""

INIT_SEED = 7
"""The reference CP-ResNet's initialisation was drawn under ``torch.manual_seed(INIT_SEED)``."""


def seeded(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """A standard-normal tensor drawn from its own generator (the same on every machine)."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def fill_weights(model: nn.Module, seed: int) -> None:
    """Overwrite every floating parameter and buffer with seeded values of a sensible scale.

    Weights (2-d and up) ~ N(0, 1/fan_in); BatchNorm running variances in [0.5, 1.5]; every other 1-d tensor
    (BN scale and shift, running means, biases, rho/gamma/beta) is ``base + 0.2 N(0, 1)``, with base 1 for
    scales (``weight`` of a 1-d tensor, ``gamma``), 0.5 for ``rho``, 0 otherwise.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict(keep_vars=True).items():
            if not t.is_floating_point():
                continue
            leaf = name.rsplit(".", 1)[-1]
            if leaf == "running_var":
                t.copy_(0.5 + torch.rand(t.shape, generator=g))
            elif t.dim() >= 2 and leaf not in ("rho", "gamma", "beta"):
                t.copy_(torch.randn(t.shape, generator=g) / t[0].numel() ** 0.5)
            else:
                base = {"weight": 1.0, "gamma": 1.0, "rho": 0.5}.get(leaf, 0.0)
                t.copy_(base + 0.2 * torch.randn(t.shape, generator=g))


def project(t: torch.Tensor, seed: int) -> torch.Tensor:
    """``PROJECTIONS`` seeded random projections of ``t`` (flattened)."""
    directions = torch.randn(t.numel(), PROJECTIONS, generator=torch.Generator().manual_seed(seed))
    return t.detach().double().flatten() @ directions.double()


def model_outputs(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, names: dict[str, str]) -> dict:
    """Eval logits, then one training step: train logits, loss, gradient projections, BatchNorm buffers.

    ``names`` maps the model's own parameter/buffer names to the asc-bench names the results are keyed by.
    Dropout is drawn after ``torch.manual_seed(0)``.
    """
    model.eval()
    with torch.no_grad():
        out = {"eval_logits": model(x.clone())}
    model.train()
    model.zero_grad()
    torch.manual_seed(0)
    logits = model(x.clone())
    loss = nn.functional.cross_entropy(logits, labels)
    loss.backward()
    out |= {"train_logits": logits.detach(), "loss": loss.detach()}
    for i, (name, p) in enumerate(sorted(model.named_parameters(), key=lambda kv: names[kv[0]])):
        out[f"grad.{names[name]}"] = project(p.grad, seed=i)
    for name, b in model.named_buffers():
        if b.is_floating_point() and name in names:
            out[f"buffer.{names[name]}"] = b.detach().clone()
    return out


def relative_error(ours: torch.Tensor, ref: torch.Tensor, floor: float = 0.0) -> float:
    """``|ours - ref| / max(|ref|, floor)`` in the L2 norm (absolute when both are zero)."""
    diff = (ours.double() - ref.double()).norm().item()
    scale = max(ref.double().norm().item(), floor)
    return diff / scale if scale > 0 else diff


def assert_matches(ours: dict, ref: dict, tolerance: float = TOLERANCE) -> None:
    """Every stored reference output is reproduced within ``tolerance`` (the worst ones named on failure).

    A gradient is measured against the larger of its own norm and the median gradient norm: some gradients
    are zero in exact arithmetic (an AdaResNorm beta feeding a training-mode BatchNorm, which removes any
    per-channel shift) and hold only float32 rounding noise (~1e-7 against gradients ~1).
    """
    assert ours.keys() == ref.keys(), sorted(set(ours) ^ set(ref))
    grads = sorted(v.double().norm().item() for k, v in ref.items() if k.startswith("grad."))
    floor = grads[len(grads) // 2] if grads else 0.0
    errors = {k: relative_error(ours[k], ref[k], floor if k.startswith("grad.") else 0.0) for k in ref}
    bad = sorted(((e, k) for k, e in errors.items() if not e <= tolerance), reverse=True)
    assert not bad, f"{len(bad)} of {len(errors)} outputs differ from the reference, worst: {bad[:5]}"


def load_fixture(name: str) -> dict[str, torch.Tensor]:
    """The reference outputs saved as ``tests/fixtures/golden/<name>.pt`` (tensors only)."""
    return torch.load(FIXTURES / f"{name}.pt", weights_only=True)


def source(name: str) -> dict:
    """Where fixture ``name`` came from: repository, commit, file, entry point."""
    return json.loads(Path(FIXTURES / "sources.json").read_text())[name]
