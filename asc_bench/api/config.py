"""Plugin configs: the pydantic base every plugin's ``Config`` derives from, and fields left out of the spec hash."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from asc_bench.core.strict import StrictModel

Domain = Literal["waveform", "features"]
SplitName = Literal["train", "validation", "test"]
NOT_SEMANTIC = {"semantic": False}
"""Pass as ``json_schema_extra`` on a config field that does not change results (e.g. a path)."""


class PluginConfig(StrictModel):
    """Base of every plugin's config: unknown fields are errors; ``type`` names the plugin."""

    type: str

    def resolved(self) -> PluginConfig:
        """This config as trials must see it, wherever they run: relative paths made absolute.

        The driver calls it before sending the spec to Ray; override it to fill in defaults that depend
        on the driver's environment (e.g. a cache folder from an environment variable).
        """
        updates = {
            name: Path(value).expanduser().absolute()
            for name, value in self
            if isinstance(value, Path) and not value.is_absolute()
        }
        return self.model_copy(update=updates) if updates else self


def non_semantic(default: Any = ..., **kwargs: Any) -> Any:
    """A pydantic ``Field`` left out of the spec hash (paths, worker counts: they do not change results)."""
    return Field(default, json_schema_extra=NOT_SEMANTIC, **kwargs)
