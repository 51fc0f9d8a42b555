"""The reference-style training loop of benchmarks/gpu.py, in the manner of the public DCASE 2024 Task 1 baseline
(github.com/CPJKU/dcase2024_task1_baseline, run_training.py: a torch DataLoader of 44.1-kHz waveforms with 8 workers,
resampling to 32 kHz and a 256-band mel per batch on the GPU, frequency masking of 48 bins, Freq-MixStyle p 0.4 /
alpha 0.3, AdamW 0.005, fp32): written from that description, not copied."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

ORIG_RATE, RATE = 44100, 32000


def reference_loop(
    paths: list[Path], labels: np.ndarray, model: torch.nn.Module, device: torch.device, batch: int, workers: int
) -> float:
    """Clips/s of a loop in the style of the public 2024 baseline: a DataLoader of 44.1-kHz waveforms (rolled in the
    workers), resampling, mel, masking and Freq-MixStyle per batch on the device, fp32 NCHW eager, AdamW."""
    import torchaudio

    front = torch.nn.Sequential(
        torchaudio.transforms.Resample(ORIG_RATE, RATE),
        torchaudio.transforms.MelSpectrogram(RATE, n_fft=4096, win_length=3072, hop_length=500, n_mels=256),
    ).to(device)
    mask = torchaudio.transforms.FrequencyMasking(48, iid_masks=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.005, weight_decay=1e-4)
    loader = torch.utils.data.DataLoader(
        WaveClips(paths, labels), batch_size=batch, shuffle=True, num_workers=workers, persistent_workers=workers > 0
    )

    def epoch(limit: int | None = None) -> int:
        seen = 0
        for i, (x, y) in enumerate(loader):
            if limit is not None and i >= limit:
                break
            x, y = x.to(device), y.to(device)
            features = (mask(front(x).unsqueeze(1)) + 1e-5).log()
            features = freq_mixstyle(features, p=0.4, alpha=0.3)
            optimizer.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(features), y).backward()
            optimizer.step()
            seen += len(y)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return seen

    epoch(limit=3)  # workers started, kernels warm
    start = time.perf_counter()
    seen = epoch()
    return seen / (time.perf_counter() - start)


class WaveClips(torch.utils.data.Dataset):
    """WAV files read per clip in the loader's workers, rolled by up to ±0.1 s."""

    def __init__(self, paths: list[Path], labels: np.ndarray) -> None:
        self.paths, self.labels = paths, labels

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        import soundfile as sf

        wave = sf.read(self.paths[i], dtype="float32")[0]
        shift = np.random.randint(-ORIG_RATE // 10, ORIG_RATE // 10 + 1)
        return torch.from_numpy(np.roll(wave, shift)), int(self.labels[i])


def freq_mixstyle(x: torch.Tensor, p: float, alpha: float) -> torch.Tensor:
    """Mix per-frequency statistics between clips of the batch with probability ``p`` (Freq-MixStyle)."""
    if np.random.rand() > p:
        return x
    mu, sig = x.mean(dim=(1, 3), keepdim=True), (x.var(dim=(1, 3), keepdim=True) + 1e-6).sqrt()
    lam = torch.distributions.Beta(alpha, alpha).sample((x.shape[0], 1, 1, 1)).to(x.device)
    perm = torch.randperm(x.shape[0], device=x.device)
    mixed_mu, mixed_sig = lam * mu + (1 - lam) * mu[perm], lam * sig + (1 - lam) * sig[perm]
    return (x - mu) / sig * mixed_sig + mixed_mu
