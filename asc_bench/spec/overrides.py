"""``--set path=value`` overrides of spec data, applied before validation."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from asc_bench.core.errors import UserError
from asc_bench.core.text import parse_dotted
from asc_bench.spec.yaml_positions import PathKey, Position


def parse_override(text: str) -> tuple[list[str | int], Any]:
    """Split ``a.b.0.c=value`` into a path and a YAML-parsed value."""
    if "=" not in text:
        raise UserError(f"--set {text!r} is not of the form path=value.", fix="Use e.g. --set trainer.epochs=2.")
    key, _, value_text = text.partition("=")
    path: list[str | int] = list(parse_dotted(key))
    try:
        value = yaml.safe_load(value_text) if value_text.strip() else ""
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
        result[path] = f"--set {text}"
    return result
