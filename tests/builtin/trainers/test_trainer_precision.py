"""`runtime.precision` reaches the built-in trainers through `Trainer.use_precision`; a trainer's own
`mixed_precision` takes precedence, and a CPU step still returns a float."""

from __future__ import annotations

import pytest
import torch

from asc_bench.api import Batch
from asc_bench_plugins.trainers.supervised import SupervisedConfig, SupervisedTrainer


def _trainer(**settings: object) -> SupervisedTrainer:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    return SupervisedTrainer(SupervisedConfig(epochs=1, batch_size=4, **settings), model, steps_per_epoch=2)


def _batch() -> Batch:
    labels = torch.tensor([0, 1, 2, 1])
    zeros = torch.zeros(4, dtype=torch.long)
    return Batch(torch.randn(4, 1, 3, 4), torch.nn.functional.one_hot(labels, 3).float(), labels, zeros, zeros, zeros)


@pytest.mark.parametrize(("precision", "dtype"), [("fp32", None), ("bf16", torch.bfloat16), ("fp16", torch.float16)])
def test_the_runtime_precision_sets_autocast_and_the_scaler(precision: str, dtype: torch.dtype | None) -> None:
    trainer = _trainer()
    assert trainer.use_precision(precision) == precision
    assert trainer.amp_dtype == dtype and trainer.scaler.is_enabled() == (precision == "fp16")
    loss = trainer.train_step(_batch())
    assert isinstance(loss, float) and loss > 0  # on the CPU a float, as before


def test_the_trainers_own_mixed_precision_wins() -> None:
    trainer = _trainer(mixed_precision="bfloat16")
    assert trainer.use_precision("fp32") == "bf16" and trainer.amp_dtype == torch.bfloat16
    assert _trainer(mixed_precision="auto").use_precision("bf16") == "fp32"  # auto: off on the CPU
