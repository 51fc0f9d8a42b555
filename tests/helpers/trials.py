"""Running one trial in the test process, with a reporter that keeps what it was told."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from asc_bench.records.schema import ResultRecord
from asc_bench.spec.resolve import resolve_for_run
from asc_bench.spec.validate import load_spec
from asc_bench.trial.run import run_trial


class MemoryReporter:
    """Keeps reported rows and the last checkpoint state; can start from a given state."""

    def __init__(self, start: dict[str, Any] | None = None) -> None:
        self.rows: list[dict[str, Any]] = []
        self.states: list[dict[str, Any]] = []
        self.start = start

    def report(self, metrics: dict[str, Any], state: dict[str, Any]) -> None:
        self.rows.append(metrics)
        self.states.append(copy.deepcopy(state))  # as saved to disk: live tensors change later

    def restore(self) -> dict[str, Any] | None:
        return self.start


def run_one_trial(spec_path: Path, out: Path, reporter: MemoryReporter, seed: int = 1) -> ResultRecord:
    """Run one trial of a spec file in this process (no Ray), reporting to ``reporter``."""
    spec = resolve_for_run(load_spec(spec_path))
    return run_trial(spec.model_dump(mode="json"), seed, trial_dir=out, trial_id=out.name, reporter=reporter)
