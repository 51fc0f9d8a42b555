"""`asc-bench export dcase`: the submission files, parsed back and checked column by column."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from helpers.records import CLASSES, DEVICES, make_record

from asc_bench.api.logits import LogitsFile, load_logits, save_logits
from asc_bench.core.errors import UserError
from asc_bench.core.files import file_mode
from asc_bench.evaluation.predict import predict_folder
from asc_bench.export.dcase import (
    DCASE_CLASSES,
    check_label,
    export_dcase,
    find_run_record,
    nonzero_parameters,
    output_csv,
)
from asc_bench.records.io import read_record, write_record

CLI = [sys.executable, "-m", "asc_bench.cli"]
LABEL = "Doe_TEST_task1_1"


def read_output(path: Path) -> list[dict[str, str]]:
    text = path.read_text()
    assert text.splitlines()[0].split("\t") == ["filename", "scene_label", *DCASE_CLASSES]
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def logits_file(ids: list[str], seed: int = 0) -> LogitsFile:
    """Logits in a shuffled class order, to check the columns are put in DCASE order."""
    order = list(reversed(CLASSES))
    logits = torch.randn(len(ids), 10, generator=torch.Generator().manual_seed(seed)) * 3
    return LogitsFile(tuple(ids), logits, tuple(order), ("test",))


def test_dcase_classes_are_the_tau22_scenes():
    """The submission's column order (docs/dcase.md §2) is the TAU22 label order (§1): alphabetical, ten scenes."""
    from asc_bench_plugins.datasets.tau22.vocabulary import SCENES

    assert DCASE_CLASSES == SCENES == tuple(sorted(CLASSES)) and len(DCASE_CLASSES) == 10


def test_labels():
    assert check_label("Schmid_CPJKU_task1_1") == ("Schmid", "CPJKU", 1)
    assert check_label("Martin-Morato_TAU_task1_4") == ("Martin-Morato", "TAU", 4)
    for bad in ("Schmid_CPJKU_task1_5", "Schmid_task1_1", "Schmid_CPJKU_task2_1", "Sch mid_X_task1_1"):
        with pytest.raises(UserError, match="not a DCASE Task 1 submission label"):
            check_label(bad)


def test_output_csv_columns():
    ids = ["audio/10.wav", "audio/2.wav", "audio/0.wav", "audio/1.wav"]
    logits = logits_file(ids)
    rows = list(csv.DictReader(io.StringIO(output_csv(logits)), delimiter="\t"))
    assert [r["filename"] for r in rows] == ["audio/0.wav", "audio/1.wav", "audio/2.wav", "audio/10.wav"]
    probs = torch.softmax(logits.logits.double(), dim=1)
    for row in rows:
        i = ids.index(row["filename"])
        got = [float(row[name]) for name in DCASE_CLASSES]
        want = [float(probs[i, logits.class_names.index(name)]) for name in DCASE_CLASSES]
        assert got == pytest.approx(want, rel=1e-7, abs=1e-12)
        assert sum(got) == pytest.approx(1.0, abs=1e-6) and min(got) > 0
        assert row["scene_label"] == DCASE_CLASSES[max(range(10), key=got.__getitem__)]
    with pytest.raises(UserError, match="must be .wav files"):
        output_csv(logits_file(["0.mp3"]))
    odd = LogitsFile(("0.wav",), torch.zeros(1, 3), ("a", "b", "c"), ())
    with pytest.raises(UserError, match="not the ten DCASE scene classes"):
        output_csv(odd)


def test_meta_yaml_and_split(tmp_path):
    record = make_record(split="split25")
    path = tmp_path / "trial" / "record.json"
    write_record(record, path)
    files = export_dcase(path, logits_file(["0.wav", "1.wav"]), label=LABEL, out_dir=tmp_path / "out")
    assert [p.name for p in files] == [f"{LABEL}.output.split_25.csv", f"{LABEL}.meta.yaml"]
    assert [p.stat().st_mode & 0o777 for p in files] == [file_mode()] * 2  # the umask's mode, not 0600
    assert len(read_output(files[0])) == 2
    text = files[1].read_text()
    assert text.startswith("# DCASE Task 1 submission meta information for Doe_TEST_task1_1")
    meta = yaml.safe_load(text)
    assert meta["submission"]["label"] == LABEL and meta["submission"]["authors"][0]["lastname"] == "Doe"
    assert meta["submission"]["authors"][0]["affiliation"]["abbreviation"] == "TEST"
    complexity = meta["system"]["complexity"]
    assert complexity["total_model_size"] == 122_296 and complexity["total_parameters"] == 61_148
    assert complexity["macs"] == 29_419_156 and complexity["total_parameters_non_zero"] == 61_148  # no model.pt
    assert meta["system"]["description"]["input_sampling_rate"] == 32.0
    dev = meta["results"]["development_dataset"]["split_25"]
    assert dev["overall"] == {"accuracy": 56.99, "logloss": round(record.metrics.macro_log_loss, 3)}
    assert list(dev["class_wise"]) == list(DCASE_CLASSES) and list(dev["device_wise"]) == list(DEVICES)
    for name in DCASE_CLASSES:
        score = record.metrics.per_class[name]
        assert dev["class_wise"][name] == {"accuracy": round(100 * score.acc, 2), "logloss": round(score.log_loss, 3)}
    assert dev["device_wise"]["s6"] == {"accuracy": 48.58, "logloss": round(2.0 - 1.5 * 0.4858, 3)}

    fold1 = tmp_path / "fold1" / "record.json"
    write_record(make_record(), fold1)  # fold1 trains on the same clips as split100
    assert export_dcase(fold1, logits_file(["0.wav"]), label=LABEL, out_dir=tmp_path / "o2")[0].name.endswith(
        "split_100.csv"
    )
    other = tmp_path / "other" / "record.json"
    write_record(make_record(split="fold2"), other)
    with pytest.raises(UserError, match="not a DCASE 2024 training split"):
        export_dcase(other, logits_file(["0.wav"]), label=LABEL, out_dir=tmp_path / "o3")
    assert export_dcase(other, logits_file(["0.wav"]), label=LABEL, out_dir=tmp_path / "o3", split=50)
    with pytest.raises(UserError, match="--split 30"):
        export_dcase(other, logits_file(["0.wav"]), label=LABEL, out_dir=tmp_path / "o4", split=30)
    assert not (tmp_path / "o4").exists()


def test_find_run_record(tmp_path):
    for seed in (1, 2):
        write_record(make_record(seed=seed), tmp_path / f"exp/seed{seed}/record.json")
    with pytest.raises(UserError, match="holds 2 records .seeds 1, 2.") as info:
        find_run_record(tmp_path / "exp")
    assert "--seed" in str(info.value)
    assert find_run_record(tmp_path / "exp", 2) == tmp_path / "exp/seed2/record.json"
    assert find_run_record(tmp_path / "exp/seed1") == tmp_path / "exp/seed1/record.json"
    with pytest.raises(UserError, match="no result record of seed 3"):
        find_run_record(tmp_path / "exp", 3)


def test_export_a_real_run(finished_run: Path, synth_root: Path, tmp_path: Path):
    """Predict an evaluation folder with a trained model through the CLI; check every row against predict."""
    evaluation = tmp_path / "eval"
    (evaluation / "audio").mkdir(parents=True)
    for i, clip in enumerate(sorted((synth_root / "audio").glob("*.wav"))[:12]):
        shutil.copyfile(clip, evaluation / "audio" / f"{i}.wav")
    out = tmp_path / "submission"
    done = subprocess.run(
        [*CLI, "export", "dcase", str(finished_run), "--label", LABEL, "--eval-folder", str(evaluation)]
        + ["--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = read_output(out / f"{LABEL}.output.split_100.csv")
    assert [r["filename"] for r in rows] == [f"audio/{i}.wav" for i in range(12)]
    expected = predict_folder([finished_run / "record.json"], evaluation)
    probs = expected.probabilities()
    for row in rows:
        j = expected.clip_ids.index(row["filename"])
        for name in DCASE_CLASSES:
            assert float(row[name]) == pytest.approx(float(probs[j, expected.class_names.index(name)]), abs=1e-6)
    record = read_record(finished_run / "record.json")
    meta = yaml.safe_load((out / f"{LABEL}.meta.yaml").read_text())
    complexity = meta["system"]["complexity"]
    assert complexity["total_parameters"] == record.complexity.params
    assert 0 < complexity["total_parameters_non_zero"] == nonzero_parameters(finished_run) <= record.complexity.params
    overall = meta["results"]["development_dataset"]["split_100"]["overall"]
    assert overall["accuracy"] == round(100 * record.metrics.macro_acc, 2)

    # The same through a logits file written by `asc-bench predict`.
    logits = save_logits(tmp_path / "eval.pt", expected)
    again = tmp_path / "again"
    done = subprocess.run(
        [*CLI, "export", "dcase", str(finished_run), "--label", LABEL, "--logits", str(logits), "--out", str(again)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (again / f"{LABEL}.output.split_100.csv").read_text() == (out / f"{LABEL}.output.split_100.csv").read_text()


def test_export_errors(finished_run: Path, tmp_path: Path):
    for args, message in (
        (["--label", "bad"], "not a DCASE Task 1 submission label"),
        (["--label", LABEL], "give the evaluation audio as --audio-dir"),
    ):
        done = subprocess.run(
            [*CLI, "export", "dcase", str(finished_run), *args, "--out", str(tmp_path / "o")],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in " ".join(done.stderr.split()) and "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()
    with pytest.raises(UserError, match="does not exist"):
        load_logits(tmp_path / "none.pt", where="--logits")
    with pytest.raises(UserError, match="holds no .wav files"):
        predict_folder([finished_run / "record.json"], tmp_path)
