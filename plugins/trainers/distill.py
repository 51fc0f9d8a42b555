"""The ``distill`` trainer: knowledge distillation from per-clip teacher logits (CP-JKU, Cai).

loss = λ·CE(student, targets) + (1 − λ)·T²·KL(softmax(teacher/T) ‖ softmax(student/T)), the KL summed over
classes and averaged over the batch. Teacher logits come from a logits file (``asc-bench predict``, or written by
the driver after training ``teacher.spec`` first: asc_bench.runner.stages), looked up by clip id; when mixing transforms
(MixUp) mixed the batch, the teacher's probabilities are mixed the same way.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field

from asc_bench.api import Batch, ClipTable, TeacherSource, UserError, load_logits, logits_for_clips
from asc_bench_plugins.trainers.supervised import SupervisedConfig, SupervisedTrainer


class DistillConfig(SupervisedConfig):
    type: Literal["distill"] = "distill"  # type: ignore[assignment]
    teacher: TeacherSource = Field(
        ..., description="The teacher: {logits: FILE} from `asc-bench predict`, or {spec: FILE} trained first."
    )
    temperature: float = Field(2.0, gt=0, description="Softmax temperature T of the distillation term (CP-JKU: 2).")
    kd_lambda: float = Field(0.02, ge=0, le=1, description="Weight λ of the label loss; 1 − λ weighs the KL term.")

    def resolved(self) -> DistillConfig:
        base = super().resolved()
        return base.model_copy(update={"teacher": self.teacher.resolved()})


def distillation_loss(
    student: torch.Tensor,
    targets: torch.Tensor,
    teacher_probs: torch.Tensor,
    *,
    temperature: float,
    kd_lambda: float,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """λ·CE(student, targets) + (1 − λ)·T²·KL(teacher ‖ student), ``teacher_probs`` already at temperature T."""
    ce = F.cross_entropy(student, targets, label_smoothing=label_smoothing)
    log_student = F.log_softmax(student / temperature, dim=1)
    kl = (torch.special.xlogy(teacher_probs, teacher_probs) - teacher_probs * log_student).sum(dim=1).mean()
    return kd_lambda * ce + (1.0 - kd_lambda) * temperature**2 * kl


class DistillTrainer(SupervisedTrainer):
    """Supervised training plus a distillation term towards a teacher's per-clip logits."""

    Config = DistillConfig
    config: DistillConfig

    def __init__(
        self,
        config: DistillConfig,
        model: torch.nn.Module,
        *,
        steps_per_epoch: int,
        clips: ClipTable | None = None,
        train_rows: np.ndarray | None = None,
    ) -> None:
        super().__init__(config, model, steps_per_epoch=steps_per_epoch, clips=clips, train_rows=train_rows)
        if clips is None:
            raise UserError(
                "the distill trainer needs the dataset's clip table to find each clip's teacher logits.",
                where="trainer",
                fix="Build trainers through the engine (asc-bench run), which passes clips=.",
            )
        where = "trainer.teacher.logits"
        if config.teacher.logits is None:
            raise UserError(
                "the teacher spec has not been trained: this trainer has no teacher logits file.",
                where=where,
                fix="Run the student with `asc-bench run`, which trains trainer.teacher.spec first.",
            )
        table = logits_for_clips(load_logits(config.teacher.logits, where=where), clips, train_rows, where=where)
        self.teacher = table.to(next(model.parameters()).device)  # on the trial's device, looked up there

    def loss(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        teacher = self.teacher[batch.clip.to(self.teacher.device)].to(logits.device)
        if self.train_rows is None and torch.isnan(teacher).any():  # else every training clip was checked up front
            missing = sorted({self.clips.ids[int(r)] for r in batch.clip[torch.isnan(teacher[:, 0]).cpu()]})  # type: ignore[union-attr]
            raise UserError(
                f"the teacher logits file has no logits for clips {', '.join(missing[:3])} of this batch.",
                where="trainer.teacher.logits",
                fix="Predict the teacher on every clip you train on (`asc-bench predict RUN... --subset all`).",
            )
        probs = batch.remix(torch.softmax(teacher / self.config.temperature, dim=1))
        return distillation_loss(
            logits,
            batch.target,
            probs,
            temperature=self.config.temperature,
            kd_lambda=self.config.kd_lambda,
            label_smoothing=self.config.label_smoothing,
        )
