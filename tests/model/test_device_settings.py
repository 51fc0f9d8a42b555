"""The runtime device, precision and determinism settings: validated, hashed compatibly, resolved per trial, and a
device the machine lacks refused by `asc-bench run` before any data work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import spec_file

from asc_bench.core.errors import UserError
from asc_bench.model.device import bound_memory, check_device, peak_memory, resolve_device, resolve_precision
from asc_bench.spec.hashing import semantic_dict, spec_hash
from asc_bench.spec.sections import RuntimeSection
from asc_bench.spec.validate import load_spec

NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


def _spec(tmp_path: Path, root: Path, runtime: str):  # noqa: ANN202
    return load_spec(spec_file(tmp_path, root, extra=f"runtime: {runtime}"))


def test_defaults_keep_the_hash_and_only_semantic_settings_change_it(synth_root: Path, tmp_path: Path) -> None:
    plain = _spec(tmp_path, synth_root, "{}")
    assert semantic_dict(plain)["runtime"] == {"channels_last": True, "compile": False}  # as before these settings
    defaults = "{precision: auto, deterministic: false, device: cpu, data_on_device: never}"
    explicit = _spec(tmp_path, synth_root, defaults)
    assert spec_hash(explicit) == spec_hash(plain)
    assert spec_hash(_spec(tmp_path, synth_root, "{device: 'cuda:1', data_on_device: always}")) == spec_hash(plain)
    bf16 = _spec(tmp_path, synth_root, "{precision: bf16}")
    deterministic = _spec(tmp_path, synth_root, "{deterministic: true}")
    assert len({spec_hash(plain), spec_hash(bf16), spec_hash(deterministic)}) == 3
    assert semantic_dict(bf16)["runtime"]["precision"] == "bf16"


@pytest.mark.parametrize(
    ("field", "value"), [("device", "gpu"), ("device", "cuda:x"), ("precision", "fp8"), ("data_on_device", "yes")]
)
def test_bad_settings_are_refused_naming_the_field(synth_root: Path, tmp_path: Path, field: str, value: str) -> None:
    with pytest.raises(UserError, match=f"runtime.{field}"):
        _spec(tmp_path, synth_root, f"{{{field}: '{value}'}}")


def test_resolution_on_this_machine() -> None:
    assert resolve_device("cpu", 1) == torch.device("cpu")
    assert resolve_device("auto", 0) == torch.device("cpu")  # Ray gave the trial no GPU
    assert resolve_device("cuda:1", 2) == torch.device("cuda", 1)
    assert resolve_precision("auto", torch.device("cpu")) == "fp32"  # CPU results stay as they were
    assert resolve_precision("fp16", torch.device("cpu")) == "fp16"
    assert bound_memory(torch.device("cpu"), 0.25) is None and peak_memory(torch.device("cpu")) is None


def test_a_gpu_asked_for_without_gpu_resources_is_refused() -> None:
    with pytest.raises(UserError, match="tune.resources.gpu is 0") as caught:
        check_device(RuntimeSection(device="cuda"), 0)
    assert caught.value.where == "runtime.device"
    check_device(RuntimeSection(device="cuda"), 1, local=False)  # a cluster: the nodes' GPUs are checked by Ray
    check_device(RuntimeSection(device="auto"), 0)


@NO_CUDA
def test_cuda_on_a_machine_without_cuda_is_refused_by_the_cli(synth_root: Path, tmp_path: Path) -> None:
    path = spec_file(tmp_path, synth_root, extra="runtime: {device: cuda}\ntune: {resources: {cpu: 1, gpu: 1}}")
    done = subprocess.run(
        [sys.executable, "-m", "asc_bench.cli", "run", str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stdout + done.stderr
    message = " ".join(done.stderr.split())
    assert "runtime.device is cuda" in message and "no CUDA GPU" in message and "runtime.device: auto" in message
    assert "Traceback" not in done.stderr and not (tmp_path / "runs").exists()
