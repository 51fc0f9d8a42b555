"""Files that asc-bench loads can be written by others (shared Tune storage, runs and logits passed around): a
checkpoint, ``model.pt`` or logits file is loaded with ``weights_only=True``, so a pickle that would run code is
refused without running it, and a damaged one is named with what to do. Also: where a run writes is checked
before anything runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from asc_bench.core.errors import UserError
from asc_bench.records.layout import CHECKPOINT_STATE, EXPERIMENT_STATE, MODEL_NAME
from asc_bench.runner.trainable import load_checkpoint
from asc_bench.spec.resolve import resolve_for_run
from asc_bench.spec.validate import load_spec

CLI = [sys.executable, "-m", "asc_bench.cli"]


class _Payload:
    """Pickled as a call of ``os.system``: whoever unpickles it with plain pickle runs the command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return os.system, (f"touch {self.marker}",)


def _malicious(path: Path, marker: Path) -> Path:
    torch.save({"model": _Payload(marker), "trainer": {}, "history": [], "epoch": 0}, path)
    return path


def _cli(*args: object, cache_dir: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "ASC_BENCH_CACHE_DIR": str(cache_dir)}
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def _refused(result: subprocess.CompletedProcess, *fragments: str) -> str:
    message = " ".join(result.stderr.split())
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "weights_only" not in result.stdout + result.stderr  # never the advice to load it unsafely
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.fixture
def interrupted(tmp_path: Path, finished_run: Path, cache_dir: Path) -> tuple[Path, Path]:
    """A copy of the finished run's folder whose experiment reads as interrupted: (spec file, checkpoint)."""
    original = finished_run.parents[3]
    copy = tmp_path / "copy"
    shutil.copytree(original, copy, symlinks=True)
    for path in [copy / "spec.yaml", *copy.rglob(EXPERIMENT_STATE)]:
        path.write_text(path.read_text().replace(str(original), str(copy)))
    (state_file,) = copy.rglob(EXPERIMENT_STATE)
    state = json.loads(state_file.read_text())
    spec = resolve_for_run(load_spec(copy / "spec.yaml")).model_dump(mode="json")  # as this code resolves it
    state_file.write_text(json.dumps({**state, "status": "interrupted", "spec": spec}))
    (checkpoint,) = (copy / "runs" / "finished" / "tune").glob(f"*/*/checkpoint_*/{CHECKPOINT_STATE}")
    return copy / "spec.yaml", checkpoint


def test_a_malicious_checkpoint_is_refused_on_resume(
    interrupted: tuple[Path, Path], tmp_path: Path, cache_dir: Path
) -> None:
    spec, checkpoint = interrupted
    marker = tmp_path / "executed"
    _malicious(checkpoint, marker)
    message = _refused(_cli("run", spec, "--resume", cache_dir=cache_dir), str(checkpoint), "refused", "posix.system")
    assert "without --resume" in message
    assert not marker.exists()


def test_a_damaged_checkpoint_is_named_with_what_to_do(
    interrupted: tuple[Path, Path], tmp_path: Path, cache_dir: Path
) -> None:
    spec, checkpoint = interrupted
    checkpoint.write_bytes(os.urandom(4096))
    message = _refused(_cli("run", spec, "--resume", cache_dir=cache_dir), str(checkpoint), "damaged")
    assert "without --resume" in message and message.count("it is damaged") == 1  # one paragraph, said once


def test_the_trial_loads_its_checkpoint_safely_too(tmp_path: Path) -> None:
    """What a trial does on restore (the file may change after the driver checked it): refuse, run nothing."""
    marker = tmp_path / "executed"
    with pytest.raises(UserError, match="refused") as refused:
        load_checkpoint(_malicious(tmp_path / CHECKPOINT_STATE, marker))
    assert not marker.exists() and "weights_only" not in str(refused.value)
    torch.save({"model": {"w": torch.ones(2)}, "trainer": {"optimizer": {"state": {}}}, "history": [], "epoch": 3},
               tmp_path / "good.pt")  # fmt: skip
    assert load_checkpoint(tmp_path / "good.pt")["epoch"] == 3


@pytest.mark.parametrize("damage", ["malicious", "truncated"])
def test_predict_and_export_refuse_an_unsafe_or_truncated_model(
    damage: str, finished_run: Path, tmp_path: Path, cache_dir: Path, synth_root: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    marker = tmp_path / "executed"
    weights = run / MODEL_NAME
    if damage == "malicious":
        _malicious(weights, marker)
    else:
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    expected = ("refused", "posix.system") if damage == "malicious" else ("damaged",)
    predicted = _cli("predict", run, "--out", tmp_path / "l.pt", cache_dir=cache_dir)
    _refused(predicted, str(weights), *expected)
    audio = synth_root / "audio"
    exported = _cli("export", "dcase", run, "--label", "Doe_Uni_task1_1", "--eval-folder", audio, cache_dir=cache_dir)
    _refused(exported, str(weights), *expected)
    assert not marker.exists() and not (tmp_path / "l.pt").exists()


def test_a_malicious_logits_file_is_refused(finished_run: Path, tmp_path: Path, cache_dir: Path) -> None:
    marker = tmp_path / "executed"
    logits = _malicious(tmp_path / "logits.pt", marker)
    args = ("export", "dcase", finished_run, "--label", "Doe_Uni_task1_1", "--logits", logits, "--out", tmp_path)
    _refused(_cli(*args, cache_dir=cache_dir), "--logits", str(logits), "refused")
    assert not marker.exists() and not list(tmp_path.glob("Doe_Uni*"))


@pytest.mark.parametrize("output", ["/dev/null/runs", "/proc/asc-bench-no-such/runs"])
def test_an_output_folder_that_cannot_be_written_is_refused_first(
    output: str, tmp_path: Path, synth_root: Path, cache_dir: Path
) -> None:
    from helpers import spec_file

    spec = spec_file(tmp_path, synth_root, name="nowhere")
    result = _cli("run", spec, "--set", f"output.dir={output}", cache_dir=cache_dir)
    message = _refused(result, "output.dir", output)
    assert "is a file" in message if output.startswith("/dev/null") else "cannot write into" in message
    assert "MACs" not in result.stdout  # refused before the model check and any cache build
