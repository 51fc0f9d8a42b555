"""The terminal side of ``asc-bench run``: a :class:`RunListener` that draws the driver's progress with rich."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from asc_bench.cli.common import keep_whole
from asc_bench.model.complexity import ComplexityReport
from asc_bench.runner.events import RunListener, TeacherEvent
from asc_bench.runner.tune import ExperimentOutcome
from asc_bench.search.sweep import ConfigResult, SweepPlan, best
from asc_bench.spec.model import Spec
from asc_bench.spec.space import describe

BAR_COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def progress_bar(console: Console, *, remaining: bool = False, transient: bool = False) -> Progress:
    """The progress display of caches and trials: description, bar, count, time, and an info field."""
    extra = (TimeRemainingColumn(),) if remaining else ()
    return Progress(*BAR_COLUMNS, *extra, TextColumn("{task.fields[info]}"), console=console, transient=transient)


class ConsoleRunListener(RunListener):
    """Prints what ``asc-bench run`` does: model counts, the search plan, teachers, cache and trial progress."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Progress | None = None
        self._tasks: dict[str, Any] = {}
        self._overall: Any = None
        self._shown = ""
        self._epochs = 0

    def model_checked(self, spec: Spec, report: ComplexityReport) -> None:
        self.console.print(
            f"model {spec.model.type}: {report.macs:,} MACs, {report.params:,} parameters = "
            f"{report.param_bytes:,} B at {report.param_dtype}; input {'x'.join(map(str, report.input_shape))}"
            " - within limits"
        )

    def search_progress(self, done: int, total: int) -> None:
        if self._progress is None:
            self._progress = progress_bar(self.console, remaining=True, transient=True)
            self._progress.start()
            self._overall = self._progress.add_task("validating configurations", total=total, info="")
        self._progress.update(self._overall, completed=done)

    def search_planned(self, spec: Spec, plan: SweepPlan) -> None:
        if self._progress is not None:  # the validation progress of a large search
            self._progress.stop()
            self._progress = None
        if plan.is_sweep:
            self.console.print(
                f"search ({plan.search}): {plan.num_trials} trials = {plan.num_trials // len(plan.seeds)} "
                f"configurations x {len(plan.seeds)} seed(s), choosing on {plan.metric} ({plan.mode})"
            )
        if plan.on_test:
            self.console.print(
                "[bold yellow]warning:[/bold yellow] the dataset has no validation split; the best configuration "
                f"is chosen on {plan.metric} (tune.select_on_test), so its test scores are optimistic."
            )

    def stage_reused(self, spec: Spec, records: list[Path]) -> None:
        folder = records[0].parent.parent if records else "?"
        self.console.print(f"stage {spec.name}: finished before, reusing its {len(records)} trial(s) in {folder}")

    def teacher(self, event: TeacherEvent) -> None:
        if event.action == "reused":
            self.console.print(f"teacher {event.name}: reusing its logits {event.logits}")
        elif event.action == "training":
            self.console.print(f"teacher {event.name}: training {event.spec_file} first (seeds {list(event.seeds)})")
        else:
            self.console.print(f"teacher {event.name}: wrote the logits of {event.clips:,} clips to {event.logits}")

    def warning(self, text: str) -> None:
        self.console.print(f"[yellow]warning:[/yellow] {text}")

    def start(self, split: str, total: int, cache: str) -> None:
        if self._progress is None:
            self._progress = progress_bar(self.console, remaining=True)
            self._progress.start()
        self._tasks[split] = self._progress.add_task(f"cache {split}", total=total, info=cache)

    def advance(self, split: str, rows: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._tasks[split], rows)

    def finish(self, split: str, outcome: str) -> None:
        if self._progress is not None:
            task = self._tasks.pop(split)
            self._progress.update(task, completed=self._progress.tasks[task].total, info=outcome)
            if not self._tasks:
                self._progress.stop()
                self._progress = None

    def experiment_started(self, spec: Spec, plan: SweepPlan) -> None:
        self._epochs = spec.trainer.epochs
        self._shown = plan.metric or "test_macro_acc"
        self._progress = progress_bar(self.console)
        self._progress.start()
        total = plan.num_trials * self._epochs
        self._overall = self._progress.add_task("trials", total=total, info="starting Ray")

    def trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        progress = self._progress
        if progress is None:
            return
        if trial_id not in self._tasks:
            self._tasks[trial_id] = progress.add_task(f"trial {trial_id}", total=self._epochs, info="")
        shown = self._shown
        score = result.get(shown)
        text = "" if score is None else f"  {shown} {score:.1%}" if "acc" in shown else f"  {shown} {score:.3f}"
        loss = result.get("train_loss")  # absent for a device-specific system, which is assembled, not trained
        info = ("assembled" if loss is None else f"loss {loss:.3f}") + text
        progress.update(self._tasks[trial_id], completed=result["epoch"], info=info)
        progress.update(self._overall, advance=1, info="")

    def experiment_finished(self, spec: Spec, plan: SweepPlan, outcome: ExperimentOutcome | None) -> None:
        progress, self._progress = self._progress, None
        if progress is None:
            return
        if outcome is not None and not outcome.interrupted:
            progress.update(self._overall, completed=plan.num_trials * self._epochs)
        progress.stop()
        self._tasks.clear()
        if plan.is_sweep and outcome is not None and not outcome.interrupted:
            print_search_summary(outcome.configs, plan, self.console)

    def records_written(self, spec: Spec, records: list[Path]) -> None:
        self.console.print(f"wrote {len(records)} result record(s) under {records[0].parent.parent}")


def _stat(values: list[float], percent: bool) -> str:
    if not values:
        return "–"
    scale, digits = (100, 2) if percent else (1, 3)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{scale * statistics.fmean(values):.{digits}f} ± {scale * std:.{digits}f}"


def print_search_summary(configs: list[ConfigResult], plan: SweepPlan, console: Console) -> None:
    """Print every configuration ranked on the tuning metric, then the chosen one with its test scores."""
    metric = plan.metric or ""
    percent = metric.endswith("acc")
    table = Table(title=f"search: configurations ranked on {metric} (mean over seeds)", title_justify="left")
    for column in ("#", "configuration", "name", "seeds", metric, "status"):
        table.add_column(column, justify="right" if column in ("#", "seeds", metric) else "left")
    for i, config in enumerate(configs, 1):
        done = sum(t.status == "finished" for t in config.trials)
        table.add_row(
            str(i),
            describe(config.values, width=24),
            config.name or "–",
            f"{done}/{len(config.trials)}",
            _stat(config.scores, percent),
            config.status,
        )
    console.print(keep_whole(table, "#", "name", "seeds", metric, "status"))
    chosen = best(configs)
    if chosen is None:
        console.print("[yellow]no configuration finished on every seed: none is chosen.[/yellow]")
        return
    caution = " [bold red](chosen on TEST scores: they are optimistic)[/bold red]" if plan.on_test else ""
    console.print(
        f"best configuration: {describe(chosen.values)} - {chosen.name} (spec hash {chosen.spec_hash}), "
        f"chosen on {metric} {_stat(chosen.scores, percent)}{caution}; its test scores over "
        f"{len(chosen.test_macro_acc)} seed(s): macro acc {_stat(chosen.test_macro_acc, True)} %, "
        f"log loss {_stat(chosen.test_log_loss, False)}"
    )
