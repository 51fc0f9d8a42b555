"""A spec as trials must see it: plugin configs resolved (absolute paths), an absolute output folder, and every
teacher spec it names loaded, validated and hashed (its hash is part of the student's).

Teacher specs may name teachers of their own; ``chain`` carries the teacher spec files being resolved, outermost
first, so that a cycle is refused instead of recursing for ever.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from asc_bench.api.teacher import TeacherSource, teacher_fields
from asc_bench.core.errors import UserError
from asc_bench.spec.compose import named_recipe
from asc_bench.spec.hashing import spec_hash
from asc_bench.spec.model import Spec
from asc_bench.spec.validate import load_spec


@dataclass(frozen=True)
class Teacher:
    """A teacher spec named by a student's trainer config field: where it is, and the teacher as it will run."""

    field: str
    source: TeacherSource
    spec: Spec

    @property
    def where(self) -> str:
        """The student's spec field that names it."""
        return f"trainer.{self.field}.spec"


def resolve_for_run(spec: Spec, *, chain: tuple[Path, ...] = ()) -> Spec:
    """The spec as trials must see it: every plugin config ``resolved()`` (absolute paths, fixed defaults), an
    absolute output folder and the hash of each teacher spec (validated here). Its hash is unchanged by the paths
    (they are not semantic)."""
    data = spec.data
    new_data = data.model_copy(
        update={
            "dataset": data.dataset.resolved(),
            "cache": data.cache.resolved(),
            "transforms": [t.resolved() for t in data.transforms],
        }
    )
    output = spec.output.model_copy(update={"dir": spec.output.dir.expanduser().absolute()})
    resolved = spec.model_copy(
        update={
            "data": new_data,
            "model": spec.model.resolved(),
            "trainer": spec.trainer.resolved(),
            "output": output,
        }
    )
    update = {t.field: t.source.model_copy(update={"spec_hash": spec_hash(t.spec)}) for t in teachers(resolved, chain)}
    if not update:
        return resolved
    return resolved.model_copy(update={"trainer": resolved.trainer.model_copy(update=update)})


def teachers(student: Spec, chain: tuple[Path, ...] = ()) -> list[Teacher]:
    """The teacher specs the (resolved) student's trainer names, each loaded and resolved as it will run."""
    found = []
    for name in teacher_fields(student.trainer):
        source: TeacherSource = getattr(student.trainer, name)
        if source.spec is not None:
            found.append(Teacher(name, source, load_teacher_spec(source, student, f"trainer.{name}.spec", chain)))
    return found


def load_teacher_spec(source: TeacherSource, student: Spec, where: str, chain: tuple[Path, ...] = ()) -> Spec:
    """The teacher spec as it will run: its file, the student's dataset and output folder, then ``source.set``."""
    path = source.spec
    if source.names_recipe():
        path = named_recipe(str(path), where)
    if path is None or not path.is_file():
        raise UserError(
            f"the teacher spec {path} does not exist.",
            where=where,
            fix="Point `spec` at a spec file (relative paths are taken from the current folder) or at a shipped "
            "recipe (`recipe:NAME`), or give {logits: FILE} from `asc-bench predict`.",
        )
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise UserError(f"the teacher specs form a cycle: {cycle}.", where=where, fix="Break the cycle.")
    shared = [f"output.dir={json.dumps(str(student.output.dir))}"]
    if source.share_dataset:
        shared.append(f"data.dataset={json.dumps(student.data.dataset.model_dump(mode='json'))}")
    try:
        teacher = load_spec(path, [*shared, *source.set])
    except UserError as exc:
        raise UserError(f"the teacher spec is invalid: {exc}", where=where) from None
    return resolve_for_run(teacher, chain=(*chain, path))  # its own teachers are loaded (and checked) here


def teacher_key(teacher: Spec, source: TeacherSource) -> str:
    """Everything that determines a teacher's logits: its full resolved spec (paths and seeds included), the split
    predicted and the precision."""
    content = {"spec": teacher.model_dump(mode="json"), "split": source.split, "precision": source.precision}
    content["spec"].pop("output", None)
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return f"{spec_hash(teacher)}-{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"


def teacher_logits_path(teacher: Spec, source: TeacherSource) -> Path:
    """Where a teacher's logits are written: ``source.logits``, else beside its runs, keyed by :func:`teacher_key`
    (shared by every student of that teacher)."""
    if source.logits is not None:
        return source.logits
    return Path(teacher.output.dir) / teacher.name / "teacher-logits" / f"{teacher_key(teacher, source)}.logits.pt"
