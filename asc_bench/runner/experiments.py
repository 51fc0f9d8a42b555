"""Experiments on disk: each ``runs/<name>/<timestamp>/`` holds an ``experiment.json`` state file next to
its trial folders. ``asc-bench runs`` lists them; ``asc-bench run SPEC --resume`` finds the one to continue.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from asc_bench.core.errors import UserError
from asc_bench.core.files import atomic_write_text
from asc_bench.core.process import process_alive
from asc_bench.records.layout import EXPERIMENT_STATE, RECORD_NAME
from asc_bench.spec.model import Spec

Status = Literal["running", "finished", "failed", "interrupted"]
RESUMABLE = ("interrupted", "failed")


class ExperimentState(BaseModel):
    """What asc-bench knows about one experiment (Ray Tune keeps its own state at ``tune_path``)."""

    name: str
    spec: dict[str, Any]
    tune_path: str
    status: Status
    started: datetime
    finished: datetime | None = None
    host: str = Field(default_factory=socket.gethostname)
    pid: int = Field(default_factory=os.getpid)
    metric: str | None = None
    trials: dict[str, int] = Field(default_factory=dict)
    best: dict[str, Any] | None = None
    resumed: int = 0

    def effective_status(self) -> str:
        """``running`` turns into ``interrupted`` when its driver process on this host is gone."""
        if self.status == "running" and self.host == socket.gethostname() and not process_alive(self.pid):
            return "interrupted"
        return self.status


def write_state(folder: Path, state: ExperimentState) -> None:
    """Write ``folder/experiment.json`` atomically."""
    atomic_write_text(folder / EXPERIMENT_STATE, state.model_dump_json(indent=2) + "\n")


def new_state(name: str, spec: dict[str, Any], tune_path: str, metric: str | None, trials: int) -> ExperimentState:
    """The state of an experiment starting now in this process."""
    return ExperimentState(
        name=name,
        spec=spec,
        tune_path=tune_path,
        status="running",
        started=datetime.now(UTC),
        metric=metric,
        trials={"total": trials},
    )


def read_state(path: Path) -> ExperimentState:
    """Read one state file; a damaged one is a :class:`UserError` naming it."""
    try:
        return ExperimentState.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError, ValueError) as exc:
        raise UserError(
            f"cannot read the experiment state: {str(exc).splitlines()[0]}",
            where=str(path),
            fix="The file is damaged: fix it, or delete only this file (the trial folders beside it keep their "
            "records, which the leaderboard still finds; only `asc-bench runs` and --resume lose the experiment).",
        ) from None


def find_experiments(
    root: Path, on_damaged: Callable[[UserError], None] | None = None
) -> list[tuple[Path, ExperimentState]]:
    """Every experiment folder under ``root`` with its state, newest first. A damaged state file is an error,
    or, given ``on_damaged``, reported to it and skipped."""
    if not root.is_dir():
        raise UserError("no such folder", where=str(root), fix="Pass the output folder of your runs (default runs).")
    found = []
    for path in root.rglob(EXPERIMENT_STATE):
        try:
            found.append((path.parent, read_state(path)))
        except UserError as exc:
            if on_damaged is None:
                raise
            on_damaged(exc)
    return sorted(found, key=lambda item: item[1].started, reverse=True)


def latest_resumable(root: Path, spec: dict[str, Any]) -> tuple[Path, ExperimentState]:
    """The most recent interrupted or failed experiment of a spec under ``root`` (``<output>/<name>``),
    refusing one that was started from a different spec."""
    found = find_experiments(root) if root.is_dir() else []
    if not found:
        raise UserError(
            f"there is no experiment of '{spec['name']}' to resume under {root}.",
            fix="Run it without --resume first.",
        )
    resumable = [(folder, state) for folder, state in found if state.effective_status() in RESUMABLE]
    if not resumable:
        folder, state = found[0]
        raise UserError(
            f"nothing to resume: the latest experiment of '{spec['name']}' ({folder}) is {state.effective_status()}.",
            fix="Run without --resume to start a new experiment.",
        )
    folder, state = resumable[0]
    changed = _differences(spec, state.spec)
    if changed:
        raise UserError(
            f"the spec changed since experiment {folder} started (in: {', '.join(changed[:5])}); resuming would "
            "mix two specs.",
            fix="Resume with the spec, --set options and environment (e.g. $ASC_BENCH_CACHE_DIR) it was started "
            "with, or run without --resume.",
        )
    return folder, state


def _differences(new: Any, old: Any, prefix: str = "") -> list[str]:
    """Dotted paths where two spec dumps differ."""
    if isinstance(new, dict) and isinstance(old, dict):
        keys = sorted(set(new) | set(old))
        return [d for k in keys for d in _differences(new.get(k), old.get(k), f"{prefix}.{k}" if prefix else k)]
    return [] if new == old else [prefix or "(top)"]


def count_records(folder: Path) -> int:
    """How many trials of an experiment wrote their record."""
    return sum(1 for _ in folder.glob(f"*/{RECORD_NAME}"))


def has_resumable(spec: Spec) -> bool:
    """Whether the (resolved) spec has an interrupted experiment that ``--resume`` can continue."""
    try:
        latest_resumable(Path(spec.output.dir) / spec.name, spec.model_dump(mode="json"))
    except UserError:
        return False
    return True


def experiment_summaries(root: Path, on_damaged: Callable[[UserError], None] | None = None) -> list[dict[str, Any]]:
    """What ``asc-bench runs`` shows of every experiment under ``root``, newest first (none when ``root`` does
    not exist): name, started (ISO 8601), status, trials done / total / failed / stopped, best
    (``{metric, score}`` or None) and folder (relative to ``root``)."""
    if not root.is_dir():
        return []
    return [
        {
            "name": state.name,
            "started": state.started.isoformat(),
            "status": state.effective_status(),
            "done": count_records(folder),
            "total": state.trials.get("total"),
            "failed": state.trials.get("failed"),
            "stopped": state.trials.get("stopped"),
            "best": state.best,
            "folder": str(folder.relative_to(root)) if folder.is_relative_to(root) else str(folder),
        }
        for folder, state in find_experiments(root, on_damaged=on_damaged)
    ]
