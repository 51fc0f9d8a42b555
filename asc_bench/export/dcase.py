"""``asc-bench export dcase RUN --label NAME_INST_task1_1``: the official DCASE Task 1 submission files.

Writes, per docs/dcase.md §2 (the 2024 format, as the official submission validator checks it):

- ``<label>.output.split_<X>.csv``: tab-separated; header ``filename``, ``scene_label`` and the ten class
  names; one row per evaluation file with the predicted label and the ten class probabilities.
- ``<label>.meta.yaml``: ``submission`` (label, name, authors to fill in), ``system`` (description,
  ``complexity``: total_model_size, total_parameters, total_parameters_non_zero, memory_use, macs) and
  ``results.development_dataset.split_<X>``: overall / class_wise / device_wise accuracy (%) and logloss,
  taken from the run's record (the deployed-precision model on the development-test split).

Fields only the authors know are written as ``FILL_IN`` for them to complete.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from asc_bench.core.errors import UserError
from asc_bench.core.files import atomic_write_text
from asc_bench.core.safe_load import load_tensors
from asc_bench.core.text import natural_key
from asc_bench.records.io import find_records, read_record
from asc_bench.records.layout import MODEL_NAME
from asc_bench.records.schema import ResultRecord

DCASE_CLASSES: tuple[str, ...] = tuple(
    [
        "airport",
        "bus",
        "metro",
        "metro_station",
        "park",
        "public_square",
        "shopping_mall",
        "street_pedestrian",
        "street_traffic",
        "tram",
    ]
)
"""The ten TAU22 scene labels in the column order of the submission CSV (alphabetical; docs/dcase.md §1, §2).
A fact of the challenge's file format, not of any dataset plugin: the model's class names are checked against it."""
SPLITS = {"split5": 5, "split10": 10, "split25": 25, "split50": 50, "split100": 100, "fold1": 100}
LABEL = re.compile(r"^([A-Za-z][A-Za-z-]*)_([A-Za-z0-9-]+)_task1_([1-4])$")
FILL_IN = "FILL_IN"

if TYPE_CHECKING:
    from asc_bench.api.logits import LogitsFile


def find_run_record(run: Path, seed: int | None = None) -> Path:
    """The record of ``run``: a record.json, a trial folder, or an experiment folder holding one seed (or ``seed``)."""
    paths = find_records(run)
    if seed is not None:
        paths = [p for p in paths if read_record(p).seed == seed]
    if len(paths) == 1:
        return paths[0]
    if not paths:
        raise UserError(
            f"no result record{'' if seed is None else f' of seed {seed}'} under {run}.",
            fix="Pass a trial folder (it holds record.json and model.pt) written by asc-bench run.",
        )
    seeds = sorted({read_record(p).seed for p in paths})
    raise UserError(
        f"{run} holds {len(paths)} records (seeds {', '.join(map(str, seeds))}); a submission is one model.",
        fix="Pass --seed N or one trial folder.",
    )


def check_label(label: str) -> tuple[str, str, int]:
    """``Lastname_Institute_task1_N`` → (lastname, institute, N); anything else is a :class:`UserError`."""
    match = LABEL.match(label)
    if not match:
        raise UserError(
            f"--label {label!r} is not a DCASE Task 1 submission label.",
            fix="Use <LASTNAME>_<INSTITUTE>_task1_<1-4>, e.g. Schmid_CPJKU_task1_1.",
        )
    return match.group(1), match.group(2), int(match.group(3))


def split_percent(record: ResultRecord, override: int | None) -> int:
    """The training split (5, 10, 25, 50 or 100 %) of the record, for the file names and meta.yaml."""
    if override is not None:
        if override not in (5, 10, 25, 50, 100):
            raise UserError(f"--split {override} is not a DCASE 2024 split.", fix="Use 5, 10, 25, 50 or 100.")
        return override
    if record.dataset.split not in SPLITS:
        raise UserError(
            f"the record's data split {record.dataset.split!r} is not a DCASE 2024 training split.",
            fix="Pass --split 5|10|25|50|100 to say which one it corresponds to.",
        )
    return SPLITS[record.dataset.split]


def output_csv(logits: LogitsFile) -> str:
    """The system output: one row per file in natural order (``9.wav`` before ``10.wav``), probabilities in DCASE
    class order."""
    if sorted(logits.class_names) != sorted(DCASE_CLASSES):
        raise UserError(
            f"the model predicts the classes {', '.join(logits.class_names)}, not the ten DCASE scene classes.",
            fix="Export a model trained on the TAU22 classes.",
        )
    not_wav = [c for c in logits.clip_ids if not c.endswith(".wav")]
    if not_wav:
        raise UserError(f"evaluation files must be .wav files, e.g. not {not_wav[0]}.")
    columns = [logits.class_names.index(name) for name in DCASE_CLASSES]
    probs = logits.probabilities()[:, columns].double()
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(["filename", "scene_label", *DCASE_CLASSES])
    order = sorted(range(len(logits.clip_ids)), key=lambda i: natural_key(logits.clip_ids[i]))
    for i in order:
        row = probs[i].tolist()
        best = max(range(len(row)), key=row.__getitem__)
        writer.writerow([logits.clip_ids[i], DCASE_CLASSES[best], *(f"{p:.8g}" for p in row)])
    return out.getvalue()


def _scores(acc: float | None, log_loss: float | None) -> dict[str, float | None]:
    return {
        "accuracy": None if acc is None else round(100 * acc, 2),
        "logloss": None if log_loss is None else round(log_loss, 3),
    }


def meta(record: ResultRecord, label: str, split: int, *, nonzero_params: int | None, name: str | None) -> dict:
    """The meta.yaml content for ``record`` (complexity from its counts, results from its metrics)."""
    lastname, institute, _ = check_label(label)
    m, c, spec = record.metrics, record.complexity, record.spec
    transforms = [t.get("type", "?") for t in spec.get("data", {}).get("transforms", [])]
    system_name = name or record.name
    missing = [n for n in DCASE_CLASSES if n not in m.per_class]
    if missing:
        raise UserError(f"the record has no development results for the classes {', '.join(missing)}.")
    return {
        "submission": {
            "label": label,
            "name": system_name,
            "abbreviation": system_name[:10],
            "authors": [
                {
                    "lastname": lastname,
                    "firstname": FILL_IN,
                    "email": FILL_IN,
                    "corresponding": True,
                    "affiliation": {"abbreviation": institute, "institute": FILL_IN, "location": FILL_IN},
                }
            ],
        },
        "system": {
            "description": {
                "input_sampling_rate": spec.get("data", {}).get("sample_rate", 32000) / 1000,
                "acoustic_features": ", ".join(t for t in transforms if t in ("mel", "stft", "logmel")) or FILL_IN,
                "embeddings": False,
                "data_augmentation": ", ".join(t for t in transforms if t not in ("mel", "stft", "logmel")),
                "machine_learning_method": spec.get("model", {}).get("type", FILL_IN),
                "ensemble_method_subsystem_count": 1,
                "decision_making": "argmax",
                "external_data_usage": FILL_IN,
                "complexity_management": f"{c.param_dtype} parameters",
                "pipeline": " -> ".join([*transforms, "model", "softmax"]),
                "framework": "pytorch",
            },
            "complexity": {
                "total_model_size": c.param_bytes,
                "total_parameters": c.params,
                "total_parameters_non_zero": c.params if nonzero_params is None else nonzero_params,
                "memory_use": c.param_bytes,
                "macs": c.macs,
            },
            "energy_consumption": {"training": FILL_IN, "inference": FILL_IN, "baseline_inference": FILL_IN},
            "external_datasets": [],
            "source_code": FILL_IN,
        },
        "results": {
            "development_dataset": {
                f"split_{split}": {
                    "overall": _scores(m.macro_acc, m.macro_log_loss),
                    "class_wise": {n: _scores(m.per_class[n].acc, m.per_class[n].log_loss) for n in DCASE_CLASSES},
                    "device_wise": {d: _scores(s.acc, s.log_loss) for d, s in m.per_device.items()},
                }
            }
        },
    }


def nonzero_parameters(trial_dir: Path) -> int | None:
    """Non-zero parameter values in the trial's saved weights (BatchNorm statistics excluded); None without them."""
    from asc_bench.evaluation.predict import WEIGHTS_FIX

    path = trial_dir / MODEL_NAME
    if not path.is_file():
        return None
    state = load_tensors(path, what="model weights", fix=WEIGHTS_FIX)
    skip = ("running_mean", "running_var", "num_batches_tracked")
    return int(sum(int((v != 0).sum()) for k, v in state.items() if not k.endswith(skip) and v.is_floating_point()))


def export_dcase(
    record_path: Path,
    logits: LogitsFile,
    *,
    label: str,
    out_dir: Path,
    split: int | None = None,
    name: str | None = None,
) -> list[Path]:
    """Write ``<label>.output.split_<X>.csv`` and ``<label>.meta.yaml`` into ``out_dir``; return their paths."""
    check_label(label)
    record = read_record(record_path)
    percent = split_percent(record, split)
    table = output_csv(logits)
    info = meta(record, label, percent, nonzero_params=nonzero_parameters(record_path.parent), name=name)
    header = (
        f"# DCASE Task 1 submission meta information for {label}, written by asc-bench export dcase\n"
        f"# from {record_path.name} of run {record.name} (seed {record.seed}, spec hash {record.spec_hash}).\n"
        f"# Replace every {FILL_IN} before submitting.\n"
    )
    text: dict[Path, str] = {
        out_dir / f"{label}.output.split_{percent}.csv": table,
        out_dir / f"{label}.meta.yaml": header + yaml.safe_dump(info, sort_keys=False, allow_unicode=True),
    }
    for path, content in text.items():
        atomic_write_text(path, content)
    return list(text)
