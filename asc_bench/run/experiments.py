"""Experiments on disk: each ``runs/<name>/<timestamp>/`` holds an ``experiment.json`` state file next to
its trial folders. ``asc-bench runs`` lists them; ``asc-bench run SPEC --resume`` finds the one to continue.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError
from rich.console import Console
from rich.table import Table

from asc_bench.core.errors import UserError
from asc_bench.records.record import RECORD_NAME, atomic_write_text

STATE_NAME = "experiment.json"
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
        if self.status == "running" and self.host == socket.gethostname() and not _alive(self.pid):
            return "interrupted"
        return self.status


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_state(folder: Path, state: ExperimentState) -> None:
    """Write ``folder/experiment.json`` atomically."""
    atomic_write_text(folder / STATE_NAME, state.model_dump_json(indent=2) + "\n")


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
            fix="The file is damaged; delete the experiment folder or fix the file.",
        ) from None


def find_experiments(root: Path) -> list[tuple[Path, ExperimentState]]:
    """Every experiment folder under ``root`` with its state, newest first."""
    if not root.is_dir():
        raise UserError("no such folder", where=str(root), fix="Pass the output folder of your runs (default runs).")
    found = [(path.parent, read_state(path)) for path in root.rglob(STATE_NAME)]
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


def _count_records(folder: Path) -> int:
    return sum(1 for _ in folder.glob(f"*/{RECORD_NAME}"))


def render_experiments(root: Path, console: Console) -> None:
    """The table of ``asc-bench runs``: status, trials, best score and path of every experiment."""
    found = find_experiments(root)
    if not found:
        console.print(f"No experiments under {root}.")
        return
    table = Table(title=f"experiments under {root}", title_justify="left")
    for column in ("name", "started", "status", "done", "failed", "stopped", "best", "folder"):
        table.add_column(column, justify="right" if column in ("done", "failed", "stopped") else "left")
    for folder, state in found:
        status = state.effective_status()
        colour = {"finished": "green", "failed": "red", "interrupted": "yellow"}.get(status, "cyan")
        table.add_row(
            state.name,
            state.started.astimezone().strftime("%Y-%m-%d %H:%M"),
            f"[{colour}]{status}[/{colour}]",
            f"{_count_records(folder)}/{state.trials.get('total', '?')}",
            str(state.trials.get("failed", "–")),
            str(state.trials.get("stopped", "–")),
            _best_text(state.best),
            str(folder.relative_to(root)) if folder.is_relative_to(root) else str(folder),
        )
    console.print(table)


def _best_text(best: dict[str, Any] | None) -> str:
    if not best:
        return "–"
    score = best["score"]
    value = f"{100 * score:.2f} %" if best["metric"].endswith("acc") else f"{score:.3f}"
    return f"{best['metric']} {value}"
