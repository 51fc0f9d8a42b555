"""``asc-bench reproduce RECORD``: re-run a record's spec and seed through the normal runner and compare.

Every figure of the record is compared: complexity (exactly), the deployed and float32 metrics (overall, per
class, device and city; clip counts exactly) and the confusion matrices (as fractions of each true class).
With the default tolerance 0 the comparison is exact, which a re-run on the same machine (same package
versions and thread count) achieves; across machines pass e.g. ``--tolerance 0.02``.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asc_bench.core.errors import UserError
from asc_bench.records.io import read_record
from asc_bench.records.schema import DatasetInfo, Metrics, ResultRecord
from asc_bench.runner.driver import run_spec
from asc_bench.runner.events import RunListener
from asc_bench.spec.hashing import spec_hash
from asc_bench.spec.model import Spec
from asc_bench.spec.overrides import apply_overrides
from asc_bench.spec.validate import validate_spec

_HEADLINE = ("macro_acc", "micro_acc", "log_loss", "macro_log_loss", "seen_acc", "unseen_acc")


@dataclass(frozen=True)
class Check:
    """One compared figure, or a group of them (``count`` values, the largest difference ``diff``)."""

    name: str
    recorded: str
    reproduced: str
    diff: float
    count: int
    ok: bool


def check_tolerance(tolerance: float) -> None:
    """Refuse a tolerance that is negative or not finite."""
    if tolerance < 0 or not math.isfinite(tolerance):
        raise UserError(f"--tolerance must be a finite number ≥ 0, not {tolerance}.")


def reproduce(
    record_path: Path,
    *,
    overrides: list[str] | None = None,
    tolerance: float = 0.0,
    out_dir: Path | None = None,
    listener: RunListener | None = None,
    address: str | None = None,
) -> tuple[ResultRecord, ResultRecord, list[Check]]:
    """Re-run ``record_path``'s spec with its seed (into ``out_dir``, default a temporary folder) and compare.

    Returns the recorded and the reproduced record and the checks. ``overrides`` (``--set``) may change
    only fields outside the spec hash, such as the dataset root on this machine.
    """
    check_tolerance(tolerance)
    record = read_record(record_path)
    with tempfile.TemporaryDirectory(prefix="asc-bench-reproduce-") as tmp:
        spec = reproduction_spec(record, overrides or [], Path(out_dir or tmp), source=str(record_path))
        paths = run_spec(spec, listener=listener, address=address)
        again = read_record(paths[0])
    return record, again, compare(record, again, tolerance)


def reproduction_spec(record: ResultRecord, overrides: list[str], out_dir: Path, *, source: str) -> Spec:
    """The record's spec with its seed alone, results going to ``out_dir``; refuses a changed spec hash."""
    raw = apply_overrides(record.spec, overrides)
    raw["seeds"] = [record.seed]
    raw["output"] = {**raw.get("output", {}), "dir": str(out_dir)}
    spec = validate_spec(raw, source=f"{source} (its spec)")
    got = spec_hash(spec)
    if got != record.spec_hash:
        raise UserError(
            f"the record's spec hashes to {got} with the installed plugins, but the record says {record.spec_hash}: "
            "an override changed a field that affects results, or a plugin now reads the spec differently "
            "(e.g. a changed default).",
            where=source,
            fix="Use --set only for paths and other fields outside the hash; otherwise install the package "
            "versions listed in the record's environment.",
        )
    dataset = spec.data.dataset
    for name, value in dataset:
        if isinstance(value, Path) and not value.exists():
            raise UserError(
                f"the record's data.dataset.{name} {value} does not exist on this machine.",
                where=source,
                fix=f"Pass --set data.dataset.{name}=PATH pointing at the same data here.",
            )
    return spec


def compare(record: ResultRecord, again: ResultRecord, tolerance: float) -> list[Check]:
    """Every figure of ``record`` against ``again``: exact for counts and complexity, within ``tolerance``
    (absolute) for accuracies, log losses and confusion fractions."""
    checks = [_data_check(record, again)]
    for field in ("macs", "params", "param_bytes"):
        a, b = getattr(record.complexity, field), getattr(again.complexity, field)
        checks.append(Check(f"complexity.{field}", f"{a:,}", f"{b:,}", abs(a - b), 1, a == b))
    for label, mine, theirs in (
        ("", record.metrics, again.metrics),
        ("float32 ", record.metrics_float32, again.metrics_float32),
    ):
        if mine is None:
            continue
        if theirs is None:
            checks.append(Check(f"{label}metrics", "present", "missing", math.inf, 1, False))
            continue
        checks += _metric_checks(label, mine, theirs, tolerance)
    return checks


def _data_check(record: ResultRecord, again: ResultRecord) -> Check:
    a, b = record.dataset, again.dataset
    same = a.type == b.type and a.split == b.split
    same = same and (a.fingerprint == b.fingerprint or (a.identity is not None and a.identity == b.identity))
    return Check("data", _data_label(a), _data_label(b), 0.0 if same else math.inf, 1, same)


def _data_label(d: DatasetInfo) -> str:
    label = f"{d.split}, {d.identity or d.type + ' data ' + d.fingerprint}"
    return label if len(label) <= 40 else label[:39] + "…"


def _metric_checks(label: str, mine: Metrics, theirs: Metrics, tol: float) -> list[Check]:
    checks = []
    for name in _HEADLINE:
        a, b = getattr(mine, name), getattr(theirs, name)
        diff = _diff(a, b)
        checks.append(Check(f"{label}{name}", _fmt(a), _fmt(b), diff, 1, diff <= tol))
    for group in ("per_class", "per_device", "per_city"):
        diffs = list(_group_diffs(getattr(mine, group), getattr(theirs, group)))
        checks.append(_summary(f"{label}{group}", diffs, tol))
    checks.append(_summary(f"{label}confusion", list(_confusion_diffs(mine.confusion, theirs.confusion)), tol))
    return checks


def _summary(name: str, diffs: list[tuple[float, bool]], tol: float) -> Check:
    """Values compared within ``tol``; the bool marks a count, which must match exactly."""
    worst = max((d for d, _ in diffs), default=0.0)
    ok = all(d == 0 if exact else d <= tol for d, exact in diffs)
    return Check(name, f"{len(diffs)} values", f"{len(diffs)} values", worst, len(diffs), ok)


def _group_diffs(mine: dict[str, Any], theirs: dict[str, Any]) -> Iterator[tuple[float, bool]]:
    for key in sorted(set(mine) | set(theirs)):
        if key not in mine or key not in theirs:
            yield math.inf, True
            continue
        a, b = mine[key], theirs[key]
        yield _diff(a.acc, b.acc), False
        yield _diff(a.log_loss, b.log_loss), False
        yield float(abs(a.count - b.count)), True


def _confusion_diffs(mine: list[list[int]], theirs: list[list[int]]) -> Iterator[tuple[float, bool]]:
    if len(mine) != len(theirs) or any(len(r) != len(s) for r, s in zip(mine, theirs, strict=False)):
        yield math.inf, True
        return
    for row_a, row_b in zip(mine, theirs, strict=True):
        yield float(abs(sum(row_a) - sum(row_b))), True
        total = max(sum(row_a), 1)
        yield from ((abs(a - b) / total, False) for a, b in zip(row_a, row_b, strict=True))


def _diff(a: float | None, b: float | None) -> float:
    if a is None or b is None:
        return 0.0 if a is b else math.inf
    return abs(a - b)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.6f}"
