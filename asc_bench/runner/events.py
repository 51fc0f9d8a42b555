"""What the driver tells its caller while a spec runs. The CLI draws progress bars and tables from these calls;
a notebook or a test passes its own listener, or none. Every method does nothing by default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from asc_bench.model.complexity import ComplexityReport
    from asc_bench.runner.tune import ExperimentOutcome
    from asc_bench.search.sweep import SweepPlan
    from asc_bench.spec.model import Spec


@dataclass(frozen=True)
class TeacherEvent:
    """A teacher stage: its logits are ``reused``, it is ``training`` (its seeds), or its logits were ``written``."""

    name: str
    action: Literal["reused", "training", "written"]
    logits: Path
    spec_file: Path | None = None
    seeds: tuple[int, ...] = ()
    clips: int = 0


class RunListener:
    """Receives the driver's progress; subclass it and override what you want to show."""

    def model_checked(self, spec: Spec, report: ComplexityReport) -> None:
        """A stage's model was counted and is within its limits."""

    def search_progress(self, done: int, total: int) -> None:
        """``done`` of ``total`` sampled configurations were validated (large searches take a while)."""

    def search_planned(self, spec: Spec, plan: SweepPlan) -> None:
        """A stage's search (or plain seeds) was planned and every configuration validated."""

    def teacher(self, event: TeacherEvent) -> None:
        """A teacher stage was reused, started or finished."""

    def stage_reused(self, spec: Spec, records: list[Path]) -> None:
        """``--resume`` found the stage (e.g. a general model before its device models) finished: its records."""

    def warning(self, text: str) -> None:
        """Something the user should know that does not stop the run (e.g. a dataset warning)."""

    def start(self, split: str, total: int, cache: str) -> None:
        """A split's cache is about to be prepared (see :class:`asc_bench.data.prepare.CacheProgress`)."""

    def advance(self, split: str, rows: int) -> None:
        """More rows of a split's cache were built."""

    def finish(self, split: str, outcome: str) -> None:
        """A split's cache is ready."""

    def experiment_started(self, spec: Spec, plan: SweepPlan) -> None:
        """Ray Tune starts (or resumes) the stage's trials."""

    def trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        """A trial reported an epoch (``epoch``, ``train_loss``, scores)."""

    def experiment_finished(self, spec: Spec, plan: SweepPlan, outcome: ExperimentOutcome | None) -> None:
        """The stage's trials ended (``outcome`` is None when the experiment broke off with an error)."""

    def records_written(self, spec: Spec, records: list[Path]) -> None:
        """The stage's result records."""
