"""The device-specific system of DCASE 2025 Task 1: one model per training device and a general model, routed by
each clip's device name (devices without a model of their own, "unknown" included, go to the general model).
Complexity is counted per device model (asc_bench.model.complexity); the checked figure is the maximum (the rule is
per model, not summed)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn

GENERAL = "general"
"""The name of the general model in per-device tables (and the key of unknown devices)."""


class DeviceRouter(nn.Module):
    """``general`` plus ``devices[name]``; ``forward(x, devices)`` sends each clip to its device's model.

    Its state_dict holds ``general.*`` and ``devices.<name>.*``. Without ``devices`` every clip goes to the general
    model.
    """

    routes_devices = True

    def __init__(self, general: nn.Module, devices: dict[str, nn.Module]) -> None:
        super().__init__()
        self.general = general
        self.devices = nn.ModuleDict(devices)

    def model_for(self, device: str) -> nn.Module:
        """The model that classifies clips of ``device`` (the general one for a device without its own)."""
        return self.devices[device] if device in self.devices else self.general  # noqa: SIM401 (a ModuleDict)

    def forward(self, x: torch.Tensor, devices: Sequence[str] | None = None) -> torch.Tensor:
        if devices is None:
            return self.general(x)
        if len(devices) != x.shape[0]:
            raise ValueError(f"{len(devices)} device names for a batch of {x.shape[0]} clips")
        groups: dict[str, list[int]] = {}
        for i, name in enumerate(devices):
            groups.setdefault(name if name in self.devices else GENERAL, []).append(i)
        out: torch.Tensor | None = None
        for name, rows in groups.items():
            index = torch.tensor(rows, device=x.device)
            logits = (self.general if name == GENERAL else self.devices[name])(x[index])
            if out is None:
                out = logits.new_empty((x.shape[0], *logits.shape[1:]))
            out[index] = logits
        assert out is not None, "an empty batch"
        return out

    def members(self) -> dict[str, nn.Module]:
        """Every model of the system by name, the general one first."""
        return {GENERAL: self.general, **dict(self.devices.items())}


def build_router(make: Callable[[], nn.Module], devices: Sequence[str]) -> DeviceRouter:
    """A router of freshly built models: ``make()`` once for the general model and once per device."""
    general = make()
    return DeviceRouter(general, {name: copy.deepcopy(general) for name in devices})


def map_members(router: DeviceRouter, fn: Callable[[nn.Module], nn.Module]) -> DeviceRouter:
    """A router whose every model is ``fn(model)`` (e.g. deployed at a precision)."""
    return DeviceRouter(fn(router.general), {name: fn(model) for name, model in router.devices.items()})
