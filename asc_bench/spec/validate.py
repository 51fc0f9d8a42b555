"""Validating spec data: plugin names looked up, the typed :class:`~asc_bench.spec.model.Spec` built from exactly
those plugins, and every error mapped back to ``file:line:col: field: problem``."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from asc_bench.core.errors import UserError
from asc_bench.plugins import registry
from asc_bench.spec.compose import compose
from asc_bench.spec.hashing import semantic_dict
from asc_bench.spec.model import PLUGIN_SLOTS, TRANSFORMS_PATH, Spec, build_spec_model
from asc_bench.spec.overrides import apply_overrides, override_positions
from asc_bench.spec.space import check_space
from asc_bench.spec.yaml_positions import PathKey, Position

DEFAULT_CACHE = {"type": "memmap"}


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        if (
            isinstance(data, dict)
            and key in data
            or isinstance(data, list)
            and isinstance(key, int)
            and 0 <= key < len(data)
        ):
            data = data[key]
        else:
            return None
    return data


def _plugin_type(value: Any, where: str, kind: str) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise UserError(
            f"{where} must be a mapping with a `type` naming a {kind} plugin.",
            fix=f"For example `{where.rsplit('.', 1)[-1]}: {{type: NAME, ...}}`; `asc-bench plugins` lists names.",
        )
    return value["type"]


def _named_plugins(
    raw: dict[str, Any], source: str, positions: dict[PathKey, Position]
) -> dict[registry.Kind, list[str]]:
    names: dict[registry.Kind, list[str]] = {kind: [] for kind in registry.KINDS}
    for path, kind in PLUGIN_SLOTS.items():
        value = _get(raw, path)
        if value is None:
            continue
        where = _where(source, positions, path, ".".join(map(str, path)))
        name = _plugin_type(value, where, kind)
        registry.load(kind, name, where=_where(source, positions, (*path, "type"), ".".join(path) + ".type"))
        names[kind].append(name)
    transforms = _get(raw, TRANSFORMS_PATH)
    for i, item in enumerate(transforms if isinstance(transforms, list) else []):
        path = (*TRANSFORMS_PATH, i)
        label = f"data.transforms[{i}]"
        name = _plugin_type(item, _where(source, positions, path, label), "transform")
        registry.load("transform", name, where=_where(source, positions, (*path, "type"), label + ".type"))
        names["transform"].append(name)
    return names


def _where(source: str, positions: dict[PathKey, Position], path: PathKey, field: str) -> str:
    for cut in range(len(path), -1, -1):
        if path[:cut] in positions:
            position = positions[path[:cut]]
            if isinstance(position, str):  # the value came from a --set argument
                return f"{position}: {field}"
            file, line, col = position  # the file that wrote the value (a base spec, for a value it extends)
            return f"{file}:{line}:{col}: {field}"
    return f"{source}: {field}"


def _error_path(raw: Any, loc: tuple[Any, ...]) -> PathKey:
    """Map a pydantic error location to a path in the raw data (dropping union tags)."""
    path: list[str | int] = []
    node = raw
    for key in loc:
        if (
            isinstance(node, dict)
            and key in node
            or isinstance(node, list)
            and isinstance(key, int)
            and 0 <= key < len(node)
        ):
            node = node[key]
            path.append(key)
        elif isinstance(node, dict) and node.get("type") == key:
            continue  # the discriminator tag pydantic inserts for unions
        else:
            path.append(key)
            node = None
    return tuple(path)


def _format_errors(exc: ValidationError, raw: Any, source: str, positions: dict[PathKey, Position]) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        path = _error_path(raw, err["loc"])
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "(top)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (remove it or fix its spelling)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif "input" in err and err["type"] not in ("missing",):
            msg = f"{msg} (got {err['input']!r})"
        parts.append(f"{_where(source, positions, path, field)}: {msg}")
    return "; ".join(parts)


SpecModels = dict[tuple[tuple[str, tuple[str, ...]], ...], type[Spec]]
"""Spec models already built, by the plugins they name (a search validates thousands of configurations)."""


def validate_spec(
    raw: Any,
    *,
    source: str = "<spec>",
    positions: dict[PathKey, Position] | None = None,
    models: SpecModels | None = None,
) -> Spec:
    """Validate spec data (already parsed) and return the typed spec; errors name file:line:col and field.
    ``models`` keeps the spec models built for each set of plugin names, for callers that validate many specs."""
    positions = positions or {}
    if not isinstance(raw, dict):
        raise UserError("a spec must be a YAML mapping (name:, data:, model:, trainer: ...).", where=source)
    raw = copy.deepcopy(raw)
    if isinstance(raw.get("data"), dict):
        raw["data"].setdefault("cache", dict(DEFAULT_CACHE))
    names = _named_plugins(raw, source, positions)
    models = {} if models is None else models
    key = tuple((kind, tuple(found)) for kind, found in names.items())
    model = models.get(key) or models.setdefault(key, build_spec_model(names))
    try:
        spec = model.model_validate(raw)
    except ValidationError as exc:
        raise UserError(
            "the spec is invalid: " + _format_errors(exc, raw, source, positions) + ".",
            fix="Run `asc-bench schema` for every field, or see docs/specs.md.",
        ) from None
    check_space(
        spec.tune.space,
        full=spec.model_dump(mode="json"),
        semantic=semantic_dict(spec),
        where=lambda key: _where(source, positions, ("tune", "space", key), f"tune.space.{key}"),
    )
    check_trial_count(spec, _where(source, positions, ("tune", "num_samples"), "tune.num_samples"))
    return spec


def check_trial_count(spec: Spec, where: str = "tune.num_samples") -> None:
    """Refuse a search of more than ``tune.max_trials`` trials (samples x grid combinations x seeds), before
    any configuration is drawn."""
    tune = spec.tune
    grid = math.prod(len(dim.args) for dim in tune.space.values() if dim.kind == "grid")
    grid = grid if tune.search.type != "optuna" else 1
    trials = tune.num_samples * grid * len(spec.seeds)
    if trials > tune.max_trials:
        raise UserError(
            f"the search would run {trials:,} trials ({tune.num_samples:,} samples"
            + (f" x {grid:,} grid combinations" if grid > 1 else "")
            + f" x {len(spec.seeds)} seed(s)), more than tune.max_trials ({tune.max_trials:,}).",
            where=where,
            fix="Lower tune.num_samples (or the grid), or set tune.max_trials higher to run a search that large.",
        )


def load_spec(path: Path, overrides: list[str] | None = None) -> Spec:
    """Load a spec file (its ``extends:`` bases merged in), override and validate it."""
    raw, positions = compose(path)
    if overrides:
        if not isinstance(raw, dict):
            raise UserError("a spec must be a YAML mapping.", where=str(path))
        raw = apply_overrides(raw, overrides)
        positions = override_positions(positions, overrides)
    return validate_spec(raw, source=str(path), positions=positions)
