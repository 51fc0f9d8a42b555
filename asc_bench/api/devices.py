"""Device models (DCASE 2025 Task 1): a trainer config field that makes ``asc-bench run`` train a general model,
then fine-tune a copy of it on each training device's clips, then assemble the device-specific system that routes
every clip to its device's model (unknown devices to the general one). The driver plans the stages from it
(asc_bench.runner.stages); the fields marked "filled in" are written by the driver for each stage."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from asc_bench.api.config import non_semantic
from asc_bench.core.strict import StrictModel

Role = Literal["system", "general", "device"]


class DeviceModels(StrictModel):
    """``{devices: [a, b, ...], set: [...]}``: one fine-tuned model per listed device, from the general model."""

    devices: list[str] = Field(
        ...,
        min_length=1,
        description="The training devices that get a model of their own (DCASE 2025 baseline: a, b, c, s1, s2, s3); "
        "every other device is classified by the general model.",
    )
    set: list[str] = Field(
        [],
        description="`--set` style overrides for the device fine-tuning stage, e.g. [trainer.epochs=50, "
        "trainer.optimizer.lr=0.0005, trainer.schedule.warmup_steps=200, data.transforms.3.p=0].",
    )
    role: Role = Field(
        "system",
        description="Filled in by `asc-bench run` (leave it): system = the spec as written, general = its first "
        "stage, device = a fine-tuning trial.",
    )
    device: str | None = Field(None, description="Filled in by `asc-bench run`: the device a fine-tuning trial trains.")
    base_hash: str | None = Field(None, description="Filled in by `asc-bench run`: the general stage's spec hash.")
    general_dir: Path | None = non_semantic(
        None, description="Filled in by `asc-bench run`: the general stage's experiment folder."
    )
    devices_dir: Path | None = non_semantic(
        None, description="Filled in by `asc-bench run`: the fine-tuning stage's experiment folder."
    )

    def unused_fields(self) -> set[str]:
        """Left out of the spec hash: the general model does not depend on the devices fine-tuned after it, nor the
        folders on anything."""
        return {"devices", "set", "device", "base_hash"} if self.role == "general" else set()


def device_models_field(trainer: BaseModel) -> str | None:
    """The name of the trainer config field that holds a :class:`DeviceModels`, if any."""
    return next((n for n in type(trainer).model_fields if isinstance(getattr(trainer, n), DeviceModels)), None)


def device_models_of(trainer: BaseModel) -> DeviceModels | None:
    """The trainer config's :class:`DeviceModels` field, if it has one."""
    name = device_models_field(trainer)
    return None if name is None else getattr(trainer, name)
