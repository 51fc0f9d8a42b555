"""The recipe specs: each validates and meets its published complexity at full size, and each runs end to end
on the synthetic set when scaled down by overrides (the CP-JKU chain: teacher runs → predict → distilled student)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from helpers import ROOT
from rich.console import Console

from asc_bench.cli.progress import ConsoleRunListener
from asc_bench.core.errors import UserError
from asc_bench.model.build import check_complexity
from asc_bench.records.io import read_record
from asc_bench.records.schema import ResultRecord
from asc_bench.spec.validate import load_spec
from asc_bench_plugins.datasets.tau22.irs import IR_FOLDER

SPECS = ROOT / "specs"
# spec -> (MACs, parameters, parameter dtype) at full size, as published (docs/dcase.md §3)
PUBLISHED = {
    "baseline2023": (29_271_638, 46_118, "int8"),  # torchinfo count of the Keras model's PyTorch port
    "baseline2024": (29_419_156, 61_148, "float16"),
    "cpjku": (28_893_268, 126_952, "int8"),
    "cai": (29_700_320, 54_270, "float16"),
}


@pytest.mark.parametrize("name", [*PUBLISHED, "cpjku_teacher", "quickstart"])
def test_spec_validates_and_documents_what_it_reproduces(name: str) -> None:
    path = SPECS / f"{name}.yaml"
    spec = load_spec(path)
    header = path.read_text().split("\nname:")[0]
    assert header.startswith("#") and spec.description
    if name in PUBLISHED:
        assert "Published" in header and "data/TAU-urban-acoustic-scenes-2022-mobile-development" in path.read_text()
        macs, params, dtype = PUBLISHED[name]
        report = check_complexity(spec)  # needs no data: the dir folder and teacher file are not read
        assert (report.macs, report.params, report.param_dtype) == (macs, params, dtype)


# Scaled down for the test machine: 16 kHz, a 1,024-point STFT and 64 mel bands (the front end dominates a
# one-epoch run), small models, a quarter of the training recordings, one seed, one epoch.
# spec -> (index of its mel step, model overrides)
SCALED = {
    "baseline2023": (0, ("model.filters=[8, 8, 16]", "model.pools=[[5, 5], [4, 3]]")),  # 19 frames at 16 kHz
    "baseline2024": (1, ("model.base_channels=16",)),
    "cpjku_teacher": (2, ("model.base_channels=16",)),  # widths 16, 32, 28 (stage 3 is cut by 36)
    "cpjku": (2, ("model.base_channels=16",)),
    "cai": (1, ("model.width=8", "model.shuffle_groups=2")),
}


def _scaling(name: str) -> list[str]:
    """The overrides that scale a recipe spec down (front end, model, seeds, epochs), dataset and output aside."""
    mel, model = SCALED[name]
    front_end = [f"data.transforms.{mel}.{key}" for key in ("n_fft=1024", "win_length=1024", "n_mels=64")]
    if name != "baseline2023":
        front_end.append(f"data.transforms.{mel}.hop_length=250")
    if name in ("cpjku_teacher", "cpjku", "cai"):  # their band edges are above 8 kHz
        front_end.append(f"data.transforms.{mel}.fmax=7500")
    if name in ("cpjku_teacher", "cpjku"):
        front_end.append(f"data.transforms.{mel}.fmax_jitter=[-200, 200]")
    return [
        "data.sample_rate=16000",
        *front_end,
        *model,
        "seeds=[1]",
        "trainer.epochs=1",
        "trainer.batch_size=64",
    ]


def _scaled(name: str, synth_root: Path, out: Path, *extra: str):  # noqa: ANN202
    overrides = [
        f"data.dataset.root={synth_root}",
        "data.dataset.split=split25",
        *_scaling(name),
        f"output.dir={out}",
        *extra,
    ]
    return load_spec(SPECS / f"{name}.yaml", overrides)


FLOAT16 = "limits.param_dtype=float16"
"""For students whose deployment is not what a test checks: int8 (a PT2E export and calibration per trial) is
tested by test_cpjku_runs_with_a_predicted_teacher_logits_file."""


def _run(spec) -> ResultRecord:  # noqa: ANN001
    from asc_bench.runner.driver import run_spec

    paths = run_spec(spec, listener=ConsoleRunListener(Console(file=io.StringIO())))
    assert len(paths) == 1
    return read_record(paths[0])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("recipes")


@pytest.mark.parametrize("name", ["baseline2023", "baseline2024"])
def test_baselines_run_on_the_synthetic_set(
    name: str, synth_root: Path, runs: Path, cache_dir: Path, ray_local
) -> None:  # noqa: ANN001
    record = _run(_scaled(name, synth_root, runs))
    assert record.name == name and record.complexity.param_dtype == PUBLISHED[name][2]
    assert record.metrics.count > 0 and record.history[0]["train_loss"] > 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(next((runs / name).glob("*/*/tensorboard"))))
    events.Reload()
    assert "confusion_matrix" in events.Tags()["images"] and "per_device/s6" in events.Tags()["scalars"]
    image = events.Images("confusion_matrix")[0]
    assert image.width > 400 and image.height > 400


@pytest.fixture(scope="module")
def teacher_logits(synth_root: Path, runs: Path, cache_dir: Path, ray_local) -> Path:  # noqa: ANN001
    """specs/cpjku_teacher.yaml scaled down, then `predict --subset all` of its run: the CP-JKU chain."""
    from asc_bench.api.logits import save_logits
    from asc_bench.evaluation.predict import predict_split

    spec = _scaled("cpjku_teacher", synth_root, runs, f"data.transforms.0.folder={synth_root / IR_FOLDER}")
    record = _run(spec)
    assert record.complexity.param_dtype == "float32" and record.complexity.limits["preset"] == "none"
    trial = next((runs / "cpjku_teacher").glob("*/*/record.json"))
    return save_logits(runs / "teacher.logits.pt", predict_split([trial], "all"))


def test_cpjku_runs_with_a_predicted_teacher_logits_file(synth_root: Path, runs: Path, teacher_logits: Path) -> None:
    spec = _scaled(
        "cpjku",
        synth_root,
        runs,
        f"data.transforms.0.folder={synth_root / IR_FOLDER}",
        f"trainer.teacher={{logits: {teacher_logits}}}",
    )
    record = _run(spec)
    assert record.spec["trainer"]["type"] == "distill"
    assert record.spec["data"]["transforms"][0]["type"] == "dir"
    assert record.complexity.param_dtype == PUBLISHED["cpjku"][2]
    assert record.metrics.count > 0 and record.history[0]["train_loss"] > 0


def _with_teacher_spec(name: str, synth_root: Path, out: Path, *extra: str):  # noqa: ANN202
    irs = f"data.transforms.0.folder={synth_root / IR_FOLDER}"
    teacher = {"spec": str(SPECS / "cpjku_teacher.yaml"), "set": [irs, *_scaling("cpjku_teacher")]}
    return _scaled(name, synth_root, out, irs, f"trainer.teacher={json.dumps(teacher)}", *extra)


def test_students_train_their_teacher_spec_first_then_reuse_its_logits(
    synth_root: Path, tmp_path: Path, teacher_logits: Path, cache_dir: Path, ray_local
) -> None:  # noqa: ANN001
    """specs/cai.yaml and specs/cpjku.yaml name specs/cpjku_teacher.yaml: the first run trains the teacher (on the
    student's dataset, into the student's output folder) and writes its logits; the second student reuses them."""
    from asc_bench.api.logits import load_logits
    from asc_bench.runner.driver import run_spec

    out = io.StringIO()
    paths = run_spec(_with_teacher_spec("cai", synth_root, tmp_path), listener=ConsoleRunListener(Console(file=out)))
    teachers = sorted((tmp_path / "cpjku_teacher").glob("*/*/record.json"))
    assert len(teachers) == 1 and "training" in out.getvalue()
    teacher_record, student = read_record(teachers[0]), read_record(paths[0])
    assert teacher_record.spec["data"]["dataset"]["split"] == "split25", "trained on the student's dataset"
    written = Path(student.spec["trainer"]["teacher"]["logits"])
    assert written.parent == tmp_path / "cpjku_teacher" / "teacher-logits"
    assert student.spec["trainer"]["teacher"]["spec_hash"] == teacher_record.spec_hash
    assert student.metrics.count > 0 and student.history[0]["train_loss"] > 0
    # the same teacher spec and seed on the same machine: the logits of the two-step chain, exactly
    chained, in_run = load_logits(teacher_logits, where="chain"), load_logits(written, where="run")
    assert chained.clip_ids == in_run.clip_ids and torch.equal(chained.logits, in_run.logits)

    out = io.StringIO()
    student = _with_teacher_spec("cpjku", synth_root, tmp_path, FLOAT16)
    run_spec(student, listener=ConsoleRunListener(Console(file=out)))
    assert "reusing" in out.getvalue() and "training" not in out.getvalue()
    assert len(sorted((tmp_path / "cpjku_teacher").glob("*/*/record.json"))) == 1, "the teacher was not retrained"


def test_a_changed_teacher_spec_changes_the_student_hash(tmp_path: Path) -> None:
    from asc_bench.spec.hashing import spec_hash
    from asc_bench.spec.resolve import resolve_for_run

    base = resolve_for_run(load_spec(SPECS / "cpjku.yaml"))
    changed = resolve_for_run(load_spec(SPECS / "cpjku.yaml", ['trainer.teacher.set=["trainer.epochs=3"]']))
    assert base.trainer.teacher.spec_hash and spec_hash(base) != spec_hash(changed)
    as_file = resolve_for_run(load_spec(SPECS / "cpjku.yaml", [f"trainer.teacher={{logits: {tmp_path / 'x.pt'}}}"]))
    assert as_file.trainer.teacher.spec_hash is None
    other_split = as_file.model_copy(
        update={
            "trainer": as_file.trainer.model_copy(
                update={"teacher": as_file.trainer.teacher.model_copy(update={"split": "train"})}
            )
        }
    )
    assert spec_hash(other_split) == spec_hash(as_file), "a logits file has no split: not part of the hash"


@pytest.mark.parametrize(
    ("teacher", "message"),
    [
        ("{}", "give the teacher as"),
        ("{spec: specs/missing.yaml}", "teacher spec .*missing.yaml does not exist"),
        ('{spec: specs/cpjku_teacher.yaml, set: ["trainer.epochs=0"]}', "teacher spec is invalid: .*epochs"),
        ("{spec: TMP/self.yaml}", "teacher specs form a cycle: .*self.yaml -> .*self.yaml"),
    ],
)
def test_bad_teachers_are_refused_in_the_driver(
    teacher: str, message: str, synth_root: Path, tmp_path: Path, ray_local
) -> None:  # noqa: ANN001
    from asc_bench.runner.driver import run_spec

    (tmp_path / "self.yaml").write_text(
        (SPECS / "cpjku.yaml").read_text().replace("recipe:cpjku_teacher", str(tmp_path / "self.yaml"))
    )
    with pytest.raises(UserError, match=message):
        spec = _scaled("cpjku", synth_root, tmp_path, f"trainer.teacher={teacher.replace('TMP', str(tmp_path))}")
        run_spec(spec, listener=ConsoleRunListener(Console(file=io.StringIO())))
    assert not list(tmp_path.rglob("record.json")), "nothing trained"


def test_a_missing_response_folder_is_refused_before_any_data_work(
    synth_root: Path, runs: Path, cache_dir: Path, ray_local
) -> None:  # noqa: ANN001
    spec = _scaled("cpjku", synth_root, runs, "name=cpjku_noirs")  # data/micirp does not exist here
    with pytest.raises(UserError, match="impulse-response folder .*micirp does not exist"):
        _run(spec)
    assert not (runs / "cpjku_noirs").exists(), "refused in the driver, before any trial"


def test_early_stopping_on_the_validation_split_restores_the_best_epoch(
    synth_root: Path, runs: Path, cache_dir: Path, ray_local
) -> None:  # noqa: ANN001
    never_better = "trainer.early_stopping={patience: 1, min_delta: 1.0}"  # nothing beats epoch 1
    held_out = "data.dataset.validation.fraction=0.3"
    spec = _scaled("baseline2024", synth_root, runs, "name=early", "trainer.epochs=4", never_better, held_out)
    record = _run(spec)
    assert [row["epoch"] for row in record.history] == [1, 2], "stopped after one epoch without improvement"
    assert all("val_macro_acc" in row for row in record.history)
    assert record.metrics_float32.macro_acc == pytest.approx(record.history[0]["test_macro_acc"], abs=1e-9)


@pytest.mark.slow
def test_ctrl_c_during_the_teacher_then_resume_finishes_teacher_and_student(
    synth_root: Path, tmp_path: Path, cache_dir: Path
) -> None:
    """`asc-bench run specs/cpjku.yaml` interrupted while its teacher trains: `--resume` continues the teacher's
    experiment (not a new one), writes its logits and trains the student."""
    irs = f"data.transforms.0.folder={synth_root / IR_FOLDER}"
    teacher = {"spec": str(SPECS / "cpjku_teacher.yaml"), "set": [irs, *_scaling("cpjku_teacher"), "trainer.epochs=3"]}
    overrides = [
        f"data.dataset.root={synth_root}",
        "data.dataset.split=split25",
        *_scaling("cpjku"),
        irs,
        f"trainer.teacher={json.dumps(teacher)}",
        f"output.dir={tmp_path / 'runs'}",
        FLOAT16,
    ]
    command = [sys.executable, "-m", "asc_bench.cli", "run", str(SPECS / "cpjku.yaml"), "--no-leaderboard"]
    command += [arg for override in overrides for arg in ("--set", override)]
    env = {**os.environ, "COLUMNS": "200", "ASC_BENCH_CACHE_DIR": str(cache_dir)}
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    process = subprocess.Popen(command, **pipes, env=env, start_new_session=True)
    deadline = time.monotonic() + 600
    while not list((tmp_path / "runs" / "cpjku_teacher").glob("tune/*/*/checkpoint_*")):  # a teacher epoch done
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the teacher never finished an epoch"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, out + err
    assert not (tmp_path / "runs" / "cpjku").exists(), "the student had not started"

    resumed = subprocess.run([*command, "--resume"], **pipes, env=env, timeout=900)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert len(list((tmp_path / "runs" / "cpjku_teacher").glob("*/experiment.json"))) == 1, "continued, not anew"
    (teacher_record,) = (tmp_path / "runs" / "cpjku_teacher").glob("*/*/record.json")
    assert len(read_record(teacher_record).history) == 3
    (student_record,) = (tmp_path / "runs" / "cpjku").glob("*/*/record.json")
    assert Path(read_record(student_record).spec["trainer"]["teacher"]["logits"]).is_file()
