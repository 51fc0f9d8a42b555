"""Small text helpers shared across the framework: natural ordering and dotted field paths."""

from __future__ import annotations

import re

PathPart = str | int
RECIPE_PREFIX = "recipe:"
"""How a spec names a recipe shipped with asc-bench instead of a file: ``recipe:NAME``."""


def natural_key(text: str) -> list[int | str]:
    """Sort key that orders embedded numbers by value: ``s2`` before ``s10``, ``9.wav`` before ``10.wav``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def parse_dotted(key: str) -> tuple[PathPart, ...]:
    """``trainer.optimizer.lr`` → ``("trainer", "optimizer", "lr")``; numeric parts become list indices."""
    return tuple(int(part) if part.isdigit() else part for part in key.strip().split("."))
