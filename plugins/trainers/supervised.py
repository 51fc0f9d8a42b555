"""The ``supervised`` trainer: cross-entropy on (possibly mixed) soft targets, per-step schedule."""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import Field

from asc_bench.api import Batch, PluginConfig, Trainer
from asc_bench_plugins.trainers.optim import (
    AdamW,
    Cosine,
    OptimizerConfig,
    ScheduleConfig,
    make_optimizer,
    make_scheduler,
)


class SupervisedConfig(PluginConfig):
    type: Literal["supervised"] = "supervised"
    epochs: int = Field(150, ge=1, description="Training epochs.")
    batch_size: int = Field(256, ge=1, description="Clips per optimisation step.")
    optimizer: OptimizerConfig = Field(default_factory=AdamW, description="adamw, adam or sgd.")
    schedule: ScheduleConfig = Field(default_factory=Cosine, description="cosine (with warm-up) or constant.")
    grad_clip: float | None = Field(None, gt=0, description="Clip the gradient norm to this value.")
    label_smoothing: float = Field(0.0, ge=0, lt=1, description="Cross-entropy label smoothing.")


class SupervisedTrainer(Trainer):
    """Cross-entropy training with an AdamW/Adam/SGD optimiser and a per-step learning-rate schedule."""

    Config = SupervisedConfig

    def __init__(self, config: SupervisedConfig, model: torch.nn.Module, *, steps_per_epoch: int) -> None:
        super().__init__(config, model, steps_per_epoch=steps_per_epoch)
        self.optimizer = make_optimizer(config.optimizer, model.parameters())
        self.scheduler = make_scheduler(config.schedule, self.optimizer, config.epochs * steps_per_epoch)

    def loss(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Cross-entropy against the batch's soft targets (mixing transforms mix the targets)."""
        return torch.nn.functional.cross_entropy(logits, batch.target, label_smoothing=self.config.label_smoothing)

    def train_step(self, batch: Batch) -> float:
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss(self.model(batch.x), batch)
        loss.backward()
        if self.config.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        return float(loss.detach())

    def current_lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
