"""Reading, writing and finding result records; older record versions are upgraded on read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from asc_bench.core.errors import UserError
from asc_bench.core.files import atomic_write_text
from asc_bench.records.layout import RECORD_NAME
from asc_bench.records.schema import SCHEMA_VERSION, ResultRecord


def write_record(record: ResultRecord, path: Path) -> None:
    """Write ``record`` as indented JSON, atomically."""
    atomic_write_text(path, record.model_dump_json(indent=2) + "\n")


def record_digest(record: ResultRecord) -> str:
    """A short content hash of a record (16 hex digits): equal records, equal digests, wherever stored."""
    canonical = json.dumps(record.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def record_schema() -> dict[str, Any]:
    """The JSON Schema of the current record version (published in ``leaderboard/schema/``)."""
    schema = ResultRecord.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"asc-bench result record, schema_version {SCHEMA_VERSION}"
    return schema


def _upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 → 2. Version 1 trained on the CPU only and did not count fused complexity."""
    environment = data.get("environment")
    if isinstance(environment, dict):
        environment.setdefault("device", "cpu")
        environment.setdefault("platform", "")
    complexity = data.get("complexity")
    if isinstance(complexity, dict):
        complexity.setdefault("macs_fused", None)
        complexity.setdefault("params_fused", None)
    return {**data, "schema_version": 2}


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _upgrade_v1}
"""Readers of older records: version → function returning the record at the next version."""


def read_record(path: Path) -> ResultRecord:
    """Read and validate a record; any problem is a :class:`UserError` naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UserError(f"cannot read result record: {e.strerror}", where=str(path)) from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(
            f"result record is not valid JSON ({e})",
            where=str(path),
            fix="The file is damaged: delete it and re-run the trial that wrote it.",
        ) from e
    if not isinstance(data, dict) or "schema_version" not in data:
        raise UserError("not an asc-bench result record (no schema_version)", where=str(path))
    version = data["schema_version"]
    while isinstance(version, int) and not isinstance(version, bool) and version in UPGRADES:
        data = UPGRADES[version](data)
        version = data["schema_version"]
    if version != SCHEMA_VERSION:
        newer = isinstance(version, int) and version > SCHEMA_VERSION
        readable = ", ".join(map(str, sorted({*UPGRADES, SCHEMA_VERSION})))
        raise UserError(
            f"result record has schema_version {version!r}; this asc-bench reads versions {readable}"
            + (" (the record was written by a newer asc-bench)." if newer else "."),
            where=str(path),
            fix="Upgrade asc-bench to read it." if newer else "The file was not written by asc-bench.",
        )
    try:
        return ResultRecord.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()[:5])
        raise UserError(f"invalid result record: {problems}", where=str(path)) from e


def find_records(root: Path) -> list[Path]:
    """All ``record.json`` files under ``root`` (or ``root`` itself if it is one), sorted."""
    root = Path(root)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise UserError("no such file or folder", where=str(root), fix="Pass a results folder or a record.json.")
    return sorted(root.rglob(RECORD_NAME))
