"""The `runtime` section: torch.compile trains and its weights load back as a plain model; a machine without a
C++ compiler is refused in the driver."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import spec_file
from rich.console import Console

from asc_bench.cli.progress import ConsoleRunListener
from asc_bench.evaluation.predict import predict_split, split_accuracy
from asc_bench.records.io import read_record
from asc_bench.spec.validate import load_spec

COMPILED = "runtime: {compile: true}\ntune: {resources: {cpu: 2}}"


@pytest.mark.slow
def test_compiled_training_runs_and_its_weights_load_as_a_plain_model(
    synth_root: Path, tmp_path: Path, cache_dir: Path, ray_local
) -> None:  # noqa: ANN001
    from asc_bench.runner.driver import run_spec

    path = spec_file(tmp_path, synth_root, name="compiled", extra=COMPILED)
    (record_path,) = run_spec(load_spec(path), listener=ConsoleRunListener(Console(file=io.StringIO())))
    record = read_record(record_path)
    assert record.spec["runtime"]["compile"] is True and record.history[-1]["train_loss"] > 0
    logits = predict_split([record_path], "test")  # model.pt holds the plain module's state dict
    assert split_accuracy(logits, record_path) == pytest.approx(record.metrics.micro_acc, abs=1e-9)


def test_compile_without_a_cpp_compiler_is_refused_before_anything_runs(synth_root: Path, tmp_path: Path) -> None:
    path = spec_file(tmp_path, synth_root, extra=COMPILED)
    no_compiler = tmp_path / "bin"
    no_compiler.mkdir()
    (no_compiler / "python").symlink_to(sys.executable)
    env = {**os.environ, "PATH": str(no_compiler)}
    env.pop("CXX", None)
    done = subprocess.run(
        [sys.executable, "-m", "asc_bench.cli", "run", str(path)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 2, done.stdout + done.stderr
    message = " ".join(done.stderr.split())
    assert "runtime.compile" in message and "C++ compiler" in message and "runtime.compile: false" in message
    assert "Traceback" not in done.stderr and not (tmp_path / "runs").exists()
