"""Teacher sources: where a distilling trainer's teacher predictions come from (a trainer config field type)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from asc_bench.api.config import non_semantic
from asc_bench.core.strict import StrictModel
from asc_bench.core.text import RECIPE_PREFIX


class TeacherSource(StrictModel):
    """Where a distilling trainer's teacher predictions come from: ``{logits: FILE}`` or ``{spec: FILE}``."""

    logits: Path | None = non_semantic(
        None,
        description="A logits file written by `asc-bench predict` (one or several runs averaged), keyed by clip id. "
        "With `spec`: where the trained teacher's logits are written (default: beside the teacher's runs, "
        "<output.dir>/<teacher name>/teacher-logits/, shared by every student of that teacher). Not part of the "
        "spec hash.",
    )
    spec: Path | None = non_semantic(
        None,
        description="A teacher spec trained first in the same `asc-bench run` (every seed, averaged as an "
        "ensemble); reused on later runs while it and its data are unchanged. Its hash is part of this spec's hash. "
        "A file (relative paths are taken from the current folder) or `recipe:NAME` for a shipped recipe.",
    )
    set: list[str] = non_semantic(
        [],
        description="`--set` style overrides for the teacher spec, e.g. [trainer.epochs=10]; applied after "
        "`share_dataset` and the student's output folder.",
    )
    share_dataset: bool = non_semantic(
        True,
        description="Train the teacher on the student's `data.dataset` (so that the teacher has logits for every "
        "student clip), replacing the teacher spec's own.",
    )
    split: Literal["train", "all"] = Field(
        "all", description="Which clips of the teacher's dataset to predict: the training split, or every clip."
    )
    precision: Literal["deployed", "float32"] = Field(
        "float32", description="Predict with the teachers as deployed (their limits.param_dtype) or in float32."
    )
    spec_hash: str | None = Field(
        None,
        description="Filled in by `asc-bench run`: the hash of the teacher spec (leave empty).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> TeacherSource:
        if self.logits is None and self.spec is None:
            raise ValueError("give the teacher as {logits: FILE} (from `asc-bench predict`) or {spec: FILE}")
        return self

    def unused_fields(self) -> set[str]:
        """Fields that do not apply, left out of the spec hash: a logits file has no split, precision or hash."""
        return {"split", "precision", "spec_hash"} if self.spec is None else set()

    def names_recipe(self) -> bool:
        """Whether ``spec`` is ``recipe:NAME`` (a recipe shipped with asc-bench) rather than a file."""
        return self.spec is not None and str(self.spec).startswith(RECIPE_PREFIX)

    def resolved(self) -> TeacherSource:
        """Absolute paths (the teacher spec's hash is filled in by :func:`with_teacher_hashes`)."""
        update: dict[str, Any] = {}
        if self.logits is not None:
            update["logits"] = self.logits.expanduser().absolute()
        if self.spec is not None and not self.names_recipe():
            update["spec"] = self.spec.expanduser().absolute()
        return self.model_copy(update=update)


def teacher_fields(trainer: BaseModel) -> list[str]:
    """Names of the trainer config's fields that hold a :class:`TeacherSource`."""
    return [name for name in type(trainer).model_fields if isinstance(getattr(trainer, name), TeacherSource)]
