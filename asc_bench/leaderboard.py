"""Leaderboard entries: result records grouped by spec and dataset, averaged over seeds, ranked.

Renderers live in :mod:`asc_bench.leaderboard_render`.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from asc_bench.results import DatasetInfo, GroupScore, ResultRecord, find_records, read_record


@dataclass(frozen=True)
class Stat:
    """Mean and sample standard deviation (ddof 1; 0 for a single value) over ``n`` seeds."""

    mean: float
    std: float
    n: int


@dataclass(frozen=True)
class Entry:
    """One leaderboard row: all seeds of one spec (by hash) on one dataset."""

    name: str
    spec_hash: str
    dataset: DatasetInfo
    seeds: list[int]
    macs: int
    params: int
    param_bytes: int
    param_dtype: str
    macro_acc: Stat | None
    micro_acc: Stat | None
    log_loss: Stat | None
    seen_acc: Stat | None
    unseen_acc: Stat | None
    per_device: dict[str, Stat | None]
    per_city: dict[str, Stat | None]
    records: list[Path]

    @property
    def dataset_key(self) -> tuple[str, str, str]:
        """Entries are comparable only when this key is equal."""
        return self.dataset.type, self.dataset.split, self.dataset.fingerprint

    @property
    def dataset_title(self) -> str:
        """A heading naming the dataset, its split and the start of its fingerprint."""
        return f"{self.dataset.type} · {self.dataset.split} · data {self.dataset.fingerprint[:12]}"


def aggregate(values: Iterable[float | None]) -> Stat | None:
    """Mean ± sample std of the values that are not ``None``; ``None`` when there are none."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    std = statistics.stdev(present) if len(present) > 1 else 0.0
    return Stat(statistics.fmean(present), std, len(present))


def collect(paths: Iterable[Path]) -> list[Entry]:
    """Read the records under ``paths`` (files or folders) and return entries, ranked per dataset.

    Records are grouped by (spec hash, dataset); when a seed was recorded more than once, the newest
    record counts. Entries are sorted by dataset title, then by mean macro accuracy (best first).
    """
    groups: dict[tuple[str, tuple[str, str, str]], dict[int, tuple[ResultRecord, Path]]] = defaultdict(dict)
    for root in paths:
        for path in find_records(Path(root)):
            record = read_record(path)
            d = record.dataset
            seeds = groups[(record.spec_hash, (d.type, d.split, d.fingerprint))]
            if record.seed not in seeds or seeds[record.seed][0].created < record.created:
                seeds[record.seed] = (record, path)
    entries = [_entry([seeds[s] for s in sorted(seeds)]) for seeds in groups.values()]
    return sorted(entries, key=_rank_key)


def tables(entries: Sequence[Entry]) -> list[tuple[str, list[Entry]]]:
    """Split ranked entries into one ``(title, entries)`` table per dataset, keeping their order."""
    by_dataset: dict[tuple[str, str, str], list[Entry]] = {}
    for entry in entries:
        by_dataset.setdefault(entry.dataset_key, []).append(entry)
    return [(group[0].dataset_title, group) for group in by_dataset.values()]


def _rank_key(entry: Entry) -> tuple[str, tuple[str, str, str], bool, float, str]:
    macro = entry.macro_acc.mean if entry.macro_acc else 0.0
    return entry.dataset_title, entry.dataset_key, entry.macro_acc is None, -macro, entry.name


def _entry(runs: list[tuple[ResultRecord, Path]]) -> Entry:
    records = [record for record, _ in runs]
    newest = max(records, key=lambda r: r.created)
    metrics = [r.metrics for r in records]
    c = newest.complexity
    return Entry(
        name=newest.name,
        spec_hash=newest.spec_hash,
        dataset=newest.dataset,
        seeds=[r.seed for r in records],
        macs=c.macs,
        params=c.params,
        param_bytes=c.param_bytes,
        param_dtype=c.param_dtype,
        macro_acc=aggregate(m.macro_acc for m in metrics),
        micro_acc=aggregate(m.micro_acc for m in metrics),
        log_loss=aggregate(m.log_loss for m in metrics),
        seen_acc=aggregate(m.seen_acc for m in metrics),
        unseen_acc=aggregate(m.unseen_acc for m in metrics),
        per_device=_per_group([m.per_device for m in metrics]),
        per_city=_per_group([m.per_city for m in metrics]),
        records=[path for _, path in runs],
    )


def _per_group(scores: list[dict[str, GroupScore]]) -> dict[str, Stat | None]:
    names = list(dict.fromkeys(name for s in scores for name in s))
    return {name: aggregate(s[name].acc if name in s else None for s in scores) for name in names}
