"""Generated docs stay current: the committed pages equal what the installed plugins produce."""

from __future__ import annotations

from pathlib import Path

import pytest

from asc_bench.cli.docgen import models_markdown, plugin_options_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize(
    ("page", "render"), [("models.md", models_markdown), ("plugin-options.md", plugin_options_markdown)]
)
def test_generated_page_is_current(page: str, render) -> None:  # noqa: ANN001
    assert (DOCS / page).read_text() == render(), f"docs/{page} is stale: run `asc-bench docs`"


def test_model_page_has_the_published_figures() -> None:
    text = (DOCS / "models.md").read_text()
    for figure in ("61,148", "29,419,156", "126,952", "28,893,268", "124,862", "54,270", "29,700,320", "46,118"):
        assert figure in text
