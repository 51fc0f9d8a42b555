"""Early stopping on a validation score (never on the test split), with optional restore of the best weights."""

from __future__ import annotations

import copy
from typing import Any, Literal

import torch
from pydantic import Field

from asc_bench.api import StrictModel, UserError


class EarlyStopping(StrictModel):
    """Stop when the validation score has not improved for ``patience`` epochs."""

    metric: Literal["val_macro_acc", "val_log_loss"] = Field(
        "val_macro_acc", description="Validation score watched (higher accuracy / lower log loss is better)."
    )
    patience: int = Field(10, ge=1, description="Epochs without improvement before training stops.")
    min_delta: float = Field(0.0, ge=0, description="Smallest change that counts as an improvement.")
    restore_best: bool = Field(True, description="At the end, put back the weights of the best epoch.")


class EarlyStopper:
    """Tracks the best validation score of a run; its state goes into the trainer's checkpoint."""

    def __init__(self, config: EarlyStopping, model: torch.nn.Module, epochs: int) -> None:
        self.config = config
        self.model = model
        self.epochs = epochs
        self.best: float | None = None
        self.best_epoch = 0
        self.best_weights: dict[str, torch.Tensor] | None = None

    def _improved(self, score: float) -> bool:
        if self.best is None:
            return True
        if self.config.metric == "val_log_loss":
            return score < self.best - self.config.min_delta
        return score > self.best + self.config.min_delta

    def update(self, row: dict[str, Any]) -> bool:
        """Record one epoch's row; True when training should stop (best weights restored if asked)."""
        score = row.get(self.config.metric)
        if score is None:
            raise UserError(
                f"early stopping watches {self.config.metric}, but epoch {row.get('epoch')} has no validation "
                "scores: the data has no validation split.",
                where="trainer.early_stopping",
                fix="Hold part of the training data out, e.g. --set data.dataset.validation.fraction=0.1 (tau22), "
                "or remove trainer.early_stopping; early stopping never looks at the test split.",
            )
        epoch = int(row["epoch"])
        if self._improved(float(score)):
            self.best, self.best_epoch = float(score), epoch
            if self.config.restore_best:
                self.best_weights = copy.deepcopy(self.model.state_dict())
        stop = epoch - self.best_epoch >= self.config.patience
        if (stop or epoch >= self.epochs) and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
        return stop

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.best_weights = state["best"], state["best_epoch"], state["best_weights"]
