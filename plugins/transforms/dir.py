"""Device impulse responses (DIR): convolve clips of chosen devices with random microphone responses."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
import torchaudio.functional as AF
from pydantic import Field

from asc_bench.api import Batch, PluginConfig, Transform, TransformContext, UserError, non_semantic
from asc_bench_plugins.transforms.sampling import randint, uniform


class DIRConfig(PluginConfig):
    """Settings of the device-impulse-response augmentation."""

    type: Literal["dir"] = "dir"
    folder: Path = non_semantic(
        description="Folder of impulse-response WAV files (the MicIRP layout; searched recursively). The synthetic "
        "dataset ships a set in <root>/microphone_irs/. Not part of the spec hash."
    )
    p: float = Field(0.4, ge=0, le=1, description="Probability that a clip of a chosen device is convolved.")
    devices: list[str] = Field(["a"], min_length=1, description="Devices whose clips may be convolved.")


def load_impulse_responses(folder: Path, sample_rate: int) -> torch.Tensor:
    """Every ``*.wav`` under ``folder`` (sorted by path), mono, resampled to ``sample_rate`` and zero-padded to the
    longest: a ``(count, samples)`` float32 tensor."""
    import soundfile as sf

    where = "data.transforms (dir).folder"
    fix = "Point `folder` at a folder of WAV impulse responses: MicIRP, or <root>/microphone_irs/ of a synthetic set."
    if not folder.is_dir():
        raise UserError(f"the impulse-response folder {folder} does not exist.", where=where, fix=fix)
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".wav" and p.is_file())
    if not paths:
        raise UserError(f"the impulse-response folder {folder} holds no .wav files.", where=where, fix=fix)
    responses = []
    for path in paths:
        try:
            data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        except (RuntimeError, OSError) as err:  # soundfile.LibsndfileError is a RuntimeError
            raise UserError(
                f"the impulse response {path} cannot be decoded: {err}.", where=where, fix="Replace or remove it."
            ) from None
        if data.shape[0] == 0:
            raise UserError(f"the impulse response {path} is empty.", where=where, fix="Replace or remove it.")
        mono = torch.from_numpy(data.mean(axis=1))
        responses.append(AF.resample(mono, rate, sample_rate) if rate != sample_rate else mono)
    length = max(len(r) for r in responses)
    return torch.stack([torch.nn.functional.pad(r, (0, length - len(r))) for r in responses])


class DeviceImpulseResponses(Transform):
    """Convolves clips of the chosen devices (default: ``a``) with a random impulse response, probability p.

    The convolution is a batched FFT convolution on the batch's device; the output keeps the clip's length
    (the first samples of the full convolution, as in CP-JKU's recipe). Responses are loaded and resampled to
    the working rate once, in :meth:`prepare` (the driver calls it before any data work; so does the first batch).
    """

    Config = DIRConfig
    takes = "waveform"
    gives = "waveform"
    deterministic = False
    train_only = True
    config: DIRConfig

    def __init__(self, config: DIRConfig, *, sample_rate: int) -> None:
        super().__init__(config, sample_rate=sample_rate)
        self.responses: torch.Tensor | None = None
        self._device_rows: dict[tuple[str, ...], torch.Tensor] = {}

    def prepare(self) -> None:
        self._loaded()

    def _loaded(self) -> torch.Tensor:
        if self.responses is None:
            self.responses = load_impulse_responses(self.config.folder, self.sample_rate)
        return self.responses

    def _chosen_devices(self, names: tuple[str, ...]) -> torch.Tensor:
        """Indices into ``names`` of the configured devices (checked once per vocabulary)."""
        if names not in self._device_rows:
            unknown = [d for d in self.config.devices if d not in names]
            if not names or unknown:
                raise UserError(
                    f"the dir transform names devices {unknown or self.config.devices} that the dataset does not "
                    f"have (its devices: {', '.join(names) or 'unknown'}).",
                    where="data.transforms (dir).devices",
                    fix="List devices of the dataset, e.g. devices: [a].",
                )
            self._device_rows[names] = torch.tensor([names.index(d) for d in self.config.devices])
        return self._device_rows[names]

    def __call__(self, batch: Batch, ctx: TransformContext) -> Batch:
        responses = self._loaded()
        x = batch.x
        n, length = x.shape
        chosen = torch.isin(batch.device, self._chosen_devices(ctx.device_names).to(batch.device.device))
        draw = uniform(ctx.rng, (n,), x.device) < self.config.p
        which = randint(ctx.rng, 0, len(responses), (n,), x.device)  # drawn for every clip: a stable stream
        rows = torch.nonzero(chosen.to(x.device) & draw).flatten()
        if len(rows) == 0:
            return batch
        if responses.device != x.device:
            responses = self.responses = responses.to(x.device)
        convolved = AF.fftconvolve(x[rows], responses[which[rows]].to(x.dtype))[:, :length]
        out = x.clone()
        out[rows] = convolved
        return batch.with_x(out)
