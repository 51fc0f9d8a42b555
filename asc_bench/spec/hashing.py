"""The spec hash: a canonical digest of the fields that determine results (records of one hash are seeds of one
configuration; the leaderboard groups them). Fields marked ``non_semantic`` (paths, worker counts), the top-level
name, seeds, tune and output sections, and fields a config reports as unused are left out; fields marked
``{"semantic": "unless_default"}`` only while they hold their default."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from asc_bench.spec.model import Spec

NON_SEMANTIC_TOP_LEVEL = ("name", "seeds", "tune", "output", "description")


def _strip_non_semantic(model: BaseModel, dumped: dict[str, Any]) -> dict[str, Any]:
    out = {}
    unused = model.unused_fields() if hasattr(model, "unused_fields") else set()
    for name, field in type(model).model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("semantic") is False or name not in dumped or name in unused:
            continue
        if extra.get("semantic") == "unless_default" and getattr(model, name) == field.default:
            continue  # a field added after specs were hashed: their hashes stay as they were
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            out[name] = _strip_non_semantic(value, dumped[name])
        elif isinstance(value, list):
            out[name] = [
                _strip_non_semantic(v, d) if isinstance(v, BaseModel) else d
                for v, d in zip(value, dumped[name], strict=True)
            ]
        else:
            out[name] = dumped[name]
    return out


def semantic_dict(spec: Spec) -> dict[str, Any]:
    """The fields that determine results (no name, seeds, output, paths)."""
    dumped = spec.model_dump(mode="json")
    out = _strip_non_semantic(spec, dumped)
    for key in NON_SEMANTIC_TOP_LEVEL:
        out.pop(key, None)
    return out


def spec_hash(spec: Spec) -> str:
    """A short canonical hash of the spec's semantic fields (the leaderboard groups seeds by it)."""
    canonical = json.dumps(semantic_dict(spec), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
