"""One trial from a spec, as a few named steps: build → restore → train the epochs → save the weights → deploy
and score → write the record."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from asc_bench.core.allocator import keep_freed_memory
from asc_bench.core.files import atomic_path
from asc_bench.records.io import write_record
from asc_bench.records.layout import MODEL_NAME, RECORD_NAME
from asc_bench.records.schema import ResultRecord
from asc_bench.spec.validate import validate_spec
from asc_bench.trial.epochs import restore, train_epochs
from asc_bench.trial.parts import TrialParts, build_parts
from asc_bench.trial.record import build_record, deploy_and_score, hparams
from asc_bench.trial.reporter import Reporter
from asc_bench.trial.tensorboard import TrialBoard


def save_weights(model: torch.nn.Module, path: Path) -> None:
    """The trained weights as a float32 state_dict on the CPU, written atomically."""
    with atomic_path(path) as tmp:
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp)


def _report_assembled(parts: TrialParts, scores: dict[str, Any], reporter: Reporter) -> None:
    """An assembled system trains no epoch: it reports its test scores once (held back until its record)."""
    row = {"epoch": 1, "epochs": 1, "test_macro_acc": scores["macro_acc"], "test_log_loss": scores["log_loss"]}
    state = {"model": parts.model.state_dict(), "trainer": parts.trainer.state_dict(), "history": []}
    reporter.report(row, {**state, "epoch": 0, "stopped": True})


def run_trial(
    spec_data: dict[str, Any],
    seed: int,
    *,
    trial_dir: Path,
    trial_id: str,
    reporter: Reporter,
    threads: int = 1,
    on_progress: Callable[[str], None] | None = None,
) -> ResultRecord:
    """Train and evaluate one seed of a spec; write and return its result record."""
    started = time.perf_counter()
    keep_freed_memory()  # about half of each step's time otherwise goes to page faults (asc_bench.core.allocator)
    torch.set_num_threads(max(1, threads))
    parts = build_parts(validate_spec(spec_data), seed, trial_dir, trial_id)
    progress = restore(parts, reporter)
    board = TrialBoard(trial_dir)
    setup_s = time.perf_counter() - started  # trial start to first training step (what a trial costs beyond training)
    if not parts.assembled:  # a device-specific system is assembled from trained models, not trained
        train_epochs(parts, progress, reporter, board, on_progress)
    save_weights(parts.model, trial_dir / MODEL_NAME)
    t0 = time.perf_counter()
    scores = deploy_and_score(parts)
    progress.eval_s += time.perf_counter() - t0
    if parts.assembled:
        _report_assembled(parts, scores.deployed, reporter)
    board.final(scores.deployed, hparams(parts.spec), parts.trainer.epochs)
    board.close()
    timings = {"total_s": time.perf_counter() - started, "setup_s": setup_s}
    record = build_record(parts, scores, progress, timings)
    write_record(record, trial_dir / RECORD_NAME)
    return record
