"""Building a spec's model, and checking it against the limits before any data work."""

from __future__ import annotations

import torch

from asc_bench.api.devices import device_models_of
from asc_bench.data.pipeline import Pipeline
from asc_bench.model.complexity import ComplexityReport, check_limits, count_complexity
from asc_bench.plugins import registry
from asc_bench.spec.model import Spec


def build_model(spec: Spec, input_shape: tuple[int, ...], num_classes: int, seed: int) -> torch.nn.Module:
    """The spec's model, initialised deterministically from ``seed``; for the device-specific system of a
    ``device_models`` trainer (DCASE 2025), a :class:`DeviceRouter` of the general and the device models."""
    torch.manual_seed(seed)

    def make() -> torch.nn.Module:
        return registry.build("model", spec.model, where="model", input_shape=input_shape, num_classes=num_classes)

    devices = device_models_of(spec.trainer)
    if devices is not None and devices.role == "system":
        from asc_bench.model.devices import build_router

        return build_router(make, devices.devices)
    return make()


def dataset_num_classes(spec: Spec) -> int:
    """The dataset's class count, from its class attribute when it declares one (no data read)."""
    config = spec.data.dataset
    known = registry.load("dataset", config.type, where="data.dataset").num_classes
    if known is not None:
        return int(known)
    return len(registry.build("dataset", config, where="data.dataset").clips().class_names)


def check_complexity(spec: Spec, *, fused: bool = False, enforce: bool = True) -> ComplexityReport:
    """Count the spec's model on one clip's input shape; refuse it when over the limits (if ``enforce``)."""
    input_shape = Pipeline(spec.data.transforms, sample_rate=spec.data.sample_rate).input_shape()
    model = build_model(spec, input_shape, num_classes=dataset_num_classes(spec), seed=0)
    report = count_complexity(model, input_shape, param_dtype=spec.limits.param_dtype, fused=fused)
    if enforce:
        check_limits(report, spec.limits)
    return report
