"""The trial side of device models (DCASE 2025 Task 1): a fine-tuning trial trains a copy of the general model of
its seed on one device's training clips; the system trial assembles the general and device models of its seed.
Which trials to read comes from the experiment folders the driver fills in (``general_dir``, ``devices_dir``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from asc_bench.api.devices import DeviceModels
from asc_bench.core.errors import UserError
from asc_bench.data.setup import DataSetup
from asc_bench.data.splits import PreparedSplit
from asc_bench.records.layout import MODEL_NAME, RECORD_NAME

WHERE = "trainer.device_models"


def device_rows(setup: DataSetup, train_rows: np.ndarray, device: str) -> np.ndarray:
    """The rows of the training split recorded by ``device``; refused when the device has none."""
    names = setup.clips.device_names
    if device not in names:
        raise UserError(
            f"device {device!r} is not a device of the dataset ({', '.join(names)}).",
            where=f"{WHERE}.devices",
            fix="List only devices of the dataset.",
        )
    rows = train_rows[setup.clips.devices[train_rows] == names.index(device)]
    if len(rows) == 0:
        raise UserError(
            f"the training split has no clips of device {device!r}, so its model cannot be fine-tuned.",
            where=f"{WHERE}.devices",
            fix="List only devices the training split holds (DCASE 2025: a, b, c, s1, s2, s3).",
        )
    return np.sort(rows)


def check_device_clips(setup: DataSetup, devices: DeviceModels) -> None:
    """Refuse, before anything trains, a listed device without training clips."""
    for device in devices.devices:
        device_rows(setup, setup.indices["train"], device)


def device_train_split(setup: DataSetup, train: PreparedSplit, device: str) -> PreparedSplit:
    """The training split's clips of one device (cached like the training split)."""
    return setup.split("train", device_rows(setup, train.indices, device))


def _trial_dir(folder: Path | None, seed: int, device: str | None, stage: str) -> Path:
    """The finished trial of ``seed`` (and, in the fine-tuning stage, ``device``) in an experiment folder."""
    if folder is None:
        raise UserError(
            f"this trial needs the {stage} stage's models, but no experiment folder was filled in.",
            where=WHERE,
            fix="Run the spec with `asc-bench run`, which trains the stages in order.",
        )
    for record in sorted(Path(folder).glob(f"seed{seed}-*/{RECORD_NAME}")):
        trainer = json.loads(record.read_text(encoding="utf-8"))["spec"]["trainer"]
        matches = device is None or trainer.get("device_models", {}).get("device") == device
        if matches and (record.parent / MODEL_NAME).is_file():
            return record.parent
    which = f"seed {seed}" + (f", device {device}" if device else "")
    raise UserError(
        f"the {stage} stage in {folder} has no finished trial of {which} (record.json and {MODEL_NAME}).",
        where=WHERE,
        fix="Run the spec again (or with --resume) so that the stage finishes first.",
    )


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return torch.load(folder / MODEL_NAME, weights_only=True, map_location="cpu")


def init_from_general(model: torch.nn.Module, devices: DeviceModels, seed: int) -> Path:
    """Load the general model of ``seed`` into a fine-tuning trial's model; the trial folder it came from."""
    folder = _trial_dir(devices.general_dir, seed, None, "general")
    model.load_state_dict(_weights(folder))
    return folder


def assemble_system(router: torch.nn.Module, devices: DeviceModels, seed: int) -> dict[str, Path]:
    """Load the general and every device model of ``seed`` into a system; the trial folder of each."""
    folders = {"general": _trial_dir(devices.general_dir, seed, None, "general")}
    folders.update({d: _trial_dir(devices.devices_dir, seed, d, "fine-tuning") for d in devices.devices})
    router.general.load_state_dict(_weights(folders["general"]))
    for device in devices.devices:
        router.devices[device].load_state_dict(_weights(folders[device]))
    return folders
