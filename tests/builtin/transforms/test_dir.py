"""The `dir` transform (device impulse responses) and the synthetic responses shipped with the synthetic dataset."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.nn.functional as F

from asc_bench.api import Batch, TransformContext
from asc_bench.core.errors import UserError
from asc_bench_plugins.datasets.tau22 import irs as irs_module
from asc_bench_plugins.datasets.tau22.irs import IR_FOLDER, IR_SAMPLE_RATE, write_synthetic_impulse_responses
from asc_bench_plugins.transforms.dir import DeviceImpulseResponses, DIRConfig

DEVICES = ("a", "b", "c", "s1")
SR = 16000


def _batch(devices: list[int], samples: int = SR, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    n = len(devices)
    label = torch.zeros(n, dtype=torch.long)
    x = torch.randn(n, samples, generator=g)
    return Batch(x, F.one_hot(label, 10).float(), label, torch.tensor(devices), label, torch.arange(n))


def _ctx(seed: int = 0, training: bool = True) -> TransformContext:
    return TransformContext(
        torch.Generator().manual_seed(seed), training=training, sample_rate=SR, device_names=DEVICES
    )


@pytest.fixture(scope="module")
def irs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_impulse_responses(tmp_path_factory.mktemp("irs") / IR_FOLDER, count=4)[0].parent


def test_synthetic_dataset_ships_impulse_responses(synth_root: Path) -> None:
    files = sorted((synth_root / IR_FOLDER).glob("*.wav"))
    assert len(files) == 12
    for path in files:
        data, rate = sf.read(path)
        assert rate == IR_SAMPLE_RATE and 0.37 <= len(data) / rate <= 0.5
        assert np.sum(data**2) == pytest.approx(1.0, rel=1e-4)
        energy = np.cumsum(data**2)
        assert energy[int(0.01 * rate)] > 0.9  # minimum phase: the energy comes first


def test_writer_is_deterministic_and_never_overwrites(tmp_path: Path) -> None:
    a = write_synthetic_impulse_responses(tmp_path / "a", count=3, seed=5)
    b = write_synthetic_impulse_responses(tmp_path / "b", count=3, seed=5)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert write_synthetic_impulse_responses(tmp_path / "a", count=3, seed=5) == a  # complete set: kept
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    with pytest.raises(UserError, match="does not hold the full set"):
        write_synthetic_impulse_responses(tmp_path / "mine", count=3)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "x"


def test_writer_keeps_the_umask_and_leaves_nothing_when_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mask = os.umask(0o022)
    os.umask(mask)
    paths = write_synthetic_impulse_responses(tmp_path / "irs", count=2)
    assert paths[0].parent.stat().st_mode & 0o777 == 0o777 & ~mask
    assert {p.stat().st_mode & 0o777 for p in paths} == {0o666 & ~mask}

    def broken(seed: int, index: int) -> np.ndarray:
        if index == 1:
            raise KeyboardInterrupt
        return np.zeros(100, np.float32)

    monkeypatch.setattr(irs_module, "synthetic_impulse_response", broken)
    with pytest.raises(KeyboardInterrupt):
        write_synthetic_impulse_responses(tmp_path / "half", count=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["irs"], "no folder and no partial folder left"


def test_responses_are_resampled_to_the_working_rate(irs: Path) -> None:
    transform = DeviceImpulseResponses(DIRConfig(folder=irs), sample_rate=SR)
    assert transform.responses is None, "nothing is read until prepare(): `complexity` needs no files"
    transform.prepare()
    longest = max(sf.info(p).frames for p in irs.glob("*.wav"))
    assert transform.responses.shape[0] == 4
    assert abs(transform.responses.shape[1] - longest * SR / IR_SAMPLE_RATE) <= 1


def test_only_chosen_devices_are_convolved_and_length_is_kept(irs: Path) -> None:
    transform = DeviceImpulseResponses(DIRConfig(folder=irs, p=1.0), sample_rate=SR)
    batch = _batch([0, 1, 0, 2, 3, 0])
    out = transform(batch, _ctx())
    assert out.x.shape == batch.x.shape
    changed = (out.x != batch.x).any(dim=1)
    assert changed.tolist() == [True, False, True, False, False, True]


def test_output_is_the_start_of_the_full_convolution(tmp_path: Path) -> None:
    response = np.zeros(800, dtype=np.float32)
    response[[0, 3, 500]] = [0.5, -0.25, 0.125]  # longer than nothing, shorter than the clip
    (tmp_path / "one").mkdir()
    sf.write(tmp_path / "one" / "r.wav", response, SR, subtype="FLOAT")
    transform = DeviceImpulseResponses(DIRConfig(folder=tmp_path / "one", p=1.0), sample_rate=SR)
    batch = _batch([0, 0], samples=4000)
    out = transform(batch, _ctx(seed=3))
    for i in range(2):
        expected = np.convolve(batch.x[i].double().numpy(), response)[:4000]
        np.testing.assert_allclose(out.x[i].numpy(), expected, atol=1e-5)


def test_probability_and_evaluation(irs: Path) -> None:
    never = DeviceImpulseResponses(DIRConfig(folder=irs, p=0.0), sample_rate=SR)
    batch = _batch([0] * 8)
    assert torch.equal(never(batch, _ctx()).x, batch.x)
    half = DeviceImpulseResponses(DIRConfig(folder=irs, p=0.5), sample_rate=SR)
    rates = [
        (half(_batch([0] * 200), _ctx(seed)).x != _batch([0] * 200).x).any(dim=1).float().mean() for seed in range(3)
    ]
    assert 0.35 < float(np.mean(rates)) < 0.65
    assert DeviceImpulseResponses.train_only and not DeviceImpulseResponses.deterministic
    same = half(_batch([0] * 20), _ctx(seed=9)).x
    assert torch.equal(same, half(_batch([0] * 20), _ctx(seed=9)).x), "same generator state, same output"


def test_folder_and_device_errors(tmp_path: Path, irs: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        DeviceImpulseResponses(DIRConfig(folder=tmp_path / "nope"), sample_rate=SR).prepare()
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no .wav files"):
        DeviceImpulseResponses(DIRConfig(folder=tmp_path / "empty"), sample_rate=SR)(_batch([0]), _ctx())
    transform = DeviceImpulseResponses(DIRConfig(folder=irs, devices=["a", "zz"]), sample_rate=SR)
    with pytest.raises(UserError, match=r"\['zz'\].*its devices: a, b, c, s1"):
        transform(_batch([0, 1]), _ctx())
