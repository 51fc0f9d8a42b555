"""`asc-bench export dcase2025`: the inference package is installed into a temporary target, its predict runs on
synthetic WAVs with known, unknown and unseen device ids, and its logits equal asc-bench's own predictions."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers.dcase2025 import DEVICES, asc_bench

from asc_bench.evaluation.predict import predict_folder
from asc_bench.records.io import read_record

LABEL = "Doe_ACME_task1"
SCRIPT = """
import json, sys, torch
from {label} import {label}_1 as module
files, devices = json.loads(sys.argv[1]), json.loads(sys.argv[2])
logits, classes = module.predict(files, devices)
model = module.load_model()
same = module.get_model_for_device(model, "unknown") is module.get_model_for_device(model, "s6")
own = module.get_model_for_device(model, "{device}") is not module.get_model_for_device(model, "unknown")
inputs = module.load_inputs(files[:1], devices[:1], model)
torch.save({{"logits": torch.stack(logits), "classes": classes, "same": same, "own": own,
            "input": list(inputs[0].shape)}}, sys.argv[3])
"""


@pytest.fixture(scope="module")
def package(run2025: Path, synth_root: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An evaluation folder of synthetic clips, the package exported with it and installed into a target."""
    folder = tmp_path_factory.mktemp("package")
    evaluation = folder / "eval"
    (evaluation / "audio").mkdir(parents=True)
    (evaluation / "evaluation_setup").mkdir()
    wanted = {"b": 2, "s3": 2, "a": 1, "s1": 1, "s4": 1, "s6": 1}  # own models, a training device, unseen ones
    rows = []
    for wav in sorted((synth_root / "audio").glob("*.wav")):
        device = wav.stem.rsplit("-", 1)[1]
        if wanted.get(device, 0):
            wanted[device] -= 1
            shutil.copy(wav, evaluation / "audio" / wav.name)
            rows.append((f"audio/{wav.name}", "unknown" if device == "s6" else device))
    lines = ["filename\tdevice_id", *(f"{name}\t{device}" for name, device in rows)]
    (evaluation / "evaluation_setup" / "fold1_test.csv").write_text("\n".join(lines) + "\n")
    (system,) = (run2025 / "runs" / "t25").glob("*/seed1-*")
    out = folder / "pkg"
    done = asc_bench(
        "export", "dcase2025", str(system), "--label", LABEL, "--index", "1", "--out", str(out),
        "--evaluation", str(evaluation), cache_dir=cache_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    target = folder / "target"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    installed = subprocess.run([*pip, "--target", str(target), str(out)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return {"system": system, "evaluation": evaluation, "out": out, "target": target, "rows": rows}


@pytest.mark.slow
def test_the_package_has_the_official_layout(package: dict):
    root = package["out"] / LABEL
    for part in (f"{LABEL}_1.py", f"ckpts/{LABEL}_1.pt", "resources/dummy.wav", "resources/test.csv"):
        assert (root / part).is_file(), part
    installed = package["target"] / LABEL
    assert (installed / f"{LABEL}_1.py").is_file() and (installed / "ckpts" / f"{LABEL}_1.pt").is_file()


def test_installed_predict_equals_asc_bench_predict_for_known_and_unknown_devices(package: dict, tmp_path: Path):
    files = [str(package["evaluation"] / name) for name, _ in package["rows"]]
    devices = [device for _, device in package["rows"]]
    result = tmp_path / "result.pt"
    env = {**os.environ, "PYTHONPATH": str(package["target"])}
    script = SCRIPT.format(label=LABEL, device=DEVICES[0])
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(files), json.dumps(devices), str(result)],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    got = torch.load(result)
    assert got["same"] and got["own"] and got["input"] == [1, 64, 65]
    names = {name: device for name, device in package["rows"]}
    expected = predict_folder([package["system"]], package["evaluation"], devices=names)
    order = [expected.clip_ids.index(name) for name, _ in package["rows"]]
    assert list(got["classes"]) == list(expected.class_names)
    torch.testing.assert_close(got["logits"], expected.logits[order], rtol=1e-5, atol=1e-5)
    general = predict_folder([package["system"]], package["evaluation"]).logits[order]  # every clip: general
    routed = torch.tensor([d in DEVICES for d in devices])
    torch.testing.assert_close(got["logits"][~routed], general[~routed], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(got["logits"][routed], general[routed])


def test_complexity_json_and_output_csv(package: dict):
    record = read_record(package["system"] / "record.json")
    results = package["out"] / "predictions" / f"{LABEL}_1"
    complexity = json.loads((results / "complexity.json").read_text())
    assert {"unknown", *DEVICES, "s6"} <= set(complexity["per_device"])
    assert (
        complexity["max_MACs"] == record.complexity.macs and complexity["max_Params"] == record.complexity.param_bytes
    )
    with open(results / "output.csv", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    assert rows[0][:3] == ["filename", "scene_label", "airport"] and len(rows[0]) == 12
    assert sorted(r[0] for r in rows[1:]) == sorted(name for name, _ in package["rows"])
    for row in rows[1:]:
        probs = [float(p) for p in row[2:]]
        assert abs(sum(probs) - 1) < 1e-5 and row[1] == rows[0][2 + probs.index(max(probs))]
