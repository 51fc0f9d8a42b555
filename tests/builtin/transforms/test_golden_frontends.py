"""Golden-output tests of the front ends and masks the recipe specs use: the mel front ends of the DCASE 2024
and 2025 baselines, CP-JKU, Cai and the 2022/2023 baseline reproduce the reference code's output (fixtures:
tests/fixtures/golden), the recipe specs' masks fill what the references' masks leave after the whole front end,
and the masks draw as torchaudio's do."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchaudio
from helpers import ROOT
from helpers.golden import assert_matches, load_fixture, seeded, source

from asc_bench.api import Batch, TransformContext
from asc_bench.spec.validate import load_spec
from asc_bench_plugins.transforms.masks import FreqMask, TimeMask
from asc_bench_plugins.transforms.mel import Mel
from asc_bench_plugins.transforms.sampling import uniform

SR = 32_000
WAVE = 0.1 * seeded((2, 4000), 3)  # as tests/fixtures/golden/make_golden.py draws them
WAVE_44K = 0.1 * seeded((2, 11025), 3)


def spec_step(spec: str, kind: str) -> dict:
    """The settings of the first transform of type ``kind`` in ``specs/<spec>.yaml``."""
    transforms = load_spec(ROOT / "specs" / f"{spec}.yaml").data.transforms
    return next(t for t in transforms if t.type == kind).model_dump(exclude={"type"})


def ctx(seed: int = 0, training: bool = False, sample_rate: int = SR) -> TransformContext:
    return TransformContext(rng=torch.Generator().manual_seed(seed), training=training, sample_rate=sample_rate)


def run(transform: Mel | FreqMask | TimeMask, x: torch.Tensor, context: TransformContext) -> torch.Tensor:
    n = x.shape[0]
    zeros = torch.zeros(n, dtype=torch.int64)
    labels = F.one_hot(zeros, 10).float()
    return transform(Batch(x, labels, zeros, zeros, zeros, torch.arange(n)), context).x


def mel(sample_rate: int = SR, **settings: object) -> Mel:
    return Mel(Mel.Config(**settings), sample_rate=sample_rate)


@pytest.mark.parametrize(
    ("spec", "fixture", "wave"),
    [
        ("baseline2024", "mel_baseline2024", WAVE),
        ("baseline2025", "mel_baseline2025", WAVE),
        ("cpjku", "mel_cpjku", WAVE),
        ("cai", "mel_cai", WAVE),
        ("baseline2023", "mel_baseline2023", WAVE_44K),
    ],
)
def test_recipe_front_end_reproduces_its_reference(spec: str, fixture: str, wave: torch.Tensor) -> None:
    """The 2022/2023 baseline's also keeps int16 steps: 3e-5 apart, so a few values fall one step away."""
    assert len(source(fixture)["commit"]) == 40
    reference = load_fixture(fixture)["eval"]
    sample_rate = load_spec(ROOT / "specs" / f"{spec}.yaml").data.sample_rate
    ours = run(mel(sample_rate, **spec_step(spec, "mel")), wave, ctx(sample_rate=sample_rate))
    assert_matches({"eval": ours.reshape(reference.shape)}, {"eval": reference})


def test_cpjku_front_end_at_a_jittered_band_edge() -> None:
    settings = {**spec_step("cpjku", "mel"), "fmax": 15_237, "fmax_jitter": None}
    reference = load_fixture("mel_cpjku")["fmax_15237"]
    assert_matches({"x": run(mel(**settings), WAVE, ctx()).reshape(reference.shape)}, {"x": reference})


def test_cpjku_fmax_jitter_draws_whole_hertz_from_15001_to_16000() -> None:
    settings = spec_step("cpjku", "mel")
    jittered = mel(**settings)
    for seed in range(3):
        u = uniform(torch.Generator().manual_seed(seed), (2,), torch.device("cpu"))[1].item()
        fmax = 15_001 + int(u * 1000)
        fixed = mel(**{**settings, "fmax": fmax, "fmax_jitter": None})
        torch.testing.assert_close(run(jittered, WAVE, ctx(seed, training=True)), run(fixed, WAVE, ctx()))


@pytest.mark.parametrize(
    ("spec", "fixture"),
    [("baseline2024", "mel_baseline2024"), ("baseline2025", "mel_baseline2025"), ("cpjku", "mel_cpjku")],
)
def test_recipe_masks_fill_what_the_reference_leaves(spec: str, fixture: str) -> None:
    """The 2024 baseline masks the power mel (masked bins end as ln(1e-5)); CP-JKU masks the log-mel with 0
    before (x + 4.5) / 5 (they end as 0.9). The specs mask after the front end with that value."""
    (fill,) = load_fixture(fixture)["mask_fill"].tolist()
    step = spec_step(spec, "freq_mask")
    assert step["max_bins"] == 48
    masked = run(FreqMask(FreqMask.Config(**step), sample_rate=SR), torch.full((64, 1, 256, 5), 7.0), ctx(0, True))
    assert set(masked.unique().tolist()) == {7.0, fill}


@pytest.mark.parametrize(("cls", "reference", "dim"), [(FreqMask, "FrequencyMasking", 2), (TimeMask, "TimeMasking", 3)])
def test_masks_draw_as_torchaudio(cls: type, reference: str, dim: int) -> None:
    x = torch.rand(512, 1, 64, 60) + 1
    width = 48
    setting = "max_bins" if dim == 2 else "max_frames"
    ours = run(cls(cls.Config(**{setting: width, "value": -3.0}), sample_rate=SR), x, ctx(7, training=True))
    torch.manual_seed(7)
    theirs = getattr(torchaudio.transforms, reference)(width, iid_masks=True)(x, -3.0)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    widths = (ours == -3.0).any(dim=5 - dim)[:, 0].sum(dim=1)
    assert widths.max() == width - 1 and widths.min() == 0  # floor(U * 48): 0 ... 47
