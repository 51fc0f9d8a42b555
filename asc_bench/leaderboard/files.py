"""Machine-readable leaderboards: CSV (one row per entry; text that a spreadsheet would run as a formula starts
with an apostrophe) and JSON (tables of entries).

Scores are fractions (0.5699, not 56.99 %) with full precision; ``*_std`` is the sample std over seeds (or the
published spread, empty when none was given). Record paths are relative to the written file's folder (to the
current folder for standard output). :func:`render` gives any of the formats as text, e.g. for ``--out -``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from asc_bench.leaderboard.entries import Entry, Stat, tables
from asc_bench.leaderboard.format import csv_cell, group_names, link
from asc_bench.leaderboard.html import render_html
from asc_bench.leaderboard.markdown import render_markdown

Format = Literal["md", "csv", "json", "html"]
FORMATS: tuple[Format, ...] = ("md", "csv", "json", "html")
"""The file formats of a leaderboard, by extension."""
JSON_FORMAT = {"format": "asc-bench leaderboard", "version": 1}
_STATS = ("macro_acc", "macro_acc_float32", "micro_acc", "log_loss", "seen_acc", "unseen_acc")
_GROUPS = (("class", "per_class"), ("device", "per_device"), ("city", "per_city"))


def _stat(stat: Stat | None) -> dict[str, float | int | None] | None:
    return None if stat is None else {"mean": stat.mean, "std": stat.std, "n": stat.n}


def entry_dict(entry: Entry, rank: int, base: Path | None) -> dict[str, Any]:
    """One entry as JSON-able data."""
    return {
        "rank": rank,
        "name": entry.name,
        "kind": entry.kind,
        "source": entry.source,
        "spec_hash": entry.spec_hash,
        "seeds": entry.seeds,
        "runs": entry.runs,
        "complexity": {
            "macs": entry.macs,
            "macs_fused": entry.macs_fused,
            "params": entry.params,
            "param_bytes": entry.param_bytes,
            "param_dtype": entry.param_dtype,
        },
        **{name: _stat(getattr(entry, name)) for name in _STATS},
        **{attr: {k: _stat(v) for k, v in getattr(entry, attr).items()} for _, attr in _GROUPS},
        "seen_devices": entry.seen_devices,
        "train_s": _stat(entry.train_s),
        "records": [link(Path(p), base) for p in entry.records] if entry.kind == "measured" else [],
        "digests": entry.digests,
        "citation": entry.citation,
        "url": entry.url,
        "note": entry.note,
    }


def render_json(entries: Sequence[Entry], base: Path | None = None) -> str:
    """The leaderboard as JSON: ``tables`` (title, kind, dataset, ranked entries)."""
    data = {
        **JSON_FORMAT,
        "tables": [
            {
                "title": title,
                "kind": group[0].kind,
                "dataset": group[0].dataset.model_dump(mode="json"),
                "entries": [entry_dict(e, rank, base) for rank, e in enumerate(group, 1)],
            }
            for title, group in tables(entries)
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def _num(value: float | int | None) -> str:
    return "" if value is None else repr(value)


def render_csv(entries: Sequence[Entry], base: Path | None = None) -> str:
    """The leaderboard as CSV: one row per entry, with its table title and rank within that table."""
    boards = tables(entries)
    columns = {attr: group_names(entries, attr) for _, attr in _GROUPS}
    header = ["table", "rank", "kind", "name", "source", "dataset_type", "split", "data", "spec_hash", "seeds"]
    header += ["runs", *(f"{name}_{part}" for name in _STATS for part in ("mean", "std"))]
    header += ["macs", "macs_fused", "params", "param_bytes", "param_dtype", "train_s_mean"]
    header += [f"{label}_{name}" for label, attr in _GROUPS for name in columns[attr]]
    header += ["citation", "url", "records"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(map(csv_cell, header))
    for title, group in boards:
        for rank, e in enumerate(group, 1):
            d = e.dataset
            row = [title, rank, e.kind, e.name, e.source, d.type, d.split, d.identity or d.fingerprint, e.spec_hash]
            row += [" ".join(map(str, e.seeds)), _num(e.runs)]
            for stat in (getattr(e, name) for name in _STATS):
                row += [_num(stat.mean), _num(stat.std)] if stat else ["", ""]
            row += [e.macs, _num(e.macs_fused), e.params, e.param_bytes, e.param_dtype]
            row += [_num(e.train_s.mean if e.train_s else None)]
            for _, attr in _GROUPS:
                values = getattr(e, attr)
                row += [_num(values[n].mean if values.get(n) else None) for n in columns[attr]]
            records = [link(Path(p), base) for p in e.records] if e.kind == "measured" else []
            row += [e.citation, e.url, " ".join(records)]
            writer.writerow(map(csv_cell, row))
    return out.getvalue()


def render(entries: Sequence[Entry], fmt: Format, base: Path | None = None) -> str:
    """The leaderboard in format ``fmt`` (one of :data:`FORMATS`) as text; record links relative to ``base``."""
    renderers = {"md": render_markdown, "csv": render_csv, "json": render_json, "html": render_html}
    return renderers[fmt](entries, base=base)
