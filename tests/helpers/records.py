"""Realistic result records for tests (DCASE 2024 baseline-like figures, varied by seed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from asc_bench.records.schema import ResultRecord
from asc_bench_plugins.datasets.tau22.vocabulary import CITIES, DEVICES, SCENES, TRAIN_DEVICES

CLASSES = SCENES
SEEN = tuple(d for d in DEVICES if d in TRAIN_DEVICES)
BASELINE_DEVICE_ACC = dict(
    zip(DEVICES, (0.6717, 0.5967, 0.6199, 0.5628, 0.5569, 0.5816, 0.5305, 0.5235, 0.4858), strict=True)
)
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _group(acc: float | None, count: int) -> dict:
    return {"acc": acc, "log_loss": None if acc is None else 2.0 - 1.5 * acc, "count": count}


def make_metrics(
    macro_acc: float, device_acc: dict[str, float] | None = None, city_acc: dict[str, float] | None = None
) -> dict:
    """A named metrics dict: every class scores ``macro_acc``; devices/cities as given (3,300 clips each)."""
    device_acc = device_acc or BASELINE_DEVICE_ACC
    city_acc = city_acc or {c: macro_acc + 0.01 * (i - 4.5) for i, c in enumerate(CITIES)}
    n_dev = 3300
    micro = sum(device_acc.values()) / len(device_acc)
    seen = [device_acc[d] for d in SEEN if d in device_acc]
    unseen = [a for d, a in device_acc.items() if d not in SEEN]
    per_class_n = n_dev * len(device_acc) // len(CLASSES)
    correct = round(per_class_n * macro_acc)
    # every miss goes to the next class
    confusion = [[correct if j == i else per_class_n - correct if j == (i + 1) % 10 else 0 for j in range(10)]
                 for i in range(10)]  # fmt: skip
    return {
        "macro_acc": macro_acc,
        "micro_acc": micro,
        "log_loss": 2.0 - 1.5 * micro,
        "macro_log_loss": 2.0 - 1.5 * macro_acc,
        "count": n_dev * len(device_acc),
        "seen_acc": sum(seen) / len(seen) if seen else None,
        "unseen_acc": sum(unseen) / len(unseen) if unseen else None,
        "seen_devices": list(SEEN),
        "per_class": {c: _group(macro_acc, per_class_n) for c in CLASSES},
        "per_device": {d: _group(a, n_dev) for d, a in device_acc.items()},
        "per_city": {c: _group(a, 2970) for c, a in city_acc.items()},
        "confusion": confusion,
    }


def make_record(
    name: str = "baseline2024",
    seed: int = 1,
    macro_acc: float = 0.5699,
    *,
    spec_hash: str = "9f2c4e1ab37d",
    fingerprint: str = "d41d8cd98f00b204",
    split: str = "fold1",
    device_acc: dict[str, float] | None = None,
    city_acc: dict[str, float] | None = None,
    minutes: int = 0,
) -> ResultRecord:
    """A full result record; ``minutes`` shifts its creation time (to order duplicates)."""
    spec = {
        "name": name,
        "seeds": [seed],
        "data": {"dataset": {"type": "tau22", "split": split}, "sample_rate": 32000},
        "model": {"type": "baseline2024"},
        "trainer": {"type": "supervised", "epochs": 150, "batch_size": 256},
        "limits": {"preset": "dcase", "param_dtype": "float16"},
    }
    return ResultRecord(
        name=name,
        spec=spec,
        spec_hash=spec_hash,
        seed=seed,
        trial_id=f"{spec_hash[:5]}_{seed:05d}",
        dataset={
            "type": "tau22",
            "fingerprint": fingerprint,
            "split": split,
            "describe": "data/TAU-urban-acoustic-scenes-2022-mobile-development",
        },
        environment={
            "python": "3.11.9",
            "platform": "Linux-6.1-x86_64",
            "packages": {"torch": "2.14.1"},
            "git_commit": None,
            "git_dirty": None,
            "device": "cpu",
        },
        complexity={
            "macs": 29_419_156,
            "params": 61_148,
            "param_bytes": 122_296,
            "param_dtype": "float16",
            "input_shape": [1, 256, 65],
            "macs_fused": 29_407_820,
            "params_fused": 59_948,
        },
        metrics=make_metrics(macro_acc, device_acc, city_acc),
        history=[{"epoch": e, "train_loss": 2.3 - 0.1 * e, "lr": 0.005} for e in range(3)],
        timings={"train_s": 5400.0, "eval_s": 120.0, "total_s": 5560.0, "clips_per_s": 77.6},
        created=T0 + timedelta(minutes=minutes),
    )
