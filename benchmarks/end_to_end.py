"""End-to-end training throughput of `asc-bench run specs/baseline2024.yaml`, against the public baseline code.

Runs the DCASE 2024 baseline spec through the real CLI and Ray Tune (one seed, a few epochs) on a TAU22-layout
dataset, once per runtime variant, and reads the training throughput back from each result record: clips/s over
the whole run (``timings.clips_per_s``, first epoch and its compilation included) and in the steady state
(median epoch after the first). "glibc allocator defaults" turns asc_bench.core.allocator off
(ASC_BENCH_KEEP_FREED_MEMORY=0): freed activations go back to the OS every step. The reference is DESIGN.md's
figure for the public 2024 baseline code on this machine class, 53-57 clips/s end to end; the DESIGN target is
twice that.

    .venv/bin/python benchmarks/end_to_end.py --root data/synth [--epochs 4]

Writes benchmarks/results/end_to_end.md.
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

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "end_to_end.md"
BASELINE_CODE = (53.0, 57.0)  # clips/s of the public 2024 baseline code end to end (DESIGN.md)
VARIANTS = {  # name: (--set overrides, extra environment)
    "eager, channels-last (default)": ([], {}),
    "eager, channels-last, glibc allocator defaults": ([], {"ASC_BENCH_KEEP_FREED_MEMORY": "0"}),
    "eager, NCHW": (["runtime.channels_last=false"], {}),
    "torch.compile, channels-last": (["runtime.compile=true"], {}),
}


def run_variant(root: Path, epochs: int, overrides: list[str], work: Path, env: dict[str, str]) -> dict:
    """One `asc-bench run` of the spec; its record's throughput figures and the command's wall time."""
    out = Path(tempfile.mkdtemp(prefix="run-", dir=work))
    sets = [f"data.dataset.root={root}", "seeds=[1]", f"trainer.epochs={epochs}", f"output.dir={out}", *overrides]
    command = [sys.executable, "-m", "asc_bench.cli", "run", str(ROOT / "specs" / "baseline2024.yaml")]
    command += [arg for s in sets for arg in ("--set", s)] + ["--no-leaderboard"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"asc-bench run failed ({' '.join(overrides) or 'defaults'}):\n{done.stdout}\n{done.stderr}")
    (record_path,) = out.rglob("record.json")
    record = json.loads(record_path.read_text())
    train_clips = record["timings"]["clips_per_s"] * record["timings"]["train_s"] / epochs
    later = [row["train_s"] for row in record["history"][1:]]
    return {
        "whole": record["timings"]["clips_per_s"],
        "steady": train_clips / statistics.median(later) if later else record["timings"]["clips_per_s"],
        "first_s": record["history"][0]["train_s"],
        "wall": wall,
        "clips": round(train_clips),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="A TAU22-layout dataset (asc-bench data synth DIR).")
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    work = Path(tempfile.mkdtemp(prefix="asc-bench-e2e-"))
    env = {**os.environ, "ASC_BENCH_CACHE_DIR": str(work / "cache")}
    run_variant(args.root.resolve(), 1, [], work, env)  # builds the cache, so every variant starts alike
    results = {
        name: run_variant(args.root.resolve(), args.epochs, sets, work, {**env, **extra})
        for name, (sets, extra) in VARIANTS.items()
    }
    reference = statistics.mean(BASELINE_CODE)
    lines = [
        "# End-to-end training throughput: `asc-bench run specs/baseline2024.yaml`",
        "",
        f"`benchmarks/end_to_end.py`, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load average at "
        f"the start {load}. One seed, {args.epochs} epochs of "
        f"{next(iter(results.values()))['clips']:,} training clips (split100 of `{args.root}`), batch 256, through "
        "the CLI and Ray Tune; the spec's own front end (roll on the waveform, so the mel runs on the fly every "
        "batch), frequency masking and Freq-MixStyle. Reference: the public baseline code, "
        f"{BASELINE_CODE[0]:.0f}–{BASELINE_CODE[1]:.0f} clips/s (DESIGN.md); ratios against {reference:.0f}.",
        "",
        "| runtime | clips/s, whole run | × baseline code | clips/s, steady epochs | × baseline code "
        "| first epoch s | command wall s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['whole']:.1f} | {r['whole'] / reference:.2f} | {r['steady']:.1f} | "
            f"{r['steady'] / reference:.2f} | {r['first_s']:.1f} | {r['wall']:.0f} |"
        )
    report = "\n".join(lines) + "\n"
    RESULTS.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
