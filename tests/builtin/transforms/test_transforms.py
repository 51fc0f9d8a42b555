"""The built-in transforms: shapes, the reference front ends, the augmentations' maths, reproducibility."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
import torchaudio
from pydantic import ValidationError

from asc_bench.api import Batch, Transform, TransformContext
from asc_bench_plugins.transforms.gain import Gain
from asc_bench_plugins.transforms.masks import FreqMask, TimeMask
from asc_bench_plugins.transforms.mel import Mel
from asc_bench_plugins.transforms.mixstyle import FreqMixStyle
from asc_bench_plugins.transforms.mixup import MixUp
from asc_bench_plugins.transforms.roll import Roll
from asc_bench_plugins.transforms.sampling import beta, permutation, uniform

SR = 32_000
CPJKU = {
    "preemphasis": 0.97,
    "window": "hann_symmetric",
    "mel_scale": "kaldi",
    "fmax": 15_500,
    "fmax_jitter": (-499, 500),
    "normalize": {"offset": 4.5, "scale": 5},
}


def make(cls: type[Transform], sample_rate: int = SR, **settings: object) -> Transform:
    return cls(cls.Config(**settings), sample_rate=sample_rate)


def ctx(seed: int = 0, training: bool = True, sample_rate: int = SR) -> TransformContext:
    return TransformContext(rng=torch.Generator().manual_seed(seed), training=training, sample_rate=sample_rate)


def batch(x: torch.Tensor, num_classes: int = 10) -> Batch:
    n = x.shape[0]
    label = torch.arange(n) % num_classes
    zeros = torch.zeros(n, dtype=torch.int64)
    return Batch(x, F.one_hot(label, num_classes).float(), label, zeros, zeros, torch.arange(n))


def waves(n: int = 4, samples: int = SR, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, samples, generator=torch.Generator().manual_seed(seed)) * 0.1


def features(n: int = 8, n_mels: int = 64, frames: int = 65, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    scale = torch.rand(n, 1, n_mels, 1, generator=g) * 3 + 0.5
    offset = torch.randn(n, 1, n_mels, 1, generator=g) * 2
    return torch.randn(n, 1, n_mels, frames, generator=g) * scale + offset


# ------------------------------------------------------------------------------------------------- mel


def test_mel_defaults_give_the_2024_baseline_input_shape() -> None:
    out = make(Mel)(batch(waves()), ctx()).x
    assert out.shape == (4, 1, 256, 65)
    assert out.dtype == torch.float32


def test_mel_matches_torchaudio_melspectrogram_then_log() -> None:
    x = waves(3)
    reference = torchaudio.transforms.MelSpectrogram(SR, n_fft=4096, win_length=3072, hop_length=500, n_mels=256)
    expected = torch.log(reference(x) + 1e-5).unsqueeze(1)
    torch.testing.assert_close(make(Mel)(batch(x), ctx()).x, expected, atol=1e-4, rtol=1e-4)


def test_mel_power_other_than_two_uses_the_magnitude() -> None:
    x = waves(2)
    reference = torchaudio.transforms.MelSpectrogram(
        SR, n_fft=1024, win_length=800, hop_length=320, n_mels=64, power=1.0
    )
    out = make(Mel, n_fft=1024, win_length=800, hop_length=320, n_mels=64, power=1.0)(batch(x), ctx()).x
    torch.testing.assert_close(out, torch.log(reference(x) + 1e-5).unsqueeze(1), atol=1e-4, rtol=1e-4)


def test_dense_projection_for_accelerators_matches_the_sparse_one() -> None:
    mel = make(Mel)
    x = waves(3)
    cpu = torch.device("cpu")
    sparse = mel._projection(mel._fixed_bank, cpu)
    dense = sparse.to_dense()
    assert sparse.layout == torch.sparse_csr
    torch.testing.assert_close(mel._mel(x, dense), mel._mel(x, sparse))


def test_mel_preemphasis_drops_one_sample_and_one_frame() -> None:
    out = make(Mel, preemphasis=0.97)(batch(waves()), ctx()).x
    assert out.shape == (4, 1, 256, 64)


def test_mel_of_silence_is_the_log_of_the_offset() -> None:
    out = make(Mel)(batch(torch.zeros(2, SR)), ctx()).x
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, torch.full_like(out, math.log(1e-5)))


def test_mel_is_finite_and_log_scaled_for_noise() -> None:
    out = make(Mel)(batch(waves()), ctx()).x
    assert torch.isfinite(out).all()
    assert out.max() < 20  # log energies, not raw power
    assert out.min() > math.log(1e-5) - 1e-3


def test_kaldi_banks_are_padded_to_the_nyquist_bin() -> None:
    mel = make(Mel, mel_scale="kaldi", fmax=15_500)
    bank = mel._filterbank(0.0, 15_500.0)
    assert bank.shape == (256, 4096 // 2 + 1)
    assert (bank[:, -1] == 0).all()
    assert (bank >= 0).all() and (bank.sum(dim=1) > 0).all()


def test_normalize_is_applied_after_the_log() -> None:
    x = batch(waves(2))
    plain = make(Mel, mel_scale="kaldi")(x, ctx()).x
    scaled = make(Mel, mel_scale="kaldi", normalize={"offset": 4.5, "scale": 5})(x, ctx()).x
    torch.testing.assert_close(scaled, (plain + 4.5) / 5)


def test_cpjku_front_end_shape_and_jitter_only_in_training() -> None:
    mel = make(Mel, **CPJKU)
    assert mel.deterministic is False
    x = batch(waves(2))
    fixed = make(Mel, **{**CPJKU, "fmax_jitter": None})
    assert fixed.deterministic is True
    evaluation = mel(x, ctx(1, training=False)).x
    assert evaluation.shape == (2, 1, 256, 64)
    torch.testing.assert_close(evaluation, fixed(x, ctx(2, training=False)).x)
    torch.testing.assert_close(evaluation, mel(x, ctx(3, training=False)).x)
    trained = mel(x, ctx(1)).x
    assert not torch.allclose(trained, evaluation)
    torch.testing.assert_close(trained, mel(x, ctx(1)).x)
    assert not torch.allclose(trained, mel(x, ctx(2)).x)


def test_cpjku_front_end_in_evaluation_matches_the_formula() -> None:
    x = waves(2)
    emphasised = x[:, 1:] - 0.97 * x[:, :-1]
    window = torch.hann_window(3072, periodic=False)
    spec = torch.stft(emphasised, 4096, 500, 3072, window, center=True, return_complex=True).abs() ** 2
    banks, _ = torchaudio.compliance.kaldi.get_mel_banks(256, 4096, SR, 0.0, 15_500.0, 100.0, -500.0, 1.0)
    expected = ((torch.log(F.pad(banks, (0, 1)) @ spec + 1e-5) + 4.5) / 5).unsqueeze(1)
    out = make(Mel, **CPJKU)(batch(x), ctx(training=False)).x
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=1e-4)


def test_fmin_jitter_alone_makes_the_instance_random() -> None:
    assert make(Mel, fmin_jitter=(0, 20)).deterministic is False
    assert make(Mel).deterministic is True


@pytest.mark.parametrize(
    "settings",
    [
        {"fmax_jitter": (-100, 100)},  # fmax defaults to Nyquist: jitter would exceed it
        {"fmin": 100, "fmin_jitter": (-200, 0)},
        {"fmin": 9_000, "fmax": 8_000},
        {"fmax": 20_000},
    ],
)
def test_mel_band_edges_are_checked_against_the_working_rate(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="fm"):
        make(Mel, **settings)


@pytest.mark.parametrize(
    "settings",
    [
        {"win_length": 5000},
        {"fmax_jitter": (10, -10)},
        {"mel_scale": "kaldi", "mel_norm": "slaney"},
        {"n_mels": 3},
        {"hop": 500},
    ],
)
def test_mel_config_errors(settings: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Mel.Config(**settings)


# ------------------------------------------------------------------------------------------ waveform


def test_roll_is_a_bounded_circular_shift_in_working_rate_samples() -> None:
    sample_rate, length = 16_000, 4_000
    ramp = torch.arange(length, dtype=torch.float32)
    roll = make(Roll, sample_rate=sample_rate, max_shift_s=0.01)
    out = roll(batch(ramp.repeat(64, 1)), ctx(sample_rate=sample_rate)).x
    shifts = (-out[:, 0].long()) % length  # out[t] = ramp[t - k]  →  out[0] = (-k) mod length
    shifts = torch.where(shifts > length // 2, shifts - length, shifts)
    for row, k in zip(out, shifts.tolist(), strict=True):
        torch.testing.assert_close(row, torch.roll(ramp, k))
    assert shifts.abs().max() <= 160  # 0.01 s at 16 kHz
    assert len(set(shifts.tolist())) > 10  # one shift per clip


def test_roll_longer_than_the_clip_is_still_a_roll() -> None:
    ramp = torch.arange(100, dtype=torch.float32)
    out = make(Roll, sample_rate=1000, max_shift_s=1.0)(batch(ramp.repeat(16, 1)), ctx(sample_rate=1000)).x
    for row in out:
        torch.testing.assert_close(row, torch.roll(ramp, -int(row[0])))


def test_gain_scales_each_clip_within_the_db_range() -> None:
    x = torch.ones(256, 100)
    out = make(Gain, min_db=-6, max_db=3)(batch(x), ctx()).x
    gain_db = 20 * torch.log10(out[:, 0])
    assert (gain_db >= -6 - 1e-4).all() and (gain_db <= 3 + 1e-4).all()
    torch.testing.assert_close(out, out[:, :1].expand_as(out))  # one gain per clip
    assert gain_db.std() > 1


# ------------------------------------------------------------------------------------------ features


@pytest.mark.parametrize(("cls", "dim", "setting"), [(FreqMask, 2, "max_bins"), (TimeMask, 3, "max_frames")])
def test_masks_zero_one_bounded_band_per_clip(cls: type[Transform], dim: int, setting: str) -> None:
    x = torch.rand(256, 1, 64, 65) + 1  # no zeros before masking
    out = make(cls, **{setting: 20})(batch(x), ctx()).x
    masked = out == 0
    untouched = ~masked
    torch.testing.assert_close(out[untouched], x[untouched])
    band = masked.any(dim=5 - dim)[:, 0]  # (clips, positions along dim)
    assert (masked.sum(dim=(1, 2, 3)) == band.sum(dim=1) * x.shape[5 - dim]).all()  # whole rows or columns
    widths = band.sum(dim=1)
    assert widths.max() <= 20 and widths.max() >= 15
    first = band.float().argmax(dim=1)
    for row, start, width in zip(band, first.tolist(), widths.tolist(), strict=True):
        assert row[start : start + width].all()  # one contiguous band
    assert len(set(first[widths > 0].tolist())) > 10  # positions drawn per clip


def test_mask_value_is_configurable() -> None:
    out = make(FreqMask, max_bins=64, value=0.9)(batch(torch.zeros(16, 1, 64, 10)), ctx()).x
    values = out.unique()
    assert len(values) == 2 and values[0] == 0 and values[1] == pytest.approx(0.9)


def replay_mixstyle(seed: int, n: int, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """λ and the partner permutation FreqMixStyle draws from a generator with this seed."""
    g = torch.Generator().manual_seed(seed)
    uniform(g, (1,), g.device)
    return beta(g, alpha, (n, 1, 1, 1), g.device), permutation(g, n, g.device)


def test_freq_mixstyle_mixes_the_per_frequency_statistics() -> None:
    x = features()
    out = make(FreqMixStyle, p=1.0, alpha=0.3)(batch(x), ctx(5)).x
    assert out.shape == x.shape
    lam, partner = replay_mixstyle(5, x.shape[0], 0.3)
    mean = x.mean(dim=(1, 3), keepdim=True)
    std = (x.var(dim=(1, 3), keepdim=True) + 1e-6).sqrt()
    torch.testing.assert_close(out.mean(dim=(1, 3), keepdim=True), lam * mean + (1 - lam) * mean[partner])
    torch.testing.assert_close(
        out.std(dim=(1, 3), keepdim=True), lam * std + (1 - lam) * std[partner], rtol=1e-4, atol=1e-4
    )
    assert not torch.allclose(out, x)


def test_freq_mixstyle_with_p_zero_leaves_the_batch_alone() -> None:
    b = batch(features())
    assert make(FreqMixStyle, p=0.0)(b, ctx()) is b


def test_freq_mixstyle_applies_to_about_p_of_the_batches() -> None:
    mixstyle = make(FreqMixStyle, p=0.4)
    b = batch(features(n=4))
    g = ctx(0)
    applied = sum(mixstyle(b, g) is not b for _ in range(500))
    assert 150 < applied < 250


def test_mixup_mixes_inputs_and_soft_targets_alike() -> None:
    x = features()
    b = batch(x)
    out = make(MixUp, alpha=0.3)(b, ctx(7))
    g = torch.Generator().manual_seed(7)
    lam = beta(g, 0.3, (1,), g.device)
    partner = permutation(g, x.shape[0], g.device)
    torch.testing.assert_close(out.x, lam * x + (1 - lam) * x[partner])
    torch.testing.assert_close(out.target, lam * b.target + (1 - lam) * b.target[partner])
    torch.testing.assert_close(out.target.sum(dim=1), torch.ones(x.shape[0]))
    assert torch.equal(out.label, b.label)


# ------------------------------------------------------------------------------------------ contracts


def test_beta_sampler_is_seeded_and_correct() -> None:
    draw = beta(torch.Generator().manual_seed(0), 0.3, (20_000,), torch.device("cpu"))
    assert ((draw >= 0) & (draw <= 1)).all()
    assert abs(draw.mean().item() - 0.5) < 0.01
    assert abs(draw.var().item() - 0.25 / 1.6) < 0.01  # Var Beta(a, a) = 1 / (4 (2a + 1))
    torch.testing.assert_close(draw, beta(torch.Generator().manual_seed(0), 0.3, (20_000,), torch.device("cpu")))


RANDOM = [
    (Roll, {}, "waveform"),
    (Gain, {}, "waveform"),
    (FreqMask, {}, "features"),
    (TimeMask, {}, "features"),
    (FreqMixStyle, {"p": 1.0}, "features"),
    (MixUp, {}, "features"),
    (Mel, CPJKU, "waveform"),
]


@pytest.mark.parametrize(("cls", "settings", "domain"), RANDOM, ids=lambda v: getattr(v, "__name__", ""))
def test_random_transforms_follow_the_generator(cls: type[Transform], settings: dict, domain: str) -> None:
    transform = make(cls, **settings)
    assert transform.deterministic is False
    x = waves(8) if domain == "waveform" else features()
    first = transform(batch(x), ctx(1)).x
    torch.testing.assert_close(first, transform(batch(x), ctx(1)).x)
    assert not torch.allclose(first, transform(batch(x), ctx(2)).x)


@pytest.mark.parametrize("settings", [{}, {"preemphasis": 0.97, "mel_scale": "kaldi", "normalize": CPJKU["normalize"]}])
def test_deterministic_mel_ignores_the_generator(settings: dict) -> None:
    mel = make(Mel, **settings)
    assert mel.deterministic is True
    x = batch(waves(2))
    torch.testing.assert_close(mel(x, ctx(1)).x, mel(x, ctx(2)).x, rtol=0, atol=0)


def test_flags_and_domains() -> None:
    expected = {
        Mel: ("waveform", "features", False),
        Roll: ("waveform", "waveform", True),
        Gain: ("waveform", "waveform", True),
        FreqMask: ("features", "features", True),
        TimeMask: ("features", "features", True),
        FreqMixStyle: ("features", "features", True),
        MixUp: ("features", "features", True),
    }
    for cls, (takes, gives, train_only) in expected.items():
        assert (cls.takes, cls.gives, cls.train_only) == (takes, gives, train_only), cls
        assert cls.__doc__ and "\n" not in cls.__doc__.strip(), cls
        assert cls.Config().type == cls.Config.model_fields["type"].default
        with pytest.raises(ValidationError):
            cls.Config(unknown=1)


def test_peak_int16_stays_out_of_the_hash_when_off() -> None:
    """Specs written before ``peak_int16`` existed keep their spec hashes; turning it on changes the hash."""
    from asc_bench.spec.hashing import semantic_dict
    from asc_bench.spec.validate import validate_spec

    def spec(**mel: object) -> dict:
        transforms = [{"type": "mel", **mel}]
        data = {"dataset": {"type": "tau22", "root": "d"}, "transforms": transforms}
        raw = {"name": "s", "data": data, "model": {"type": "baseline2024"}, "trainer": {"type": "supervised"}}
        return semantic_dict(validate_spec(raw))

    assert "peak_int16" not in spec()["data"]["transforms"][0]
    assert spec(peak_int16=True)["data"]["transforms"][0]["peak_int16"] is True


def test_peak_int16_scales_each_clip_by_its_peak_and_keeps_int16_steps() -> None:
    x = batch(waves(2))
    plain = make(Mel)(x, ctx(training=False)).x
    stored = make(Mel, peak_int16=True)(x, ctx(training=False)).x
    peak = plain.abs().amax(dim=(1, 2, 3), keepdim=True)
    assert (peak > 1).all()
    torch.testing.assert_close(stored, torch.trunc(plain / peak * 32767) / 32767, rtol=0, atol=1 / 32767)
    assert stored.abs().max() <= 1
    steps = stored * 32767
    torch.testing.assert_close(steps, steps.round(), rtol=0, atol=2e-3)
