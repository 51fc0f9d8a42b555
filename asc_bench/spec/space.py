"""The search space of a spec (``tune.space``): distributions over dotted spec paths.

A dimension is a mapping with exactly one key (``choice``, ``grid``, ``uniform``, ``loguniform``,
``randint``, ``quniform``) whose value gives the options or bounds. This module checks the paths
against a validated spec and writes sampled values into spec data; :mod:`asc_bench.search.space`
turns dimensions into Ray Tune domains and draws samples.
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from asc_bench.core.errors import UserError
from asc_bench.core.strict import StrictModel
from asc_bench.core.text import parse_dotted

KINDS = ("choice", "grid", "uniform", "loguniform", "randint", "quniform")
NOT_SEARCHABLE = ("name", "description", "seeds", "tune", "output")
"""Top-level spec fields that do not describe a configuration (they stay fixed in a search)."""


class Distribution(StrictModel):
    """One dimension of a search: exactly one of these keys."""

    choice: list[Any] | None = Field(
        None, min_length=1, description="Pick one of these values at random (any value, e.g. a whole plugin config)."
    )
    grid: list[Any] | None = Field(
        None, min_length=1, description="Try every value (crossed with the other grid dimensions)."
    )
    uniform: tuple[float, float] | None = Field(None, description="[low, high]: a float drawn uniformly.")
    loguniform: tuple[float, float] | None = Field(
        None, description="[low, high] with 0 < low: a float drawn uniformly in log space."
    )
    randint: tuple[int, int] | None = Field(None, description="[low, high]: an integer, high excluded (as Ray Tune).")
    quniform: tuple[float, float, float] | None = Field(
        None, description="[low, high, q]: uniform in [low, high], rounded to a multiple of q."
    )

    @model_validator(mode="after")
    def _one_valid_kind(self) -> Distribution:
        given = [kind for kind in KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(KINDS)} (got {', '.join(given) or 'none'})")
        if self.kind in ("choice", "grid"):
            return self
        low, high, *rest = self.args
        if not all(math.isfinite(v) for v in self.args):
            raise ValueError(f"{self.kind} bounds must be finite numbers")
        if not low < high:
            raise ValueError(f"{self.kind} needs low < high, got [{low}, {high}]")
        if self.kind == "loguniform" and low <= 0:
            raise ValueError(f"loguniform needs 0 < low, got {low}")
        if self.kind == "quniform" and not 0 < rest[0] <= high - low:
            raise ValueError(f"quniform needs 0 < q <= high - low, got q = {rest[0]}")
        return self

    @property
    def kind(self) -> str:
        """Which of :data:`KINDS` this dimension is."""
        return next(kind for kind in KINDS if getattr(self, kind) is not None)

    @property
    def args(self) -> Any:
        """The options or bounds."""
        return getattr(self, self.kind)

    def probes(self) -> list[Any]:
        """Values the driver validates before any trial: every option, both ends and an inner value."""
        if self.kind in ("choice", "grid"):
            return list(self.args)
        low, high, *rest = self.args
        if self.kind == "randint":
            return [low, high - 1]
        if self.kind == "quniform":
            q = rest[0]
            return sorted({float(np.round(low / q) * q), float(np.round(high / q) * q)})
        inner = math.sqrt(low * high) if self.kind == "loguniform" else low + 0.382 * (high - low)
        return [low, high, inner]


def _lookup(data: Any, path: tuple[str | int, ...]) -> bool:
    for part in path:
        if isinstance(data, dict) and part in data or isinstance(data, list) and _index_in(part, data):
            data = data[part]  # type: ignore[index]
        else:
            return False
    return True


def _index_in(part: str | int, items: list[Any]) -> bool:
    return isinstance(part, int) and part < len(items)


def _all_paths(data: Any, prefix: str = "") -> list[str]:
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    paths = []
    for key, value in items:
        path = f"{prefix}.{key}" if prefix else str(key)
        paths += [path, *_all_paths(value, path)]
    return paths


def check_space(
    space: dict[str, Distribution],
    *,
    full: dict[str, Any],
    semantic: dict[str, Any],
    where: Callable[[str], str],
) -> None:
    """Refuse space paths that are not in the spec (with suggestions), not searchable, or overlapping.

    ``full`` is the validated spec dumped with defaults, ``semantic`` its part that the spec hash covers.
    """
    for key in space:
        path = parse_dotted(key)
        if path[0] in NOT_SEARCHABLE:
            raise UserError(
                f"`{path[0]}` cannot be searched: it does not describe a configuration.",
                where=where(key),
                fix="Search model, data or trainer fields, e.g. trainer.optimizer.lr.",
            )
        if not _lookup(full, path):
            searchable = {name: value for name, value in full.items() if name not in NOT_SEARCHABLE}
            close = difflib.get_close_matches(key, _all_paths(searchable))
            hint = "Write the dotted path of a spec field, list positions as numbers (data.transforms.1.n_mels)."
            raise UserError(
                f"the spec has no field `{key}` to search.",
                where=where(key),
                fix=f"Did you mean {' or '.join(f'`{c}`' for c in close)}?" if close else hint,
            )
        if not _lookup(semantic, path):
            raise UserError(
                f"`{key}` does not change results (it is not part of the spec hash, like a path), so searching it "
                "would give no distinct configurations.",
                where=where(key),
                fix="Remove it from tune.space.",
            )
        for other in space:
            if other != key and parse_dotted(other)[: len(path)] == path:
                raise UserError(
                    f"`{key}` and `{other}` overlap: one is inside the other.", where=where(key), fix="Keep one."
                )


def apply_values(spec_data: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``spec_data`` with each dotted path set to its value."""
    data = copy.deepcopy(spec_data)
    for key, value in values.items():
        *parents, last = parse_dotted(key)
        node: Any = data
        for part in parents:
            node = node[part]
        node[last] = copy.deepcopy(value)
    return data


def get_value(data: Any, key: str) -> Any:
    """The value at a dotted path of spec data."""
    for part in parse_dotted(key):
        data = data[part]
    return data


def describe(values: dict[str, Any], width: int = 60) -> str:
    """``trainer.optimizer.lr=0.0031, model.base_channels=24`` (long values shortened)."""

    def short(value: Any) -> str:
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        return text if len(text) <= width else text[: width - 1] + "…"

    return ", ".join(f"{key}={short(value)}" for key, value in values.items())
