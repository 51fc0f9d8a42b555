"""Training-step throughput of the DCASE 2024 baseline model alone (tensors in memory), by variant.

The model's own forward + backward + AdamW step is the floor for end-to-end training (DESIGN.md, "Performance
principles"). Variants are measured interleaved, round after round, so machine load affects all of them alike;
the table reports the median clips/s of each and its ratio to the eager float32 NCHW step.

    .venv/bin/python benchmarks/model_step.py [--rounds 5] [--batch 256]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from asc_bench.core.allocator import keep_freed_memory
from asc_bench_plugins.models.baseline2024 import Baseline2024

RESULTS = Path(__file__).parent / "results" / "model_step.md"


def make_step(channels_last: bool, compiled: bool, batch: int):  # noqa: ANN201
    torch.manual_seed(0)
    model = Baseline2024(Baseline2024.Config(), input_shape=(1, 256, 65), num_classes=10)
    x = torch.randn(batch, 1, 256, 65)
    y = torch.randint(0, 10, (batch,))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    forward = torch.compile(model) if compiled else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(forward(x), y).backward()
        optimizer.step()

    step()  # warm-up (and compilation)
    return step


def main() -> None:
    keep_freed_memory()  # as in every trial (asc_bench.core.allocator)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=2, help="steps per round and variant")
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile variants")
    args = parser.parse_args()
    torch.set_num_threads(2)
    variants = {"eager NCHW": (False, False), "eager channels-last": (True, False)}
    if args.compile:
        variants |= {"compiled NCHW": (False, True), "compiled channels-last": (True, True)}
    steps = {name: make_step(cl, comp, args.batch) for name, (cl, comp) in variants.items()}
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                step()
            rates[name].append(args.steps * args.batch / (time.perf_counter() - start))
    base = statistics.median(rates["eager NCHW"])
    lines = [
        f"# Model step throughput: DCASE 2024 baseline, batch {args.batch}, 1x256x65, 2 threads",
        "",
        f"| variant | clips/s (median of {args.rounds} rounds) | ratio to eager NCHW |",
        "|---|---:|---:|",
    ]
    for name, values in rates.items():
        median = statistics.median(values)
        lines.append(f"| {name} | {median:.1f} | {median / base:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
