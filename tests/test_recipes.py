"""The recipe specs: each validates and meets its published complexity at full size, and each runs end to end
on the synthetic set when scaled down by overrides (the CP-JKU chain: teacher runs → predict → distilled student)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import ROOT
from rich.console import Console

from asc_bench.engine import check_complexity
from asc_bench.errors import UserError
from asc_bench.results import ResultRecord, read_record
from asc_bench.spec import load_spec
from asc_bench.synth_irs import IR_FOLDER

SPECS = ROOT / "specs"
# spec -> (MACs, parameters, parameter dtype) at full size, as published (REFERENCE.md §3)
PUBLISHED = {
    "baseline2023": (29_472_598, 46_118, "int8"),  # torchinfo count of the Keras model's PyTorch port
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
    "baseline2023": (0, ("model.filters=[8, 8, 16]",)),
    "baseline2024": (1, ("model.base_channels=16",)),
    "cpjku_teacher": (2, ("model.width=8",)),
    "cpjku": (2, ("model.base_channels=16",)),
    "cai": (1, ("model.width=8", "model.shuffle_groups=2")),
}


def _scaled(name: str, synth_root: Path, out: Path, *extra: str):  # noqa: ANN202
    mel, model = SCALED[name]
    front_end = [f"data.transforms.{mel}.{key}" for key in ("n_fft=1024", "win_length=1024", "n_mels=64")]
    if name != "baseline2023":
        front_end.append(f"data.transforms.{mel}.hop_length=250")
    if name in ("cpjku_teacher", "cpjku", "cai"):  # their band edges are above 8 kHz
        front_end.append(f"data.transforms.{mel}.fmax=7500")
    if name in ("cpjku_teacher", "cpjku"):
        front_end.append(f"data.transforms.{mel}.fmax_jitter=[-200, 200]")
    overrides = [
        f"data.dataset.root={synth_root}",
        "data.dataset.split=split25",
        "data.sample_rate=16000",
        *front_end,
        *model,
        "seeds=[1]",
        "trainer.epochs=1",
        "trainer.batch_size=64",
        f"output.dir={out}",
        *extra,
    ]
    return load_spec(SPECS / f"{name}.yaml", overrides)


def _run(spec) -> ResultRecord:  # noqa: ANN001
    from asc_bench.runner import run_spec

    paths = run_spec(spec, console=Console(file=io.StringIO()), leaderboard=False)
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
    """specs/cpjku_teacher.yaml scaled down, then `predict --split all` of its run: the CP-JKU chain."""
    from asc_bench.logits import save_logits
    from asc_bench.predict import predict_split

    spec = _scaled("cpjku_teacher", synth_root, runs, f"data.transforms.0.folder={synth_root / IR_FOLDER}")
    record = _run(spec)
    assert record.complexity.param_dtype == "float32" and record.complexity.limits["preset"] == "none"
    trial = next((runs / "cpjku_teacher").glob("*/*/record.json"))
    return save_logits(runs / "teacher.logits.pt", predict_split([trial], "all"))


@pytest.mark.parametrize("name", ["cpjku", "cai"])
def test_distillation_recipes_run_with_a_predicted_teacher(
    name: str, synth_root: Path, runs: Path, teacher_logits: Path
) -> None:
    spec = _scaled(
        name,
        synth_root,
        runs,
        f"data.transforms.0.folder={synth_root / IR_FOLDER}",
        f"trainer.teacher.logits={teacher_logits}",
    )
    record = _run(spec)
    assert record.spec["trainer"]["type"] == "distill"
    assert record.spec["data"]["transforms"][0]["type"] == "dir"
    assert record.complexity.param_dtype == PUBLISHED[name][2]
    assert record.metrics.count > 0 and record.history[0]["train_loss"] > 0


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
