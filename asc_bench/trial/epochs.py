"""The epoch loop of a trial: restore from a checkpoint, train, evaluate, report with the state to checkpoint.

Each epoch reseeds the global generator and makes a fresh ``torch.Generator`` from ``(seed, epoch)`` for
shuffling and augmentation, so an epoch's randomness does not depend on what came before it: resuming from an
epoch checkpoint is exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from asc_bench.api.transform import TransformContext
from asc_bench.data.splits import iterate_batches
from asc_bench.evaluation.loop import evaluate
from asc_bench.trial.parts import TrialParts
from asc_bench.trial.reporter import Reporter
from asc_bench.trial.tensorboard import TrialBoard


@dataclass
class Progress:
    """Where training stands: the history rows so far, the first epoch this process trains and its timings."""

    history: list[dict[str, Any]] = field(default_factory=list)
    first_epoch: int = 0
    train_s: float = 0.0
    eval_s: float = 0.0

    def epochs_run(self) -> int:
        """Epochs trained in this process (at least 1, for rates; early stopping may cut them short)."""
        return max(len(self.history) - self.first_epoch, 1)


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's randomness, from the trial's seed and the epoch alone."""
    return (seed * 1_000_003 + epoch * 7919) % (2**63 - 1)


def restore(parts: TrialParts, reporter: Reporter) -> Progress:
    """Load the last checkpoint's model, trainer and history, if the reporter has one."""
    state = reporter.restore()
    if state is None:
        return Progress()
    parts.model.load_state_dict(state["model"])
    parts.trainer.load_state_dict(state["trainer"])
    first = parts.trainer.epochs if state.get("stopped") else state["epoch"] + 1
    return Progress(history=state["history"], first_epoch=first)


def train_epoch(parts: TrialParts, epoch: int) -> list[float]:
    """One pass over the shuffled training split; the loss of each step."""
    torch.manual_seed(epoch_seed(parts.seed, epoch))
    ctx = TransformContext(
        torch.Generator().manual_seed(epoch_seed(parts.seed, epoch)),
        training=True,
        sample_rate=parts.spec.data.sample_rate,
        device_names=parts.setup.clips.device_names,
    )
    batches = iterate_batches(
        parts.train,
        parts.trainer.batch_size,
        pipeline=parts.setup.pipeline,
        ctx=ctx,
        num_classes=parts.setup.num_classes,
        shuffle=True,
        drop_last=parts.compute.drop_last,
    )
    losses = [parts.trainer.train_step(batch) for batch in batches]  # 0-dim tensors on a GPU: read once, here
    if losses and isinstance(losses[0], torch.Tensor):
        return torch.stack(losses).float().cpu().tolist()  # one copy to the host per epoch
    return [float(loss) for loss in losses]


def epoch_row(parts: TrialParts, epoch: int, losses: list[float], train_s: float) -> dict[str, Any]:
    """The history row of an epoch: training loss, learning rate, test (and validation) scores."""
    test = evaluate(parts.model, parts.splits["test"], parts.setup)
    row = {
        "epoch": epoch + 1,
        "train_loss": float(np.mean(losses)),
        "lr": parts.trainer.current_lr(),
        "test_macro_acc": test["macro_acc"],
        "test_log_loss": test["log_loss"],
        "train_s": train_s,
    }
    if "validation" in parts.splits:
        val = evaluate(parts.model, parts.splits["validation"], parts.setup)
        row.update(val_macro_acc=val["macro_acc"], val_log_loss=val["log_loss"])
    return row


def train_epochs(
    parts: TrialParts,
    progress: Progress,
    reporter: Reporter,
    board: TrialBoard,
    on_progress: Callable[[str], None] | None = None,
) -> None:
    """Train from ``progress.first_epoch`` to the trainer's last epoch (or until it stops early), reporting each
    epoch with the state to checkpoint."""
    trainer = parts.trainer
    if on_progress:
        on_progress(f"training on {parts.compute.describe()}")
    for epoch in range(progress.first_epoch, trainer.epochs):
        t0 = time.perf_counter()
        losses = train_epoch(parts, epoch)
        t1 = time.perf_counter()
        row = epoch_row(parts, epoch, losses, t1 - t0)
        progress.train_s += t1 - t0
        progress.eval_s += time.perf_counter() - t1
        progress.history.append(row)
        board.epoch(row)
        stopped = trainer.end_of_epoch(row)  # early stopping may also restore the best weights
        state = {
            "model": parts.model.state_dict(),
            "trainer": trainer.state_dict(),
            "history": progress.history,
            "epoch": epoch,
            "stopped": stopped,
        }
        reporter.report(dict(row, epochs=trainer.epochs), state)
        if on_progress:
            on_progress(f"epoch {epoch + 1}/{trainer.epochs}")
        if stopped:
            break
