"""The DCASE 2022/2023 baseline port keeps the Keras system's conventions (marmoi/dcase2022_task1_baseline
task1.yaml): 'valid' max-pooling, Keras BatchNorm settings, channels-last flattening, Keras initialisers, and
the published TFLite MAC table (README.md) term by term."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from asc_bench.api import UserError
from asc_bench.model.complexity import count_complexity
from asc_bench_plugins.models.baseline2023 import Baseline2023

PUBLISHED_MACS = 29_234_920
"""The TFLite table of the baseline's README: convs, max-pool comparisons, dense layers as its tool counts them."""


def build(shape: tuple[int, int, int] = (1, 40, 51), **config: object) -> Baseline2023:
    torch.manual_seed(0)
    return Baseline2023(Baseline2023.Config(**config), input_shape=shape, num_classes=10)


def test_valid_pooling_gives_the_published_shapes_and_macs() -> None:
    model = build().eval()
    shapes = []
    for layer in model.features:
        if isinstance(layer, nn.MaxPool2d):
            layer.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
    model(torch.randn(1, 1, 40, 51))
    assert shapes == [(16, 8, 10), (32, 2, 1)]
    report = count_complexity(model, (1, 40, 51), param_dtype="int8")
    convs = [layer.flop_counter_macs for layer in report.layers if layer.type == "Conv2d"]
    dense = [layer.flop_counter_macs for layer in report.layers if layer.type == "Linear"]
    assert convs == [1_599_360, 25_589_760, 2_007_040] and dense == [6_400, 1_000]
    pooling = 16 * 8 * 10 * 5 * 5 + 32 * 2 * 1 * 4 * 10  # one comparison per window element: 32,000 + 2,560
    tflite_dense = 32 * 100 + 100 * 10  # the TFLite table counts 32 inputs for dense_1's 64
    assert sum(convs) + pooling + tflite_dense == PUBLISHED_MACS
    assert report.flop_counter_macs == sum(convs) + sum(dense) == 29_203_560
    assert report.params == 46_118


def test_batchnorm_and_initialisation_are_keras_defaults() -> None:
    model = build()
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 3 and all(m.eps == 1e-3 and m.momentum == 0.01 for m in norms)
    for layer in model.classifier:
        if isinstance(layer, nn.Linear):
            assert layer.weight.abs().max() <= 0.05 and layer.weight.abs().max() > 0.04
            assert not layer.bias.any()


def test_flattening_is_channels_last_as_in_keras() -> None:
    model = build().eval()
    seen = []
    model.classifier[0].register_forward_hook(lambda _m, inputs, _o: seen.append(inputs[0]))
    x = torch.randn(1, 1, 40, 51)
    maps = model.features(x)  # (1, 32, 2, 1)
    model(x)
    torch.testing.assert_close(seen[0][0, :32], maps[0, :, 0, 0])  # (frequency 0, time 0, every channel) first
    torch.testing.assert_close(seen[0][0, 32:], maps[0, :, 1, 0])


def test_too_small_an_input_for_the_pools_is_a_user_error() -> None:
    with pytest.raises(UserError, match="model.pools") as err:
        build((1, 40, 19))
    assert "frames" in str(err.value)
    assert build((1, 40, 19), pools=((5, 5), (4, 3)))(torch.randn(2, 1, 40, 19)).shape == (2, 10)
