"""The transform pipeline: domain checks, the cached prefix and the model input shape."""

from __future__ import annotations

import pytest

from asc_bench.core.errors import UserError
from asc_bench.data.pipeline import Pipeline
from asc_bench.plugins import registry


def configs(*items: dict) -> list:
    return [registry.load("transform", item["type"]).Config(**item) for item in items]


def test_input_shape_is_the_baseline_front_end() -> None:
    pipeline = Pipeline(configs({"type": "mel"}), sample_rate=32000)
    assert pipeline.input_shape() == (1, 256, 65)


def test_random_waveform_step_keeps_the_mel_out_of_the_cache() -> None:
    pipeline = Pipeline(configs({"type": "roll"}, {"type": "mel"}, {"type": "freq_mask"}), sample_rate=32000)
    assert pipeline.cached == []
    assert [t.config.type for t in pipeline.online] == ["roll", "mel", "freq_mask"]


def test_deterministic_front_end_is_cached_and_augmentations_are_not() -> None:
    pipeline = Pipeline(configs({"type": "mel", "n_mels": 64}, {"type": "freq_mask"}), sample_rate=32000)
    assert [t.config.type for t in pipeline.cached] == ["mel"]
    assert [t.config.type for t in pipeline.online] == ["freq_mask"]
    assert pipeline.input_shape() == (1, 64, 65)


def test_cache_fingerprint_follows_cached_settings_only() -> None:
    base = Pipeline(configs({"type": "mel"}, {"type": "freq_mask", "max_bins": 8}), sample_rate=32000)
    other_aug = Pipeline(configs({"type": "mel"}, {"type": "freq_mask", "max_bins": 9}), sample_rate=32000)
    other_mel = Pipeline(configs({"type": "mel", "n_mels": 128}), sample_rate=32000)
    other_rate = Pipeline(configs({"type": "mel"}), sample_rate=44100)
    assert base.cache_fingerprint() == other_aug.cache_fingerprint()
    assert len({base.cache_fingerprint(), other_mel.cache_fingerprint(), other_rate.cache_fingerprint()}) == 3


def test_feature_transform_before_the_front_end_is_refused() -> None:
    with pytest.raises(UserError, match=r"data\.transforms\[0\] \(freq_mask\) takes features"):
        Pipeline(configs({"type": "freq_mask"}, {"type": "mel"}), sample_rate=32000)


def test_pipeline_without_front_end_is_refused() -> None:
    with pytest.raises(UserError, match="never turns the waveform into features"):
        Pipeline(configs({"type": "roll"}), sample_rate=32000)


def test_inconsistent_transform_settings_name_the_spec_field() -> None:
    with pytest.raises(UserError, match=r"data\.transforms\[1\] \(mel\): .*fmax"):
        Pipeline(configs({"type": "roll"}, {"type": "mel", "fmax": 30000}), sample_rate=32000)


def test_cached_domain_says_what_the_cache_holds() -> None:
    waveforms = Pipeline(configs({"type": "roll"}, {"type": "mel"}), sample_rate=32000)
    features = Pipeline(configs({"type": "mel", "n_mels": 64}, {"type": "freq_mask"}), sample_rate=32000)
    assert waveforms.cached_domain == "waveform" and features.cached_domain == "features"
    assert waveforms.cache_description() == {"sample_rate": 32000, "cached": []}
    assert [p["type"] for p in features.cache_description()["cached"]] == ["mel"]
    assert features.crop_offsets is None
