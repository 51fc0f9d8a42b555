"""Data-path benchmark: building the cache vs the naive path, shuffled reads from it, and memory vs dataset size.

1. Build: clips/s for the DCASE 2024 baseline front end (resample 44.1 -> 32 kHz, 256-band log-mel, cached as
   float16 features) built by the ``memmap`` cache on 1 and 2 threads, the waveform-only cache (int16, what is
   cached when a random waveform step comes first) and the shifted crops (K = 10 per clip); the naive path
   decodes, resamples and computes the mel clip by clip, every epoch. Ratios are against the naive path and the
   seed project's per-file cache (130 clips/s, DESIGN.md).
2. Reads: clips/s for a shuffled full pass in batches of 256 (float32 tensors out) from the cache file with
   positioned reads (what trials use), through ``np.memmap`` fancy indexing, and from a float32 array in RAM.
   Ratio against the seed's cache reads (about 2,000-2,300 clips/s).
3. Memory: peak resident memory of a process doing that shuffled pass, at 1x, 10x and 100x the quickstart size
   (3,000 / 30,000 / 300,000 clips of 256x65 features). 1x and 10x are real caches of synthetic datasets when
   --root / --root10 are given; 100x (10 GB) is a cache file of that size filled with a fixed pattern (same
   format, no audio), since a 300,000-clip audio set would take 40 GB of disk.

    .venv/bin/python benchmarks/data_cache.py --root data/synth [--root10 DIR] [--scale100] [--work DIR]

Writes benchmarks/results/data_cache.md. On a shared or busy machine the figures are noisy: the load average is
recorded with them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from asc_bench.api import CacheRequest
from asc_bench.data.pipeline import Pipeline
from asc_bench.data.splits import cache_request
from asc_bench_plugins.caches.memmap import MemmapCache, MemmapConfig
from asc_bench_plugins.caches.memory import ArrayStore
from asc_bench_plugins.datasets.tau22.dataset import TAU22Config, TAU22Dataset
from asc_bench_plugins.transforms.mel import MelConfig
from asc_bench_plugins.transforms.roll import RollConfig
from asc_bench_plugins.transforms.shifted_crops import ShiftedCropsConfig

RESULTS = Path(__file__).parent / "results" / "data_cache.md"
SEED_BUILD, SEED_READ = 130.0, 2150.0  # clips/s of the seed project's per-file cache (DESIGN.md)
ROW_SHAPE = (1, 256, 65)
BATCH = 256


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def warm_page_cache(ds: TAU22Dataset) -> float:
    """Read every audio file once, so builds compare computation, not disk reads; returns MB/s of that pass."""
    started, size = time.perf_counter(), 0
    for path in ds.clips().paths:
        size += len(path.read_bytes())
    return size / 1e6 / (time.perf_counter() - started)


Rate = tuple[float, float, float]  # rows per second, rows per CPU-second, CPU share (CPU-seconds per second)


def timed(count: int, work) -> Rate:  # noqa: ANN001
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return count / wall, count / cpu, cpu / wall


def build_rate(
    ds: TAU22Dataset, transforms: list, folder: Path, workers: int, limit: int | None = None, repeats: int = 2
) -> Rate:
    """Rows/s of a fresh memmap build of the training split (first ``limit`` clips), best of ``repeats``."""
    pipeline = Pipeline(transforms, sample_rate=32000)
    rows = ds.split("train")[:limit]
    request = cache_request(ds, ds.fingerprint(), "train", rows, pipeline, 256)
    rates = []
    for _ in range(repeats):
        shutil.rmtree(folder, ignore_errors=True)
        cache = MemmapCache(MemmapConfig(dir=folder, workers=workers))
        rates.append(timed(request.count, lambda cache=cache: cache.prepare(request)))
    return max(rates)


def naive_rate(ds: TAU22Dataset, clips: int) -> Rate:
    """Clips/s of decode + resample + mel, one clip at a time on one core (a per-clip loader's worker)."""
    pipeline = Pipeline([MelConfig()], sample_rate=32000)
    rows = ds.split("train")[:clips]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)

    def work() -> None:
        for row in rows:
            pipeline.cached_rows(torch.from_numpy(ds.read(int(row), 32000))[None])

    rate = timed(len(rows), work)
    torch.set_num_threads(threads)
    return rate


def read_rates(path: Path, meta: dict) -> dict[str, float]:
    """Clips/s of one shuffled pass, by reader."""
    from asc_bench_plugins.caches.memmap_files import RowFile

    order = np.random.default_rng(0).permutation(meta["count"])
    mapped = np.load(path, mmap_mode="r")
    readers = {
        "cache file, positioned reads (trials)": RowFile(path, meta).get,
        "np.memmap fancy indexing": lambda p: torch.from_numpy(np.asarray(mapped[np.sort(p)], dtype=np.float32)),
        "float32 array in RAM": ArrayStore(np.asarray(mapped, dtype=np.float32)).get,
    }
    rates = {}
    for name, get in readers.items():
        get(order[:BATCH])  # warm-up
        started = time.perf_counter()
        for start in range(0, len(order), BATCH):
            get(order[start : start + BATCH])
        rates[name] = len(order) / (time.perf_counter() - started)
    return rates


RSS_PROBE = """
import json, sys, time, numpy as np, torch
from pathlib import Path
from asc_bench_plugins.caches.memmap_files import RowFile
path, meta, method = Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text()), sys.argv[3]
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) * 1024
order = np.random.default_rng(0).permutation(meta["count"])
if method == "pread":
    get = RowFile(path, meta).get
else:
    mapped = np.load(path, mmap_mode="r")
    get = lambda p: torch.from_numpy(np.asarray(mapped[np.sort(p)], dtype=np.float32))
get(order[:256])
before = peak = rss()
started = time.perf_counter()
for start in range(0, len(order), 256):
    get(order[start:start + 256])
    peak = max(peak, rss())
seconds = time.perf_counter() - started
print(json.dumps({"before": before, "peak": peak, "rate": len(order) / seconds}))
"""


def rss_probe(path: Path, meta_path: Path, method: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, str(path), str(meta_path), method], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def pattern_cache(folder: Path, count: int) -> Path:
    """A cache file of ``count`` feature rows filled with a fixed pattern, written by the real writer."""
    block = np.random.default_rng(0).standard_normal((256, *ROW_SHAPE)).astype(np.float32)

    def fill(positions: np.ndarray) -> np.ndarray:
        return block[: len(positions)]

    request = CacheRequest(key=f"pattern-{count}", label="train", count=count, shape=ROW_SHAPE, fill=fill, chunk=256)
    cache = MemmapCache(MemmapConfig(dir=folder))
    cache.prepare(request)
    return cache.files(request).data


def feature_cache(ds: TAU22Dataset, folder: Path) -> tuple[Path, Rate]:
    """The baseline front end's cache of the training and test splits of ``ds`` (built if missing), rows/s."""
    pipeline = Pipeline([MelConfig()], sample_rate=32000)
    rows = np.concatenate([ds.split("train"), ds.split("test")])
    request = cache_request(ds, ds.fingerprint(), "train+test", rows, pipeline, 256)
    cache = MemmapCache(MemmapConfig(dir=folder))
    rate = timed(request.count, lambda: cache.prepare(request))
    return cache.files(request).data, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="The quickstart-size synthetic dataset.")
    parser.add_argument("--root10", type=Path, help="A 10x synthetic dataset (asc-bench data synth DIR --clips 30000).")
    parser.add_argument("--scale100", action="store_true", help="Also measure a 100x (10 GB) pattern cache.")
    parser.add_argument("--work", type=Path, help="Scratch folder for caches (default: a temporary folder).")
    parser.add_argument("--naive-clips", type=int, default=300)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="asc-bench-bench-"))
    loads = [load()]
    ds = TAU22Dataset(TAU22Config(root=args.root))
    n_train = len(ds.split("train"))
    disk = warm_page_cache(ds)

    mel = [MelConfig()]
    one_core = naive_rate(ds, args.naive_clips)
    naive = (2 * one_core[0], one_core[1], 2 * one_core[2])
    builds = {
        "naive: decode + resample + mel per clip, 2 cores (2 × the 1-core rate)": naive,
        "memmap, mel features (float16), 1 thread": build_rate(ds, mel, work / "b1", 1),
        "memmap, mel features (float16), 2 threads": build_rate(ds, mel, work / "b2", 2),
        "memmap, waveforms only (int16), 2 threads": build_rate(ds, [RollConfig(), *mel], work / "b3", 2),
        "memmap, shifted crops K=10 + mel, 2 threads (rows/s)": build_rate(
            ds, [ShiftedCropsConfig(), *mel], work / "b4", 2, limit=150
        ),
    }
    loads.append(load())

    path, _ = feature_cache(ds, work / "q1")
    meta = json.loads(path.with_suffix(".json").read_text())
    reads = read_rates(path, meta)
    loads.append(load())

    sizes: list[tuple[str, Path, str]] = [("1x (real, quickstart)", path, "real")]
    build10 = None
    if args.root10:
        ds10 = TAU22Dataset(TAU22Config(root=args.root10))
        warm_page_cache(ds10)
        path10, build10 = feature_cache(ds10, work / "q10")
        sizes.append(("10x (real)", path10, "real"))
    if args.scale100:
        sizes.append(("100x (pattern)", pattern_cache(work / "q100", 100 * 3000), "pattern"))
    memory = []
    for label, data, _ in sizes:
        meta_path = data.with_suffix(".json")
        count = json.loads(meta_path.read_text())["count"]
        row = {
            "label": label,
            "count": count,
            "gb": data.stat().st_size / 1e9,
            "pread": rss_probe(data, meta_path, "pread"),
        }
        if count <= 40_000:
            row["memmap"] = rss_probe(data, meta_path, "memmap")
        memory.append(row)
    loads.append(load())
    report = render(builds, naive, n_train, reads, memory, build10, loads, disk)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)
    print(report)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


def render(builds, naive, n_train, reads, memory, build10, loads, disk) -> str:  # noqa: ANN001
    lines = [
        "# Data path: cache build, shuffled reads, memory vs size",
        "",
        f"`benchmarks/data_cache.py`, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, torch "
        f"{torch.__version__}. Load average (1/5/15 min) at the start and after each part: {' → '.join(loads)}. "
        + (
            "Other work was running on this machine, so treat the figures as indicative and re-run on a quiet machine."
            if float(loads[0].split()[0]) > 1.0
            else "The machine was otherwise idle at the start (later load is the benchmark's own)."
        ),
        "",
        f"## Build ({n_train:,} training clips, 2024 baseline front end at 32 kHz)",
        "",
        f"Audio files in the page cache (a first read pass ran at {disk:,.0f} MB/s), so the builds compare "
        "computation; best of two builds each. The naive figure is twice the measured one-core rate (an ideal "
        "two-worker loader). *CPU share* is the CPU-seconds the process got per second: on a busy machine it "
        "stays far below the thread count, and *per CPU-second* is the load-independent efficiency.",
        "",
        "| path | clips/s | × naive | × seed cache build (130/s) | CPU share | clips per CPU-second |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = dict(builds)
    if build10:
        rows["memmap, mel features, 2 threads, 10x set (train + test)"] = build10
    for name, (rate, per_cpu, share) in rows.items():
        lines.append(
            f"| {name} | {rate:,.0f} | {rate / naive[0]:.2f} | {rate / SEED_BUILD:.2f} | {share:.2f} | {per_cpu:,.0f} |"
        )
    lines += ["", "Shifted crops: rows are crops (10 per clip), so clips/s is a tenth of the figure.", ""]
    lines += [
        "## Shuffled full pass, batches of 256, float32 tensors out",
        "",
        "| reader | clips/s | × seed cache read (≈2,150/s) |",
        "|---|---:|---:|",
    ]
    for name, rate in reads.items():
        lines.append(f"| {name} | {rate:,.0f} | {rate / SEED_READ:.1f} |")
    lines += [
        "",
        "## Peak resident memory of a shuffled pass, by cache size",
        "",
        "Growth = the largest RSS sampled after each batch minus RSS before the pass (torch and numpy already "
        "loaded). Memory-mapped "
        "pages count as resident once touched, so `np.memmap` grows with the data read; positioned reads keep one "
        "batch.",
        "",
        "| size | clips | file GB | positioned reads: clips/s | peak RSS MB | growth MB | np.memmap: growth MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in memory:
        p = row["pread"]
        mm = row.get("memmap")
        growth_mm = f"{(mm['peak'] - mm['before']) / 1e6:,.0f}" if mm else "not run"
        lines.append(
            f"| {row['label']} | {row['count']:,} | {row['gb']:.2f} | {p['rate']:,.0f} | {p['peak'] / 1e6:,.0f} | "
            f"{(p['peak'] - p['before']) / 1e6:,.0f} | {growth_mm} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
