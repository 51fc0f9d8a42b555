"""The ``device_finetune`` trainer (DCASE 2025 Task 1): supervised training of a general model, then a copy of it
fine-tuned on each training device's clips, assembled into one device-specific system (``device_models``; the
stages are planned by ``asc-bench run``). Each stage trains exactly as the ``supervised`` trainer does."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from asc_bench.api.devices import DeviceModels
from asc_bench_plugins.trainers.supervised import SupervisedConfig, SupervisedTrainer


class DeviceFinetuneConfig(SupervisedConfig):
    type: Literal["device_finetune"] = "device_finetune"  # type: ignore[assignment]
    device_models: DeviceModels = Field(
        ...,
        description="The devices that get a fine-tuned model of their own and the overrides of their stage "
        "(e.g. fewer epochs, a lower learning rate, Freq-MixStyle off).",
    )


class DeviceFinetuneTrainer(SupervisedTrainer):
    """The supervised trainer; ``device_models`` tells the driver which stages to run."""

    Config = DeviceFinetuneConfig
    config: DeviceFinetuneConfig
