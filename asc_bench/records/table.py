"""Result records as a table: one row per trial, for notebooks (pandas)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asc_bench.core.errors import UserError
from asc_bench.records.io import find_records, read_record
from asc_bench.records.schema import ResultRecord

if TYPE_CHECKING:
    import pandas

HEADLINE = ("macro_acc", "micro_acc", "log_loss", "macro_log_loss", "seen_acc", "unseen_acc", "count")
GROUPS = (("class", "per_class"), ("device", "per_device"), ("city", "per_city"))


def record_row(record: ResultRecord, path: Path | None = None) -> dict[str, Any]:
    """One trial as a flat row: identity, complexity, the deployed model's scores, float32 macro accuracy, and
    ``<group>.<name>`` accuracy columns per class, device and city."""
    metrics = record.metrics
    row: dict[str, Any] = {
        "name": record.name,
        "spec_hash": record.spec_hash,
        "seed": record.seed,
        "trial_id": record.trial_id,
        "dataset": record.dataset.type,
        "split": record.dataset.split,
        "macs": record.complexity.macs,
        "params": record.complexity.params,
        "param_bytes": record.complexity.param_bytes,
        "param_dtype": record.complexity.param_dtype,
        **{key: getattr(metrics, key) for key in HEADLINE},
        "macro_acc_float32": record.metrics_float32.macro_acc if record.metrics_float32 else None,
        "train_s": record.timings.train_s,
        "created": record.created,
    }
    for group, attr in GROUPS:
        for name, score in getattr(metrics, attr).items():
            row[f"{group}.{name}"] = score.acc
    row["path"] = str(path) if path is not None else None
    return row


def records_frame(records: Iterable[tuple[ResultRecord, Path | None]]) -> pandas.DataFrame:
    """Records as a pandas DataFrame, one row per trial (see :func:`record_row`)."""
    import pandas

    return pandas.DataFrame([record_row(record, path) for record, path in records])


def load_records(*paths: Path | str) -> pandas.DataFrame:
    """Every result record under ``paths`` (record files, trial folders or folders above) as a DataFrame."""
    found = [record for path in paths for record in find_records(Path(path))]
    if not found:
        where = ", ".join(map(str, paths)) or "(no path given)"
        raise UserError(f"no result records (record.json) under {where}.", fix="Pass the output folder of a run.")
    return records_frame((read_record(path), path) for path in found)
