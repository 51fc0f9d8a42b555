"""The dataset check: every problem at once, a summary table, and runs refusing a broken dataset alike."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
import soundfile as sf
from helpers import spec_file
from pydantic import Field
from typer.testing import CliRunner

from asc_bench.api import ClipTable, Dataset, PluginConfig, UserError
from asc_bench.cli.app import app
from asc_bench.data.check import check_dataset, require_sound
from asc_bench.plugins import registry
from asc_bench_plugins.datasets.tau22.dataset import TAU22Config, TAU22Dataset
from asc_bench_plugins.datasets.tau22.synth import synthetic_dataset_size

CLI = [sys.executable, "-m", "asc_bench.cli"]


def linked_copy(source: Path, target: Path) -> Path:
    """A copy of a dataset whose WAV files are hard links (break one by replacing it, never in place)."""

    def copy(src: str, dst: str) -> None:
        os.link(src, dst) if src.endswith(".wav") else shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=copy)
    return target


def replace_wav(path: Path, seconds: float = 1.0, channels: int = 1, rate: int = 44100) -> None:
    path.unlink(missing_ok=True)
    x = 0.1 * np.random.default_rng(0).standard_normal((int(seconds * rate), channels))
    sf.write(str(path), x, rate, subtype="PCM_24")


def train_clip(root: Path, n: int) -> str:
    return (root / "evaluation_setup" / "fold1_train.csv").read_text().splitlines()[1 + n].split("\t")[0]


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600, env=env)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def broken(synth_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = linked_copy(synth_root, tmp_path_factory.mktemp("broken") / "root")
    clips = {name: train_clip(root, n) for n, name in enumerate(("corrupt", "stereo", "long", "rate", "missing"))}
    (root / clips["corrupt"]).unlink()
    (root / clips["corrupt"]).write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    replace_wav(root / clips["stereo"], channels=2)
    replace_wav(root / clips["long"], seconds=10.0)
    replace_wav(root / clips["rate"], rate=48000)
    (root / clips["missing"]).unlink()
    replace_wav(root / "audio" / "bus-lisbon-9999-40000-0-a.wav")  # unlisted
    with open(root / "split_setup" / "split5.csv", "a") as f:
        f.write("audio/tram-nowhere-1-40000-0-a.wav\ttram\n")
    return root, clips


def test_check_reports_every_problem_at_once(broken: tuple[Path, dict[str, str]]) -> None:
    root, clips = broken
    report = check_dataset(TAU22Dataset(TAU22Config(root=root)))
    errors = " ".join(f.message for f in report.errors)
    warnings = " ".join(f.message for f in report.warnings)
    assert f"1 of the 900 clips listed in meta.csv are missing under {root}, e.g. {clips['missing']}" in errors
    assert f"the clip {clips['corrupt']}" in errors and "cannot be decoded as a WAV file" in errors
    assert f"the clip {clips['stereo']}" in errors and "has 2 channels; tau22 clips are mono" in errors
    assert f"the clip {clips['long']}" in errors and "is 10.000 s long" in errors
    assert len(report.errors) == 4
    assert f"the clip {clips['rate']}" in warnings and "sampled at 48,000 Hz" in warnings
    assert "not listed in meta.csv, e.g. bus-lisbon-9999-40000-0-a.wav" in warnings
    assert "tram-nowhere" in warnings and "split: fold1 does not use this table" in warnings
    counts = report.counts("train")
    assert counts.sum() == len(report.splits["train"]) and counts.shape == (9, 10)


def test_many_files_with_one_problem_are_one_finding_with_examples(synth_root: Path, tmp_path: Path) -> None:
    root = linked_copy(synth_root, tmp_path / "root")
    names = [train_clip(root, n) for n in range(6)]
    for name in names:
        replace_wav(root / name, seconds=10.0)
    (finding,) = TAU22Dataset(TAU22Config(root=root)).check(np.arange(900))
    assert finding.message.startswith("6 clips have this problem. The first: the clip")
    assert "and 2 more" in finding.message and "1-s clips only" in finding.fix


def test_cli_check_prints_the_table_and_exits_0_on_a_good_dataset(synth_root: Path) -> None:
    result = cli("data", "check", str(synth_root), "--validation", "0.3")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "0 error(s), 0 warning(s); 900 clips in the metadata" in flat(out)
    for title in ("train:", "validation:", "test:"):
        assert title in out
    assert re.search(r"lisbon\s.*\d", out) and "s6" in out


def test_cli_check_exits_2_and_names_every_problem(broken: tuple[Path, dict[str, str]]) -> None:
    root, clips = broken
    result = cli("data", "check", str(root))
    out = flat(result.stdout)
    assert result.returncode == 2 and "Traceback" not in result.stdout + result.stderr
    assert "4 error(s), 3 warning(s)" in out
    for name in clips.values():
        assert name in out


def test_cli_check_refuses_commas_in_meta(synth_root: Path, tmp_path: Path) -> None:
    root = linked_copy(synth_root, tmp_path / "root")
    meta = root / "meta.csv"
    text = meta.read_text().replace("\t", ",")
    meta.unlink()
    meta.write_text(text)
    result = cli("data", "check", str(root))
    assert result.returncode == 2 and "not tab-separated" in flat(result.stdout)
    missing_root = cli("data", "check", str(tmp_path / "nowhere"))
    assert missing_root.returncode == 2 and "does not exist" in flat(missing_root.stdout)


def test_run_refuses_a_broken_dataset_with_the_check_message(synth_root: Path, tmp_path: Path, cache_dir: Path) -> None:
    root = linked_copy(synth_root, tmp_path / "root")
    clip = train_clip(root, 3)
    replace_wav(root / clip, seconds=10.0)  # a 10-s clip among 1-s ones
    check = cli("data", "check", str(root))
    message = re.search(r"error: (the clip .*? tau22 clips are 1 s long\.)", flat(check.stdout)).group(1)
    run = cli("run", str(spec_file(tmp_path, root)), env={"ASC_BENCH_CACHE_DIR": str(cache_dir)})
    assert run.returncode == 2 and "Traceback" not in run.stdout + run.stderr
    assert message in flat(run.stderr)
    assert not list((tmp_path / "runs").glob("*/*/record.json"))


def test_require_sound_passes_warnings_and_lists_several_errors(broken: tuple[Path, dict[str, str]]) -> None:
    root, clips = broken
    ds = TAU22Dataset(TAU22Config(root=root))
    warnings: list[str] = []
    with pytest.raises(UserError) as err:
        require_sound(ds, {"train": ds.split("train")}, warnings.append)
    assert "has 4 problems: (1)" in str(err.value) and "asc-bench data check ROOT" in str(err.value)
    assert any("48,000 Hz" in w for w in warnings)
    good = [r for r in ds.split("test")]
    require_sound(ds, {"test": np.array(good)}, warnings.append)  # the broken clips are all in train


def test_cli_check_takes_plugin_options_and_refuses_bad_ones(synth_root: Path) -> None:
    split5 = synthetic_dataset_size(cities=3)["split5"]
    result = cli("data", "check", str(synth_root), "--dataset", "tau22", "--option", "split=split5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"train: {split5:,} clips per city" in flat(result.stdout)
    alias = cli("data", "check", str(synth_root), "--split", "split5")
    assert f"train: {split5:,} clips per city" in flat(alias.stdout)
    bad = cli("data", "check", str(synth_root), "--option", "validation.fraction=2", "--option", "nope=1")
    err = flat(bad.stderr)
    assert bad.returncode == 2 and "Traceback" not in bad.stdout + bad.stderr
    assert "the options do not fit the tau22 dataset" in err
    assert "validation.fraction: Input should be less than 1" in err and "nope: Extra inputs" in err
    malformed = cli("data", "check", str(synth_root), "--option", "split")
    assert malformed.returncode == 2 and "is not of the form key=value" in flat(malformed.stderr)


# ------------------------------------------------------------------- the Dataset hooks' defaults, and the CLI


class PlainConfig(PluginConfig):
    type: Literal["plain"] = "plain"
    root: Path = Field(..., description="Where the data is.")
    level: int = Field(0, description="A setting.")


class Plain(Dataset):
    """A dataset plugin that keeps every optional hook's default (its data cannot even be listed)."""

    Config = PlainConfig

    def clips(self) -> ClipTable:
        raise UserError(f"plain at level {self.config.level}: nothing to list under {self.config.root}.")

    def split(self, name: str) -> np.ndarray:
        raise NotImplementedError

    def fingerprint(self) -> str:
        return "plain"

    def read(self, index: int, sample_rate: int) -> np.ndarray:
        raise NotImplementedError


def test_default_check_config_validates_the_options(tmp_path: Path) -> None:
    assert Plain.check_config(tmp_path, {"level": "3"}) == PlainConfig(root=tmp_path, level=3)
    assert Plain.check_config(tmp_path) == PlainConfig(root=tmp_path)
    with pytest.raises(UserError, match=r"do not fit the plain dataset: level: Input should be a valid integer"):
        Plain.check_config(tmp_path, {"level": "high"})


def test_default_synthesize_says_there_is_no_generator(tmp_path: Path) -> None:
    for hook in (lambda: Plain.synthesize(tmp_path / "x"), lambda: Plain.synthetic_size(clips=10)):
        with pytest.raises(UserError, match="the plain dataset plugin has no synthetic-data generator"):
            hook()
    assert not (tmp_path / "x").exists()


def test_cli_reaches_any_dataset_plugin_through_the_registry(tmp_path: Path) -> None:
    runner = CliRunner()
    with registry.in_process("dataset", "plain", Plain):
        synth = runner.invoke(app, ["data", "synth", str(tmp_path / "x"), "--dataset", "plain"])
        check = runner.invoke(app, ["data", "check", str(tmp_path), "--dataset", "plain", "--option", "level=7"])
    assert isinstance(synth.exception, UserError) and "no synthetic-data generator" in str(synth.exception)
    assert check.exit_code == 2 and f"plain at level 7: nothing to list under {tmp_path}" in flat(check.output)
