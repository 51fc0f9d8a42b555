"""Clips whose content is not WAV although their name ends in .wav: `asc-bench data check` says what they are,
and a run refuses them with the same words."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asc_bench.core.errors import UserError
from asc_bench_plugins.datasets.tau22.audio import decode

CLI = [sys.executable, "-m", "asc_bench.cli"]


def _train_clips(root: Path, n: int) -> list[str]:
    lines = (root / "evaluation_setup" / "fold1_train.csv").read_text().splitlines()[1 : 1 + n]
    return [line.split("\t")[0] for line in lines]


@pytest.fixture(scope="module")
def disguised(synth_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A copy of the synthetic set (WAVs hard-linked) with one MP3 and one MP4 file named .wav."""
    root = tmp_path_factory.mktemp("disguised") / "root"
    shutil.copytree(
        synth_root, root, copy_function=lambda s, d: os.link(s, d) if s.endswith(".wav") else shutil.copy2(s, d)
    )
    mp3, mp4 = _train_clips(root, 2)
    (root / mp3).unlink()
    noise = (0.1 * np.random.default_rng(0).standard_normal(44100)).astype(np.float32)
    sf.write(str(root / mp3), noise, 44100, format="MP3")  # 1 s, mono, 44.1 kHz: only the format is wrong
    (root / mp4).unlink()
    (root / mp4).write_bytes(b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00" + bytes(2000))
    return root, [mp3, mp4]


def test_data_check_names_what_the_files_really_are(disguised: tuple[Path, list[str]]) -> None:
    root, (mp3, mp4) = disguised
    env = {**os.environ, "COLUMNS": "400"}
    done = subprocess.run([*CLI, "data", "check", str(root)], capture_output=True, text=True, timeout=600, env=env)
    out = " ".join(done.stdout.split())
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert f"{mp3} ({root / mp3}) is not a WAV file but MPEG-1/2 Audio (MPEG Layer III)" in out, out
    assert mp4 in out and "its content is an MP4/M4A file" in out


def test_decoding_refuses_it_with_the_same_words(disguised: tuple[Path, list[str]]) -> None:
    root, (mp3, _) = disguised
    with pytest.raises(UserError, match=r"is not a WAV file but MPEG-1/2 Audio \(MPEG Layer III\)"):
        decode(mp3, root / mp3)
