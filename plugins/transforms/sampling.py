"""Random draws for batch transforms, all taken from the trial's seeded ``torch.Generator``.

Draws are made on the generator's own device and then moved to the batch's device, so a CPU
generator also drives transforms on an accelerator and the stream of numbers does not depend on
where the batch lives.
"""

from __future__ import annotations

import numpy as np
import torch


def uniform(rng: torch.Generator, shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    """Float32 samples from U[0, 1)."""
    return torch.rand(shape, generator=rng, device=rng.device).to(device)


def randint(rng: torch.Generator, low: int, high: int, shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    """Int64 samples from {low, …, high − 1}."""
    return torch.randint(low, high, shape, generator=rng, device=rng.device).to(device)


def permutation(rng: torch.Generator, n: int, device: torch.device) -> torch.Tensor:
    """A random permutation of 0 … n − 1."""
    return torch.randperm(n, generator=rng, device=rng.device).to(device)


def beta(rng: torch.Generator, alpha: float, shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    """Float32 samples from Beta(alpha, alpha).

    torch's Beta/Gamma samplers cannot take a generator, so one 62-bit seed is drawn from ``rng``
    and handed to a NumPy ``Generator``, whose ``beta`` is exact for every alpha > 0 (including the
    small alphas of MixUp and Freq-MixStyle). Same ``rng`` state → same samples.
    """
    seed = int(torch.randint(0, 2**62, (1,), generator=rng, device=rng.device).item())
    sample = np.random.default_rng(seed).beta(alpha, alpha, size=shape)
    return torch.from_numpy(sample).to(device=device, dtype=torch.float32)
