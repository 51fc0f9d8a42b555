"""One trial from a spec: data → complexity check → train → evaluate at deployed precision → record."""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from pydantic import BaseModel

from asc_bench.api import Cache, CacheRequest, ClipTable, Dataset, TransformContext
from asc_bench.core.allocator import keep_freed_memory
from asc_bench.core.errors import UserError
from asc_bench.data.pipeline import Pipeline
from asc_bench.data.splits import (
    PreparedSplit,
    cache_request,
    iterate_batches,
    prepare_split,
    split_indices,
)
from asc_bench.evaluation.metrics import SceneMetrics, named_metrics
from asc_bench.model.complexity import ComplexityReport, check_limits, count_complexity
from asc_bench.model.precision import deploy_model
from asc_bench.plugins import registry
from asc_bench.records.record import RECORD_NAME, ResultRecord, capture_environment, write_record
from asc_bench.spec.validate import plugins_used, semantic_dict, spec_hash, validate_spec
from asc_bench.trial.tensorboard import TrialBoard

CALIBRATION_BATCHES = 4
MODEL_NAME = "model.pt"  # the trained float32 state_dict, beside record.json (asc-bench predict loads it)


class Reporter(Protocol):
    """How a trial reports progress: Ray Tune in experiments, a plain callback in tests."""

    def report(self, metrics: dict[str, Any], state: dict[str, Any]) -> None: ...

    def restore(self) -> dict[str, Any] | None: ...


@dataclass
class DataSetup:
    """Everything the driver and each trial derive identically from a spec's data section."""

    dataset: Dataset
    clips: ClipTable
    fingerprint: str
    pipeline: Pipeline
    cache: Cache
    indices: dict[str, np.ndarray]
    requests: dict[str, CacheRequest]


def build_data(spec: BaseModel) -> DataSetup:
    """Instantiate the dataset, pipeline and cache of a spec and describe each split's cache request."""
    data = spec.data  # type: ignore[attr-defined]
    dataset = registry.build("dataset", data.dataset, where="data.dataset")
    clips = dataset.clips()
    fingerprint = dataset.fingerprint()
    pipeline = Pipeline(data.transforms, sample_rate=data.sample_rate)
    cache = registry.build("cache", data.cache, where="data.cache")
    indices = {name: split_indices(dataset, name) for name in dataset.splits()}
    requests = {
        name: cache_request(dataset, fingerprint, name, idx, pipeline, data.eval_batch_size)
        for name, idx in indices.items()
    }
    return DataSetup(dataset, clips, fingerprint, pipeline, cache, indices, requests)


def build_model(spec: BaseModel, input_shape: tuple[int, ...], num_classes: int, seed: int) -> torch.nn.Module:
    """The spec's model, initialised deterministically from ``seed``."""
    torch.manual_seed(seed)
    return registry.build(
        "model",
        spec.model,
        where="model",
        input_shape=input_shape,
        num_classes=num_classes,  # type: ignore[attr-defined]
    )


def _num_classes(spec: BaseModel) -> int:
    """The dataset's class count, from its class attribute when it declares one (no data read)."""
    config = spec.data.dataset  # type: ignore[attr-defined]
    known = registry.load("dataset", config.type, where="data.dataset").num_classes
    if known is not None:
        return int(known)
    return len(registry.build("dataset", config, where="data.dataset").clips().class_names)


def check_complexity(spec: BaseModel, *, fused: bool = False, enforce: bool = True) -> ComplexityReport:
    """Count the spec's model on one clip's input shape; refuse it when over the limits (if ``enforce``)."""
    pipeline = Pipeline(spec.data.transforms, sample_rate=spec.data.sample_rate)  # type: ignore[attr-defined]
    input_shape = pipeline.input_shape()
    model = build_model(spec, input_shape, num_classes=_num_classes(spec), seed=0)
    report = count_complexity(
        model,
        input_shape,
        param_dtype=spec.limits.param_dtype,
        fused=fused,  # type: ignore[attr-defined]
    )
    if enforce:
        check_limits(report, spec.limits)  # type: ignore[attr-defined]
    return report


def check_runtime(spec: BaseModel) -> None:
    """Refuse ``runtime.compile`` in the driver when no C++ compiler is found: torch.compile's CPU backend
    builds its kernels with one, and would otherwise fail inside the first trial with a long traceback."""
    if not spec.runtime.compile:  # type: ignore[attr-defined]
        return
    candidates = [os.environ.get("CXX", ""), "g++", "clang++", "c++"]
    if not any(name and shutil.which(name) for name in candidates):
        raise UserError(
            "runtime.compile is true, but no C++ compiler (g++, clang++, c++ or $CXX) is on this machine's PATH; "
            "torch.compile builds its CPU kernels with one.",
            where="runtime.compile",
            fix="Install one (e.g. apt install g++) or set runtime.compile: false.",
        )


def _to_channels_last(module: torch.nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    x = args[0]
    return (x.contiguous(memory_format=torch.channels_last), *args[1:]) if x.dim() == 4 else args


def apply_runtime(model: torch.nn.Module, runtime: Any) -> torch.nn.Module:
    """Set the model's memory format (in place) and return what the trainer should call: the model, or
    its ``torch.compile`` wrapper (which shares its parameters, so checkpoints stay plain state dicts)."""
    if runtime.channels_last:
        model.to(memory_format=torch.channels_last)
        model.register_forward_pre_hook(_to_channels_last)
    return torch.compile(model) if runtime.compile else model


def _save_weights(model: torch.nn.Module, path: Path) -> None:
    """The trained weights as a float32 state_dict, written atomically."""
    tmp = path.with_name(f".{path.name}.partial")
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp)
    tmp.replace(path)


def _seed_for(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch * 7919) % (2**63 - 1)


def evaluate(model: torch.nn.Module, split: PreparedSplit, setup: DataSetup, batch_size: int) -> dict[str, Any]:
    """Scores of ``model`` on a split (evaluation-time pipeline, no augmentation)."""
    clips = setup.clips
    metric = SceneMetrics(len(clips.class_names), len(clips.device_names), len(clips.city_names))
    ctx = TransformContext(torch.Generator().manual_seed(0), training=False, sample_rate=setup.pipeline.sample_rate)
    model.eval()
    with torch.inference_mode():
        for batch in iterate_batches(
            split,
            batch_size,
            pipeline=setup.pipeline,
            ctx=ctx,
            num_classes=len(clips.class_names),
            shuffle=False,
        ):
            metric.update(model(batch.x), batch.label, batch.device, batch.city)
    return metric.compute()


def _named(raw: dict[str, Any], setup: DataSetup, seen: list[str]) -> dict[str, Any]:
    c = setup.clips
    return named_metrics(raw, c.class_names, c.device_names, c.city_names, seen_devices=seen)


def _calibration(split: PreparedSplit, setup: DataSetup, batch_size: int) -> list[torch.Tensor]:
    ctx = TransformContext(torch.Generator().manual_seed(0), training=False, sample_rate=setup.pipeline.sample_rate)
    batches = iterate_batches(
        split,
        batch_size,
        pipeline=setup.pipeline,
        ctx=ctx,
        num_classes=len(setup.clips.class_names),
        shuffle=False,
    )
    return [b.x for _, b in zip(range(CALIBRATION_BATCHES), batches, strict=False)]


def _hparams(spec: BaseModel) -> dict[str, Any]:
    """Flat scalar spec fields for TensorBoard's HParams tab."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else key, item)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(f"{prefix}.{i}", item)
        elif isinstance(value, bool | int | float | str):
            flat[prefix] = value

    walk("", semantic_dict(spec))
    return flat


def _node() -> dict[str, Any]:
    """Where the trial ran: the host name and, under Ray, the node's id and address."""
    import ray

    if not ray.is_initialized():
        return {"hostname": socket.gethostname(), "node_id": None, "node_ip": None}
    return {
        "hostname": socket.gethostname(),
        "node_id": ray.get_runtime_context().get_node_id(),
        "node_ip": ray.util.get_node_ip_address(),
    }


def run_trial(
    spec_data: dict[str, Any],
    seed: int,
    *,
    trial_dir: Path,
    trial_id: str,
    reporter: Reporter,
    threads: int = 1,
    on_progress: Callable[[str], None] | None = None,
) -> ResultRecord:
    """Train and evaluate one seed of a spec; write and return its result record."""
    started = time.perf_counter()
    keep_freed_memory()  # about half of each step's time otherwise goes to page faults (asc_bench.core.allocator)
    torch.set_num_threads(max(1, threads))
    spec = validate_spec(spec_data)
    trial_dir.mkdir(parents=True, exist_ok=True)
    setup = build_data(spec)
    splits = {
        name: prepare_split(setup.clips, setup.requests[name], setup.indices[name], setup.cache)
        for name in setup.indices
    }
    input_shape = setup.pipeline.input_shape()
    num_classes = len(setup.clips.class_names)
    model = build_model(spec, input_shape, num_classes, seed)
    complexity = count_complexity(model, input_shape, param_dtype=spec.limits.param_dtype)
    check_limits(complexity, spec.limits)
    train = splits["train"]
    steps = -(-len(train) // spec.trainer.batch_size)
    trainer = registry.build(
        "trainer",
        spec.trainer,
        where="trainer",
        model=apply_runtime(model, spec.runtime),
        steps_per_epoch=steps,
        clips=setup.clips,
        train_rows=train.indices,
    )
    seen = sorted({setup.clips.device_names[d] for d in np.unique(train.devices.numpy())})

    history: list[dict[str, Any]] = []
    first_epoch = 0
    state = reporter.restore()
    if state is not None:
        model.load_state_dict(state["model"])
        trainer.load_state_dict(state["trainer"])
        history = state["history"]
        first_epoch = trainer.epochs if state.get("stopped") else state["epoch"] + 1

    board = TrialBoard(trial_dir)
    train_s = 0.0
    eval_s = 0.0
    setup_s = time.perf_counter() - started  # trial start to first training step (what a trial costs beyond training)
    for epoch in range(first_epoch, trainer.epochs):
        torch.manual_seed(_seed_for(seed, epoch))
        ctx = TransformContext(
            torch.Generator().manual_seed(_seed_for(seed, epoch)),
            training=True,
            sample_rate=spec.data.sample_rate,
            device_names=setup.clips.device_names,
        )
        t0 = time.perf_counter()
        losses = [
            trainer.train_step(batch)
            for batch in iterate_batches(
                train,
                trainer.batch_size,
                pipeline=setup.pipeline,
                ctx=ctx,
                num_classes=num_classes,
                shuffle=True,
            )
        ]
        t1 = time.perf_counter()
        raw = evaluate(model, splits["test"], setup, spec.data.eval_batch_size)
        val = None
        if "validation" in splits:
            val = evaluate(model, splits["validation"], setup, spec.data.eval_batch_size)
        eval_s += time.perf_counter() - t1
        train_s += t1 - t0
        row = {
            "epoch": epoch + 1,
            "train_loss": float(np.mean(losses)),
            "lr": trainer.current_lr(),
            "test_macro_acc": raw["macro_acc"],
            "test_log_loss": raw["log_loss"],
            "train_s": t1 - t0,
        }
        if val is not None:
            row.update(val_macro_acc=val["macro_acc"], val_log_loss=val["log_loss"])
        history.append(row)
        board.epoch(row)
        stopped = trainer.end_of_epoch(row)  # early stopping may also restore the best weights
        state = {
            "model": model.state_dict(),
            "trainer": trainer.state_dict(),
            "history": history,
            "epoch": epoch,
            "stopped": stopped,
        }
        reporter.report(dict(row, epochs=trainer.epochs), state)
        if on_progress:
            on_progress(f"epoch {epoch + 1}/{trainer.epochs}")
        if stopped:
            break

    _save_weights(model, trial_dir / MODEL_NAME)

    t2 = time.perf_counter()
    metrics_f32 = _named(evaluate(model, splits["test"], setup, spec.data.eval_batch_size), setup, seen)
    dtype = spec.limits.param_dtype
    calibration = _calibration(train, setup, spec.data.eval_batch_size) if dtype == "int8" else None
    deployed = deploy_model(model, dtype, calibration)
    metrics = _named(evaluate(deployed, splits["test"], setup, spec.data.eval_batch_size), setup, seen)
    eval_s += time.perf_counter() - t2
    board.final(metrics, _hparams(spec), trainer.epochs)
    board.close()
    epochs_run = max(len(history) - first_epoch, 1)  # trained in this process (early stopping may cut it short)
    fused = count_complexity(model, input_shape, param_dtype=spec.limits.param_dtype, fused=True)
    record = ResultRecord(
        name=spec.name,
        spec=spec.model_dump(mode="json"),
        spec_hash=spec_hash(spec),
        seed=seed,
        trial_id=trial_id,
        dataset={
            "type": spec.data.dataset.type,
            "fingerprint": setup.fingerprint,
            "split": setup.dataset.partition(),
            "describe": setup.dataset.describe(),
            "identity": setup.dataset.identity(),
        },
        environment=dict(
            capture_environment(device=str(next(model.parameters()).device)),
            threads=torch.get_num_threads(),
            plugins=plugins_used(spec),
            **_node(),
        ),
        complexity=dict(
            complexity.to_dict(),
            limits=spec.limits.model_dump(mode="json"),
            macs_fused=fused.macs,
            params_fused=fused.params,
        ),
        metrics=metrics,
        metrics_float32=metrics_f32,
        history=history,
        timings={
            "train_s": train_s,
            "eval_s": eval_s,
            "total_s": time.perf_counter() - started,
            "setup_s": setup_s,
            "clips_per_s": len(train) * epochs_run / train_s if train_s else 0.0,
        },
    )
    write_record(record, trial_dir / RECORD_NAME)
    return record
