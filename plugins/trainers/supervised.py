"""The ``supervised`` trainer: cross-entropy on (possibly mixed) soft targets, per-step schedule, optional mixed
precision and early stopping."""

from __future__ import annotations

import contextlib
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field

from asc_bench.api import Batch, ClipTable, Trainer, TrainerConfig
from asc_bench_plugins.trainers.early_stopping import EarlyStopper, EarlyStopping
from asc_bench_plugins.trainers.optim import (
    AdamW,
    Cosine,
    OptimizerConfig,
    ScheduleConfig,
    make_optimizer,
    make_scheduler,
)

MixedPrecision = Literal["off", "auto", "bfloat16", "float16"]
PRECISION_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}  # runtime.precision; fp32: no autocast


class SupervisedConfig(TrainerConfig):
    type: Literal["supervised"] = "supervised"
    optimizer: OptimizerConfig = Field(default_factory=AdamW, description="adamw, adam or sgd.")
    schedule: ScheduleConfig = Field(
        default_factory=Cosine,
        description="cosine (with warm-up), constant, exp_warmup_linear_down (CP-JKU) or cosine_restarts.",
    )
    grad_clip: float | None = Field(None, gt=0, description="Clip the gradient norm to this value.")
    label_smoothing: float = Field(0.0, ge=0, lt=1, description="Cross-entropy label smoothing.")
    mixed_precision: MixedPrecision = Field(
        "off",
        description="Autocast the forward pass: 'auto' = float16 with loss scaling on CUDA (bfloat16 where "
        "supported), off on CPU; 'bfloat16' or 'float16' force it (float16 uses a gradient scaler).",
    )
    early_stopping: EarlyStopping | None = Field(
        None, description="Stop on a validation score (needs a validation split; never the test split)."
    )


def autocast_dtype(setting: MixedPrecision, device_type: str) -> torch.dtype | None:
    """The autocast dtype for a setting on a device type, or None for full float32."""
    if setting == "bfloat16":
        return torch.bfloat16
    if setting == "float16":
        return torch.float16
    if setting == "auto" and device_type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return None


class SupervisedTrainer(Trainer):
    """Cross-entropy training with an AdamW/Adam/SGD optimiser and a per-step learning-rate schedule."""

    Config = SupervisedConfig
    config: SupervisedConfig

    def __init__(
        self,
        config: SupervisedConfig,
        model: torch.nn.Module,
        *,
        steps_per_epoch: int,
        clips: ClipTable | None = None,
        train_rows: np.ndarray | None = None,
    ) -> None:
        super().__init__(config, model, steps_per_epoch=steps_per_epoch, clips=clips, train_rows=train_rows)
        self.optimizer = make_optimizer(config.optimizer, model.parameters())
        self.scheduler = make_scheduler(
            config.schedule, self.optimizer, config.epochs * steps_per_epoch, steps_per_epoch
        )
        self.device_type = next(model.parameters()).device.type
        self.amp_dtype = autocast_dtype(config.mixed_precision, self.device_type)
        self.scaler = torch.amp.GradScaler(self.device_type, enabled=self.amp_dtype == torch.float16)
        self.stopper = EarlyStopper(config.early_stopping, model, config.epochs) if config.early_stopping else None

    def loss(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Cross-entropy against the batch's soft targets (mixing transforms mix the targets)."""
        return torch.nn.functional.cross_entropy(logits, batch.target, label_smoothing=self.config.label_smoothing)

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.amp_dtype)

    def use_precision(self, precision: str) -> str:
        """Autocast at the spec's ``runtime.precision`` unless this config's ``mixed_precision`` asks otherwise."""
        if self.config.mixed_precision == "off":
            self.amp_dtype = PRECISION_DTYPES.get(precision)
            self.scaler = torch.amp.GradScaler(self.device_type, enabled=self.amp_dtype == torch.float16)
        names = {dtype: name for name, dtype in PRECISION_DTYPES.items()}
        return names.get(self.amp_dtype, "fp32")  # type: ignore[arg-type]

    def train_step(self, batch: Batch) -> float | torch.Tensor:
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            logits = self.model(batch.x)
        loss = self.loss(logits.float(), batch)
        self.scaler.scale(loss).backward()
        if self.config.grad_clip:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return float(loss.detach()) if self.device_type == "cpu" else loss.detach()  # no sync per step on a GPU

    def current_lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def end_of_epoch(self, row: dict[str, Any]) -> bool:
        return self.stopper.update(row) if self.stopper else False

    def state_dict(self) -> dict[str, Any]:
        state = {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
        }
        if self.stopper:
            state["early_stopping"] = self.stopper.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if "scaler" in state:
            self.scaler.load_state_dict(state["scaler"])
        if self.stopper:
            self.stopper.load_state_dict(state["early_stopping"])
