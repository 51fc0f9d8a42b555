"""The pydantic base of every framework-owned settings and file model: unknown fields are errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A pydantic model that refuses unknown fields (a misspelt setting is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid")
