"""Teachers for distillation: a logits file, or a teacher spec trained first in the same ``asc-bench run``.

A trainer config declares a field of type :class:`TeacherSource`. Before any student trial starts, the driver
(:func:`prepare_teachers`) trains each teacher spec that has no up-to-date logits yet (all its seeds, through Ray
Tune like any run), predicts the ensemble of its runs on the student's clips (``asc-bench predict``), writes the
logits file and hands its path to the student's trials. A later run of the same student reuses the file; the
file is keyed by everything that determines it, so a changed teacher spec, dataset or seed list trains anew.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel
from rich.console import Console

from asc_bench.api.teacher import TeacherSource, teacher_fields
from asc_bench.core.errors import UserError

KEY_PREFIX = "teacher-key:"
_loading: list[Path] = []  # teacher spec files being loaded, outermost first (a cycle would never end)


def load_teacher_spec(source: TeacherSource, student: BaseModel, where: str) -> BaseModel:
    """The teacher spec as it will run: its file, the student's dataset and output folder, then ``source.set``."""
    from asc_bench.spec.validate import load_spec, resolve_for_run

    assert source.spec is not None
    if not source.spec.is_file():
        raise UserError(
            f"the teacher spec {source.spec} does not exist.",
            where=where,
            fix="Point `spec` at a spec file (relative paths are taken from the current folder), or give "
            "{logits: FILE} from `asc-bench predict`.",
        )
    if source.spec in _loading:
        chain = " -> ".join(str(p) for p in (*_loading, source.spec))
        raise UserError(f"the teacher specs form a cycle: {chain}.", where=where, fix="Break the cycle.")
    shared = [f"output.dir={json.dumps(str(student.output.dir))}"]  # type: ignore[attr-defined]
    if source.share_dataset:
        dataset = student.data.dataset.model_dump(mode="json")  # type: ignore[attr-defined]
        shared.append(f"data.dataset={json.dumps(dataset)}")
    try:
        teacher = load_spec(source.spec, [*shared, *source.set])
    except UserError as exc:
        raise UserError(f"the teacher spec is invalid: {exc}", where=where) from None
    _loading.append(source.spec)
    try:
        return resolve_for_run(teacher)  # its own teachers, if any, are loaded (and checked for cycles) here
    finally:
        _loading.pop()


def _key(teacher: BaseModel, source: TeacherSource) -> str:
    """Everything that determines the teacher's logits: its full resolved spec (paths and seeds included)."""
    from asc_bench.spec.validate import spec_hash

    content = {"spec": teacher.model_dump(mode="json"), "split": source.split, "precision": source.precision}
    content["spec"].pop("output", None)
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return f"{spec_hash(teacher)}-{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"


def with_teacher_hashes(spec: BaseModel) -> BaseModel:
    """The resolved spec with each teacher spec's hash filled in (part of the student's hash)."""
    from asc_bench.spec.validate import spec_hash

    trainer = spec.trainer  # type: ignore[attr-defined]
    update = {}
    for name in teacher_fields(trainer):
        source: TeacherSource = getattr(trainer, name)
        if source.spec is not None:
            teacher = load_teacher_spec(source, spec, f"trainer.{name}.spec")
            update[name] = source.model_copy(update={"spec_hash": spec_hash(teacher)})
    return spec.model_copy(update={"trainer": trainer.model_copy(update=update)}) if update else spec


def _existing_logits(path: Path, key: str) -> bool:
    from asc_bench.api.logits import load_logits

    if not path.is_file():
        return False
    try:
        return f"{KEY_PREFIX}{key}" in load_logits(path, where=str(path)).sources
    except UserError:
        return False


def prepare_teachers(
    spec: BaseModel,
    *,
    console: Console,
    address: str | None = None,
    resume: bool = False,
) -> tuple[BaseModel, bool]:
    """Train every teacher spec of the (resolved) student spec that has no up-to-date logits file, write the
    ensemble's logits; return the spec with each teacher's ``logits`` path filled in, and whether a teacher
    was trained now (then a ``resume`` of the student may find no student experiment yet)."""
    from asc_bench.api.logits import LogitsFile, save_logits
    from asc_bench.evaluation.predict import predict_split

    trainer = spec.trainer  # type: ignore[attr-defined]
    update = {}
    trained = False
    for name in teacher_fields(trainer):
        source: TeacherSource = getattr(trainer, name)
        if source.spec is None:
            continue
        teacher = load_teacher_spec(source, spec, f"trainer.{name}.spec")
        key = _key(teacher, source)
        out = source.logits or Path(teacher.output.dir) / teacher.name / "teacher-logits" / f"{key}.logits.pt"  # type: ignore[attr-defined]
        if _existing_logits(out, key):
            console.print(f"teacher {teacher.name}: reusing its logits {out}")
        else:
            console.print(f"teacher {teacher.name}: training {source.spec} first (seeds {teacher.seeds})")  # type: ignore[attr-defined]
            records = _run_nested(teacher, console, address, resume)
            trained = True
            logits = predict_split(records, source.split, precision=source.precision)
            sources = (f"{KEY_PREFIX}{key}", *logits.sources)
            save_logits(out, LogitsFile(logits.clip_ids, logits.logits, logits.class_names, sources))
            console.print(f"teacher {teacher.name}: wrote the logits of {len(logits.clip_ids):,} clips to {out}")
        update[name] = source.model_copy(update={"logits": out.absolute()})
    return (spec.model_copy(update={"trainer": trainer.model_copy(update=update)}) if update else spec), trained


def resumable(spec: BaseModel) -> bool:
    """Whether the (resolved) spec has an interrupted experiment that ``--resume`` can continue."""
    from asc_bench.run.experiments import latest_resumable

    try:
        latest_resumable(Path(spec.output.dir) / spec.name, spec.model_dump(mode="json"))  # type: ignore[attr-defined]
    except UserError:
        return False
    return True


def _run_nested(teacher: BaseModel, console: Console, address: str | None, resume: bool) -> list[Path]:
    from asc_bench.run.driver import run_spec

    resume = resume and resumable(teacher)  # continue an interrupted teacher; a finished or missing one runs anew
    return run_spec(teacher, console=console, address=address, leaderboard=False, resume=resume)
