"""Log-mel front end: waveform (B, samples) → features (B, 1, n_mels, frames)."""

from __future__ import annotations

import warnings
from typing import Literal

import torch
import torch.nn.functional as F
import torchaudio
from pydantic import Field, model_validator
from torchaudio.compliance import kaldi

from asc_bench.api import Batch, PluginConfig, StrictModel, Transform, TransformContext
from asc_bench_plugins.transforms.sampling import uniform

CPU_CHUNK = 2
"""Clips per STFT on the CPU: a small chunk's spectrogram stays in cache (about 3x faster than one call)."""
INT16_FULL_SCALE = 32767.0
"""The DCASE 2022/2023 baseline's int16 feature scale (utils.py float32_to_int16 / int16_to_float32)."""


class Normalize(StrictModel):
    """An affine map of the log-mel values: (x + offset) / scale."""

    offset: float = Field(..., description="Added to the log-mel values (CP-JKU: 4.5).")
    scale: float = Field(..., gt=0, description="The sum is divided by this (CP-JKU: 5).")


class MelConfig(PluginConfig):
    """Settings of the log-mel front end; the defaults are the DCASE 2024 baseline's."""

    type: Literal["mel"] = "mel"
    n_fft: int = Field(4096, gt=0, description="FFT size in samples at the working sample rate.")
    win_length: int = Field(3072, gt=0, description="Window length in samples (≤ n_fft; centred in the FFT).")
    hop_length: int = Field(500, gt=0, description="Hop between frames in samples; frames = 1 + samples // hop.")
    n_mels: int = Field(256, gt=3, description="Number of mel bands.")
    window: Literal["hann", "hann_symmetric", "hamming"] = Field(
        "hann",
        description="Window: periodic Hann (2024 baseline), symmetric Hann (CP-JKU) or periodic Hamming.",
    )
    power: float = Field(2.0, gt=0, description="Exponent of the magnitude spectrogram (2 = power).")
    preemphasis: float | None = Field(
        None,
        description="Pre-emphasis coefficient c: y[t] = x[t] - c·x[t-1], one sample shorter (CP-JKU: 0.97).",
    )
    mel_scale: Literal["htk", "slaney", "kaldi"] = Field(
        "htk", description="Filterbank: torchaudio's htk or slaney triangles, or Kaldi-style banks (CP-JKU)."
    )
    mel_norm: Literal["slaney"] | None = Field(
        None, description="'slaney' divides each triangle by its width (htk/slaney scales only)."
    )
    fmin: float = Field(0.0, ge=0, description="Lowest filterbank frequency in Hz.")
    fmax: float | None = Field(None, gt=0, description="Highest filterbank frequency in Hz (default: Nyquist).")
    fmin_jitter: tuple[int, int] | None = Field(
        None,
        description="Training only: per batch, fmin += a whole number of Hz uniform in low…high (inclusive), "
        "drawn from the trial's generator.",
    )
    fmax_jitter: tuple[int, int] | None = Field(
        None,
        description="Training only: per batch, fmax += a whole number of Hz uniform in low…high (inclusive; "
        "CP-JKU: fmax 15500, [-499, 500], i.e. 15,001…16,000 Hz).",
    )
    log_offset: float = Field(1e-5, gt=0, description="Features are log(mel + log_offset).")
    normalize: Normalize | None = Field(None, description="Optional (x + offset) / scale after the log.")
    peak_int16: bool = Field(
        False,
        description="Last, as the DCASE 2022/2023 baseline stores its features (create_h5.py): each clip divided "
        "by its largest |value| when that exceeds 1, then truncated to int16 steps (trunc(x * 32767) / 32767).",
    )

    def unused_fields(self) -> set[str]:
        """``peak_int16`` left off is left out of the spec hash, so specs written before it keep their hashes."""
        return set() if self.peak_int16 else {"peak_int16"}

    @model_validator(mode="after")
    def _check(self) -> MelConfig:
        if self.win_length > self.n_fft:
            raise ValueError(f"win_length ({self.win_length}) must not exceed n_fft ({self.n_fft})")
        for name in ("fmin_jitter", "fmax_jitter"):
            jitter = getattr(self, name)
            if jitter is not None and jitter[0] > jitter[1]:
                raise ValueError(f"{name} must be [low, high] with low ≤ high, got {list(jitter)}")
        if self.mel_scale == "kaldi" and (self.mel_norm is not None or self.n_fft % 2):
            raise ValueError("mel_scale 'kaldi' needs an even n_fft and no mel_norm")
        return self


class Mel(Transform):
    """Log-mel spectrogram (STFT, mel filterbank, log), optional pre-emphasis, band-edge jitter, scaling."""

    Config = MelConfig
    takes = "waveform"
    gives = "features"
    config: MelConfig

    def __init__(self, config: MelConfig, *, sample_rate: int) -> None:
        super().__init__(config, sample_rate=sample_rate)
        nyquist = sample_rate / 2
        fmax = nyquist if config.fmax is None else config.fmax
        self._edges = (config.fmin, fmax)
        lo_min, hi_min = _span(config.fmin, config.fmin_jitter)
        lo_max, hi_max = _span(fmax, config.fmax_jitter)
        if not (hi_min < lo_max and hi_max <= nyquist):
            raise ValueError(
                f"mel band edges (with jitter) must satisfy 0 ≤ fmin < fmax ≤ {nyquist:g} Hz "
                f"(the Nyquist frequency at {sample_rate} Hz); got fmin in [{lo_min:g}, {hi_min:g}], "
                f"fmax in [{lo_max:g}, {hi_max:g}]"
            )
        if lo_min < 0:
            raise ValueError(f"fmin with jitter must stay ≥ 0 Hz, got {lo_min:g}")
        make_window = {
            "hann": lambda n: torch.hann_window(n),
            "hann_symmetric": lambda n: torch.hann_window(n, periodic=False),
            "hamming": lambda n: torch.hamming_window(n),
        }[config.window]
        self._window = make_window(config.win_length)
        self._weights: dict[torch.device, torch.Tensor] = {}
        self._fixed_bank = self._filterbank(*self._edges)

    @property
    def deterministic(self) -> bool:  # type: ignore[override]
        """False when fmin/fmax jitter is on. The framework must read this on the instance, not the class."""
        return self.config.fmin_jitter is None and self.config.fmax_jitter is None

    def __call__(self, batch: Batch, ctx: TransformContext) -> Batch:
        x = batch.x
        c = self.config
        if c.preemphasis is not None:
            x = x[:, 1:] - c.preemphasis * x[:, :-1]
        if ctx.training and not self.deterministic:
            weights = self._jittered_weights(ctx, x.device)
        else:
            if x.device not in self._weights:
                self._weights[x.device] = self._projection(self._fixed_bank, x.device)
            weights = self._weights[x.device]
        if self._window.device != x.device:
            self._window = self._window.to(x.device)
        frames = 1 + x.shape[1] // c.hop_length
        out = torch.empty(x.shape[0], 1, c.n_mels, frames, device=x.device, dtype=torch.float32)
        chunk = CPU_CHUNK if x.device.type == "cpu" else max(1, x.shape[0])
        for start in range(0, x.shape[0], chunk):
            part = x[start : start + chunk]
            out[start : start + part.shape[0], 0] = self._mel(part, weights)
        out.add_(c.log_offset).log_()
        if c.normalize is not None:
            out.add_(c.normalize.offset).div_(c.normalize.scale)
        if c.peak_int16:
            peak = out.abs().amax(dim=(1, 2, 3), keepdim=True)
            out.div_(torch.where(peak > 1, peak, 1.0)).mul_(INT16_FULL_SCALE).trunc_().div_(INT16_FULL_SCALE)
        return batch.with_x(out)

    def _mel(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Mel energies (b, n_mels, frames) of a chunk of waveforms."""
        c = self.config
        spec = torch.stft(
            x.float(), c.n_fft, c.hop_length, c.win_length, self._window,
            center=True, pad_mode="reflect", return_complex=True,
        )  # fmt: skip
        b, _, frames = spec.shape
        # power 2: re² and im² side by side (k = 2), the interleaved weights add them in the projection
        parts = torch.view_as_real(spec).square_() if c.power == 2 else spec.abs().pow_(c.power).unsqueeze(-1)
        parts = parts.permute(1, 3, 0, 2).reshape(-1, b * frames)  # (n_freqs·k, b·frames)
        return (weights @ parts).reshape(c.n_mels, b, frames).transpose(0, 1)

    def _filterbank(self, fmin: float, fmax: float) -> torch.Tensor:
        """Mel weights (n_mels, n_fft // 2 + 1) for one pair of band edges."""
        c = self.config
        if c.mel_scale == "kaldi":
            banks, _ = kaldi.get_mel_banks(c.n_mels, c.n_fft, float(self.sample_rate), fmin, fmax, 100.0, -500.0, 1.0)
            return F.pad(banks, (0, 1))  # Kaldi's banks leave out the Nyquist bin
        bank = torchaudio.functional.melscale_fbanks(
            c.n_fft // 2 + 1, fmin, fmax, c.n_mels, self.sample_rate, norm=c.mel_norm, mel_scale=c.mel_scale
        )
        return bank.T.contiguous()

    def _projection(self, bank: torch.Tensor, device: torch.device) -> torch.Tensor:
        """The filterbank laid out for :meth:`_mel`: interleaved for power 2, sparse (CSR) on the CPU."""
        weights = bank.repeat_interleave(2, dim=1) if self.config.power == 2 else bank
        weights = weights.to(device)
        if device.type != "cpu":
            return weights
        with warnings.catch_warnings():  # "sparse CSR support is in beta": CSR @ dense is all we use
            warnings.simplefilter("ignore", UserWarning)
            return weights.to_sparse_csr()

    def _jittered_weights(self, ctx: TransformContext, device: torch.device) -> torch.Tensor:
        """A filterbank with band edges drawn for this batch from ``ctx.rng``."""
        c = self.config
        u = uniform(ctx.rng, (2,), ctx.rng.device).tolist()
        fmin, fmax = self._edges
        if c.fmin_jitter is not None:
            fmin += _whole(c.fmin_jitter, u[0])
        if c.fmax_jitter is not None:
            fmax += _whole(c.fmax_jitter, u[1])
        return self._projection(self._filterbank(fmin, fmax), device)


def _whole(jitter: tuple[int, int], u: float) -> int:
    """The whole number in ``jitter``'s inclusive range that ``u`` ∈ [0, 1) picks (each equally likely)."""
    low, high = jitter
    return low + min(int(u * (high - low + 1)), high - low)


def _span(value: float, jitter: tuple[float, float] | None) -> tuple[float, float]:
    """The range a band edge can take under its jitter."""
    return (value, value) if jitter is None else (value + jitter[0], value + jitter[1])
