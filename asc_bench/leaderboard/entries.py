"""Leaderboard entries: measured (result records, averaged over seeds) and reported (published figures).

Measured records are grouped by source, spec hash and data; seeds are averaged (mean ± sample std). Every
table holds one kind of entry on one dataset and split: measured entries on different data, and measured and
reported entries, are never ranked together. Renderers live in :mod:`asc_bench.leaderboard.markdown`,
:mod:`asc_bench.leaderboard.files` and :mod:`asc_bench.leaderboard.html` (the terminal view in
:mod:`asc_bench.cli.leaderboard`).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from asc_bench.core.text import natural_key
from asc_bench.leaderboard.reported import ReportedEntry, Score
from asc_bench.records.io import find_records, read_record, record_digest
from asc_bench.records.schema import DatasetInfo, GroupScore, ResultRecord

Kind = Literal["measured", "reported"]


@dataclass(frozen=True)
class Stat:
    """Mean and sample standard deviation (ddof 1; 0 for a single value) over ``n`` seeds.

    For reported figures ``std`` is ``None`` when the source gives none, and ``n`` is ``None`` when it does
    not say how many runs it averaged.
    """

    mean: float
    std: float | None
    n: int | None


@dataclass(frozen=True)
class Entry:
    """One leaderboard row: all seeds of one spec on one dataset from one source, or one reported system."""

    name: str
    kind: Kind
    dataset: DatasetInfo
    source: str
    macs: int
    params: int
    param_bytes: int
    param_dtype: str
    macro_acc: Stat | None
    micro_acc: Stat | None = None
    log_loss: Stat | None = None
    seen_acc: Stat | None = None
    unseen_acc: Stat | None = None
    macro_acc_float32: Stat | None = None
    per_class: dict[str, Stat | None] = field(default_factory=dict)
    per_device: dict[str, Stat | None] = field(default_factory=dict)
    per_city: dict[str, Stat | None] = field(default_factory=dict)
    seen_devices: list[str] = field(default_factory=list)
    spec_hash: str = ""
    seeds: list[int] = field(default_factory=list)
    runs: int | None = None
    records: list[Path] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    macs_fused: int | None = None
    train_s: Stat | None = None
    citation: str = ""
    url: str = ""
    note: str = ""

    @property
    def dataset_key(self) -> tuple[str, str, str, str]:
        """Entries are ranked together only when this key is equal."""
        d = self.dataset
        return self.kind, d.type, d.split, d.identity or d.fingerprint

    @property
    def dataset_title(self) -> str:
        """A heading naming the kind of figures, the data and the split."""
        d = self.dataset
        if self.kind == "reported":
            return f"Reported figures (published, not measured here) · {d.identity} · {d.split}"
        if d.identity:
            return f"Measured · {d.identity} · {d.split}"
        return f"Measured · {d.type} · {d.split} · data {d.fingerprint[:12]}"


def aggregate(values: Iterable[float | None]) -> Stat | None:
    """Mean ± sample std of the values that are not ``None``; ``None`` when there are none."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    std = statistics.stdev(present) if len(present) > 1 else 0.0
    return Stat(statistics.fmean(present), std, len(present))


def collect(
    paths: Iterable[Path], *, source: str | None = None, name: str | None = None, skip: frozenset[str] = frozenset()
) -> list[Entry]:
    """Read the records under ``paths`` (files or folders) and return measured entries, ranked per dataset.

    Records are grouped by (spec hash, data); when a seed was recorded more than once, the newest record
    counts. ``source`` labels the entries (default: the path the records were found under), ``name``
    overrides the spec name, and seeds whose newest record's digest is in ``skip`` are left out (runs
    already copied into the committed entries).
    """
    groups: dict[tuple, dict[int, tuple[ResultRecord, Path, str]]] = defaultdict(dict)
    for root in paths:
        for path in find_records(Path(root)):
            record = read_record(path)
            if record.spec.get("trainer", {}).get("device_models", {}).get("role") == "device":
                continue  # one device's fine-tuned model alone: ranked as part of its system (DCASE 2025)
            digest = record_digest(record)
            d = record.dataset
            key = (source or str(root), record.spec_hash, d.type, d.split, d.identity or d.fingerprint)
            seeds = groups[key]
            if record.seed not in seeds or seeds[record.seed][0].created < record.created:
                seeds[record.seed] = (record, path, digest)
    entries = []
    for key, seeds in groups.items():
        runs = [seeds[s] for s in sorted(seeds) if seeds[s][2] not in skip]
        if runs:
            entries.append(measured_entry(runs, source=key[0], name=name))
    return rank(entries)


def measured_entry(runs: Sequence[tuple[ResultRecord, Path, str]], *, source: str, name: str | None = None) -> Entry:
    """The entry of one spec's seeds: (record, path, digest) per seed."""
    records = [record for record, _, _ in runs]
    newest = max(records, key=lambda r: r.created)
    metrics = [r.metrics for r in records]
    c = newest.complexity
    return Entry(
        name=name or newest.name,
        kind="measured",
        dataset=newest.dataset,
        source=source,
        macs=c.macs,
        params=c.params,
        param_bytes=c.param_bytes,
        param_dtype=c.param_dtype,
        macs_fused=c.macs_fused,
        macro_acc=aggregate(m.macro_acc for m in metrics),
        micro_acc=aggregate(m.micro_acc for m in metrics),
        log_loss=aggregate(m.log_loss for m in metrics),
        seen_acc=aggregate(m.seen_acc for m in metrics),
        unseen_acc=aggregate(m.unseen_acc for m in metrics),
        macro_acc_float32=aggregate(r.metrics_float32.macro_acc if r.metrics_float32 else None for r in records),
        per_class=_per_group([m.per_class for m in metrics]),
        per_device=_per_group([m.per_device for m in metrics]),
        per_city=_per_group([m.per_city for m in metrics]),
        seen_devices=list(newest.metrics.seen_devices or []),
        spec_hash=newest.spec_hash,
        seeds=[r.seed for r in records],
        runs=len(records),
        records=[path for _, path, _ in runs],
        digests=[digest for _, _, digest in runs],
        train_s=aggregate(r.timings.train_s for r in records),
        note=str(newest.spec.get("description", "")),
    )


def reported_entry(entry: ReportedEntry, path: Path) -> Entry:
    """A leaderboard row from published figures."""
    m, c = entry.metrics, entry.complexity

    def stat(score: Score | None) -> Stat | None:
        return None if score is None else Stat(score.mean, score.std, entry.runs)

    def groups(values: dict[str, float]) -> dict[str, Stat | None]:
        return {k: Stat(v, None, entry.runs) for k, v in values.items()}

    return Entry(
        name=entry.name,
        kind="reported",
        dataset=DatasetInfo(
            type=entry.dataset.type, fingerprint="", split=entry.dataset.split, identity=entry.dataset.identity
        ),
        source=entry.citation,
        macs=c.macs,
        params=c.params,
        param_bytes=c.param_bytes,
        param_dtype=c.param_dtype,
        macro_acc=stat(m.macro_acc),
        micro_acc=stat(m.micro_acc),
        log_loss=stat(m.log_loss),
        per_class=groups(m.per_class),
        per_device=groups(m.per_device),
        per_city=groups(m.per_city),
        seen_devices=entry.seen_devices,
        runs=entry.runs,
        records=[path],
        citation=entry.citation,
        url=entry.url,
        note=entry.note,
    )


def rank(entries: Iterable[Entry]) -> list[Entry]:
    """Measured tables first, then reported; within a table, best mean macro accuracy first."""
    return sorted(entries, key=_rank_key)


def tables(entries: Sequence[Entry]) -> list[tuple[str, list[Entry]]]:
    """Split ranked entries into one ``(title, entries)`` table per kind and dataset, keeping their order."""
    by_dataset: dict[tuple[str, str, str, str], list[Entry]] = {}
    for entry in entries:
        by_dataset.setdefault(entry.dataset_key, []).append(entry)
    return [(group[0].dataset_title, group) for group in by_dataset.values()]


def _rank_key(entry: Entry) -> tuple:
    macro = entry.macro_acc.mean if entry.macro_acc else 0.0
    title = natural_key(entry.dataset_title)  # split5 before split10
    return entry.kind != "measured", title, entry.dataset_key, entry.macro_acc is None, -macro, entry.name


def _per_group(scores: list[dict[str, GroupScore]]) -> dict[str, Stat | None]:
    names = list(dict.fromkeys(name for s in scores for name in s))
    return {name: aggregate(s[name].acc if name in s else None for s in scores) for name in names}
