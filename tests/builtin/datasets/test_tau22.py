"""The tau22 dataset plugin: the real TAU22 layout (on synthetic data) and every user mistake it reports."""

from __future__ import annotations

import os
import shutil
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pydantic
import pytest
import soundfile as sf

from asc_bench.api import NOT_SEMANTIC
from asc_bench.core.errors import UserError
from asc_bench_plugins.datasets.tau22.dataset import RELEASE_FOLDER, TAU22Config, TAU22Dataset
from asc_bench_plugins.datasets.tau22.synth import synthetic_dataset_size, write_synthetic_dataset
from asc_bench_plugins.datasets.tau22.vocabulary import CITIES, DEVICES, SCENES

TINY = dict(
    seed=0,
    cities=1,
    locations_per_pair=2,
    segments_per_location=1,
    parallel_fraction=0.2,
    devices_per_parallel=4,
)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tau22") / "TAU-synthetic"
    write_synthetic_dataset(root, workers=1, **TINY)
    return root


def dataset(root: Path, split: str = "fold1") -> TAU22Dataset:
    return TAU22Dataset(TAU22Config(root=root, split=split))


def csv_rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()[1:]]


# --------------------------------------------------------------------------------------------- a mini root

CLIPS = [f"audio/airport-lisbon-1000-40000-{i}-a.wav" for i in range(2)] + [
    f"audio/bus-lisbon-1001-40000-{i}-a.wav" for i in range(2)
]


def write_wav(path: Path, seconds: float = 1.0, channels: int = 1, rate: int = 44100) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    x = 0.1 * np.random.default_rng(len(str(path))).standard_normal((int(seconds * rate), channels))
    sf.write(str(path), x, rate, subtype="PCM_24")


def mini_root(base: Path, *, meta: str | None = None) -> Path:
    """Four clips (two airport, two bus), tab-separated tables exactly like the real ones."""
    root = base / RELEASE_FOLDER
    for clip in CLIPS:
        write_wav(root / clip)
    scene = {c: c.split("/")[1].split("-")[0] for c in CLIPS}
    if meta is None:
        meta = "filename\tscene_label\tidentifier\tsource_label\n" + "".join(
            f"{c}\t{scene[c]}\tlisbon-{c.split('-')[2]}\ta\n" for c in CLIPS
        )
    (root / "meta.csv").write_text(meta)
    (root / "evaluation_setup").mkdir()
    head = "filename\tscene_label\n"
    (root / "evaluation_setup" / "fold1_train.csv").write_text(head + f"{CLIPS[0]}\tairport\n{CLIPS[2]}\tbus\n")
    (root / "evaluation_setup" / "fold1_evaluate.csv").write_text(head + f"{CLIPS[1]}\tairport\n{CLIPS[3]}\tbus\n")
    return root


def user_error(fn, *args) -> str:
    with pytest.raises(UserError) as err:
        fn(*args)
    message = str(err.value)
    assert "\n" not in message, "one paragraph"
    assert err.value.exit_code == 2
    return message


# --------------------------------------------------------------------------------------------- config


def test_config_and_entry_point(tmp_path):
    config = TAU22Config(root=tmp_path)
    assert (config.type, config.split) == ("tau22", "fold1")
    assert TAU22Config.model_fields["root"].json_schema_extra == NOT_SEMANTIC
    with pytest.raises(pydantic.ValidationError):
        TAU22Config()
    with pytest.raises(pydantic.ValidationError):
        TAU22Config(root=tmp_path, split="split7")
    with pytest.raises(pydantic.ValidationError):
        TAU22Config(root=tmp_path, bogus=1)
    (ep,) = [ep for ep in entry_points(group="asc_bench.dataset") if ep.name == "tau22"]
    assert ep.load() is TAU22Dataset and TAU22Dataset.Config is TAU22Config


def test_check_config_builds_the_settings_data_check_uses(tmp_path):
    config = TAU22Dataset.check_config(tmp_path, {"split": "split25", "validation": {"fraction": 0.2}})
    assert config == TAU22Config(root=tmp_path, split="split25", validation={"fraction": 0.2})
    assert TAU22Dataset.check_config(tmp_path) == TAU22Config(root=tmp_path)
    message = user_error(TAU22Dataset.check_config, tmp_path, {"validation": {"fraction": 1.5}})
    assert "do not fit the tau22 dataset" in message and "validation.fraction: Input should be less than 1" in message
    assert "bogus: Extra inputs are not permitted" in user_error(TAU22Dataset.check_config, tmp_path, {"bogus": 1})


def test_synthesize_hook_sizes_and_the_set_it_writes(synth_root):
    assert TAU22Dataset.synthetic_size() == synthetic_dataset_size()
    assert TAU22Dataset.synthetic_size(clips=900, seed=3) == synthetic_dataset_size(cities=3, seed=3)
    assert TAU22Dataset.synthetic_size(full_size=True)["clips"] == 230_400
    assert TAU22Dataset.synthetic_size(clips=3001)["clips"] == 6000
    with pytest.raises(UserError, match="exclude each other"):
        TAU22Dataset.synthetic_size(clips=10, full_size=True)
    # the session's set (900 clips, seed 0) is what synthesize writes for clips=900: nothing to write again
    summary = TAU22Dataset.synthesize(synth_root, clips=900, seed=0, workers=1)
    assert summary == f"{synth_root} already holds this synthetic dataset (same parameters); nothing written."
    with pytest.raises(UserError, match="other parameters"):
        TAU22Dataset.synthesize(synth_root, clips=900, seed=1)


# --------------------------------------------------------------------------------------------- synthetic data


def test_clip_table_from_meta(synth):
    ds = dataset(synth)
    table = ds.clips()
    meta = csv_rows(synth / "meta.csv")
    assert len(table) == len(meta) == 360
    assert table.ids == tuple(r[0] for r in meta)
    assert table.paths[0] == synth / meta[0][0]
    assert table.class_names == SCENES
    assert table.device_names == DEVICES
    assert table.city_names == CITIES
    for i, (filename, scene, identifier, source) in enumerate(meta):
        assert table.class_names[table.labels[i]] == scene
        assert table.city_names[table.cities[i]] == identifier.split("-")[0]
        assert table.device_names[table.devices[i]] == source == filename[:-4].split("-")[-1]
    for dtype_array in (table.labels, table.devices, table.cities, table.recordings):
        assert dtype_array.dtype == np.int64
    assert len(np.unique(table.recordings)) == len(table) // 10
    for rec in np.unique(table.recordings):
        rows = np.flatnonzero(table.recordings == rec)
        assert len(rows) == 10 and len(set(table.devices[rows])) == 1
        stems = sorted(table.ids[r][:-4].split("-") for r in rows)
        assert sorted(int(s[4]) for s in stems) == list(range(10))
        assert len({tuple(s[:4] + s[5:]) for s in stems}) == 1
    assert ds.clips() is table, "parsed once"
    assert ds.describe() == str(synth)


def test_fold1_and_2024_splits(synth):
    ds = dataset(synth)
    ids = ds.clips().ids
    train, test = ds.split("train"), ds.split("test")
    assert train.dtype == np.int64
    assert [ids[i] for i in train] == [r[0] for r in csv_rows(synth / "evaluation_setup" / "fold1_train.csv")]
    assert [ids[i] for i in test] == [r[0] for r in csv_rows(synth / "evaluation_setup" / "fold1_evaluate.csv")]
    assert not set(train) & set(test)
    devices = ds.clips().devices
    assert {DEVICES[d] for d in devices[train]} <= {"a", "b", "c", "s1", "s2", "s3"}
    previous: set[int] = set()
    for pct in (5, 10, 25, 50, 100):
        sub = dataset(synth, f"split{pct}")
        rows = sub.split("train")
        assert [ids[i] for i in rows] == [r[0] for r in csv_rows(synth / "split_setup" / f"split{pct}.csv")]
        assert previous <= set(rows)
        previous = set(rows)
        assert np.array_equal(sub.split("test"), test)
    assert previous == set(train)
    with pytest.raises(ValueError):
        ds.split("validation")  # type: ignore[arg-type]


def test_read_and_resample(synth):
    ds = dataset(synth)
    path = ds.clips().paths[0]
    native = ds.read(0, 44100)
    expected, _ = sf.read(str(path), dtype="float32")
    assert native.dtype == np.float32 and np.array_equal(native, expected)
    at32 = ds.read(0, 32000)
    assert at32.shape == (32000,) and at32.dtype == np.float32
    assert 0.7 < at32.std() / native.std() < 1.3
    assert ds._resamplers[(44100, 32000)] is ds._resamplers[(44100, 32000)]
    ds.read(1, 32000)
    assert len(ds._resamplers) == 1, "one resampling kernel per rate pair"


def test_fingerprint_is_stable_and_sees_changes(tmp_path):
    root = mini_root(tmp_path)
    first = dataset(root).fingerprint()
    assert len(first) == 16 and int(first, 16) >= 0
    assert dataset(root).fingerprint() == first
    st = os.stat(root / CLIPS[0])
    os.utime(root / CLIPS[0], ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    touched = dataset(root).fingerprint()
    assert touched != first
    with open(root / "evaluation_setup" / "fold1_evaluate.csv", "a") as f:
        f.write("\n")
    assert dataset(root).fingerprint() != touched


def test_fingerprint_of_synthetic_set(synth):
    assert dataset(synth).fingerprint() == dataset(synth).fingerprint()
    assert dataset(synth).fingerprint() != dataset(synth, "split5").fingerprint(), "the split files count"


# --------------------------------------------------------------------------------------------- the root


def test_missing_root(tmp_path):
    message = user_error(dataset, tmp_path / "nowhere")
    for part in (
        "does not exist",
        "meta.csv",
        "audio/",
        "evaluation_setup/",
        "6337421",
        "asc-bench data synth",
    ):
        assert part in message, part


def test_root_is_a_file(tmp_path):
    (tmp_path / "data.zip").write_bytes(b"PK")
    assert "is a file, not a folder" in user_error(dataset, tmp_path / "data.zip")


def test_meta_missing(tmp_path):
    (tmp_path / "empty").mkdir()
    message = user_error(dataset, tmp_path / "empty")
    assert "has no meta.csv" in message and "asc-bench data synth" in message


def test_root_one_level_too_high(tmp_path):
    root = mini_root(tmp_path)
    message = user_error(dataset, tmp_path)
    assert "one level too high" in message and str(root) in message
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.move(str(root), other / "my-copy")
    assert str(other / "my-copy") in user_error(dataset, other)


def test_root_pointing_at_audio_or_a_subfolder(tmp_path):
    root = mini_root(tmp_path)
    message = user_error(dataset, root / "audio")
    assert "audio/ folder itself" in message and f"Set data.dataset.root to {root}." in message
    assert f"Set data.dataset.root to {root}." in user_error(dataset, root / "evaluation_setup")


def test_audio_folder_missing(tmp_path):
    root = mini_root(tmp_path)
    shutil.rmtree(root / "audio")
    assert "no audio/ folder" in user_error(dataset, root)


def test_audio_nested_twice(tmp_path):
    root = mini_root(tmp_path)
    (root / "audio" / "audio").mkdir()
    for clip in CLIPS:
        shutil.move(str(root / clip), root / "audio" / clip)
    message = user_error(dataset(root).clips)
    assert "nested one level too deep" in message and "audio/audio" in message


# --------------------------------------------------------------------------------------------- the tables


def test_meta_comma_separated(tmp_path):
    meta = "filename,scene_label,identifier,source_label\n" + "".join(f"{c},airport,lisbon-1000,a\n" for c in CLIPS)
    root = mini_root(tmp_path, meta=meta)
    message = user_error(dataset(root).clips)
    assert "not tab-separated" in message and "meta.csv" in message
    assert "filename, scene_label, identifier, source_label" in message


def test_meta_wrong_header(tmp_path):
    root = mini_root(tmp_path, meta="file\tlabel\n" + "".join(f"{c}\tairport\n" for c in CLIPS))
    message = user_error(dataset(root).clips)
    assert "header" in message and "filename, scene_label, identifier, source_label" in message


def test_meta_doubled_audio_prefix(tmp_path):
    meta = "filename\tscene_label\tidentifier\tsource_label\n" + "".join(
        f"audio/{c}\tairport\tlisbon-1000\ta\n" for c in CLIPS
    )
    message = user_error(dataset(mini_root(tmp_path, meta=meta)).clips)
    assert "doubled audio/ prefix" in message and "meta.csv:2" in message


def test_meta_unknown_label_and_bad_name(tmp_path):
    meta = "filename\tscene_label\tidentifier\tsource_label\n" + f"{CLIPS[0]}\tbeach\tlisbon-1000\ta\n"
    message = user_error(dataset(mini_root(tmp_path / "x", meta=meta)).clips)
    assert "'beach'" in message and "street_traffic" in message
    meta = "filename\tscene_label\tidentifier\tsource_label\naudio/clip1.wav\tairport\tlisbon-1000\ta\n"
    message = user_error(dataset(mini_root(tmp_path / "y", meta=meta)).clips)
    assert "audio/clip1.wav" in message and "<scene>-<city>-<location>-<segment>-<piece>-<device>.wav" in message


def test_split_file_missing(tmp_path):
    root = mini_root(tmp_path)
    (root / "evaluation_setup" / "fold1_evaluate.csv").unlink()
    message = user_error(dataset(root).split, "test")
    assert "fold1_evaluate.csv is missing" in message and "evaluation_setup/" in message
    message = user_error(dataset(root, "split25").split, "train")
    assert "split_setup/split25.csv is missing" in message and "DCASE 2024" in message


def test_split_names_unknown_clip(tmp_path):
    root = mini_root(tmp_path)
    split = root / "evaluation_setup" / "fold1_train.csv"
    split.write_text("filename\tscene_label\naudio/tram-lisbon-9-40000-0-a.wav\ttram\n")
    message = user_error(dataset(root).split, "train")
    assert "audio/tram-lisbon-9-40000-0-a.wav" in message and str(split) in message and "not in meta.csv" in message
    split.write_text(f"filename\tscene_label\n{CLIPS[0][len('audio/') :]}\tairport\n")
    assert "with the audio/ prefix" in user_error(dataset(root).split, "train")


def test_split_comma_separated_and_overlap(tmp_path):
    root = mini_root(tmp_path)
    split = root / "evaluation_setup" / "fold1_train.csv"
    split.write_text(f"filename,scene_label\n{CLIPS[0]},airport\n")
    message = user_error(dataset(root).split, "train")
    assert "not tab-separated" in message and "filename, scene_label" in message
    split.write_text(f"filename\tscene_label\n{CLIPS[1]}\tairport\n")
    assert "in both the train split" in user_error(dataset(root).split, "train")


# --------------------------------------------------------------------------------------------- the audio


def test_read_missing_and_corrupt_clip(tmp_path):
    root = mini_root(tmp_path)
    ds = dataset(root)
    ds.clips()
    (root / CLIPS[1]).unlink()
    message = user_error(ds.read, 1, 32000)
    assert CLIPS[1] in message and "does not exist" in message
    assert "1 of the 4 clips" in user_error(ds.fingerprint) and CLIPS[1] in user_error(ds.fingerprint)
    (root / CLIPS[2]).write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    message = user_error(ds.read, 2, 32000)
    assert CLIPS[2] in message and "cannot be decoded" in message


def test_read_wrong_channels_or_length(tmp_path):
    root = mini_root(tmp_path)
    write_wav(root / CLIPS[0], channels=2)
    write_wav(root / CLIPS[1], seconds=10.0)
    ds = dataset(root)
    message = user_error(ds.read, 0, 44100)
    assert CLIPS[0] in message and "2 channels" in message and "mono" in message
    message = user_error(ds.read, 1, 44100)
    assert CLIPS[1] in message and "10.000 s" in message and "1 s long" in message


def test_read_other_file_rate_is_resampled(tmp_path):
    root = mini_root(tmp_path)
    write_wav(root / CLIPS[3], rate=48000)
    assert dataset(root).read(3, 32000).shape == (32000,)


# --------------------------------------------------------------------------------------------- pieces, hold-out


def test_pieces_come_from_the_file_names(synth):
    table = dataset(synth).clips()
    assert table.pieces is not None and table.pieces.dtype == np.int64
    assert table.pieces.tolist() == [int(clip_id[:-4].split("-")[4]) for clip_id in table.ids]


def test_meta_piece_must_be_a_number(tmp_path):
    row = "audio/airport-lisbon-1000-40000-x-a.wav\tairport\tlisbon-1000\ta\n"
    meta = "filename\tscene_label\tidentifier\tsource_label\n" + row
    message = user_error(dataset(mini_root(tmp_path, meta=meta)).clips)
    assert "is not of the form" in message and "meta.csv:2" in message


def held_out(root: Path, fraction: float = 0.3, seed: int = 0) -> TAU22Dataset:
    return TAU22Dataset(TAU22Config(root=root, validation={"fraction": fraction, "seed": seed}))


def test_validation_is_held_out_by_recording_location(synth_root):
    from asc_bench.testing import check_dataset

    base, held = dataset(synth_root), held_out(synth_root)
    assert base.splits() == ("train", "test") and held.splits() == ("train", "validation", "test")
    full, train, val = base.split("train"), held.split("train"), held.split("validation")
    assert sorted(np.concatenate([train, val]).tolist()) == sorted(full.tolist())
    assert np.array_equal(train, full[np.isin(full, train)]), "file order is kept"
    locations, labels = held.meta.locations, held.clips().labels
    assert not set(locations[train]) & set(locations[val]), "no location on both sides"
    assert set(labels[val]) == set(range(10)), "every class has a held-out location"
    assert set(labels[train]) == set(range(10)), "and keeps one for training"
    assert np.array_equal(held.split("test"), base.split("test"))
    assert np.array_equal(held_out(synth_root).split("validation"), val), "same seed, same split"
    assert not np.array_equal(held_out(synth_root, seed=1).split("validation"), val)
    check_dataset(TAU22Dataset, {"type": "tau22", "root": synth_root, "validation": {"fraction": 0.3}})


def test_validation_needs_two_locations_per_scene(synth):
    message = user_error(held_out(synth, 0.5).split, "train")  # TINY: one training location per scene
    assert "cannot hold out a validation split" in message and "fraction to 0" in message


def test_validation_fraction_is_checked(tmp_path):
    for fraction in (-0.1, 1.0):
        with pytest.raises(pydantic.ValidationError):
            TAU22Config(root=tmp_path, validation={"fraction": fraction})
    assert TAU22Config(root=tmp_path).validation.fraction == 0.0


def test_read_many_is_batched_read_and_read_joined_has_no_seam(synth):
    ds = dataset(synth)
    table = ds.clips()
    rows = np.flatnonzero(table.recordings == table.recordings[0])
    rows = rows[np.argsort(table.pieces[rows])][:3]
    assert np.array_equal(ds.read_many(rows, 32000), np.stack([ds.read(int(r), 32000) for r in rows]))
    joined = ds.read_joined(rows[:2], 44100)
    assert np.array_equal(joined, np.concatenate([ds.read(int(r), 44100) for r in rows[:2]]))
    joined = ds.read_joined(rows[:2], 32000)
    separate = np.concatenate([ds.read(int(r), 32000) for r in rows[:2]])
    assert joined.shape == (64000,) and joined.dtype == np.float32
    np.testing.assert_allclose(joined[:31000], separate[:31000], atol=1e-6)
    np.testing.assert_allclose(joined[33000:], separate[33000:], atol=1e-6)
    seam = slice(31990, 32010)  # resampled one by one, each clip's edge is filtered against silence
    assert np.abs(joined[seam] - separate[seam]).max() > 1e-4


def test_split_file_reports_every_unknown_clip(tmp_path):
    root = mini_root(tmp_path)
    split = root / "evaluation_setup" / "fold1_train.csv"
    unknown = [f"audio/tram-lisbon-9-40000-{i}-a.wav\ttram\n" for i in range(3)]
    split.write_text("filename\tscene_label\n" + f"{CLIPS[0]}\tairport\n" + "".join(unknown))
    message = user_error(dataset(root).split, "train")
    assert "line 3 names the clip 'audio/tram-lisbon-9-40000-0-a.wav'" in message
    assert "2 more line(s) name unknown clips too (line 4, line 5)" in message
