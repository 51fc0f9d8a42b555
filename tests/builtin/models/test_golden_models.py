"""Golden-output tests: each built-in model with a public reference reproduces the reference's eval logits and
one training step (logits, loss, gradients, BatchNorm updates) on the same seeded weights and inputs
(fixtures: tests/fixtures/golden, made by running the reference code; README.md there)."""

from __future__ import annotations

import pytest
import torch
from helpers.golden import (
    BATCH,
    INIT_SEED,
    MODEL_SEED,
    MODEL_SHAPES,
    assert_matches,
    fill_weights,
    load_fixture,
    model_outputs,
    project,
    relative_error,
    seeded,
    source,
)

from asc_bench.model.complexity import count_complexity
from asc_bench.plugins import registry

SHAPES = MODEL_SHAPES


def outputs(name: str, **config: object) -> dict[str, torch.Tensor]:
    """The fixture's outputs computed by asc-bench's model (a variant fixture names its model and config)."""
    entry = source(name)
    cls = registry.load("model", entry.get("asc_bench_model", name))
    settings = cls.Config(**{**entry.get("asc_bench_config", {}), **config})
    out = {}
    if name.startswith("cp_resnet"):  # the fixture also holds the weights its constructor draws
        torch.manual_seed(INIT_SEED)
        fresh = cls(settings, input_shape=SHAPES[name], num_classes=10)
        out = {f"init.{n}": project(p, seed=i) for i, (n, p) in enumerate(sorted(fresh.named_parameters()))}
    model = cls(settings, input_shape=SHAPES[name], num_classes=10)
    fill_weights(model, MODEL_SEED)
    x = seeded((BATCH, *SHAPES[name]), 2)
    return out | model_outputs(model, x, torch.arange(BATCH) % 10, {k: k for k in model.state_dict()})


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


def test_cp_resnet_counts_match_the_reference() -> None:
    """The default config is run_cp-resnet_training.py's network: its counts, measured on this machine with the
    reference's own counter (helpers/nessi.py: torchinfo.summary total_params / total_mult_adds) on
    fschmid56/cpjku_dcase23 @ 2e20aba ``get_model(base_channels=32)``, torch 2.14.1, inputs 1x1x256x43 (hop 750,
    the reference's) and 1x1x256x64 (hop 500, specs/cpjku_teacher.yaml's)."""
    cls = registry.load("model", "cp_resnet")
    model = cls(cls.Config(), input_shape=cls.default_input_shape, num_classes=10)
    at_43 = count_complexity(model, (1, 256, 43), param_dtype="float32")
    assert (at_43.params, at_43.macs) == (127_684, 28_840_396)
    assert count_complexity(model, (1, 256, 64), param_dtype="float32").macs == 43_209_156


def test_cp_resnet_same_padding_differs_from_the_reference() -> None:
    """The fixture pins the reference's padding (kernel // 3): the stem's 5x5 conv padded 'same' (2) misses it."""
    cls = registry.load("model", "cp_resnet")
    model = cls(cls.Config(), input_shape=SHAPES["cp_resnet"], num_classes=10)
    fill_weights(model, MODEL_SEED)
    model.stem[0].padding = (2, 2)
    model.eval()
    with torch.no_grad():
        logits = model(seeded((BATCH, *SHAPES["cp_resnet"]), 2))
    assert relative_error(logits, load_fixture("cp_resnet")["eval_logits"]) > 1e-2


def keras_baseline_outputs(model: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """What the Keras fixture holds: log-probabilities in inference, then one training step (dropout 0)."""
    model.eval()
    with torch.no_grad():
        out = {"eval_log_probs": model(x).log_softmax(1)}
    model.train()
    logits = model(x)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    loss.backward()
    out |= {"train_log_probs": logits.detach().log_softmax(1), "loss": loss.detach()}
    for i, (name, p) in enumerate(sorted(model.named_parameters())):
        out[f"grad.{name}"] = project(p.grad, seed=i)
    out |= {f"buffer.{n}": b.detach().clone() for n, b in model.named_buffers() if b.is_floating_point()}
    return out


def test_baseline2023_reproduces_the_keras_baseline() -> None:
    """The 2022/2023 baseline CNN against the Keras model its task1.py builds (TensorFlow, not PyTorch): the same
    probabilities, loss, gradients and BatchNorm moving statistics (Keras epsilon 1e-3, momentum 0.99)."""
    assert len(source("baseline2023")["commit"]) == 40
    cls = registry.load("model", "baseline2023")
    model = cls(cls.Config(dropout=0.0), input_shape=(1, 40, 51), num_classes=10)
    fill_weights(model, MODEL_SEED)
    ours = keras_baseline_outputs(model, seeded((BATCH, 1, 40, 51), 2), torch.arange(BATCH) % 10)
    assert_matches(ours, load_fixture("baseline2023"))


def test_baseline2023_with_pytorch_batchnorm_defaults_differs_from_keras() -> None:
    """The fixture pins Keras' BatchNorm: PyTorch's defaults (epsilon 1e-5, momentum 0.1) miss it."""
    cls = registry.load("model", "baseline2023")
    model = cls(cls.Config(dropout=0.0), input_shape=(1, 40, 51), num_classes=10)
    fill_weights(model, MODEL_SEED)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eps, m.momentum = 1e-5, 0.1
    ours = keras_baseline_outputs(model, seeded((BATCH, 1, 40, 51), 2), torch.arange(BATCH) % 10)
    reference = load_fixture("baseline2023")
    assert (
        relative_error(ours["buffer.features.0.1.running_mean"], reference["buffer.features.0.1.running_mean"]) > 1e-2
    )
    assert relative_error(ours["eval_log_probs"], reference["eval_log_probs"]) > 1e-5
