"""Optimiser and learning-rate schedule settings shared by the built-in trainers."""

from __future__ import annotations

import math
from typing import Annotated, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AdamW(_Strict):
    type: Literal["adamw"] = "adamw"
    lr: float = Field(0.005, gt=0, description="Peak learning rate.")
    weight_decay: float = Field(1e-4, ge=0, description="Decoupled weight decay.")
    betas: tuple[float, float] = Field((0.9, 0.999), description="Adam betas.")


class Adam(_Strict):
    type: Literal["adam"] = "adam"
    lr: float = Field(9e-4, gt=0, description="Peak learning rate.")
    weight_decay: float = Field(0.0, ge=0, description="L2 weight decay added to the gradient.")
    betas: tuple[float, float] = Field((0.9, 0.999), description="Adam betas.")


class SGD(_Strict):
    type: Literal["sgd"] = "sgd"
    lr: float = Field(0.01, gt=0, description="Peak learning rate.")
    momentum: float = Field(0.9, ge=0, description="Momentum.")
    weight_decay: float = Field(0.0, ge=0, description="L2 weight decay.")
    nesterov: bool = Field(False, description="Nesterov momentum.")


OptimizerConfig = Annotated[AdamW | Adam | SGD, Field(discriminator="type")]


class Cosine(_Strict):
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``min_lr_factor``·lr at the last step."""

    type: Literal["cosine"] = "cosine"
    warmup_steps: int = Field(2000, ge=0, description="Optimiser steps of linear warm-up.")
    min_lr_factor: float = Field(0.0, ge=0, le=1, description="Final learning rate as a fraction of lr.")


class Constant(_Strict):
    type: Literal["constant"] = "constant"


ScheduleConfig = Annotated[Cosine | Constant, Field(discriminator="type")]


def make_optimizer(config: AdamW | Adam | SGD, params) -> torch.optim.Optimizer:  # noqa: ANN001
    """The torch optimiser for a config."""
    if isinstance(config, AdamW):
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay, betas=config.betas)
    if isinstance(config, Adam):
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, betas=config.betas)
    return torch.optim.SGD(
        params,
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
        nesterov=config.nesterov,
    )


def lr_factor(config: Cosine | Constant, step: int, total_steps: int) -> float:
    """The learning-rate multiplier at optimiser step ``step`` (0-based) of ``total_steps``."""
    if isinstance(config, Constant):
        return 1.0
    warmup = min(config.warmup_steps, max(total_steps - 1, 0))
    if step < warmup:
        return (step + 1) / (warmup + 1)
    progress = (step - warmup) / max(total_steps - warmup, 1)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
    return config.min_lr_factor + (1.0 - config.min_lr_factor) * cosine


def make_scheduler(
    config: Cosine | Constant, optimizer: torch.optim.Optimizer, total_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step scheduler following :func:`lr_factor`."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(config, step, total_steps))
