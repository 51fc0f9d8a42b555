"""Safe YAML loading that remembers where every value came from (for ``file:line:col`` errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from asc_bench.core.errors import UserError

Position = tuple[str, int, int] | str
"""Where a value was written: the file and its 1-based line and column, or the --set argument that set it."""
PathKey = tuple[str | int, ...]
MERGE_TAG = "tag:yaml.org,2002:merge"


def _mark(source: str, node: yaml.Node) -> Position:
    return (source, node.start_mark.line + 1, node.start_mark.column + 1)


def _check_repeated_keys(node: yaml.Node, visited: set[int]) -> None:
    """Refuse a key written twice in one mapping, anywhere in the document, before merge keys are expanded (keys
    that ``<<: *anchor`` brings in may be overridden)."""
    if id(node) in visited:  # an alias of a node already checked
        return
    visited.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_repeated_keys(item, visited)
    if not isinstance(node, yaml.MappingNode):
        return
    seen: set[Any] = set()
    for key_node, value_node in node.value:
        _check_repeated_keys(value_node, visited)
        if key_node.tag == MERGE_TAG:
            continue
        key = _scalar(key_node)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise UserError(f"the key {key!r} appears twice (again at line {line}).", fix="Keep one.")
        seen.add(key)


def _construct(node: yaml.Node, path: PathKey, positions: dict[PathKey, Position], source: str) -> Any:
    positions.setdefault(path, _mark(source, node))
    if isinstance(node, yaml.MappingNode):
        yaml.SafeLoader("").flatten_mapping(node)  # YAML merge keys (<<: *base): merged pairs first, own keys last
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            positions[(*path, key)] = _mark(source, key_node)
            out[key] = _construct(value_node, (*path, key), positions, source)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), positions, source) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    return yaml.SafeLoader("").construct_object(node, deep=True)


def load_yaml(path: Path) -> tuple[Any, dict[PathKey, Position]]:
    """Parse a YAML file with the safe loader; return the data and a map from value paths to positions
    (of the key for mapping entries, so errors point at the field's name)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"the spec file {path} does not exist.", fix="Check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the spec file {path}: {exc}.", fix="Check the file.") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as exc:  # a NUL or other control character
        line, col = text.count("\n", 0, exc.position) + 1, exc.position - text.rfind("\n", 0, exc.position)
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise UserError(
            f"the spec contains the control character U+{ord(char):04X}, which YAML does not allow.",
            where=f"{path}:{line}:{col}",
            fix="Delete it (editors may show it as ^@ or not at all; `cat -A FILE` shows it); only tabs and "
            "newlines may appear besides printable text.",
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or "malformed YAML"
        raise UserError(
            f"the spec is not valid YAML: {problem}" + (f" ({exc.context})" if exc.context else "") + ".",
            where=where,
            fix="Check indentation, colons and quoting around that position.",
        ) from None
    positions: dict[PathKey, Position] = {}
    if node is None:
        raise UserError(
            "the spec file is empty.",
            where=str(path),
            fix="Write a starter spec with `asc-bench init --recipe quickstart FILE` (`asc-bench init --list` lists "
            "the recipes).",
        )
    try:
        _check_repeated_keys(node, set())
        data = _construct(node, (), positions, str(path))
    except UserError as exc:
        raise UserError(str(exc), where=str(path)) from None
    except yaml.MarkedYAMLError as exc:  # e.g. a merge key (<<:) whose value is not a mapping
        mark = exc.problem_mark
        raise UserError(
            f"the spec has a value YAML cannot read: {exc.problem}.",
            where=f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path),
            fix="A merge key `<<:` takes an anchored mapping (`<<: *base`) or a list of them.",
        ) from None
    except yaml.YAMLError as exc:
        raise UserError(f"the spec has a value YAML cannot read safely: {exc}.", where=str(path)) from None
    return data, positions
