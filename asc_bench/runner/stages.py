"""The stages of one ``asc-bench run``: every teacher spec the student's trainer names (their own teachers first),
then the student. Each stage is an experiment of its own; a teacher stage ends by writing its ensemble's logits,
which the stages after it read. A teacher whose logits file is up to date is not trained again.

A student whose trainer has ``device_models`` (DCASE 2025 Task 1) is three stages: the general model
(``<name>-general``), the fine-tuning of a copy of it per device (``<name>-devices``: one trial per device and seed,
in parallel on Ray) and the device-specific system (``<name>``: one trial per seed assembles and scores the models
of its seed). Each later stage reads the experiment folder of the ones before it, filled in by the driver.

The plan is made up front, without recursion through the driver: each stage's spec already names the logits files
of its teachers, so every stage can be checked (complexity, search) before the first one trains.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from asc_bench.api.devices import device_models_field, device_models_of
from asc_bench.api.logits import LogitsFile, load_logits, save_logits
from asc_bench.api.teacher import TeacherSource
from asc_bench.core.errors import UserError
from asc_bench.data.setup import build_data
from asc_bench.evaluation.predict import predict_split
from asc_bench.records.layout import RECORD_NAME
from asc_bench.runner.experiments import find_experiments
from asc_bench.search.sweep import SweepPlan
from asc_bench.spec.hashing import spec_hash
from asc_bench.spec.model import Spec
from asc_bench.spec.overrides import apply_overrides
from asc_bench.spec.resolve import resolve_for_run, teacher_key, teacher_logits_path, teachers
from asc_bench.spec.validate import validate_spec
from asc_bench.trial.devices import check_device_clips

KEY_PREFIX = "teacher-key:"


@dataclass(frozen=True)
class TeacherOutput:
    """What a teacher stage leaves for its students: the logits file, keyed by everything that determines it."""

    logits: Path
    key: str
    source: TeacherSource

    def up_to_date(self) -> bool:
        """Whether the logits file exists and was written for exactly this teacher, split and precision."""
        if not self.logits.is_file():
            return False
        try:
            return f"{KEY_PREFIX}{self.key}" in load_logits(self.logits, where=str(self.logits)).sources
        except UserError:
            return False

    def write(self, records: list[Path]) -> LogitsFile:
        """Predict the ensemble of the teacher's runs and write its logits file."""
        logits = predict_split(records, self.source.split, precision=self.source.precision)
        keyed = LogitsFile(
            logits.clip_ids, logits.logits, logits.class_names, (f"{KEY_PREFIX}{self.key}", *logits.sources)
        )
        save_logits(self.logits, keyed)
        return keyed


StageKind = Literal["teacher", "train", "general", "devices", "system"]


@dataclass(frozen=True)
class Stage:
    """One experiment of a run: its spec (teachers' logits filled in) and, for a teacher, what it leaves."""

    spec: Spec
    teacher: TeacherOutput | None = None
    spec_file: Path | None = None
    kind: StageKind = "train"

    def sweep(self, plan: SweepPlan) -> SweepPlan:
        """The stage's trials: the fine-tuning stage runs one trial per device and seed."""
        devices = device_models_of(self.spec.trainer)
        if self.kind != "devices" or devices is None:
            return plan
        samples = [{f"trainer.{_field(self.spec)}.device": device} for device in devices.devices]
        return replace(plan, search="devices", samples=samples, num_trials=len(samples) * len(plan.seeds))

    def check_data(self) -> None:
        """Refuse a fine-tuning stage whose listed devices have no training clips (before anything trains)."""
        devices = device_models_of(self.spec.trainer)
        if self.kind == "devices" and devices is not None:
            check_device_clips(build_data(self.spec), devices)

    def with_folders(self, folders: dict[str, Path]) -> Stage:
        """The stage reading the experiment folders of the stages before it (``general``, ``devices``)."""
        if self.kind not in ("devices", "system"):
            return self
        fill = {"general_dir": folders["general"], "devices_dir": folders.get("devices")}
        return replace(self, spec=_update_devices(self.spec, **fill))


def plan_stages(spec: Spec) -> list[Stage]:
    """The stages of a resolved spec, teachers first (depth first, each logits file once), the spec last (as
    general, fine-tuning and system stages when its trainer has ``device_models``)."""
    stages: list[Stage] = []
    final = _with_teacher_stages(spec, stages)
    return [*stages, *_device_stages(final)]


def finished_stage(spec: Spec) -> list[Path] | None:
    """The records of the spec's latest experiment, if it finished from exactly this spec (``--resume`` reuses
    it instead of training the stage again)."""
    root = Path(spec.output.dir) / spec.name
    found = find_experiments(root) if root.is_dir() else []
    if not found or found[0][1].effective_status() != "finished" or found[0][1].spec != spec.model_dump(mode="json"):
        return None
    records = sorted(found[0][0].glob(f"*/{RECORD_NAME}"))
    return records or None


def _field(spec: Spec) -> str:
    name = device_models_field(spec.trainer)
    assert name is not None
    return name


def _update_devices(spec: Spec, **update: Any) -> Spec:
    """The spec with its trainer's ``device_models`` fields updated."""
    name = _field(spec)
    devices = getattr(spec.trainer, name).model_copy(update=update)
    return spec.model_copy(update={"trainer": spec.trainer.model_copy(update={name: devices})})


def _device_stages(spec: Spec) -> list[Stage]:
    """The spec as one stage, or, with ``device_models``, its general, fine-tuning and system stages."""
    devices = device_models_of(spec.trainer)
    if devices is None:
        return [Stage(spec)]
    where = f"trainer.{_field(spec)}"
    if spec.tune.space:
        raise UserError(
            "a spec with device models cannot also search tune.space (each stage would choose on its own).",
            where="tune.space",
            fix="Search the general model's settings in a spec without device_models first, then fix them here.",
        )
    if devices.role != "system" or len(set(devices.devices)) != len(devices.devices):
        raise UserError(
            "device_models lists a device twice or sets a field asc-bench fills in (role, device, base_hash).",
            where=where,
            fix="Give only `devices` (each once) and `set`.",
        )
    general = _update_devices(spec, role="general").model_copy(update={"name": f"{spec.name}-general"})
    tuned = _update_devices(spec, role="device", base_hash=spec_hash(general))
    data = apply_overrides(
        tuned.model_copy(update={"name": f"{spec.name}-devices"}).model_dump(mode="json"), devices.set
    )
    try:
        tuned = resolve_for_run(validate_spec(data, source=f"{where}.set"))
    except UserError as exc:
        raise UserError(f"the device fine-tuning stage is invalid: {exc}", where=f"{where}.set") from None
    return [Stage(general, kind="general"), Stage(tuned, kind="devices"), Stage(spec, kind="system")]


def _with_teacher_stages(spec: Spec, stages: list[Stage]) -> Spec:
    """Append the stages of ``spec``'s teachers to ``stages``; return ``spec`` reading their logits files."""
    update = {}
    for teacher in teachers(spec):
        path = teacher_logits_path(teacher.spec, teacher.source).absolute()
        if all(stage.teacher is None or stage.teacher.logits != path for stage in stages):
            teacher_spec = _with_teacher_stages(teacher.spec, stages)
            output = TeacherOutput(path, teacher_key(teacher.spec, teacher.source), teacher.source)
            stages.append(Stage(teacher_spec, output, teacher.source.spec, kind="teacher"))
        update[teacher.field] = teacher.source.model_copy(update={"logits": path})
    if not update:
        return spec
    return spec.model_copy(update={"trainer": spec.trainer.model_copy(update=update)})
