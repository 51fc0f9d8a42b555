"""The synthetic dataset generator: TAU22 layout, real WAV files, location-disjoint splits, determinism."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asc_bench.api import UserError
from asc_bench.plugins import registry
from asc_bench.testing import synthetic_dataset
from asc_bench_plugins.datasets.tau22.dataset import TAU22Dataset
from asc_bench_plugins.datasets.tau22.synth import (
    FULL_SIZE,
    MARKER,
    remove_abandoned_partials,
    size_params,
    synthetic_dataset_size,
    write_synthetic_dataset,
)
from asc_bench_plugins.datasets.tau22.synth_audio import render_scene
from asc_bench_plugins.datasets.tau22.synth_plan import SynthParams, plan_segments
from asc_bench_plugins.datasets.tau22.vocabulary import CITIES, DEVICES, SCENES

CLI = [sys.executable, "-m", "asc_bench.cli"]

# 2 cities × 10 scenes × 1 location × 2 segments; half of them parallel with 2 more devices: 800 clips.
SMALL = dict(
    seed=0,
    cities=2,
    locations_per_pair=1,
    segments_per_location=2,
    parallel_fraction=0.5,
    devices_per_parallel=2,
)
NAME = re.compile(r"^audio/([a-z_]+)-([a-z]+)-(\d+)-(\d+)-(\d)-(a|b|c|s[1-6])\.wav$")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("synth") / "small"
    info = write_synthetic_dataset(root, workers=2, **SMALL)
    return root, info


def rows(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines]


def table(root: Path, rel: str) -> list[list[str]]:
    return rows(root / rel)[1:]


def recording(filename: str) -> str:
    scene, city, loc, seg, _piece, device = NAME.match(filename).groups()
    return f"{scene}-{city}-{loc}-{seg}-{device}"


def location(filename: str) -> str:
    scene, city, loc, *_ = NAME.match(filename).groups()
    return f"{city}-{loc}"


def test_layout_and_headers(small):
    root, info = small
    assert info["created"] is True
    assert (root / "meta.csv").is_file()
    for rel in ("evaluation_setup/fold1_train.csv", "evaluation_setup/fold1_evaluate.csv"):
        assert (root / rel).is_file()
    for name in ("split5", "split10", "split25", "split50", "split100", "test"):
        assert (root / "split_setup" / f"{name}.csv").is_file()
    meta = rows(root / "meta.csv")
    assert meta[0] == ["filename", "scene_label", "identifier", "source_label"]
    assert all(len(r) == 4 for r in meta), "meta.csv is tab-separated with four columns"
    assert "," not in (root / "meta.csv").read_text()
    for rel in (
        "evaluation_setup/fold1_train.csv",
        "evaluation_setup/fold1_evaluate.csv",
        "split_setup/split5.csv",
    ):
        lines = rows(root / rel)
        assert lines[0] == ["filename", "scene_label"]
        assert all(len(r) == 2 for r in lines)
    body = meta[1:]
    assert len(body) == info["clips"] == 800
    wavs = sorted(p.relative_to(root).as_posix() for p in (root / "audio").iterdir())
    assert wavs == sorted(r[0] for r in body), "every listed clip exists and nothing else is in audio/"
    for filename, scene, identifier, device in body:
        m = NAME.match(filename)
        assert m, filename
        assert m.group(1) == scene and scene in SCENES
        assert identifier == f"{m.group(2)}-{m.group(3)}" and m.group(2) in CITIES
        assert device == m.group(6)
        assert int(m.group(3)) >= 1000 and int(m.group(4)) % 10000 == 0
    assert {r[1] for r in body} == set(SCENES)
    assert {r[2].split("-")[0] for r in body} == set(CITIES[:2])
    assert {r[3] for r in body} == set(DEVICES)


def test_wav_format_and_continuous_pieces(small):
    root, _ = small
    body = table(root, "meta.csv")
    for filename, *_ in body[:: len(body) // 12]:
        info = sf.info(str(root / filename))
        assert (info.samplerate, info.channels, info.frames, info.subtype) == (44100, 1, 44100, "PCM_24")
    first = body[0][0]
    pieces = [sf.read(str(root / first.replace("-0-", f"-{i}-", 1)))[0] for i in range(10)]
    x = np.concatenate(pieces)
    assert x.shape == (441000,) and 0.001 < x.std() < 0.5 and np.abs(x).max() < 1.0
    step = np.abs(np.diff(x))
    boundaries = step[np.arange(1, 10) * 44100 - 1]
    assert boundaries.max() < 8 * step.std() + step.mean(), "pieces are cut from one continuous recording"


def test_fold1_split_is_location_disjoint_and_device_rules(small):
    root, info = small
    meta = {r[0]: r for r in table(root, "meta.csv")}
    train = table(root, "evaluation_setup/fold1_train.csv")
    test = table(root, "evaluation_setup/fold1_evaluate.csv")
    assert (len(train), len(test)) == (info["train"], info["test"])
    train_names, test_names = {r[0] for r in train}, {r[0] for r in test}
    assert not train_names & test_names
    assert all(meta[n][1] == s for n, s in train + test), "split labels agree with meta.csv"
    assert {meta[n][3] for n in train_names} <= {"a", "b", "c", "s1", "s2", "s3"}
    assert {meta[n][3] for n in test_names} == set(DEVICES), "all nine devices in test"
    assert {location(n) for n in train_names}.isdisjoint({location(n) for n in test_names})
    neither = set(meta) - train_names - test_names
    assert len(neither) == info["unused"] > 0
    assert any(meta[n][3] in ("s4", "s5", "s6") for n in neither), "s4–s6 recordings of training locations"
    for names in (train_names, test_names):
        assert {meta[n][1] for n in names} == set(SCENES)
        assert {meta[n][2].split("-")[0] for n in names} == set(CITIES[:2])
    n_locations = len({location(n) for n in meta})
    n_test_locations = len({location(n) for n in test_names})
    assert 0.2 <= n_test_locations / n_locations <= 0.5


def test_2024_subsets_nested_whole_recordings(small):
    root, _ = small
    train = table(root, "evaluation_setup/fold1_train.csv")
    assert table(root, "split_setup/split100.csv") == train
    assert table(root, "split_setup/test.csv") == table(root, "evaluation_setup/fold1_evaluate.csv")
    pieces = defaultdict(set)
    for name, _ in train:
        pieces[recording(name)].add(name)
    previous: set[str] = set()
    for pct in (5, 10, 25, 50, 100):
        names = {r[0] for r in table(root, f"split_setup/split{pct}.csv")}
        assert previous <= names, f"split{pct} contains the smaller subsets"
        recs = {recording(n) for n in names}
        assert all(pieces[r] <= names for r in recs), "whole 10-s recordings only"
        assert len(recs) == max(1, round(pct / 100 * len(pieces)))
        previous = names


def test_sizes_documented():
    assert synthetic_dataset_size(**SMALL)["clips"] == 800
    default = synthetic_dataset_size()
    assert (default["clips"], default["train"], default["test"]) == (3000, 1580, 900)
    full = synthetic_dataset_size(**FULL_SIZE)
    assert full == synthetic_dataset_size(**size_params(None, full_size=True))
    assert full["clips"] == 230_400 and full["recordings"] == 23_040
    assert 135_000 < full["train"] < 142_000 and 28_000 < full["test"] < 31_000


def digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# 1 city × 10 scenes × 2 locations × 1 segment, two of them parallel: 240 clips.
TINY = dict(
    seed=0,
    cities=1,
    locations_per_pair=2,
    segments_per_location=1,
    parallel_fraction=0.1,
    devices_per_parallel=2,
)


def test_deterministic_whatever_the_worker_count(tmp_path):
    first = tmp_path / "first"
    first.mkdir()  # an existing empty folder is filled
    one = write_synthetic_dataset(first, workers=1, **TINY)
    two = write_synthetic_dataset(tmp_path / "second", workers=2, **TINY)
    assert one["created"] and two["created"] and one["clips"] == 240
    assert (first / MARKER).is_file()
    assert digest(tmp_path / "second") == digest(first)


def test_other_seed_other_audio():
    plan = plan_segments(SynthParams(**TINY))
    a, b = render_scene(0, plan[0]), render_scene(1, plan[0])
    assert np.allclose(a, render_scene(0, plan[0]))
    assert not np.allclose(a, b)


def test_existing_root(small, tmp_path):
    root, info = small
    again = write_synthetic_dataset(root, **SMALL)
    assert again["created"] is False and "nothing written" in again["message"]
    assert again["clips"] == info["clips"]
    with pytest.raises(UserError, match="other parameters"):
        write_synthetic_dataset(root, **{**SMALL, "seed": 7})
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty") as err:
        write_synthetic_dataset(other, **SMALL)
    assert str(other) in str(err.value)
    assert (other / "notes.txt").read_text() == "mine"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(UserError, match="is a file"):
        write_synthetic_dataset(a_file, **SMALL)


def test_interrupted_run_leaves_nothing(tmp_path):
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_synthetic_dataset(tmp_path / "root", workers=1, progress=progress, **SMALL)
    assert calls[0] == (0, 800)
    assert list(tmp_path.iterdir()) == [], "no root and no partial folder left behind"


def test_abandoned_partial_folder_of_a_killed_run_is_removed(tmp_path):
    dead = tmp_path / ".root.partial-999999999-abc"  # no such process
    (dead / "audio").mkdir(parents=True)
    alive = tmp_path / f".root.partial-{os.getppid()}-abc"  # another live process: not touched
    alive.mkdir()
    assert remove_abandoned_partials(tmp_path / "root") == [dead]
    assert not dead.exists() and alive.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cities", 0),
        ("cities", 11),
        ("locations_per_pair", 0),
        ("segments_per_location", 0),
        ("parallel_fraction", 0.0),
        ("devices_per_parallel", 9),
    ],
)
def test_bad_parameters(tmp_path, field, value):
    with pytest.raises(UserError, match=field):
        write_synthetic_dataset(tmp_path / "x", **{**SMALL, field: value})
    assert not (tmp_path / "x").exists()


def test_one_location_per_scene_is_refused(tmp_path):
    with pytest.raises(UserError, match="both the train and the test split"):
        synthetic_dataset_size(cities=1, locations_per_pair=1)


def test_size_params_for_clips_and_full_size():
    assert size_params(None, False) == {}
    assert size_params(600, False) == {"cities": 2} and size_params(10, False) == {"cities": 2}
    assert size_params(3001, False) == {"segments_per_location": 2}
    assert size_params(None, True) == FULL_SIZE
    with pytest.raises(UserError, match="exclude each other"):
        size_params(600, True)
    with pytest.raises(UserError, match="must be positive"):
        size_params(0, False)


def modes(root: Path) -> tuple[set[str], set[str]]:
    """The permission bits of every folder (the root included) and every file under ``root``."""
    paths = [root, *root.rglob("*")]
    folders = {oct(p.stat().st_mode & 0o777) for p in paths if p.is_dir()}
    files = {oct(p.stat().st_mode & 0o777) for p in paths if p.is_file()}
    return folders, files


def test_cli_synth_under_umask_022_writes_0755_folders_and_0644_files(tmp_path):
    root = tmp_path / "synth"
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run(
        [*CLI, "data", "synth", str(root), "--clips", "600"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"wrote 600 clips \(220 train, 300 test\) to .*synth", " ".join(done.stdout.split()))
    assert modes(root) == ({"0o755"}, {"0o644"})
    assert (root / "microphone_irs").is_dir() and len(list((root / "audio").iterdir())) == 600
    assert list(tmp_path.iterdir()) == [root], "no partial folder left beside it"
    again = subprocess.run(
        [*CLI, "data", "synth", str(root), "--clips", "600"], capture_output=True, text=True, env=env
    )
    assert again.returncode == 0 and "nothing written" in " ".join(again.stdout.split())


def test_the_kits_dataset_is_written_by_the_tau22_plugin_found_by_name(tmp_path, monkeypatch):
    calls = []

    class Recording(TAU22Dataset):
        """Records what the conformance kit asks the tau22 plugin for."""

        @classmethod
        def synthesize(cls, root, **kwargs):  # noqa: ANN001, ANN003, ANN206
            calls.append((root, kwargs))
            return "written"

    monkeypatch.setenv("ASC_BENCH_CACHE_DIR", str(tmp_path))
    with registry.in_process("dataset", "tau22", Recording):
        assert synthetic_dataset() == tmp_path / "kit-synthetic"
        assert synthetic_dataset(tmp_path / "mine") == tmp_path / "mine"
    kit = {"clips": 600, "seed": 0, "workers": 1}
    assert calls == [(tmp_path / "kit-synthetic", kit), (tmp_path / "mine", kit)]
    assert synthetic_dataset_size(**size_params(600, False)) == synthetic_dataset_size(cities=2), "same set as ever"


def test_synthetic_set_follows_a_stricter_umask(tmp_path):
    code = (
        "import os, sys; os.umask(0o027)\n"
        "from asc_bench_plugins.datasets.tau22.synth import write_synthetic_dataset\n"
        f"write_synthetic_dataset(sys.argv[1], workers=1, **{TINY!r})"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "root")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert modes(tmp_path / "root") == ({"0o750"}, {"0o640"})


def test_cli_synth_dry_run_and_its_errors(tmp_path):
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*CLI, "data", "synth", *args], capture_output=True, text=True, timeout=300)

    dry = cli(str(tmp_path / "x"), "--full-size", "--dry-run")
    assert dry.returncode == 0 and "'clips': 230400" in dry.stdout and not (tmp_path / "x").exists()
    both = cli(str(tmp_path / "x"), "--clips", "600", "--full-size")
    assert both.returncode == 2 and "exclude each other" in both.stderr
    unknown = cli(str(tmp_path / "x"), "--dataset", "no_such_dataset")
    assert unknown.returncode == 2 and "no dataset plugin named 'no_such_dataset'" in " ".join(unknown.stderr.split())
    assert not (tmp_path / "x").exists()


def log_band_spectrum(x: np.ndarray) -> np.ndarray:
    frames = x[: 43 * 1024].reshape(43, 1024) * np.hanning(1024)
    power = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(0)
    edges = np.unique(np.geomspace(2, 513, 41).astype(int))
    return np.log(np.add.reduceat(power, edges[:-1]) + 1e-10)


def test_scenes_are_learnable_and_devices_matter(small):
    """Nearest class centroids of log band spectra, learnt on device a in training locations, beat chance
    (10 %) clearly on device a in the unseen test locations, and do worse on the other devices."""
    root, _ = small
    train = table(root, "evaluation_setup/fold1_train.csv")
    test = table(root, "evaluation_setup/fold1_evaluate.csv")

    def features(rows_, devices):
        chosen = [(n, s) for n, s in rows_ if NAME.match(n).group(6) in devices]
        x = np.stack([log_band_spectrum(sf.read(str(root / n), dtype="float32")[0]) for n, _ in chosen])
        y = np.array([SCENES.index(s) for _, s in chosen])
        return x - x.mean(1, keepdims=True), y  # level-normalised: the recording level is random

    xtr, ytr = features(train, {"a"})
    centroids = np.stack([xtr[ytr == c].mean(0) for c in range(len(SCENES))])

    def accuracy(devices):
        x, y = features(test, devices)
        return (np.argmin(((x[:, None, :] - centroids[None]) ** 2).sum(-1), axis=1) == y).mean()

    on_a, on_others = accuracy({"a"}), accuracy(set(DEVICES) - {"a"})
    assert on_a > 0.35, on_a
    assert on_others < on_a, (on_others, on_a)
