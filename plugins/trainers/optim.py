"""Optimiser and learning-rate schedule settings shared by the built-in trainers."""

from __future__ import annotations

import math
from typing import Annotated, Literal

import torch
from pydantic import Field

from asc_bench.api import StrictModel


class AdamW(StrictModel):
    type: Literal["adamw"] = "adamw"
    lr: float = Field(0.005, gt=0, description="Peak learning rate.")
    weight_decay: float = Field(1e-4, ge=0, description="Decoupled weight decay.")
    betas: tuple[float, float] = Field((0.9, 0.999), description="Adam betas.")


class Adam(StrictModel):
    type: Literal["adam"] = "adam"
    lr: float = Field(9e-4, gt=0, description="Peak learning rate.")
    weight_decay: float = Field(0.0, ge=0, description="L2 weight decay added to the gradient.")
    betas: tuple[float, float] = Field((0.9, 0.999), description="Adam betas.")


class SGD(StrictModel):
    type: Literal["sgd"] = "sgd"
    lr: float = Field(0.01, gt=0, description="Peak learning rate.")
    momentum: float = Field(0.9, ge=0, description="Momentum.")
    weight_decay: float = Field(0.0, ge=0, description="L2 weight decay.")
    nesterov: bool = Field(False, description="Nesterov momentum.")


OptimizerConfig = Annotated[AdamW | Adam | SGD, Field(discriminator="type")]


class Cosine(StrictModel):
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``min_lr_factor``·lr at the last step."""

    type: Literal["cosine"] = "cosine"
    warmup_steps: int = Field(2000, ge=0, description="Optimiser steps of linear warm-up.")
    min_lr_factor: float = Field(0.0, ge=0, le=1, description="Final learning rate as a fraction of lr.")


class Constant(StrictModel):
    type: Literal["constant"] = "constant"


class ExpWarmupLinearDown(StrictModel):
    """CP-JKU's per-epoch schedule: exponential warm-up exp(−5·(1 − e/warmup)²) (e clipped below at 0.5) until
    ``warmup_epochs``, flat, then linear down from ``rampdown_start`` over ``rampdown_epochs`` to
    ``last_factor``·lr, then flat. Epochs count from 0 and the factor changes only between epochs."""

    type: Literal["exp_warmup_linear_down"] = "exp_warmup_linear_down"
    warmup_epochs: int = Field(14, ge=0, description="Epochs of exponential warm-up (CP-JKU: 14).")
    rampdown_start: int = Field(50, ge=0, description="Epoch at which the linear ramp-down starts (CP-JKU: 50).")
    rampdown_epochs: int = Field(84, ge=1, description="Length of the linear ramp-down in epochs (CP-JKU: 84).")
    last_factor: float = Field(0.005, ge=0, le=1, description="Final learning rate as a fraction of lr.")


class CosineRestarts(StrictModel):
    """Cosine annealing with warm restarts (SGDR): the first cycle lasts ``t0_epochs``, each next one ``t_mult``
    times longer; within a cycle the factor falls from 1 to ``min_lr_factor``. Updated every step (fractional
    epochs), like torch's ``CosineAnnealingWarmRestarts`` stepped with ``epoch + i / steps_per_epoch``."""

    type: Literal["cosine_restarts"] = "cosine_restarts"
    t0_epochs: float = Field(10, gt=0, description="Length of the first cycle in epochs (Cai: 10).")
    t_mult: int = Field(2, ge=1, description="Each cycle is this many times longer than the one before (Cai: 2).")
    min_lr_factor: float = Field(0.0, ge=0, le=1, description="Learning rate at the end of a cycle, fraction of lr.")


ScheduleConfig = Annotated[
    Cosine | Constant | ExpWarmupLinearDown | CosineRestarts,
    Field(discriminator="type"),
]
Schedule = Cosine | Constant | ExpWarmupLinearDown | CosineRestarts


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


def exp_warmup_linear_down_factor(config: ExpWarmupLinearDown, epoch: int) -> float:
    """The factor of CP-JKU's schedule in epoch ``epoch`` (0-based)."""
    warmup = 1.0
    if epoch < config.warmup_epochs:
        phase = 1.0 - max(epoch, 0.5) / config.warmup_epochs
        warmup = math.exp(-5.0 * phase * phase)
    down = 1.0
    if epoch > config.rampdown_start:
        done = min((epoch - config.rampdown_start) / config.rampdown_epochs, 1.0)
        down = config.last_factor + (1.0 - config.last_factor) * (1.0 - done)
    return warmup * down


def cosine_restarts_factor(config: CosineRestarts, epoch: float) -> float:
    """The factor of cosine annealing with warm restarts at (fractional) epoch ``epoch``."""
    length, start = config.t0_epochs, 0.0
    if config.t_mult == 1:  # equal cycles
        start = math.floor(epoch / length) * length
    while epoch >= start + length:
        start, length = start + length, length * config.t_mult
    progress = (epoch - start) / length
    return config.min_lr_factor + (1.0 - config.min_lr_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def lr_factor(config: Schedule, step: int, total_steps: int, steps_per_epoch: int = 1) -> float:
    """The learning-rate multiplier at optimiser step ``step`` (0-based) of ``total_steps``
    (epoch-based schedules use ``steps_per_epoch``)."""
    if isinstance(config, Constant):
        return 1.0
    if isinstance(config, ExpWarmupLinearDown):
        return exp_warmup_linear_down_factor(config, step // steps_per_epoch)
    if isinstance(config, CosineRestarts):
        return cosine_restarts_factor(config, step / steps_per_epoch)
    warmup = min(config.warmup_steps, max(total_steps - 1, 0))
    if step < warmup:
        return (step + 1) / (warmup + 1)
    progress = (step - warmup) / max(total_steps - warmup, 1)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
    return config.min_lr_factor + (1.0 - config.min_lr_factor) * cosine


def make_scheduler(
    config: Schedule, optimizer: torch.optim.Optimizer, total_steps: int, steps_per_epoch: int = 1
) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step scheduler following :func:`lr_factor`."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(config, step, total_steps, steps_per_epoch)
    )
