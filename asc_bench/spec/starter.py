"""Starter specs (``asc-bench init``): a file that ``extends`` a shipped recipe, with the editor-schema modeline,
its own experiment name and the recipe's most edited fields as commented examples."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from asc_bench.core.errors import UserError
from asc_bench.core.files import atomic_write_text
from asc_bench.core.text import RECIPE_PREFIX
from asc_bench.spec.compose import compose, recipe_names, recipe_path

SCHEMA_FILE = "asc-bench.schema.json"
"""The JSON Schema the starter's modeline names, beside the spec (``asc-bench schema --out``)."""


def recipe_descriptions() -> dict[str, str]:
    """Each shipped recipe's ``description``, by name."""
    out = {}
    for name in recipe_names():
        data, _ = compose(recipe_path(name))
        out[name] = str(data.get("description", "")) if isinstance(data, dict) else ""
    return out


def experiment_name(path: Path) -> str:
    """An experiment name (a folder name) made from a spec file's name: ``my exp.yaml`` → ``my-exp``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-.") or "experiment"


def _examples(recipe: dict[str, Any]) -> list[str]:
    """Commented overrides of the fields a researcher changes first, with the recipe's values."""
    data, trainer = recipe.get("data", {}), recipe.get("trainer", {})
    dataset = data.get("dataset", {})
    lines = ["# Override what you change; for example (the recipe's values):", "# seeds: " + str(recipe.get("seeds"))]
    lines += ["# data:", f"#   dataset: {{root: {dataset.get('root')}, split: {dataset.get('split')}}}"]
    lines += ["# trainer:", f"#   epochs: {trainer.get('epochs')}"]
    if isinstance(trainer.get("optimizer"), dict):
        lines.append(f"#   optimizer: {{lr: {trainer['optimizer'].get('lr')}}}")
    teacher = trainer.get("teacher")
    if isinstance(teacher, dict) and teacher.get("spec"):
        name = str(teacher["spec"]).removeprefix(RECIPE_PREFIX)
        lines += [
            f"# Its teacher is the recipe {name}; to change it, write your own with",
            f"# `asc-bench init --recipe {Path(name).stem} teacher.yaml` and set",
            "#   trainer: {teacher: {spec: teacher.yaml}}",
        ]
    return lines


def starter_text(recipe: str, name: str) -> str:
    """The text of a starter spec named ``name`` that extends the shipped recipe ``recipe``."""
    data, _ = compose(recipe_path(recipe))
    description = data.get("description", "") if isinstance(data, dict) else ""
    lines = [
        f"# yaml-language-server: $schema={SCHEMA_FILE}",
        f"# Derived from the recipe `{recipe}` shipped with asc-bench: {description}",
        "# `extends` loads the recipe first; what this file writes overrides it: mappings merge key by key, lists",
        "# and values replace, null removes a key. `asc-bench show FILE` prints the merged spec (docs/specs.md).",
        f"extends: {RECIPE_PREFIX}{recipe}",
        f"name: {name}",
        "",
        *_examples(data if isinstance(data, dict) else {}),
    ]
    return "\n".join(lines) + "\n"


def write_starter(path: Path, recipe: str, name: str | None = None) -> Path:
    """Write a starter spec to ``path`` (never over an existing file) and return it."""
    if path.exists():
        raise UserError(
            f"{path} already exists; asc-bench init does not overwrite files.",
            fix="Give another file name, or delete that file first.",
        )
    if not path.parent.is_dir():
        raise UserError(f"the folder {path.parent} does not exist.", fix="Create it first, or give another path.")
    atomic_write_text(path, starter_text(recipe, name or experiment_name(path)))
    return path
