"""Reported leaderboard entries: published figures with their citation, never re-measured here.

One JSON file per system and training split in ``leaderboard/entries/reported/``. Accuracies are fractions
(0.5699 for 56.99 %), as in result records. They are ranked only against other reported entries on the same
data and split, never against measured records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, ValidationError

from asc_bench.core.errors import UserError
from asc_bench.core.strict import StrictModel
from asc_bench.spec.limits import ParamDtype

REPORTED_SCHEMA_VERSION = 1


def web_url(url: str) -> str | None:
    """``url`` when it is an http(s) address, else ``None`` (``javascript:``, ``data:`` and the like are never
    linked)."""
    return url if urlsplit(url.strip()).scheme.lower() in ("http", "https") else None


def _http_url(url: str) -> str:
    if web_url(url) is None:
        raise ValueError(f"{url!r} is not an http:// or https:// address")
    return url


class Score(StrictModel):
    """A published mean with its spread over ``runs`` when the source gives one."""

    mean: float
    std: float | None = None


class ReportedData(StrictModel):
    """The data the figures were measured on (``identity`` names it in words)."""

    type: str
    split: str
    identity: str


class ReportedComplexity(StrictModel):
    """Model size as published."""

    macs: int
    params: int
    param_bytes: int
    param_dtype: ParamDtype


class ReportedMetrics(StrictModel):
    """Published scores; per-group figures are plain accuracies (fractions)."""

    macro_acc: Score
    micro_acc: Score | None = None
    log_loss: Score | None = None
    per_class: dict[str, float] = Field(default_factory=dict)
    per_device: dict[str, float] = Field(default_factory=dict)
    per_city: dict[str, float] = Field(default_factory=dict)


class ReportedEntry(StrictModel):
    """Published figures of one system on one training split, with where they were published."""

    schema_version: Literal[1] = REPORTED_SCHEMA_VERSION
    kind: Literal["reported"] = "reported"
    name: str
    citation: str = Field(description="Who published the figures, and where.")
    url: Annotated[str, AfterValidator(_http_url)] = Field(description="Where the figures were published (http/https).")
    note: str = ""
    runs: int | None = Field(None, description="How many training runs the published figures average.")
    seen_devices: list[str] = Field(default_factory=list, description="Devices in the training split.")
    dataset: ReportedData
    complexity: ReportedComplexity
    metrics: ReportedMetrics


def reported_schema() -> dict[str, Any]:
    """The JSON Schema of a reported entry (published in ``leaderboard/schema/``)."""
    schema = ReportedEntry.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"asc-bench reported leaderboard entry, schema_version {REPORTED_SCHEMA_VERSION}"
    return schema


def read_reported(path: Path) -> ReportedEntry:
    """Read and validate one reported entry; any problem is a :class:`UserError` naming the file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise UserError(f"cannot read reported entry: {e.strerror}", where=str(path)) from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"reported entry is not valid JSON ({e})", where=str(path)) from e
    try:
        return ReportedEntry.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()[:5])
        raise UserError(
            f"invalid reported entry: {problems}",
            where=str(path),
            fix="See leaderboard/schema/reported.schema.json and docs/leaderboard.md.",
        ) from e


def find_reported(folder: Path) -> list[Path]:
    """The reported entries (``*.json``) in ``folder``, sorted; none when it does not exist."""
    folder = Path(folder)
    return sorted(folder.glob("*.json")) if folder.is_dir() else []
