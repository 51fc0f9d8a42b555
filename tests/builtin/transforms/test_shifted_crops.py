"""Shifted crops: windows cut from the recording at the working rate, cached, one drawn per clip and epoch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydantic
import pytest
import torch
from helpers import spec_file

from asc_bench.api import TransformContext
from asc_bench.core.errors import UserError
from asc_bench.data.crops import CropSource
from asc_bench.data.pipeline import Pipeline
from asc_bench.data.splits import cache_request, iterate_batches, prepare_split
from asc_bench.plugins import registry
from asc_bench_plugins.datasets.tau22.dataset import TAU22Config, TAU22Dataset
from asc_bench_plugins.transforms.shifted_crops import ShiftedCropsConfig


def configs(*items: dict) -> list:
    return [registry.load("transform", item["type"]).Config(**item) for item in items]


@pytest.fixture(scope="module")
def ds(synth_root: Path) -> TAU22Dataset:
    return TAU22Dataset(TAU22Config(root=synth_root))


def recording_rows(ds: TAU22Dataset) -> np.ndarray:
    """The ten pieces of the first training recording, in piece order."""
    table, train = ds.clips(), ds.split("train")
    rows = train[table.recordings[train] == table.recordings[train[0]]]
    return rows[np.argsort(table.pieces[rows])]


def test_config_keeps_offsets_below_one_second() -> None:
    assert ShiftedCropsConfig().count == 10 and ShiftedCropsConfig().step_s == 0.1
    with pytest.raises(pydantic.ValidationError, match="below 1 s"):
        ShiftedCropsConfig(count=11)
    ShiftedCropsConfig(count=4, step_s=0.3)


def test_pipeline_reads_the_hook_and_keeps_crops_out_of_the_shared_key() -> None:
    crops = Pipeline(configs({"type": "shifted_crops", "count": 3}, {"type": "mel"}), sample_rate=32000)
    plain = Pipeline(configs({"type": "mel"}), sample_rate=32000)
    assert crops.crop_offsets == (0.0, 0.1, 0.2) and plain.crop_offsets is None
    assert crops.cache_description() == plain.cache_description()
    assert crops.cached_domain == "features" and crops.input_shape() == (1, 256, 65)
    with pytest.raises(UserError, match=r"data\.transforms\[1\] \(shifted_crops\).*must come first"):
        Pipeline(configs({"type": "gain"}, {"type": "shifted_crops"}, {"type": "mel"}), sample_rate=32000)


def test_windows_are_cut_from_the_joined_recording(ds: TAU22Dataset) -> None:
    rows = recording_rows(ds)
    audio = np.concatenate([ds.read(int(r), 44100) for r in rows])  # file rate: joining is exact
    offsets = (0.0, 0.1, 0.25)
    source = CropSource(ds, rows, offsets, 44100)
    for piece in (0, 4):
        windows = source.windows(piece)
        for k, offset in enumerate(offsets):
            start = piece * 44100 + round(offset * 44100)
            np.testing.assert_array_equal(windows[k], audio[start : start + 44100])
    last = source.windows(9)  # no piece after it: the windows go backwards into piece 8
    np.testing.assert_array_equal(last[1], audio[9 * 44100 - 4410 : 10 * 44100 - 4410])
    alone = CropSource(ds, rows[[0, 5]], offsets, 44100)  # neighbours outside the split are never read
    assert all(np.array_equal(w, ds.read(int(rows[5]), 44100)) for w in alone.windows(1))


def test_offsets_count_samples_at_the_working_rate(ds: TAU22Dataset) -> None:
    rows = recording_rows(ds)
    source = CropSource(ds, rows, (0.0, 0.1), 32000)
    joined = ds.read_joined(rows[2:4], 32000)
    np.testing.assert_array_equal(source.windows(2)[1], joined[3200:35200])
    flat = source.crops(np.array([5, 4, 5]))  # clip 2 at offset 0.1, clip 2 at 0, again clip 2 at 0.1
    np.testing.assert_array_equal(flat[0], flat[2])
    np.testing.assert_array_equal(flat[1], joined[:32000])


def test_only_the_training_split_is_cropped_and_the_key_follows_the_crops(ds: TAU22Dataset) -> None:
    def requests(*transforms: dict) -> dict:
        pipeline = Pipeline(configs(*transforms, {"type": "mel", "n_mels": 16}), sample_rate=32000)
        return {n: cache_request(ds, "fp", n, ds.split(n), pipeline, 256) for n in ("train", "test")}

    plain = requests()
    three = requests({"type": "shifted_crops", "count": 3})
    other = requests({"type": "shifted_crops", "count": 3, "step_s": 0.2})
    n_train = len(ds.split("train"))
    assert three["train"].count == 3 * n_train and three["train"].chunk % 3 == 0
    assert three["test"].count == len(ds.split("test")) and three["test"].key == plain["test"].key
    assert len({plain["train"].key, three["train"].key, other["train"].key}) == 3
    assert three["train"].key_parts["crop_offsets"] == [0.0, 0.1, 0.2]


def test_each_epoch_draws_one_crop_per_clip(ds: TAU22Dataset) -> None:
    cache = registry.build("cache", registry.load("cache", "memory").Config(), where="data.cache")
    pipeline = Pipeline(
        configs({"type": "shifted_crops", "count": 3, "step_s": 0.3}, {"type": "mel", "n_mels": 16}), sample_rate=32000
    )
    rows = ds.split("train")[:24]
    request = cache_request(ds, "fp", "train", rows, pipeline, 256)
    split = prepare_split(ds.clips(), request, rows, cache)
    assert split.variants == 3
    everything = split.store.get(np.arange(3 * len(rows))).reshape(len(rows), 3, -1)

    def picks(seed: int, training: bool) -> list[int]:
        ctx = TransformContext(torch.Generator().manual_seed(seed), training=training, sample_rate=32000)
        chosen = {}
        for batch in iterate_batches(split, 8, pipeline=pipeline, ctx=ctx, num_classes=10, shuffle=True):
            for clip, x in zip(batch.clip.tolist(), batch.x.reshape(len(batch.x), -1), strict=True):
                position = int(np.flatnonzero(rows == clip)[0])
                matches = [k for k in range(3) if torch.equal(everything[position, k], x)]
                assert len(matches) >= 1
                chosen[position] = matches[0]
        assert sorted(chosen) == list(range(len(rows))), "every clip once per epoch"
        return [chosen[p] for p in range(len(rows))]

    first = picks(1, training=True)
    assert picks(1, training=True) == first, "drawn from ctx.rng"
    assert picks(2, training=True) != first and len(set(first)) > 1
    assert set(picks(1, training=False)) == {0}, "evaluation uses the clip itself"


def test_a_trial_trains_on_crops_and_reports_validation_scores(
    tmp_path: Path, synth_root: Path, cache_dir: Path
) -> None:
    from asc_bench.spec.resolve import resolve_for_run
    from asc_bench.spec.validate import load_spec
    from asc_bench.trial.run import run_trial

    class Rows:
        def __init__(self) -> None:
            self.rows: list[dict] = []

        def report(self, metrics: dict, state: dict) -> None:
            self.rows.append(metrics)

        def restore(self) -> None:
            return None

    transforms = (
        "    - {type: shifted_crops, count: 2, step_s: 0.5}\n"
        "    - {type: mel, n_mels: 64}\n"
        "    - {type: freq_mask, max_bins: 8}"
    )
    path = spec_file(tmp_path, synth_root, transforms=transforms)
    spec = resolve_for_run(load_spec(path, ["data.dataset.validation.fraction=0.3"]))
    reporter = Rows()
    record = run_trial(spec.model_dump(mode="json"), 1, trial_dir=tmp_path / "t", trial_id="t", reporter=reporter)
    row = reporter.rows[0]
    assert 0 <= row["val_macro_acc"] <= 1 and row["val_log_loss"] > 0 and "test_macro_acc" in row
    assert record.history[0]["val_macro_acc"] == row["val_macro_acc"]
    assert record.complexity.input_shape == [1, 64, 65]
