"""DCASE 2025 Task 1 through the real `asc-bench run`: general model, per-device fine-tuning (one trial per device,
on Ray), the device-specific system routing each clip by device, its records and leaderboard rows, --resume."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers.dcase2025 import DEVICES, asc_bench, spec_2025

from asc_bench.evaluation.predict import load_run, predict_split
from asc_bench.leaderboard.entries import collect
from asc_bench.records.io import read_record


def _records(runs: Path, name: str) -> list[Path]:
    return sorted((runs / name).glob("*/*/record.json"))


@pytest.mark.slow
def test_one_run_trains_the_general_model_then_each_device_model_then_assembles_the_system(run2025: Path):
    runs = run2025 / "runs"
    (general,) = [read_record(p) for p in _records(runs, "t25-general")]
    tuned = [read_record(p) for p in _records(runs, "t25-devices")]
    (system,) = [read_record(p) for p in _records(runs, "t25")]
    assert len(general.history) == 2 and general.metrics.seen_devices == ["a", "b", "c", "s2", "s3"]
    by_device = {r.spec["trainer"]["device_models"]["device"]: r for r in tuned}
    assert sorted(by_device) == DEVICES
    for device, record in by_device.items():
        assert record.metrics.seen_devices == [device]  # fine-tuned on that device's clips only
        assert len(record.history) == 1 and record.spec["trainer"]["optimizer"]["lr"] == 0.0005
        assert record.spec["data"]["transforms"][3]["p"] == 0
        assert record.spec["trainer"]["device_models"]["base_hash"] == general.spec_hash
    assert system.history == [] and system.spec_hash not in {general.spec_hash, *(r.spec_hash for r in tuned)}
    per_device = system.complexity.model_extra["per_device"]
    assert sorted(per_device) == sorted(["general", *DEVICES])
    assert system.complexity.macs == max(d["macs"] for d in per_device.values()) == general.complexity.macs
    assert system.metrics.per_device.keys() == general.metrics.per_device.keys()


def test_the_system_routes_known_devices_to_their_models_and_the_others_to_the_general_model(run2025: Path):
    runs = run2025 / "runs"
    system_path = _records(runs, "t25")[0]
    system = predict_split([system_path], "test")
    general = predict_split(_records(runs, "t25-general"), "test")
    tuned = {read_record(p).spec["trainer"]["device_models"]["device"]: p for p in _records(runs, "t25-devices")}
    clips = load_run(system_path).data().clips
    device_of = {clip_id: clips.device_names[d] for clip_id, d in zip(clips.ids, clips.devices, strict=True)}
    assert general.clip_ids == system.clip_ids
    devices = [device_of[c] for c in system.clip_ids]
    unknown = torch.tensor([d not in DEVICES for d in devices])
    assert unknown.any() and not unknown.all()
    torch.testing.assert_close(system.logits[unknown], general.logits[unknown])
    for device, path in tuned.items():
        own = torch.tensor([d == device for d in devices])
        assert own.any()
        torch.testing.assert_close(system.logits[own], predict_split([path], "test").logits[own])
        assert not torch.allclose(system.logits[own], general.logits[own])


def test_the_leaderboard_shows_the_system_and_the_general_model_but_not_single_device_models(run2025: Path):
    names = sorted(entry.name for entry in collect([run2025 / "runs"]))
    assert names == ["t25", "t25-general"]


def test_resume_reuses_finished_stages(run2025: Path, synth_root: Path, cache_dir: Path):
    runs = run2025 / "runs"
    before = sorted(runs.glob("*/2*"))
    done = asc_bench("run", str(run2025 / "spec.yaml"), "--resume", "--no-leaderboard", cache_dir=cache_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("finished before") == 3
    assert sorted(runs.glob("*/2*")) == before


def test_a_device_without_training_clips_is_refused_before_training(tmp_path: Path, synth_root: Path, cache_dir):
    spec = spec_2025(tmp_path, synth_root, devices="[b, s1]")  # the small synthetic split25 has no s1 clips
    done = asc_bench("run", str(spec), "--no-leaderboard", cache_dir=cache_dir)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "trainer.device_models.devices" in done.stdout + done.stderr and "'s1'" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr and not list(tmp_path.rglob("experiment.json"))
