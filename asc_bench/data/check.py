"""Dataset checks: every problem of a dataset at once (``asc-bench data check``) and the same check before a
run, which refuses a dataset with errors using the very messages the check prints."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from asc_bench.api import ClipTable, Dataset, Finding
from asc_bench.core.errors import UserError


@dataclass
class DatasetReport:
    """What ``check_dataset`` found: problems, and the clips of each split for the summary table."""

    describe: str
    findings: list[Finding] = field(default_factory=list)
    clips: ClipTable | None = None
    splits: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def counts(self, split: str) -> np.ndarray:
        """Clips of ``split`` per device (rows) and city (columns)."""
        clips = self.clips
        assert clips is not None
        rows = self.splits[split]
        shape = (len(clips.device_names), len(clips.city_names))
        flat = clips.devices[rows] * shape[1] + clips.cities[rows]
        return np.bincount(flat, minlength=shape[0] * shape[1]).reshape(shape)


def check_dataset(dataset: Dataset) -> DatasetReport:
    """Check metadata, every split and every audio file of ``dataset``; collect problems instead of stopping.

    A problem that makes the metadata unreadable ends the check (nothing else can be checked without it).
    """
    report = DatasetReport(dataset.describe())
    try:
        report.clips = dataset.clips()
    except UserError as err:
        report.findings.append(Finding("error", str(err)))
        return report
    for name in dataset.splits():
        try:
            report.splits[name] = np.asarray(dataset.split(name), dtype=np.int64)
        except UserError as err:
            report.findings.append(Finding("error", str(err)))
    report.findings += dataset.check(np.arange(len(report.clips), dtype=np.int64))
    report.findings = _unique(report.findings)
    return report


def require_sound(dataset: Dataset, splits: Mapping[str, np.ndarray], warn: Callable[[str], None]) -> None:
    """Refuse (``UserError``) a dataset whose clips in ``splits`` have errors; pass warnings to ``warn``."""
    rows = np.unique(np.concatenate([np.asarray(r, dtype=np.int64) for r in splits.values()]))
    findings = _unique(dataset.check(rows))
    for finding in findings:
        if finding.severity == "warning":
            warn(_text(finding))
    errors = [f for f in findings if f.severity == "error"]
    if len(errors) == 1:
        raise UserError(errors[0].message, where=errors[0].where, fix=errors[0].fix)
    if errors:
        listed = " ".join(f"({i}) {_text(f)}" for i, f in enumerate(errors, start=1))
        raise UserError(
            f"the dataset {dataset.describe()} has {len(errors)} problems: {listed}",
            fix="Fix them and run again; `asc-bench data check ROOT` prints the full report.",
        )


def _text(finding: Finding) -> str:
    """A finding as one paragraph, as a :class:`UserError` would print it."""
    return str(UserError(finding.message, where=finding.where, fix=finding.fix))


def _unique(findings: list[Finding]) -> list[Finding]:
    """Findings without repeats (a broken split table is seen both as a split and by the file check)."""
    seen: set[str] = set()
    out = []
    for finding in findings:
        text = _text(finding)
        if text not in seen:
            seen.add(text)
            out.append(finding)
    return out
