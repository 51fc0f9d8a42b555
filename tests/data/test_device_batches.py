"""The device data paths (resident, streamed) give the batches of the host path bit for bit, in the same order,
with the online transforms drawn from the same generator; pinning falls back where the machine cannot pin."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import spec_file

from asc_bench.api import TransformContext
from asc_bench.data.device_batches import ResidentRows, choose_path, pin
from asc_bench.data.prepare import prepare_data
from asc_bench.data.setup import DataSetup, build_data
from asc_bench.data.splits import iterate_batches
from asc_bench.spec.validate import load_spec

CPU = torch.device("cpu")
WAVEFORM_CACHE = (
    "    - {type: roll, max_shift_s: 0.1}\n    - {type: mel, n_mels: 64}\n    - {type: freq_mask, max_bins: 8}"
)
FEATURE_CACHE = "    - {type: mel, n_mels: 64}\n    - {type: time_mask, max_frames: 8}\n    - {type: mixup, alpha: 0.3}"


def _setup(tmp_path: Path, root: Path, transforms: str, cache: str = "{type: memmap}") -> DataSetup:
    setup = build_data(load_spec(spec_file(tmp_path, root, transforms=transforms, cache=cache)))
    prepare_data(setup)
    return setup


def _batches(setup: DataSetup, split, seed: int, limit: int | None = None) -> list:  # noqa: ANN001
    ctx = TransformContext(torch.Generator().manual_seed(seed), training=True, sample_rate=32000, device_names=("a",))
    batches = iterate_batches(split, 96, pipeline=setup.pipeline, ctx=ctx, num_classes=10, shuffle=True)
    return list(islice(batches, limit))


def _assert_same(expected: list, got: list) -> None:  # noqa: ANN001
    assert len(got) == len(expected) > 1
    for a, b in zip(expected, got, strict=True):
        for name in ("x", "target", "label", "device", "city", "clip"):
            ta, tb = getattr(a, name), getattr(b, name)
            assert ta.dtype == tb.dtype and torch.equal(ta, tb), name
            if ta.is_floating_point():
                assert torch.equal(ta.view(torch.int32), tb.view(torch.int32)), name  # bit for bit


@pytest.mark.parametrize(
    ("transforms", "cache", "stored"),
    [
        (WAVEFORM_CACHE, "{type: memmap}", "int16"),  # int16 waveforms
        (FEATURE_CACHE, "{type: memmap}", "float16"),  # float16 features, MixUp on the batch
        (FEATURE_CACHE, "{type: memory}", "float32"),  # float32 features kept as they are
    ],
)
def test_resident_and_streamed_batches_equal_the_host_path(
    synth_root: Path, tmp_path: Path, cache_dir: Path, transforms: str, cache: str, stored: str
) -> None:
    setup = _setup(tmp_path, synth_root, transforms, cache)
    train = setup.split("train")
    host = _batches(setup, train, seed=7)
    resident = train.placed(CPU, "resident")
    assert resident.data_path == "resident" and resident.rows.dtype == stored
    assert resident.on_host().data_path == "host"  # where an int8 model is scored
    _assert_same(host, _batches(setup, resident, seed=7))
    streamed = train.placed(CPU, "streamed")
    assert streamed.data_path == "streamed"
    _assert_same(host, _batches(setup, streamed, seed=7))
    assert not torch.equal(host[0].x, _batches(setup, train, seed=8, limit=1)[0].x)  # the seed does matter


def test_a_chunk_that_needs_float32_widens_the_resident_rows() -> None:
    rows = torch.zeros(2100, 3)
    rows[2050] = 1 / 3  # neither float16 nor int16 holds it exactly: the first chunks were float16
    store = type("Store", (), {"__len__": lambda self: len(rows), "get": lambda self, p: rows[torch.from_numpy(p)]})()
    resident = ResidentRows(store, CPU)
    assert resident.dtype == "float32" and resident.nbytes == rows.numel() * 4
    (got,) = resident.batches([np.arange(2040, 2060)])
    assert torch.equal(got, rows[2040:2060])


def test_pinning_falls_back_without_a_cuda_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = torch.arange(6.0)

    def refuse(self: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("Found no NVIDIA driver on your system.")

    monkeypatch.setattr(torch.Tensor, "pin_memory", refuse)
    assert pin(rows) is rows


def test_drop_last_leaves_out_only_the_partial_batch(synth_root: Path, tmp_path: Path, cache_dir: Path) -> None:
    setup = _setup(tmp_path, synth_root, WAVEFORM_CACHE)
    train = setup.split("train")
    ctx = TransformContext(torch.Generator().manual_seed(1), training=True, sample_rate=32000)
    kept = list(
        iterate_batches(train, 100, pipeline=setup.pipeline, ctx=ctx, num_classes=10, shuffle=True, drop_last=True)
    )
    assert len(train) % 100 and len(kept) == len(train) // 100 and {len(b.label) for b in kept} == {100}


def test_the_path_follows_the_setting_and_the_free_memory() -> None:
    gpu = torch.device("cuda", 0)
    assert choose_path("auto", CPU, 10, None) == "host"  # the CPU path as it always was
    assert choose_path("always", CPU, 10, None) == "resident"
    assert choose_path("auto", gpu, 4 * 10**9, 10 * 10**9) == "resident"
    assert choose_path("auto", gpu, 6 * 10**9, 10 * 10**9) == "streamed"
    assert choose_path("never", gpu, 10, 10 * 10**9) == "streamed"
