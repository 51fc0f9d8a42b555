"""The stages of one ``asc-bench run``: every teacher spec the student's trainer names (their own teachers first),
then the student. Each stage is an experiment of its own; a teacher stage ends by writing its ensemble's logits,
which the stages after it read. A teacher whose logits file is up to date is not trained again.

The plan is made up front, without recursion through the driver: each stage's spec already names the logits files
of its teachers, so every stage can be checked (complexity, search) before the first one trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from asc_bench.api.logits import LogitsFile, load_logits, save_logits
from asc_bench.api.teacher import TeacherSource
from asc_bench.core.errors import UserError
from asc_bench.evaluation.predict import predict_split
from asc_bench.spec.model import Spec
from asc_bench.spec.resolve import teacher_key, teacher_logits_path, teachers

KEY_PREFIX = "teacher-key:"


@dataclass(frozen=True)
class TeacherOutput:
    """What a teacher stage leaves for its students: the logits file, keyed by everything that determines it."""

    logits: Path
    key: str
    source: TeacherSource

    def up_to_date(self) -> bool:
        """Whether the logits file exists and was written for exactly this teacher, split and precision."""
        if not self.logits.is_file():
            return False
        try:
            return f"{KEY_PREFIX}{self.key}" in load_logits(self.logits, where=str(self.logits)).sources
        except UserError:
            return False

    def write(self, records: list[Path]) -> LogitsFile:
        """Predict the ensemble of the teacher's runs and write its logits file."""
        logits = predict_split(records, self.source.split, precision=self.source.precision)
        keyed = LogitsFile(
            logits.clip_ids, logits.logits, logits.class_names, (f"{KEY_PREFIX}{self.key}", *logits.sources)
        )
        save_logits(self.logits, keyed)
        return keyed


@dataclass(frozen=True)
class Stage:
    """One experiment of a run: its spec (teachers' logits filled in) and, for a teacher, what it leaves."""

    spec: Spec
    teacher: TeacherOutput | None = None
    spec_file: Path | None = None


def plan_stages(spec: Spec) -> list[Stage]:
    """The stages of a resolved spec, teachers first (depth first, each logits file once), the spec last."""
    stages: list[Stage] = []
    final = _with_teacher_stages(spec, stages)
    return [*stages, Stage(final)]


def _with_teacher_stages(spec: Spec, stages: list[Stage]) -> Spec:
    """Append the stages of ``spec``'s teachers to ``stages``; return ``spec`` reading their logits files."""
    update = {}
    for teacher in teachers(spec):
        path = teacher_logits_path(teacher.spec, teacher.source).absolute()
        if all(stage.teacher is None or stage.teacher.logits != path for stage in stages):
            teacher_spec = _with_teacher_stages(teacher.spec, stages)
            output = TeacherOutput(path, teacher_key(teacher.spec, teacher.source), teacher.source)
            stages.append(Stage(teacher_spec, output, teacher.source.spec))
        update[teacher.field] = teacher.source.model_copy(update={"logits": path})
    if not update:
        return spec
    return spec.model_copy(update={"trainer": spec.trainer.model_copy(update=update)})
