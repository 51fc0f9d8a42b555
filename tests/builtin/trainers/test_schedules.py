"""Learning-rate schedules at known epochs, mixed precision and early stopping of the built-in trainers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from asc_bench.api import Batch
from asc_bench.core.errors import UserError
from asc_bench_plugins.trainers.early_stopping import EarlyStopper, EarlyStopping
from asc_bench_plugins.trainers.optim import (
    CosineRestarts,
    ExpWarmupLinearDown,
    cosine_restarts_factor,
    exp_warmup_linear_down_factor,
    make_scheduler,
)
from asc_bench_plugins.trainers.supervised import SupervisedConfig, SupervisedTrainer, autocast_dtype


@pytest.mark.parametrize(
    ("epoch", "factor"),
    [
        (0, math.exp(-5 * (1 - 0.5 / 14) ** 2)),  # epoch clipped at 0.5, as in CP-JKU's code
        (7, math.exp(-5 * 0.25)),
        (13, math.exp(-5 * (1 / 14) ** 2)),
        (14, 1.0),
        (50, 1.0),
        (51, 0.005 + 0.995 * 83 / 84),
        (92, 0.005 + 0.995 * 0.5),
        (134, 0.005),
        (149, 0.005),
    ],
)
def test_cpjku_schedule_at_known_epochs(epoch: int, factor: float) -> None:
    assert exp_warmup_linear_down_factor(ExpWarmupLinearDown(), epoch) == pytest.approx(factor, rel=1e-12)


@pytest.mark.parametrize(
    ("epoch", "factor"),
    [(0, 1.0), (5, 0.5), (10, 1.0), (20, 0.5), (29.999, 0.0), (30, 1.0), (50, 0.5), (70, 1.0), (2.5, 0.8535534)],
)
def test_cosine_restarts_at_known_epochs(epoch: float, factor: float) -> None:
    # T0 = 10, Tmult = 2: cycles [0, 10), [10, 30), [30, 70), [70, 150)
    assert cosine_restarts_factor(CosineRestarts(), epoch) == pytest.approx(factor, abs=1e-6)
    equal = CosineRestarts(t0_epochs=4, t_mult=1, min_lr_factor=0.1)
    assert cosine_restarts_factor(equal, 6) == pytest.approx(cosine_restarts_factor(equal, 2))
    assert cosine_restarts_factor(equal, 2) == pytest.approx(0.55)


def test_schedulers_step_per_optimiser_step() -> None:
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=1.0)
    sched = make_scheduler(ExpWarmupLinearDown(), opt, total_steps=150 * 3, steps_per_epoch=3)
    lrs = []
    for _ in range(45):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == lrs[2] == pytest.approx(exp_warmup_linear_down_factor(ExpWarmupLinearDown(), 0))
    assert lrs[3] == pytest.approx(exp_warmup_linear_down_factor(ExpWarmupLinearDown(), 1))
    assert lrs[42] == 1.0
    opt = torch.optim.SGD([param], lr=1.0)
    sched = make_scheduler(CosineRestarts(), opt, total_steps=400, steps_per_epoch=4)
    for _ in range(2):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(cosine_restarts_factor(CosineRestarts(), 0.5))


def _batch(n: int = 16, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    label = torch.randint(0, 3, (n,), generator=g)
    zeros = torch.zeros(n, dtype=torch.long)
    x = torch.randn(n, 1, 8, 8, generator=g) + label[:, None, None, None].float()
    return Batch(x, F.one_hot(label, 3).float(), label, zeros, zeros, torch.arange(n))


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(144, 3))


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_mixed_precision_trains_and_its_state_round_trips(precision: str) -> None:
    assert autocast_dtype("auto", "cpu") is None and autocast_dtype("off", "cuda") is None
    config = SupervisedConfig(epochs=2, batch_size=16, mixed_precision=precision, grad_clip=1.0)
    full = SupervisedTrainer(SupervisedConfig(epochs=2, batch_size=16), _model(), steps_per_epoch=4)
    mixed = SupervisedTrainer(config, _model(), steps_per_epoch=4)
    losses = [mixed.train_step(_batch(seed=s)) for s in range(8)]
    full_losses = [full.train_step(_batch(seed=s)) for s in range(8)]
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0]
    assert losses != full_losses, "the forward pass really ran at reduced precision"
    assert losses[0] == pytest.approx(full_losses[0], rel=0.05)
    state = mixed.state_dict()
    assert ("scale" in state["scaler"]) == (precision == "float16")
    again = SupervisedTrainer(config, _model(), steps_per_epoch=4)
    again.load_state_dict(state)
    assert again.scaler.state_dict() == mixed.scaler.state_dict()


def test_early_stopping_stops_after_patience_and_restores_the_best_weights() -> None:
    model = torch.nn.Linear(2, 1)
    stopper = EarlyStopper(EarlyStopping(patience=2), model, epochs=10)
    weights = {}
    for epoch, score in enumerate([0.5, 0.6, 0.55, 0.58], start=1):
        with torch.no_grad():
            model.weight.fill_(epoch)
        weights[epoch] = model.weight.clone()
        stop = stopper.update({"epoch": epoch, "val_macro_acc": score, "test_macro_acc": 1.0})
        assert stop == (epoch == 4)
    assert stopper.best_epoch == 2 and torch.equal(model.weight, weights[2])
    loss = EarlyStopper(EarlyStopping(metric="val_log_loss", patience=1, restore_best=False), model, epochs=10)
    assert not loss.update({"epoch": 1, "val_log_loss": 1.0}) and not loss.update({"epoch": 2, "val_log_loss": 0.9})
    assert loss.update({"epoch": 3, "val_log_loss": 0.95}) and torch.equal(model.weight, weights[2])


def test_early_stopping_restores_the_best_weights_at_the_last_epoch_and_resumes() -> None:
    model = torch.nn.Linear(2, 1)
    config = SupervisedConfig(epochs=3, batch_size=4, early_stopping={"patience": 5})
    trainer = SupervisedTrainer(config, model, steps_per_epoch=1)
    for epoch, score in [(1, 0.4), (2, 0.7)]:
        with torch.no_grad():
            model.weight.fill_(epoch)
        assert not trainer.end_of_epoch({"epoch": epoch, "val_macro_acc": score})
    state = trainer.state_dict()
    resumed = SupervisedTrainer(config, model, steps_per_epoch=1)
    resumed.load_state_dict(state)
    with torch.no_grad():
        model.weight.fill_(3)
    assert not resumed.end_of_epoch({"epoch": 3, "val_macro_acc": 0.1})  # the last epoch: done, best put back
    assert torch.equal(model.weight, torch.full((1, 2), 2.0))


def test_early_stopping_never_uses_the_test_split() -> None:
    with pytest.raises(ValueError):
        EarlyStopping(metric="test_macro_acc")
    stopper = EarlyStopper(EarlyStopping(), torch.nn.Linear(1, 1), epochs=3)
    with pytest.raises(UserError, match="no validation scores.*never looks at the test split"):
        stopper.update({"epoch": 1, "test_macro_acc": 0.9})
