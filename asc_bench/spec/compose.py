"""Spec composition: ``extends:`` names one base spec or a list of them (paths relative to the extending file, or
``recipe:NAME`` for a recipe shipped with asc-bench); the bases are merged in order, then the extending file on
top. Mappings merge key by key, recursively; lists and other values replace the base's; null removes a key the
base sets (its default applies), as in JSON Merge Patch (RFC 7396). Every merged value keeps the position of the
file that wrote it, so validation errors name that file's line."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from asc_bench.core.errors import UserError
from asc_bench.core.text import RECIPE_PREFIX, natural_key
from asc_bench.spec.yaml_positions import PathKey, Position, load_yaml

EXTENDS = "extends"
RECIPES = Path(__file__).resolve().parents[1] / "recipes"
"""The recipe specs shipped inside the package (``specs/`` in a checkout links here); bases in ``bases/``."""

Positions = dict[PathKey, Position]


def recipe_names() -> list[str]:
    """The shipped recipes a user may start from (the bases they extend are left out)."""
    return sorted((path.stem for path in RECIPES.glob("*.yaml")), key=natural_key)


def recipe_path(name: str, where: str = "") -> Path:
    """The file of the shipped recipe ``name`` (``bases/NAME`` for a base); unknown names are refused."""
    path = RECIPES / f"{name}.yaml"
    if ".." in Path(name).parts or not path.is_file():
        names = recipe_names()
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"Did you mean `{close[0]}`? " if close else ""
        raise UserError(
            f"asc-bench ships no recipe named {name!r}.",
            where=where or None,
            fix=f"{hint}The recipes are: {', '.join(names)} (`asc-bench init --list`).",
        )
    return path


def named_recipe(reference: str, where: str = "") -> Path:
    """The file of a ``recipe:NAME`` reference (``extends:`` or a teacher's ``spec``); unknown names are refused."""
    return recipe_path(reference.removeprefix(RECIPE_PREFIX).strip(), where)


def compose(path: Path) -> tuple[Any, Positions]:
    """Load a spec file with its ``extends:`` bases merged in; return the data and the positions of its values."""
    return _compose(path, ())


def compose_data(data: Any, folder: Path) -> tuple[Any, Positions]:
    """Spec data (a mapping as the YAML would give) with its ``extends:`` bases merged in; relative base paths
    are taken from ``folder``."""
    return _with_bases(data, {}, folder / "<spec>", ())


def _compose(path: Path, chain: tuple[Path, ...]) -> tuple[Any, Positions]:
    data, positions = load_yaml(path)
    return _with_bases(data, positions, path, chain)


def _with_bases(data: Any, positions: Positions, path: Path, chain: tuple[Path, ...]) -> tuple[Any, Positions]:
    if not isinstance(data, dict) or EXTENDS not in data:
        return data, positions
    merged: dict[str, Any] | None = None
    merged_positions: Positions = {}
    chain = (*chain, path.resolve())
    for base, where in _bases(data[EXTENDS], path, positions):
        if base.resolve() in chain:
            cycle = " -> ".join(str(p) for p in (*chain, base.resolve()))
            raise UserError(f"the specs extend each other in a cycle: {cycle}.", where=where, fix="Break the cycle.")
        base_data, base_positions = _compose(base, chain)
        if not isinstance(base_data, dict):
            raise UserError(f"the base spec {base} is not a YAML mapping.", where=where, fix="Extend a spec file.")
        if merged is None:
            merged, merged_positions = base_data, dict(base_positions)
        else:
            merged = merge(merged, merged_positions, base_data, base_positions)
    own = {key: value for key, value in data.items() if key != EXTENDS}
    own_positions = {key: value for key, value in positions.items() if key[:1] != (EXTENDS,)}
    return merge(merged, merged_positions, own, own_positions), merged_positions


def _bases(value: Any, path: Path, positions: Positions) -> list[tuple[Path, str]]:
    """The files ``extends:`` names, each with the ``file:line:col`` that names it."""
    items = value if isinstance(value, list) else [value]
    found = []
    for i, item in enumerate(items):
        where = _where(positions, (EXTENDS, i) if isinstance(value, list) else (EXTENDS,), path)
        if not isinstance(item, str) or not item.strip():
            raise UserError(
                f"`extends` takes a file name or a list of them (got {item!r}).",
                where=where,
                fix="For example `extends: base.yaml` (relative to this file) or `extends: recipe:quickstart`.",
            )
        if item.startswith(RECIPE_PREFIX):
            found.append((named_recipe(item, where), where))
            continue
        base = (path.parent / item).expanduser()
        if not base.is_file():
            raise UserError(
                f"the base spec {base} does not exist.",
                where=where,
                fix="`extends` paths are relative to the extending file; `recipe:NAME` names a shipped recipe.",
            )
        found.append((base, where))
    return found


def _where(positions: Positions, key: PathKey, path: Path) -> str:
    position = positions.get(key) or positions.get((EXTENDS,))
    if isinstance(position, tuple):
        file, line, col = position
        return f"{file}:{line}:{col}: extends"
    return f"{path}: extends"


def merge(base: Any, positions: Positions, over: Any, over_positions: Positions, path: PathKey = ()) -> Any:
    """``over`` merged onto ``base``: mappings key by key, recursively; null removes a key ``base`` has; anything
    else replaces. ``positions`` (of ``base``) is updated in place to those of the result: each value keeps the
    position of the file that wrote it."""
    if not (isinstance(base, dict) and isinstance(over, dict)):
        _replace(positions, over_positions, path)
        return over
    if path in over_positions:
        positions[path] = over_positions[path]
    out = dict(base)
    for key, value in over.items():
        sub = (*path, key)
        if isinstance(base.get(key), dict) and isinstance(value, dict):
            out[key] = merge(base[key], positions, value, over_positions, sub)
        elif value is None and key in base:
            _replace(positions, {}, sub)
            del out[key]
        else:
            _replace(positions, over_positions, sub)
            out[key] = value
    return out


def _replace(positions: Positions, over_positions: Positions, path: PathKey) -> None:
    """Positions at and under ``path`` become those of the value that replaces it."""
    cut = len(path)
    for key in [key for key in positions if key[:cut] == path]:
        del positions[key]
    positions.update({key: where for key, where in over_positions.items() if key[:cut] == path})
