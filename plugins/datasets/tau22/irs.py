"""Synthetic microphone impulse responses for the ``dir`` augmentation, in the MicIRP layout (a folder of WAVs).

The real recipe convolves device-``a`` clips with the 66 MicIRP responses (0.37–0.5 s at 44.1 kHz). This module
writes a small stand-in set so the recipe runs on the synthetic dataset: each response is the minimum-phase
impulse response of a random microphone-like magnitude response (a high-pass, a low-pass, a spectral tilt and a
few resonances or dips), drawn independently of the synthetic dataset's device models, truncated to 0.37–0.5 s
with a short fade-out and scaled to unit energy. The synthetic dataset ships them in ``<root>/microphone_irs/``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asc_bench.api import UserError, atomic_folder

IR_FOLDER = "microphone_irs"
IR_SAMPLE_RATE = 44100
IR_COUNT = 12
_FFT = 1 << 15  # 0.74 s at 44.1 kHz: longer than any response, so the minimum-phase step does not alias much
_FADE = 256


def _magnitude(rng: np.random.Generator, freqs: np.ndarray) -> np.ndarray:
    """A random microphone-like magnitude response on ``freqs`` (Hz)."""
    f = np.maximum(freqs, 1.0)
    hp, hp_order = np.exp(rng.uniform(np.log(60.0), np.log(500.0))), int(rng.integers(1, 4))
    lp, lp_order = np.exp(rng.uniform(np.log(5000.0), np.log(18000.0))), int(rng.integers(2, 7))
    mag = 1.0 / np.sqrt((1.0 + (hp / f) ** (2 * hp_order)) * (1.0 + (f / lp) ** (2 * lp_order)))
    octaves = np.log2(f / 1000.0)
    gain_db = rng.uniform(-2.0, 2.0) * octaves
    for _ in range(int(rng.integers(1, 4))):
        centre = np.log2(np.exp(rng.uniform(np.log(300.0), np.log(8000.0))) / 1000.0)
        width = rng.uniform(0.3, 1.2)
        gain_db = gain_db + rng.uniform(-8.0, 8.0) * np.exp(-0.5 * ((octaves - centre) / (width / 2.355)) ** 2)
    return mag * 10.0 ** (gain_db / 20.0)


def _minimum_phase(magnitude: np.ndarray) -> np.ndarray:
    """The minimum-phase impulse response (length ``_FFT``) of a magnitude on the rfft grid (real cepstrum)."""
    cepstrum = np.fft.irfft(np.log(np.maximum(magnitude, 1e-4)), n=_FFT)
    folded = np.zeros_like(cepstrum)
    folded[0] = cepstrum[0]
    folded[1 : _FFT // 2] = 2.0 * cepstrum[1 : _FFT // 2]
    folded[_FFT // 2] = cepstrum[_FFT // 2]
    return np.fft.irfft(np.exp(np.fft.rfft(folded)), n=_FFT)


def synthetic_impulse_response(seed: int, index: int) -> np.ndarray:
    """Response ``index`` of the set made from ``seed``: float32 at 44.1 kHz, 0.37–0.5 s, unit energy."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xD1, index]))
    freqs = np.fft.rfftfreq(_FFT, 1.0 / IR_SAMPLE_RATE)
    ir = _minimum_phase(_magnitude(rng, freqs))
    length = int(rng.uniform(0.37, 0.5) * IR_SAMPLE_RATE)
    ir = ir[:length].copy()
    ir[-_FADE:] *= np.linspace(1.0, 0.0, _FADE)
    return (ir / np.sqrt(np.sum(ir * ir))).astype(np.float32)


def write_synthetic_impulse_responses(folder: Path | str, *, count: int = IR_COUNT, seed: int = 0) -> list[Path]:
    """Write ``count`` synthetic responses as ``folder/synthetic_ir_NN.wav`` (24-bit PCM, 44.1 kHz; not float WAV,
    whose PEAK chunk holds a time stamp, so the files are byte-identical for the same seed).

    Deterministic in ``seed``. The folder is built under a temporary name and renamed into place (with the
    umask's modes), so it is either complete or absent; a folder that already holds the full set is left as it
    is, and any other existing ``folder`` is a :class:`UserError`. Returns the paths.
    """
    import soundfile as sf

    folder = Path(folder)
    names = [f"synthetic_ir_{i:02d}.wav" for i in range(count)]
    if folder.is_dir() and all((folder / name).is_file() for name in names):
        return [folder / name for name in names]
    if folder.exists():
        raise UserError(
            f"cannot write the synthetic impulse responses to {folder}: it exists and does not hold the full set.",
            fix="Delete that folder (asc-bench never overwrites other files), or choose another one.",
        )
    with atomic_folder(folder) as tmp:
        for i, name in enumerate(names):
            sf.write(tmp / name, synthetic_impulse_response(seed, i), IR_SAMPLE_RATE, subtype="PCM_24")
    return [folder / name for name in names]
