"""Ray Tune cost: Ray's own start-up, the overhead of each trial, and a 4-trial sweep at 1 vs 2 concurrent trials.

1. Ray start-up: ``import ray``, ``ray.init`` (local, no dashboard, 2 CPUs) and ``ray.shutdown`` in a fresh
   process, median of three.
2. Per-trial overhead: inside the trial, the time from the start of the trial to its first training step (the
   record's ``timings.setup_s``: spec validation, dataset and cache opening, model, complexity count, trainer);
   outside it, what Ray Tune adds per trial (actor start, scheduling, reporting, checkpoints): the sweep's wall
   time at concurrency 1 minus the sum of the trials' own run times, per trial.
3. The same 4 trials (2 learning rates x 2 seeds) at concurrency 1 (one trial with 2 CPUs, torch on 2 threads) and
   at concurrency 2 (two trials with 1 CPU each): wall time and the ratio. Concurrency should buy a real speed-up.
   Each is run twice, in the order 1-2-2-1, and the faster run counts (load from other jobs changes over time).

    .venv/bin/python benchmarks/tune_overhead.py [--root data/synth] [--epochs 2] [--base-channels 16]

Writes benchmarks/results/tune_overhead.md. On a shared or busy machine the figures are noisy: the load average is
recorded with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from asc_bench.cli.progress import ConsoleRunListener
from asc_bench.data.prepare import prepare_data
from asc_bench.data.setup import build_data
from asc_bench.records.io import read_record
from asc_bench.runner.tune import run_experiment, start_ray
from asc_bench.search.sweep import plan_sweep
from asc_bench.spec.resolve import resolve_for_run
from asc_bench.spec.validate import validate_spec

RESULTS = Path(__file__).parent / "results" / "tune_overhead.md"
RAY_START = """
import time
t0 = time.perf_counter(); import ray; t1 = time.perf_counter()
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR"); t2 = time.perf_counter()
ray.shutdown(); t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def ray_startup(repeats: int = 3) -> list[float]:
    """Median seconds of (import ray, ray.init, ray.shutdown) in fresh processes."""
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", RAY_START], capture_output=True, text=True, check=True)
        runs.append([float(v) for v in out.stdout.split()])
    return [statistics.median(column) for column in zip(*runs, strict=True)]


def spec_data(args: argparse.Namespace, out: Path, cpu: int, concurrency: int) -> dict[str, Any]:
    return {
        "name": f"bench-c{concurrency}",
        "seeds": [1, 2],
        "data": {
            "dataset": {"type": "tau22", "root": str(args.root), "validation": {"fraction": 0.15}},
            "transforms": [{"type": "mel", "n_mels": args.n_mels}],
        },
        "model": {"type": "baseline2024", "base_channels": args.base_channels},
        "trainer": {"type": "supervised", "epochs": args.epochs, "batch_size": 64},
        "output": {"dir": str(out)},
        "tune": {
            "space": {"trainer.optimizer.lr": {"grid": [0.002, 0.01]}},
            "resources": {"cpu": cpu},
            "max_concurrent_trials": concurrency,
        },
    }


def sweep(args: argparse.Namespace, out: Path, cpu: int, concurrency: int) -> dict[str, float]:
    """Run the 4 trials; wall time and the trials' own timings."""
    spec = resolve_for_run(validate_spec(spec_data(args, out, cpu, concurrency)))
    plan = plan_sweep(spec)
    started = time.perf_counter()
    outcome = run_experiment(spec, plan)
    wall = time.perf_counter() - started
    outcome.raise_problems()
    timings = [read_record(path).timings for path in outcome.records]
    assert len(timings) == 4, outcome.records
    return {
        "wall": wall,
        "setup": statistics.fmean(t.setup_s for t in timings),  # type: ignore[attr-defined]
        "trial": statistics.fmean(t.total_s for t in timings),
        "sum": sum(t.total_s for t in timings),
        "train": statistics.fmean(t.train_s for t in timings),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("data/synth"), help="A TAU22-layout dataset.")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--base-channels", type=int, default=16)
    parser.add_argument("--n-mels", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2, choices=(1, 2), help="2: order 1-2-2-1, best of each.")
    args = parser.parse_args()
    args.root = args.root.resolve()
    before = load()
    import_s, init_s, shutdown_s = ray_startup()
    with tempfile.TemporaryDirectory(prefix="tune-bench-") as tmp:
        out = Path(tmp)
        prepare_data(
            build_data(resolve_for_run(validate_spec(spec_data(args, out, 1, 1)))),
            ConsoleRunListener(Console(stderr=True)),
        )
        start_ray(num_cpus=2)
        runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
        for concurrency in [1, 2, 2, 1] if args.repeats == 2 else [1, 2]:  # ABBA: fair to both under drifting load
            runs[concurrency].append(sweep(args, out, cpu=3 - concurrency, concurrency=concurrency))
        one, two = (min(runs[c], key=lambda r: r["wall"]) for c in (1, 2))
    tune_per_trial = (one["wall"] - one["sum"]) / 4
    rows = [
        ("Ray start-up: import ray", f"{import_s:.2f} s", ""),
        ("Ray start-up: ray.init (local, 2 CPUs)", f"{init_s:.2f} s", ""),
        ("Ray start-up: ray.shutdown", f"{shutdown_s:.2f} s", ""),
        ("per trial: start to first training step (in the trial)", f"{one['setup']:.2f} s", "concurrency 1"),
        ("per trial: start to first training step (in the trial)", f"{two['setup']:.2f} s", "concurrency 2"),
        ("per trial: Ray Tune's own overhead (actor, scheduling, reports)", f"{tune_per_trial:.2f} s", "concurrency 1"),
        ("trial run time (mean; training part)", f"{one['trial']:.1f} s ({one['train']:.1f} s)", "1 trial x 2 CPUs"),
        ("trial run time (mean; training part)", f"{two['trial']:.1f} s ({two['train']:.1f} s)", "2 trials x 1 CPU"),
        ("4-trial sweep, wall", f"{one['wall']:.1f} s", "concurrency 1"),
        ("4-trial sweep, wall", f"{two['wall']:.1f} s", "concurrency 2"),
        ("speed-up of concurrency 2 over 1", f"{one['wall'] / two['wall']:.2f}x", "ratio of wall times"),
    ]
    lines = [
        "# Ray Tune overhead",
        "",
        f"Dataset {args.root.name} ({args.epochs} epochs, baseline2024 base_channels {args.base_channels}, "
        f"{args.n_mels} mel bands, batch 64), 4 trials = 2 learning rates x 2 seeds, {os.cpu_count()} CPUs; "
        f"each sweep run {args.repeats}x (order 1-2-2-1), the faster run shown.",
        f"Load average before: {before}; after: {load()}. Other jobs shared this machine: the figures are noisy.",
        "",
        "| measure | value | setting |",
        "|---|---|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
        "",
        *(
            [
                f"A trial's training on 2 threads took {one['train'] / two['train']:.1f}x as long as on 1 thread "
                "(concurrency 2 ran two such trials at once): on a loaded 2-core machine torch's 2-thread kernels "
                "wait on each other, so one-core trials side by side are the robust choice here.",
                "",
            ]
            if one["train"] > two["train"]
            else []
        ),
        "Raw: " + json.dumps({"concurrency_1": one, "concurrency_2": two}, sort_keys=True),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
