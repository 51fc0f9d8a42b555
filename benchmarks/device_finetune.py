"""Evidence: what device-specific fine-tuning (DCASE 2025 recipe) does to known and unknown devices.

On the synthetic dataset's split25 (devices a, b, c, s1-s3 in training; s4-s6 only in the test split), one
`device_finetune` run trains the general model, fine-tunes a copy per training device and assembles the
device-specific system, several seeds, through the real harness (specs, cache, Ray Tune, records). The table gives
macro accuracy and the accuracy on known (a, b, c, s1-s3) and unknown (s4-s6) devices of the general model and of
the system, as mean +- std over seeds. Unknown devices use the general model in the system, so their figures are
equal by construction; known devices show what fine-tuning changes.

Scaled down for a 2-core CPU machine (64 mel bands, a 16-channel baseline model, a few epochs). Results are written
to benchmarks/results/device_finetune.md.

    .venv/bin/python benchmarks/device_finetune.py [--root data/synth] [--epochs 6] [--device-epochs 3] [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from asc_bench.records.io import read_record
from asc_bench.runner.driver import run_spec
from asc_bench.spec.validate import validate_spec

RESULTS = Path(__file__).parent / "results" / "device_finetune.md"
KNOWN = ["a", "b", "c", "s1", "s2", "s3"]


def spec(root: Path, out: Path, epochs: int, device_epochs: int, seeds: list[int]) -> dict:
    """The scaled-down 2025 recipe on ``root``."""
    return {
        "name": "bench2025",
        "seeds": seeds,
        "data": {
            "dataset": {"type": "tau22", "root": str(root), "split": "split25"},
            "cache": {"type": "memmap"},
            "transforms": [
                {"type": "roll", "max_shift_s": 0.1},
                {"type": "mel", "n_mels": 64},
                {"type": "freq_mask", "max_bins": 8},
                {"type": "freq_mixstyle", "p": 0.4, "alpha": 0.3},
            ],
        },
        "model": {"type": "baseline2024", "base_channels": 16},
        "trainer": {
            "type": "device_finetune",
            "epochs": epochs,
            "batch_size": 32,
            "schedule": {"type": "cosine", "warmup_steps": 20},
            "device_models": {
                "devices": KNOWN,
                "set": [
                    f"trainer.epochs={device_epochs}",
                    "trainer.optimizer.lr=0.0005",
                    "trainer.schedule.warmup_steps=5",
                    "data.transforms.3.p=0",
                ],
            },
        },
        "limits": {"preset": "dcase2025", "param_dtype": "float16"},
        "tune": {"resources": {"cpu": 1}},
        "output": {"dir": str(out)},
    }


def _stat(values: list[float]) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * statistics.fmean(values):.2f} ± {100 * std:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("data/synth"))
    parser.add_argument("--out", type=Path, default=Path("runs/bench-device-finetune"))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--device-epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    started = time.perf_counter()
    run_spec(validate_spec(spec(args.root, args.out, args.epochs, args.device_epochs, args.seeds)))
    rows = []
    for label, name in (("general model", "bench2025-general"), ("device-specific system", "bench2025")):
        folder = max((args.out / name).glob("2*"))  # the latest experiment of the stage
        records = [read_record(p) for p in sorted(folder.glob("*/record.json"))]
        scores = [(r.metrics.macro_acc, r.metrics.seen_acc, r.metrics.unseen_acc) for r in records]
        rows.append(
            f"| {label} | {len(records)} | " + " | ".join(_stat([s[i] for s in scores]) for i in range(3)) + " |"
        )
    text = "\n".join(
        [
            "# Device-specific fine-tuning on the synthetic set (DCASE 2025 recipe, scaled down)",
            "",
            f"`.venv/bin/python benchmarks/device_finetune.py --epochs {args.epochs} --device-epochs "
            f"{args.device_epochs} --seeds {' '.join(map(str, args.seeds))}` on {args.root} (split25), "
            f"{time.perf_counter() - started:.0f} s. Accuracy % on the test split, mean ± std over seeds.",
            "",
            "| model | seeds | macro acc | known devices (a, b, c, s1-s3) | unknown devices (s4-s6) |",
            "|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
