"""``asc-bench export dcase2025 RUN --label Last_Inst_task1 --index N``: a DCASE 2025 Task 1 inference package in the
layout of the official template (docs/dcase.md §7)::

    <out>/pyproject.toml                      installable: pip install <out>
    <out>/<label>/<label>_<N>.py              load_model, load_inputs, get_model_for_device, predict
    <out>/<label>/ckpts/<label>_<N>.pt        the system's spec, seed, class names and weights
    <out>/<label>/resources/dummy.wav         a 1-s silent clip; test.csv: the development-test list, if present
    <out>/predictions/<label>_<N>/complexity.json   per device: MACs and parameter bytes; the maxima
    <out>/predictions/<label>_<N>/output.csv        with --evaluation: the evaluation set's predictions

The package depends on torch, torchaudio and asc-bench (its module calls asc_bench.export.dcase2025_runtime): the
architectures are asc-bench plugins, and the official complexity check counts the per-device models as modules.
"""

from __future__ import annotations

import csv
import io
import json
import wave
from dataclasses import dataclass
from pathlib import Path

import torch

from asc_bench import __version__
from asc_bench.api.logits import LogitsFile
from asc_bench.core.errors import UserError
from asc_bench.core.files import atomic_path, atomic_write_bytes, atomic_write_text
from asc_bench.export.dcase import check_label, find_run_record, output_csv
from asc_bench.export.dcase2025_runtime import UNKNOWN, checkpoint_content, load_system, predict
from asc_bench.records.io import read_record
from asc_bench.records.layout import MODEL_NAME
from asc_bench.records.schema import ResultRecord

EVALUATION_LIST = Path("evaluation_setup") / "fold1_test.csv"
TEST_LIST = Path("split_setup") / "test.csv"
DUMMY_RATE = 44_100

MODULE = '''"""DCASE 2025 Task 1 inference module {name} (asc-bench export dcase2025, asc-bench {version})."""

from pathlib import Path

from asc_bench.export import dcase2025_runtime as runtime

CHECKPOINT = Path(__file__).parent / "ckpts" / "{name}.pt"


def load_model(model_file_path=None):
    """The system (its device models and the general model), deployed for inference."""
    return runtime.load_system(Path(model_file_path) if model_file_path else CHECKPOINT)


def load_inputs(file_paths, device_ids, model):
    """The model input of each 1-s WAV file, in order."""
    return runtime.load_inputs(file_paths, device_ids, model)


def get_model_for_device(model, device_id):
    """The model of one device ("unknown" and devices without their own model: the general model)."""
    return runtime.model_for_device(model, device_id)


def predict(file_paths, device_ids, model_file_path=None):
    """(one logit tensor per file, the class order)."""
    return runtime.predict(file_paths, device_ids, load_model(model_file_path))
'''

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{label}"
version = "0.1.0"
description = "DCASE 2025 Task 1 inference package (written by asc-bench export dcase2025)"
requires-python = ">=3.11"
dependencies = ["torch", "torchaudio", "asc-bench=={version}"]

[tool.setuptools]
packages = ["{label}"]

[tool.setuptools.package-data]
"{label}" = ["ckpts/*", "resources/*"]
"""


@dataclass(frozen=True)
class Package:
    """What the export wrote."""

    root: Path
    module: Path
    complexity: Path
    output: Path | None


def complexity_table(record: ResultRecord) -> dict:
    """``complexity.json``: MACs and parameter bytes of the model each device (and "unknown") is classified by."""
    table = (record.complexity.model_extra or {}).get("per_device")
    whole = {"MACs": record.complexity.macs, "Params": record.complexity.param_bytes}
    devices = [*record.metrics.per_device, UNKNOWN]
    if table is None:  # a single model classifies every device
        per_device = dict.fromkeys(devices, whole)
    else:
        model = {name: {"MACs": c["macs"], "Params": c["param_bytes"]} for name, c in table.items()}
        per_device = {d: model.get(d, model["general"]) for d in devices}
    return {
        "per_device": per_device,
        "max_MACs": max(c["MACs"] for c in per_device.values()),
        "max_Params": max(c["Params"] for c in per_device.values()),
    }


def _dummy_wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(DUMMY_RATE)
        w.writeframes(b"\0\0" * DUMMY_RATE)
    return out.getvalue()


def evaluation_list(folder: Path) -> tuple[list[str], list[str]]:
    """File names and device ids of an evaluation set's ``evaluation_setup/fold1_test.csv``."""
    path = Path(folder) / EVALUATION_LIST
    if not path.is_file():
        raise UserError(
            f"{path} does not exist.", fix="Pass the evaluation set's folder (the one holding evaluation_setup/)."
        )
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines(), delimiter="\t"))
    if not rows or not {"filename", "device_id"} <= set(rows[0]):
        raise UserError(f"{path} needs tab-separated columns filename and device_id.", where=str(path))
    return [r["filename"] for r in rows], [r["device_id"] for r in rows]


def export_dcase2025(
    run: Path, out: Path, *, label: str, index: int, evaluation: Path | None = None, seed: int | None = None
) -> Package:
    """Write the inference package of a finished run (a device-specific system, or a single model)."""
    name = f"{label}_{index}"
    check_label(name)
    record_path = find_run_record(Path(run), seed)
    record = read_record(record_path)
    state = torch.load(record_path.parent / MODEL_NAME, weights_only=True, map_location="cpu")
    package = Path(out) / label
    checkpoint = package / "ckpts" / f"{name}.pt"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(checkpoint) as tmp:
        torch.save(checkpoint_content(record.spec, record.seed, list(record.metrics.per_class), state), tmp)
    atomic_write_text(package / "__init__.py", f'"""{label}: DCASE 2025 Task 1 inference package."""\n')
    module = package / f"{name}.py"
    atomic_write_text(module, MODULE.format(name=name, version=__version__))
    atomic_write_text(Path(out) / "pyproject.toml", PYPROJECT.format(label=label, version=__version__))
    (package / "resources").mkdir(exist_ok=True)
    atomic_write_bytes(package / "resources" / "dummy.wav", _dummy_wav())
    test_list = Path(record.spec["data"]["dataset"].get("root", "")) / TEST_LIST
    if test_list.is_file():
        atomic_write_bytes(package / "resources" / "test.csv", test_list.read_bytes())
    results = Path(out) / "predictions" / name
    results.mkdir(parents=True, exist_ok=True)
    complexity = results / "complexity.json"
    atomic_write_text(complexity, json.dumps(complexity_table(record), indent=2) + "\n")
    output = None
    if evaluation is not None:
        files, devices = evaluation_list(evaluation)
        logits, classes = predict([str(Path(evaluation) / f) for f in files], devices, load_system(checkpoint))
        output = results / "output.csv"
        atomic_write_text(output, output_csv(LogitsFile(tuple(files), torch.stack(logits), tuple(classes), ())))
    return Package(Path(out), module, complexity, output)
