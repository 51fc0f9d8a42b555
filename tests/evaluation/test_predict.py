"""`asc-bench predict`: finished runs' weights → logits files keyed by clip id, ensembles, folders of WAVs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import spec_file
from helpers.trials import MemoryReporter, run_one_trial

from asc_bench.core.errors import UserError
from asc_bench.evaluation.predict import find_run_records, predict_folder, predict_split, split_accuracy
from asc_bench.records.io import read_record
from asc_bench.records.layout import RECORD_NAME

FRONT_END = "    - {type: mel, n_fft: 1024, win_length: 1024, hop_length: 500, n_mels: 64}"  # cheap; cached


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, synth_root: Path, cache_dir: Path) -> dict[str, Path]:
    """Two finished one-epoch runs: seed 1 deployed at float16, seed 2 at int8 (calibrated on train)."""
    base = tmp_path_factory.mktemp("predict")
    out = {}
    for name, seed, dtype in (("f16", 1, "float16"), ("int8", 2, "int8")):
        folder = base / name
        folder.mkdir()
        spec = spec_file(folder, synth_root, transforms=FRONT_END, extra=f"limits: {{param_dtype: {dtype}}}")
        run_one_trial(spec, folder / "runs" / f"seed{seed}-x", MemoryReporter(), seed=seed)
        out[name] = folder / "runs" / f"seed{seed}-x" / RECORD_NAME
    return out


@pytest.mark.parametrize("name", ["f16", "int8"])
def test_test_split_predictions_reproduce_the_record(runs: dict[str, Path], name: str) -> None:
    record = read_record(runs[name])
    assert (runs[name].parent / "model.pt").is_file()
    logits = predict_split([runs[name]], "test")
    assert len(logits.clip_ids) == record.metrics.count and logits.class_names == tuple(record.metrics.per_class)
    assert all(c.startswith("audio/") for c in logits.clip_ids)
    assert split_accuracy(logits, runs[name]) == pytest.approx(record.metrics.micro_acc, abs=1e-9)


def test_an_ensemble_averages_logits_clip_by_clip(runs: dict[str, Path]) -> None:
    one, two = predict_split([runs["f16"]], "train"), predict_split([runs["int8"]], "train")
    both = predict_split([runs["f16"].parent.parent.parent, runs["int8"]], "train")  # a folder above works too
    assert both.clip_ids == one.clip_ids and set(both.clip_ids) == set(two.clip_ids)
    order = [two.clip_ids.index(c) for c in one.clip_ids]
    assert torch.allclose(both.logits, (one.logits + two.logits[order]) / 2, atol=1e-5)
    assert len(both.sources) == 2


def test_all_covers_every_clip_in_meta_csv(runs: dict[str, Path], synth_root: Path) -> None:
    logits = predict_split([runs["f16"]], "all", precision="float32")
    rows = (synth_root / "meta.csv").read_text().strip().splitlines()[1:]
    assert sorted(logits.clip_ids) == sorted(r.split("\t")[0] for r in rows)


def test_folder_predictions_are_keyed_by_file_name_in_natural_order(runs: dict[str, Path], tmp_path: Path) -> None:
    test = predict_split([runs["f16"]], "test", precision="float32")
    dataset_root = Path(read_record(runs["f16"]).spec["data"]["dataset"]["root"])
    picks = test.clip_ids[:4]
    for i, clip in zip((0, 1, 10, 2), picks, strict=True):
        shutil.copy(dataset_root / clip, tmp_path / f"{i}.wav")
    logits = predict_folder([runs["f16"]], tmp_path, precision="float32")
    assert logits.clip_ids == ("0.wav", "1.wav", "2.wav", "10.wav")
    expected = test.logits[[0, 1, 3, 2]]
    # same model and clips; split predictions read float16-stored cached features, folders compute float32 ones
    assert torch.allclose(logits.logits, expected, atol=0.05)
    assert (logits.logits.argmax(1) == expected.argmax(1)).all()


def test_runs_without_weights_or_records_are_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    trial = tmp_path / "old-trial"
    trial.mkdir()
    shutil.copy(runs["f16"], trial / RECORD_NAME)
    with pytest.raises(UserError, match="has no model.pt"):
        predict_split([trial], "test")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no result records"):
        find_run_records([tmp_path / "empty"])


def test_cli_writes_a_logits_file(runs: dict[str, Path], tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "asc-bench"
    out = tmp_path / "teacher.pt"
    done = subprocess.run(
        [exe, "predict", runs["f16"].parent, "--subset", "train", "--out", out], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "accuracy of these logits on the train split" in done.stdout
    loaded = torch.load(out, weights_only=True)
    assert loaded["format"] == "asc-bench-logits/1" and loaded["logits"].shape == (len(loaded["clip_ids"]), 10)
    assert np.isfinite(loaded["logits"].numpy()).all()
    bad = subprocess.run([exe, "predict", runs["f16"], "--out", out, "--subset", "dev"], capture_output=True, text=True)
    assert bad.returncode == 2 and "'--subset'" in bad.stderr and "'dev' is not one of" in bad.stderr
    assert "Traceback" not in bad.stderr
