"""Safe YAML loading that remembers where every value came from (for ``file:line:col`` errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from asc_bench.core.errors import UserError

Position = tuple[int, int] | str  # 1-based line and column in the file, or the --set argument that set the value
PathKey = tuple[str | int, ...]


def _construct(node: yaml.Node, path: PathKey, positions: dict[PathKey, Position]) -> Any:
    positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if key in out:
                line = key_node.start_mark.line + 1
                raise UserError(f"the key {key!r} appears twice (again at line {line}).", fix="Keep one.")
            positions[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _construct(value_node, (*path, key), positions)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), positions) for i, item in enumerate(node.value)]
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
        raise UserError("the spec file is empty.", where=str(path), fix="Start from specs/quickstart.yaml.")
    try:
        data = _construct(node, (), positions)
    except UserError as exc:
        raise UserError(str(exc), where=str(path)) from None
    except yaml.YAMLError as exc:
        raise UserError(f"the spec has a value YAML cannot read safely: {exc}.", where=str(path)) from None
    return data, positions
