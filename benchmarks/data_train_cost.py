"""Training-time cost of the data path: an epoch of the DCASE 2024 baseline fed from the cache vs from tensors
already in memory.

Both variants train the same model (channels-last, the engine's default) with the ``supervised`` trainer, batch
256, on the same shuffled order with the same online transform (frequency masking, 48 bins). "cache" draws
each batch through ``iterate_batches`` from the ``memmap`` cache (positioned reads, float16 -> float32);
"memory" feeds batch tensors gathered beforehand. Variants alternate (A B B A ...), so machine load affects
both alike. Wall-clock epochs are noisy on a busy machine, so each epoch is also split into the time inside
the trainer's steps and the time outside them (reading, transforms, batching): the data path's cost is the
cached epoch's outside time minus the in-memory epoch's, as a share of the in-memory epoch. The time inside
the cache reads alone is reported too.

    .venv/bin/python benchmarks/data_train_cost.py --root data/synth [--rounds 3] [--work DIR]

Writes benchmarks/results/data_train_cost.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from asc_bench.api import Batch, TransformContext
from asc_bench.core.allocator import keep_freed_memory
from asc_bench.data.pipeline import Pipeline
from asc_bench.data.splits import cache_request, iterate_batches, prepare_split
from asc_bench.model.runtime import apply_runtime
from asc_bench.spec.sections import RuntimeSection
from asc_bench_plugins.caches.memmap import MemmapCache, MemmapConfig
from asc_bench_plugins.datasets.tau22.dataset import TAU22Config, TAU22Dataset
from asc_bench_plugins.models.baseline2024 import Baseline2024
from asc_bench_plugins.trainers.supervised import SupervisedConfig, SupervisedTrainer
from asc_bench_plugins.transforms.masks import FreqMaskConfig
from asc_bench_plugins.transforms.mel import MelConfig

RESULTS = Path(__file__).parent / "results" / "data_train_cost.md"
BATCH = 256


def machine_note(start_load: str) -> str:
    """Whether other work was running when the benchmark started (its own load is about the core count)."""
    if float(start_load.split()[0]) > 1.0:
        return "other work was running on this machine, so re-run on a quiet one."
    return "the machine was otherwise idle (the later load is the benchmark's own)."


class TimedStore:
    """Wraps a store and adds up the seconds spent in ``get``."""

    def __init__(self, store) -> None:  # noqa: ANN001
        self.store = store
        self.seconds = 0.0

    def __len__(self) -> int:
        return len(self.store)

    def get(self, positions: np.ndarray) -> torch.Tensor:
        started = time.perf_counter()
        rows = self.store.get(positions)
        self.seconds += time.perf_counter() - started
        return rows


class TimedTrainer:
    """Wraps a trainer and adds up the seconds spent in ``train_step``."""

    def __init__(self, trainer: SupervisedTrainer) -> None:
        self.trainer = trainer
        self.seconds = 0.0

    def train_step(self, batch: Batch) -> float:
        started = time.perf_counter()
        loss = self.trainer.train_step(batch)
        self.seconds += time.perf_counter() - started
        return loss


def main() -> None:
    keep_freed_memory()  # as in every trial (asc_bench.core.allocator)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="A synthetic dataset (asc-bench data synth DIR).")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, help="Cache folder (default: a temporary folder).")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="asc-bench-bench-"))
    loads = [" ".join(Path("/proc/loadavg").read_text().split()[:3])]
    torch.set_num_threads(os.cpu_count() or 1)

    ds = TAU22Dataset(TAU22Config(root=args.root))
    pipeline = Pipeline([MelConfig(), FreqMaskConfig(max_bins=48)], sample_rate=32000)
    rows = ds.split("train")
    request = cache_request(ds, ds.fingerprint(), "train", rows, pipeline, 256)
    cache = MemmapCache(MemmapConfig(dir=work))
    cache.prepare(request)
    split = prepare_split(ds.clips(), request, rows, cache)
    timed = TimedStore(split.store)
    split.store = timed  # type: ignore[assignment]

    torch.manual_seed(0)
    model = Baseline2024(Baseline2024.Config(), input_shape=(1, 256, 65), num_classes=10)
    steps = -(-len(rows) // BATCH)
    config = SupervisedConfig(batch_size=BATCH)
    trainer = TimedTrainer(SupervisedTrainer(config, apply_runtime(model, RuntimeSection()), steps_per_epoch=steps))
    all_rows = split.store.get(np.arange(len(rows)))  # the same float32 rows, in memory

    def context(epoch: int) -> TransformContext:
        return TransformContext(torch.Generator().manual_seed(epoch), training=True, sample_rate=32000)

    def epoch_from_cache(epoch: int) -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        for batch in iterate_batches(split, BATCH, pipeline=pipeline, ctx=context(epoch), num_classes=10, shuffle=True):
            trainer.train_step(batch)
        return time.perf_counter() - started, time.process_time() - cpu

    def epoch_from_memory(epoch: int) -> tuple[float, float]:
        ctx = context(epoch)
        order = torch.randperm(len(rows), generator=ctx.rng)
        batches = []
        for start in range(0, len(rows), BATCH):
            pos = order[start : start + BATCH]
            labels = split.labels[pos]
            target = torch.nn.functional.one_hot(labels, 10).float()
            batches.append(Batch(all_rows[pos], target, labels, split.devices[pos], split.cities[pos], pos))
        started, cpu = time.perf_counter(), time.process_time()
        for batch in batches:
            trainer.train_step(pipeline.run(pipeline.online, batch, ctx))
        return time.perf_counter() - started, time.process_time() - cpu

    epoch_from_cache(0)  # warm-up: page cache, allocator, kernels
    runs = {"cache": epoch_from_cache, "memory": epoch_from_memory}
    times: dict[str, list[float]] = {"cache": [], "memory": []}
    cpu: dict[str, list[float]] = {"cache": [], "memory": []}
    outside: dict[str, list[float]] = {"cache": [], "memory": []}
    read_share = []
    for r in range(args.rounds):
        for name in ("cache", "memory") if r % 2 == 0 else ("memory", "cache"):
            timed.seconds = trainer.seconds = 0.0
            wall, cpu_s = runs[name](r + 1)
            times[name].append(wall)
            cpu[name].append(cpu_s)
            outside[name].append(times[name][-1] - trainer.seconds)
            if name == "cache":
                read_share.append(timed.seconds / times[name][-1])
    loads.append(" ".join(Path("/proc/loadavg").read_text().split()[:3]))
    cache_s, memory_s = statistics.median(times["cache"]), statistics.median(times["memory"])
    rounds = ", ".join(f"{100 * (c - m) / m:+.1f} %" for c, m in zip(times["cache"], times["memory"], strict=True))
    out_cache, out_memory = statistics.median(outside["cache"]), statistics.median(outside["memory"])
    cpu_cache, cpu_memory = statistics.median(cpu["cache"]), statistics.median(cpu["memory"])
    paired = statistics.median((c - m) / m for c, m in zip(cpu["cache"], cpu["memory"], strict=True))
    paired_wall = statistics.median((c - m) / m for c, m in zip(times["cache"], times["memory"], strict=True))
    report = "\n".join(
        [
            "# Training-time cost of the data path",
            "",
            f"`benchmarks/data_train_cost.py`, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
            f"{torch.get_num_threads()} torch threads, torch {torch.__version__}. DCASE 2024 baseline (channels-last), "
            f"batch {BATCH}, {len(rows):,} clips per epoch, {args.rounds} rounds, median. Load average at start and "
            f"end: {' → '.join(loads)}; {machine_note(loads[0])}",
            "",
            "| fed from | epoch s | clips/s | outside the steps s | CPU s (all threads) |",
            "|---|---:|---:|---:|---:|",
            f"| tensors in memory | {memory_s:.2f} | {len(rows) / memory_s:,.1f} | {out_memory:.3f} "
            f"| {cpu_memory:.2f} |",
            f"| memmap cache (iterate_batches) | {cache_s:.2f} | {len(rows) / cache_s:,.1f} | {out_cache:.3f} "
            f"| {cpu_cache:.2f} |",
            "",
            f"Data path cost (outside-the-steps time added by the cache): "
            f"**{100 * (out_cache - out_memory) / memory_s:+.2f} %** of the in-memory epoch. Time inside the cache "
            f"reads: **{100 * statistics.median(read_share):.2f} %** of the cached epoch. Wall-clock ratio of the "
            f"epochs, (cache − memory) / memory: {100 * (cache_s - memory_s) / memory_s:+.2f} % from the medians, "
            f"**{100 * paired_wall:+.2f} %** as the median of the rounds' own ratios (per round: {rounds}; "
            "round-to-round noise; the in-run split above is the load-independent figure). CPU time of the process "
            f"per epoch, (cache − memory) / memory, median over rounds: **{100 * paired:+.2f} %** (per round: "
            + ", ".join(f"{100 * (c - m) / m:+.1f} %" for c, m in zip(cpu["cache"], cpu["memory"], strict=True))
            + "); CPU time does not count time the virtual machine's cores were taken by other guests.",
            "",
        ]
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)
    print(report)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
