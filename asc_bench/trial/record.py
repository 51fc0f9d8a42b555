"""A finished trial's result record: the deployed model's scores beside float32, complexity, history, timings,
environment and the data it ran on."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import torch

from asc_bench.evaluation.loop import calibration_inputs, evaluate, named_scores
from asc_bench.model.complexity import count_complexity
from asc_bench.model.precision import deploy_model
from asc_bench.records.environment import capture_environment
from asc_bench.records.schema import ResultRecord
from asc_bench.spec.hashing import semantic_dict, spec_hash
from asc_bench.spec.model import Spec, plugins_used
from asc_bench.trial.epochs import Progress
from asc_bench.trial.parts import TrialParts


@dataclass
class Scores:
    """The final test scores: of the model as deployed (at ``limits.param_dtype``) and in float32."""

    deployed: dict[str, Any]
    float32: dict[str, Any]


def deploy_and_score(parts: TrialParts) -> Scores:
    """Score the trained model in float32, deploy it at the spec's precision (int8: calibrated on the training
    split) and score the deployed model."""
    seen = parts.seen_devices()
    test = parts.splits["test"]
    float32 = named_scores(evaluate(parts.model, test, parts.setup), parts.setup, seen)
    dtype = parts.spec.limits.param_dtype
    calibration = calibration_inputs(parts.train, parts.setup) if dtype == "int8" else None
    deployed = deploy_model(parts.model, dtype, calibration)
    if dtype == "int8":  # int8 kernels exist on the CPU only: the deployed model is scored there
        test = test.on_host()
    return Scores(named_scores(evaluate(deployed, test, parts.setup), parts.setup, seen), float32)


def hparams(spec: Spec) -> dict[str, Any]:
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


def node() -> dict[str, Any]:
    """Where the trial ran: the host name and, under Ray, the node's id and address."""
    try:
        import ray
    except ImportError:  # a trial run outside Ray, where Ray is not installed (e.g. a bare GPU image)
        ray = None
    if ray is None or not ray.is_initialized():
        return {"hostname": socket.gethostname(), "node_id": None, "node_ip": None}
    return {
        "hostname": socket.gethostname(),
        "node_id": ray.get_runtime_context().get_node_id(),
        "node_ip": ray.util.get_node_ip_address(),
    }


def build_record(parts: TrialParts, scores: Scores, progress: Progress, timings: dict[str, float]) -> ResultRecord:
    """The trial's result record."""
    spec, setup, model = parts.spec, parts.setup, parts.model
    fused = count_complexity(model, parts.input_shape, param_dtype=spec.limits.param_dtype, fused=True)
    train_s = progress.train_s
    return ResultRecord(
        name=spec.name,
        spec=spec.model_dump(mode="json"),
        spec_hash=spec_hash(spec),
        seed=parts.seed,
        trial_id=parts.trial_id,
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
            **parts.compute.record(),
            deployed_on="cpu" if spec.limits.param_dtype == "int8" else str(parts.compute.device),
            plugins=plugins_used(spec),
            **node(),
        ),
        complexity=dict(
            parts.complexity.to_dict(),
            limits=spec.limits.model_dump(mode="json"),
            macs_fused=fused.macs,
            params_fused=fused.params,
        ),
        metrics=scores.deployed,
        metrics_float32=scores.float32,
        history=progress.history,
        timings={
            "train_s": train_s,
            "eval_s": progress.eval_s,
            **timings,
            "clips_per_s": len(parts.train) * progress.epochs_run() / train_s if train_s else 0.0,
        },
    )
