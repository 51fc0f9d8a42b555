"""Predictions of finished runs: rebuild each trial's model from its record, load its weights (``model.pt``),
predict logits for a dataset split or a folder of WAV files, and average several runs as an ensemble.

The function API (used by ``asc-bench predict`` and the DCASE export)::

    records = find_run_records([Path("runs/cpjku_teacher")])          # record.json files under the paths
    logits = predict_split(records, "train")                           # LogitsFile keyed by clip id
    logits = predict_folder(records, Path("eval/audio"))               # keyed by file name ("0.wav", ...)
    save_logits("teacher.pt", logits)                                  # asc_bench.api.logits format

Split predictions read their inputs through the spec's cache exactly as training and evaluation do, so the
test-split predictions of one run reproduce its record's metrics. Folder predictions compute the front end on the
fly at float32. Each run is evaluated as deployed (``precision="deployed"``: its ``limits.param_dtype``) or in
float32; an ensemble averages the runs' logits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from asc_bench.api.logits import LogitsFile
from asc_bench.core.errors import UserError
from asc_bench.core.safe_load import load_tensors
from asc_bench.core.text import natural_key
from asc_bench.data.pipeline import Pipeline
from asc_bench.data.setup import DataSetup, build_data
from asc_bench.data.splits import split_indices
from asc_bench.evaluation.loop import calibration_inputs, predict_logits
from asc_bench.model.build import build_model
from asc_bench.model.precision import deploy_model
from asc_bench.plugins import registry
from asc_bench.records.io import find_records, read_record
from asc_bench.records.layout import MODEL_NAME
from asc_bench.records.schema import ResultRecord
from asc_bench.spec.model import Spec
from asc_bench.spec.validate import validate_spec

WEIGHTS_FIX = (
    "Train the run again (asc-bench run SPEC), or put back its model.pt from where the run came from; asc-bench "
    "loads only tensors from it."
)
PredictSplit = Literal["train", "validation", "test", "all"]
Precision = Literal["deployed", "float32"]
Progress = Callable[[int, int], None]
CLIP_SECONDS = 1


@dataclass
class TrainedRun:
    """One finished trial, ready to predict: its record, spec, data setup and (deployed) model."""

    record_path: Path
    record: ResultRecord
    spec: Spec
    pipeline: Pipeline
    class_names: tuple[str, ...]
    model: torch.nn.Module
    setup: DataSetup | None = None  # built on first use

    def data(self) -> DataSetup:
        """The spec's data setup (dataset, pipeline, cache, split rows)."""
        if self.setup is None:
            self.setup = build_data(self.spec)
        return self.setup


def find_run_records(paths: Sequence[Path]) -> list[Path]:
    """The ``record.json`` files of finished runs: each path is a record, a trial folder, or any folder above."""
    records = [record for path in paths for record in find_records(Path(path))]
    if not records:
        raise UserError(
            f"no result records (record.json) under {', '.join(map(str, paths))}.",
            fix="Pass a finished run: a record.json, its trial folder, or the experiment folder above it.",
        )
    return list(dict.fromkeys(records))


def load_run(record_path: Path, *, precision: Precision = "deployed") -> TrainedRun:
    """Rebuild a finished trial's model from its record and ``model.pt`` (at the deployed precision if asked)."""
    record = read_record(record_path)
    weights = record_path.parent / MODEL_NAME
    if not weights.is_file():
        raise UserError(
            f"the run {record_path.parent} has no {MODEL_NAME} (the trained weights): it was written before asc-bench "
            "saved weights, or it did not finish.",
            where=str(record_path),
            fix="Run the spec again (asc-bench run SPEC); each finished trial now keeps its model.pt.",
        )
    spec = validate_spec(record.spec, source=str(record_path))
    pipeline = Pipeline(spec.data.transforms, sample_rate=spec.data.sample_rate)
    class_names = tuple(record.metrics.per_class)
    model = build_model(spec, pipeline.input_shape(), len(class_names), record.seed)
    model.load_state_dict(load_tensors(weights, what="model weights", where=str(record_path), fix=WEIGHTS_FIX))
    model.eval()
    run = TrainedRun(record_path, record, spec, pipeline, class_names, model)
    dtype = spec.limits.param_dtype
    if precision == "deployed" and dtype != "float32":
        calibration = calibration_inputs(run.data().split("train"), run.data()) if dtype == "int8" else None
        run.model = deploy_model(model, dtype, calibration)
    return run


def _split_rows(run: TrainedRun, split: PredictSplit) -> list[tuple[str, np.ndarray]]:
    dataset = run.data().dataset
    if split != "all":
        if split not in dataset.splits():
            raise UserError(
                f"the dataset of {run.record_path} has no {split} split (its splits: {', '.join(dataset.splits())}).",
                fix="Predict another split, or give the dataset a validation hold-out in the spec.",
            )
        return [(split, split_indices(dataset, split))]
    parts = [(name, split_indices(dataset, name)) for name in dataset.splits()]
    rest = np.setdiff1d(np.arange(len(run.data().clips)), np.concatenate([rows for _, rows in parts]))
    return parts + ([("rest", rest)] if len(rest) else [])


def _ensemble(runs: list[TrainedRun], per_run: list[tuple[list[str], torch.Tensor]]) -> LogitsFile:
    ids, first = per_run[0]
    order = {clip_id: i for i, clip_id in enumerate(ids)}
    total = torch.zeros_like(first, dtype=torch.float64)
    for run, (run_ids, logits) in zip(runs, per_run, strict=True):
        if run.class_names != runs[0].class_names:
            raise UserError(
                f"the runs predict different classes: {runs[0].record_path} ({', '.join(runs[0].class_names)}) and "
                f"{run.record_path} ({', '.join(run.class_names)}).",
                fix="Ensemble only runs trained on the same classes.",
            )
        if set(run_ids) != set(order):
            raise UserError(
                f"the runs {runs[0].record_path} and {run.record_path} cover different clips ({len(ids):,} and "
                f"{len(run_ids):,}): they were trained on different datasets or splits.",
                fix="Ensemble only runs on the same dataset, or predict them separately.",
            )
        positions = torch.tensor([order[c] for c in run_ids])
        total[positions] += logits.double()
    sources = tuple(str(run.record_path) for run in runs)
    return LogitsFile(tuple(ids), (total / len(runs)).float(), runs[0].class_names, sources)


def predict_split(
    records: Sequence[Path],
    split: PredictSplit = "test",
    *,
    precision: Precision = "deployed",
    progress: Progress | None = None,
) -> LogitsFile:
    """Logits of the runs (averaged) for every clip of a split of their dataset, keyed by clip id.

    ``split`` is ``train``, ``validation`` (when the dataset holds one out), ``test`` or ``all`` (every clip in
    meta.csv, including those in no split).
    """
    runs = [load_run(Path(r), precision=precision) for r in find_run_records(records)]
    plans = [_split_rows(run, split) for run in runs]
    total = sum(len(rows) for plan in plans for _, rows in plan)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    per_run = []
    for run, plan in zip(runs, plans, strict=True):
        ids: list[str] = []
        parts = []
        for name, rows in plan:
            parts.append(predict_logits(run.model, run.data().split(name, rows), run.data(), on_batch=advance))
            ids.extend(run.data().clips.ids[r] for r in rows)
        per_run.append((ids, torch.cat(parts)))
    return _ensemble(runs, per_run)


def read_clip(path: Path, sample_rate: int) -> torch.Tensor:
    """A 1-s WAV clip as a mono float32 waveform at ``sample_rate``; a clear error for anything else."""
    import soundfile as sf
    import torchaudio.functional as AF

    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, OSError) as err:  # soundfile.LibsndfileError is a RuntimeError
        raise UserError(f"{path} cannot be decoded as a WAV file: {err}.", fix="Replace or remove the file.") from None
    if data.shape[0] != CLIP_SECONDS * rate:
        raise UserError(
            f"{path} is {data.shape[0] / rate:.3f} s long; the models take {CLIP_SECONDS}-s clips.",
            fix="Cut the audio into 1-s clips first (as in the DCASE evaluation sets).",
        )
    x = torch.from_numpy(data.mean(axis=1))
    return AF.resample(x, rate, sample_rate) if rate != sample_rate else x


def predict_folder(
    records: Sequence[Path],
    folder: Path,
    *,
    precision: Precision = "deployed",
    batch_size: int = 256,
    progress: Progress | None = None,
    devices: Mapping[str, str] | None = None,
) -> LogitsFile:
    """Logits of the runs (averaged) for every ``*.wav`` under ``folder`` (1-s clips, e.g. a DCASE evaluation
    set ``0.wav`` … ``135729.wav``), keyed by the file name relative to ``folder``, in natural order.
    ``devices`` (file name → device id, DCASE 2025) routes each clip of a device-specific system to its device's
    model; files it does not name are "unknown" (the general model)."""
    folder = Path(folder)
    files = sorted(
        (p for p in folder.rglob("*") if p.suffix.lower() == ".wav" and p.is_file()),
        key=lambda p: natural_key(p.as_posix()),
    )
    if not files:
        raise UserError(f"{folder} holds no .wav files.", fix="Pass the folder of the audio clips to predict.")
    runs = [load_run(Path(r), precision=precision) for r in find_run_records(records)]
    rates = sorted({run.pipeline.sample_rate for run in runs})
    outputs: list[list[torch.Tensor]] = [[] for _ in runs]
    with torch.inference_mode():
        for start in range(0, len(files), batch_size):
            chunk = files[start : start + batch_size]
            waves = {rate: torch.stack([read_clip(p, rate) for p in chunk]) for rate in rates}
            names = [devices.get(p.relative_to(folder).as_posix(), "unknown") for p in chunk] if devices else None
            for run, out in zip(runs, outputs, strict=True):
                x = run.pipeline.model_inputs(waves[run.pipeline.sample_rate])
                routed = names is not None and getattr(run.model, "routes_devices", False)
                out.append((run.model(x, names) if routed else run.model(x)).float())
            if progress:
                progress(start + len(chunk), len(files))
    ids = [p.relative_to(folder).as_posix() for p in files]
    return _ensemble(runs, [(ids, torch.cat(out)) for out in outputs])


def split_accuracy(logits: LogitsFile, record: Path) -> float:
    """Plain accuracy of (ensemble) logits against the labels of the record's dataset."""
    spec = validate_spec(read_record(record).spec, source=str(record))
    clips = registry.build("dataset", spec.data.dataset, where="data.dataset").clips()
    row_of = {clip_id: row for row, clip_id in enumerate(clips.ids)}
    labels = torch.from_numpy(clips.labels[[row_of[c] for c in logits.clip_ids]])
    columns = [logits.class_names.index(name) for name in clips.class_names]
    return float((logits.logits[:, columns].argmax(dim=1) == labels).double().mean())
