"""Golden-output tests: each built-in model with a public reference reproduces the reference's eval logits and
one training step (logits, loss, gradients, BatchNorm updates) on the same seeded weights and inputs
(fixtures: tests/fixtures/golden, made by running the reference code; README.md there)."""

from __future__ import annotations

import pytest
import torch
from helpers.golden import (
    MODEL_SEED,
    assert_matches,
    fill_weights,
    load_fixture,
    model_outputs,
    relative_error,
    seeded,
    source,
)

from asc_bench.plugins import registry

SHAPES = {"tf_sepnet": (1, 256, 64), "baseline2024": (1, 256, 65), "cp_mobile": (1, 256, 64)}
BATCH = 4


def outputs(name: str, **config: object) -> dict[str, torch.Tensor]:
    cls = registry.load("model", name)
    model = cls(cls.Config(**config), input_shape=SHAPES[name], num_classes=10)
    fill_weights(model, MODEL_SEED)
    x = seeded((BATCH, *SHAPES[name]), 2)
    return model_outputs(model, x, torch.arange(BATCH) % 10, {k: k for k in model.state_dict()})


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_model_reproduces_its_reference(name: str) -> None:
    assert len(source(name)["commit"]) == 40
    reference = load_fixture(name)
    assert any(k.startswith("grad.") for k in reference) and any(k.startswith("buffer.") for k in reference)
    assert_matches(outputs(name), reference)


def test_tf_sepnet_shuffle_groups_matter() -> None:
    """The fixture pins the shuffle grouping: another group gives other logits."""
    reference = load_fixture("tf_sepnet")["eval_logits"]
    assert relative_error(outputs("tf_sepnet", shuffle_groups=20)["eval_logits"], reference) > 1e-2


def test_tf_sepnet_without_shuffle_differs_from_the_reference() -> None:
    reference = load_fixture("tf_sepnet")["eval_logits"]
    assert relative_error(outputs("tf_sepnet", shuffle=False)["eval_logits"], reference) > 1e-2
