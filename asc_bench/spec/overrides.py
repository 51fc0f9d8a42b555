"""``--set path=value`` and ``--sweep path=v1,v2`` overrides of spec data, applied before validation.

Inside ``tune.space`` the keys are themselves dotted spec paths, so ``--set tune.space.trainer.optimizer.lr=...``
sets the space's key ``trainer.optimizer.lr``. ``--sweep path=v1,v2`` is short for
``--set 'tune.space.path={grid: [v1, v2]}'`` (commas inside brackets or braces do not split values).
"""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml

from asc_bench.core.errors import UserError
from asc_bench.core.text import parse_dotted
from asc_bench.spec.yaml_positions import PathKey, Position

SWEEP_NOTE = "  # --sweep "
"""Ends the ``--set`` a ``--sweep`` becomes (a YAML comment), so that its errors name the ``--sweep`` as given."""
_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")
"""A number such as ``1e-3``, which YAML 1.1 (PyYAML) reads as text."""


def _numbers(value: Any) -> Any:
    """``value`` with text such as ``1e-3`` (inside lists and mappings too) read as the float it means."""
    if isinstance(value, str) and _EXPONENT.fullmatch(value):
        return float(value)
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    return value


def parse_override(text: str) -> tuple[list[str | int], Any]:
    """Split ``a.b.0.c=value`` into a path and a YAML-parsed value."""
    if "=" not in text:
        raise UserError(f"--set {text!r} is not of the form path=value.", fix="Use e.g. --set trainer.epochs=2.")
    key, _, value_text = text.partition("=")
    path: list[str | int] = list(parse_dotted(key))
    if path[:2] == ["tune", "space"] and len(path) > 2:  # a space's key is a whole dotted path
        path = ["tune", "space", ".".join(map(str, path[2:]))]
    try:
        value = _numbers(yaml.safe_load(value_text)) if value_text.strip() else ""
    except yaml.YAMLError:
        value = value_text
    return path, value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``--set`` overrides to spec data (a new dict; the input is unchanged)."""
    raw = copy.deepcopy(raw)
    for text in overrides:
        path, value = parse_override(text)
        node: Any = raw
        for i, key in enumerate(path[:-1]):
            nxt = path[i + 1]
            if isinstance(node, list):
                if not isinstance(key, int) or key >= len(node):
                    raise UserError(f"--set {text}: index {key} is out of range.", fix="Check the list length.")
                node = node[key]
            else:
                node = node.setdefault(key, [] if isinstance(nxt, int) else {})
        last = path[-1]
        if isinstance(node, list) and isinstance(last, int) and last < len(node) or isinstance(node, dict):
            node[last] = value
        else:
            raise UserError(f"--set {text}: cannot set {last!r} there.", fix="Check the path.")
    return raw


def override_positions(positions: dict[PathKey, Position], overrides: list[str]) -> dict[PathKey, Position]:
    """The positions of a spec file with each ``--set`` value (and everything under it) pointing at its argument,
    so that an error in a value given on the command line names the ``--set``, not the file's line."""
    result = dict(positions)
    for text in overrides:
        path = tuple(parse_override(text)[0])
        result = {key: where for key, where in result.items() if key[: len(path)] != path}
        _, sweep, given = text.partition(SWEEP_NOTE)
        result[path] = f"--sweep {given}" if sweep else f"--set {text}"
    return result


def _split_values(text: str) -> list[str]:
    """``1e-3,3e-3`` → ``["1e-3", "3e-3"]``; commas inside ``[]`` or ``{}`` stay."""
    values, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in "[{") - (char in "]}")
        if char == "," and depth == 0:
            values.append(text[start:i])
            start = i + 1
    return [*values, text[start:]]


def sweep_overrides(sweeps: list[str]) -> list[str]:
    """``--sweep path=v1,v2`` options as the ``--set tune.space.path={grid: [v1, v2]}`` overrides they mean."""
    result = []
    for text in sweeps:
        key, sep, values_text = text.partition("=")
        if not sep or not key.strip() or not values_text.strip():
            raise UserError(
                f"--sweep {text!r} is not of the form path=value1,value2.",
                fix="Use e.g. --sweep trainer.optimizer.lr=1e-3,3e-3.",
            )
        values = [parse_override(f"x={item.strip()}")[1] for item in _split_values(values_text)]
        grid = yaml.safe_dump({"grid": values}, default_flow_style=True, sort_keys=False, width=float("inf")).strip()
        result.append(f"tune.space.{key.strip()}={grid}{SWEEP_NOTE}{text}")
    return result
