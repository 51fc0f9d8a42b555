"""The device-specific system (DCASE 2025): routing by device name, per-device complexity, deployment per model."""

from __future__ import annotations

import torch
from torch import nn

from asc_bench.model.complexity import count_complexity
from asc_bench.model.devices import GENERAL, DeviceRouter, build_router
from asc_bench.model.precision import deploy_model


def _router() -> DeviceRouter:
    torch.manual_seed(0)
    router = build_router(lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 3)), ["a", "s1"])
    for i, model in enumerate(router.devices.values()):  # make the copies differ from the general model
        with torch.no_grad():
            model[1].bias.add_(float(i + 1))
    return router.eval()


def test_each_clip_goes_to_its_device_model_and_unknown_devices_to_the_general_one():
    router = _router()
    x = torch.randn(5, 3, 4)
    devices = ["a", "unknown", "s1", "s4", "a"]
    out = router(x, devices)
    for i, device in enumerate(devices):
        expected = (router.devices[device] if device in ("a", "s1") else router.general)(x[i : i + 1])
        torch.testing.assert_close(out[i : i + 1], expected)
    torch.testing.assert_close(router(x), router.general(x))  # no device information: the general model
    assert router.model_for("s6") is router.general and router.model_for("a") is router.devices["a"]
    assert not torch.allclose(router.devices["a"](x), router.general(x))


def test_complexity_is_per_model_and_the_maximum_is_checked():
    router = _router()
    report = count_complexity(router, (3, 4), param_dtype="float16")
    assert set(report.per_device) == {GENERAL, "a", "s1"}
    one = count_complexity(router.general, (3, 4), param_dtype="float16")
    assert (report.macs, report.params, report.param_bytes) == (one.macs, one.params, one.params * 2)
    assert report.per_device["a"] == {"macs": one.macs, "params": one.params, "param_bytes": one.params * 2}
    assert "per_device" in report.to_dict() and "per_device" not in one.to_dict()


def test_float16_deployment_rounds_every_model_and_keeps_the_routing():
    router = _router()
    deployed = deploy_model(router, "float16")
    assert isinstance(deployed, DeviceRouter) and set(deployed.devices) == {"a", "s1"}
    weight = deployed.devices["s1"][1].weight
    torch.testing.assert_close(weight, weight.half().float(), rtol=0, atol=0)
    x = torch.randn(2, 3, 4)
    torch.testing.assert_close(deployed(x, ["s1", "b"])[0], deployed.devices["s1"](x[:1])[0])
