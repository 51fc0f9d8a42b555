"""Training throughput on one GPU: the model step alone by variant, steady epochs through asc-bench's batch and
trainer code (device-resident and streamed), a reference-style loop like the public DCASE 2024 baseline's, and a
sweep of 1 / 2 / 4 / 8 concurrent trials sharing the GPU (through Ray when it is installed). One table, saved.

Needs only torch, torchaudio, numpy, soundfile and asc-bench's small pure-Python dependencies (pydantic, PyYAML,
torchinfo, filelock, typer, rich); Ray only for the sweep. It writes its own synthetic dataset (1-s clips at
44.1 kHz). Runs from the source tree without installing asc-bench.

    python benchmarks/gpu.py                          # on a GPU: ~20,000 clips, saves benchmarks/results/gpu.md
    python benchmarks/gpu.py --quick --device cpu     # a CPU smoke run of every part, in a minute or two
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CLASSES = 10
SWEEP_SETUP_S, SWEEP_SETUP_PER_TRIAL_S = 15.0, 5.0  # time for the sweep's trials to start and warm up
MEL = {"n_fft": 4096, "win_length": 3072, "hop_length": 500, "n_mels": 256}  # the 2024 baseline's front end


def _importable_from_source() -> None:
    """Make ``asc_bench`` and ``asc_bench_plugins`` (the ``plugins/`` folder) importable without installing, here
    and in the Ray workers of the sweep (through ``PYTHONPATH``)."""
    paths = [str(ROOT)]
    if importlib.util.find_spec("asc_bench_plugins") is None:
        shim = Path(tempfile.gettempdir()) / f"asc-bench-shim-{os.getuid()}"
        shim.mkdir(exist_ok=True)
        if not (shim / "asc_bench_plugins").exists():
            (shim / "asc_bench_plugins").symlink_to(ROOT / "plugins")
        paths.append(str(shim))
    sys.path[:0] = paths
    os.environ["PYTHONPATH"] = os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)


_importable_from_source()

from gpu_reference import ORIG_RATE, RATE, reference_loop  # noqa: E402

from asc_bench.api import Batch, ClipStore, TransformContext  # noqa: E402
from asc_bench.core.allocator import keep_freed_memory  # noqa: E402
from asc_bench.data.splits import PreparedSplit, iterate_batches  # noqa: E402
from asc_bench.model.device import resolve_precision  # noqa: E402
from asc_bench.model.runtime import apply_runtime  # noqa: E402
from asc_bench.spec.sections import RuntimeSection  # noqa: E402
from asc_bench_plugins.models.baseline2024 import Baseline2024  # noqa: E402
from asc_bench_plugins.trainers.supervised import SupervisedConfig, SupervisedTrainer  # noqa: E402
from asc_bench_plugins.transforms.masks import FreqMask  # noqa: E402
from asc_bench_plugins.transforms.mel import Mel  # noqa: E402
from asc_bench_plugins.transforms.mixstyle import FreqMixStyle  # noqa: E402
from asc_bench_plugins.transforms.roll import Roll  # noqa: E402


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---------------------------------------------------------------------------------------------- synthetic data
def write_clips(folder: Path, n: int, seed: int = 0) -> tuple[list[Path], np.ndarray]:
    """``n`` 1-s WAV clips at 44.1 kHz (a class-dependent tone in noise) and their labels."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, n)
    t = np.arange(ORIG_RATE) / ORIG_RATE
    paths = []
    for i, label in enumerate(labels):
        wave = 0.1 * np.sin(2 * np.pi * (200 + 150 * label) * t) + 0.05 * rng.standard_normal(ORIG_RATE)
        path = folder / f"clip{i:06d}.wav"
        sf.write(path, wave.astype(np.float32), ORIG_RATE, subtype="PCM_16")
        paths.append(path)
    return paths, labels


def read_waves(paths: list[Path]) -> torch.Tensor:
    import soundfile as sf

    return torch.from_numpy(np.stack([sf.read(p, dtype="float32")[0] for p in paths]))


class ArrayRows(ClipStore):
    """Cached rows in host memory, stored as the memmap cache stores them (int16 waveforms, float16 features)."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, positions: np.ndarray) -> torch.Tensor:
        rows = torch.from_numpy(self.rows[positions])
        return rows.float() / 32768.0 if rows.dtype == torch.int16 else rows.float()


def cache_rows(paths: list[Path], device: torch.device, mel: Mel) -> tuple[np.ndarray, np.ndarray]:
    """What the driver caches: 32-kHz int16 waveforms, and float16 log-mel features (no random step first)."""
    import torchaudio

    resample = torchaudio.transforms.Resample(ORIG_RATE, RATE).to(device)
    ctx = TransformContext(torch.Generator().manual_seed(0), training=False, sample_rate=RATE)
    waves, feats = [], []
    for start in range(0, len(paths), 512):
        with torch.no_grad():
            w = resample(read_waves(paths[start : start + 512]).to(device))
            zeros = torch.zeros(len(w), dtype=torch.long, device=device)
            f = mel(Batch(w, zeros[:, None].float(), zeros, zeros, zeros, zeros), ctx).x
        waves.append(torch.clamp(torch.round(w * 32768), -32768, 32767).to(torch.int16).cpu().numpy())
        feats.append(f.to(torch.float16).cpu().numpy())
    return np.concatenate(waves), np.concatenate(feats)


def prepared(rows: np.ndarray, labels: np.ndarray) -> PreparedSplit:
    n = len(rows)
    zeros = torch.zeros(n, dtype=torch.long)
    return PreparedSplit("train", np.arange(n), ArrayRows(rows), torch.from_numpy(labels), zeros, zeros)


# ------------------------------------------------------------------------------------------------- measures
def new_model() -> Baseline2024:
    torch.manual_seed(0)
    return Baseline2024(Baseline2024.Config(), input_shape=(1, 256, 65), num_classes=CLASSES)


def model_step(device: torch.device, batch: int, steps: int, channels_last: bool, bf16: bool, compiled: bool) -> float:
    """Clips/s of the model's forward + backward + AdamW step alone, on tensors already on the device."""
    model = new_model().to(device)
    forward = apply_runtime(model, RuntimeSection(channels_last=channels_last, compile=compiled))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = torch.randn(batch, 1, 256, 65, device=device), torch.randint(0, CLASSES, (batch,), device=device)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = forward(x)
        torch.nn.functional.cross_entropy(logits.float(), y).backward()
        optimizer.step()

    return timed(step, device, steps, batch)


def timed(step: Callable[[], object], device: torch.device, steps: int, clips: int) -> float:
    for _ in range(3):  # warm-up (and compilation)
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return steps * clips / (time.perf_counter() - start)


def asc_epochs(
    split: PreparedSplit,
    online: list,
    device: torch.device,
    path: str,
    batch: int,
    epochs: int,
    compiled: bool,
    start_at: float | None = None,
) -> float:
    """Clips/s of steady epochs through asc-bench's batch iteration (data path ``path``), online transforms and the
    ``supervised`` trainer at the ``auto`` settings (channels-last, bf16 where the GPU has it). ``start_at``: a
    ``time.time()`` before which the timed epochs do not start (concurrent trials of the sweep start together)."""
    split = split if path == "host" else split.placed(device, path)
    runtime = RuntimeSection(compile=compiled)
    model = new_model().to(device)
    steps = len(split) // batch if compiled and device.type != "cpu" else -(-len(split) // batch)
    config = SupervisedConfig(epochs=epochs + 1, batch_size=batch)
    trainer = SupervisedTrainer(config, apply_runtime(model, runtime), steps_per_epoch=max(1, steps))
    trainer.use_precision(resolve_precision("auto", device))
    pipeline = SimpleNamespace(online=online, run=lambda ts, b, ctx: _run(ts, b, ctx))
    drop = compiled and device.type != "cpu"

    def epoch(seed: int) -> None:
        ctx = TransformContext(torch.Generator().manual_seed(seed), training=True, sample_rate=RATE)
        batches = iterate_batches(
            split, batch, pipeline=pipeline, ctx=ctx, num_classes=CLASSES, shuffle=True, drop_last=drop
        )
        losses = [trainer.train_step(b) for b in batches]
        float(sum(float(loss) for loss in losses))

    epoch(0)  # warm-up epoch (and compilation)
    sync(device)
    time.sleep(max(0.0, (start_at or 0.0) - time.time()))
    start = time.perf_counter()
    for e in range(epochs):
        epoch(e + 1)
    sync(device)
    return epochs * len(split) / (time.perf_counter() - start)


def _run(transforms: list, batch: Batch, ctx: TransformContext) -> Batch:
    for transform in transforms:
        batch = transform(batch, ctx)
    return batch


# ---------------------------------------------------------------------------------------------------- sweep
def sweep(features: np.ndarray, labels: np.ndarray, device: torch.device, batch: int, epochs: int, counts: list[int]):  # noqa: ANN201
    """Total clips/s of N concurrent trials (each its own process, a 1/N share of the GPU through Ray): the sum of
    their steady rates, timed over the same window."""
    try:
        import ray
    except ImportError:
        return None
    gpu = device.type == "cuda"
    env = {"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}}
    ray.init(
        num_cpus=max(counts), num_gpus=1 if gpu else 0, include_dashboard=False, log_to_driver=False, runtime_env=env
    )
    try:
        data = ray.put((features, labels))

        @ray.remote
        def trial(data_ref, share: float, start_at: float) -> float:  # noqa: ANN001
            f, y = data_ref
            torch.set_num_threads(1)
            dev = torch.device("cuda", 0) if gpu else torch.device("cpu")
            if gpu and share < 1:
                torch.cuda.set_per_process_memory_fraction(share, dev)
            path = "resident" if gpu else "host"
            return asc_epochs(prepared(f, y), feature_augment(), dev, path, batch, epochs, False, start_at)

        out = {}
        for n in counts:  # the trials set up and warm up, then time their epochs together; rates add up
            start_at = time.time() + SWEEP_SETUP_S + SWEEP_SETUP_PER_TRIAL_S * n
            share = 1.0 / n
            options = {"num_gpus": share if gpu else 0, "num_cpus": 1}
            out[n] = sum(ray.get([trial.options(**options).remote(data, share, start_at) for _ in range(n)]))
        return out
    finally:
        ray.shutdown()


def feature_augment() -> list:
    return [
        FreqMask(FreqMask.Config(max_bins=48, value=-11.512925), sample_rate=RATE),
        FreqMixStyle(FreqMixStyle.Config(p=0.4, alpha=0.3), sample_rate=RATE),
    ]


# ----------------------------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of every part")
    parser.add_argument("--clips", type=int, default=None, help="training clips (default 20,000; quick: 256)")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default 256; quick: 32)")
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1), help="reference loader workers")
    parser.add_argument("--sweep", default=None, help="concurrent trials, e.g. 1,2,4,8 (quick: 1,2)")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None, help="measure compile")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    device = torch.device(args.device)
    run = SimpleNamespace(
        device=device,
        clips=args.clips or (256 if args.quick else 20_000),
        batch=args.batch or (32 if args.quick else 256),
        workers=args.workers,
        counts=[int(c) for c in (args.sweep or ("1,2" if args.quick else "1,2,4,8")).split(",")],
        compiled=args.compile if args.compile is not None else device.type == "cuda",
        epochs=1 if args.quick else 3,
        steps=2 if args.quick else 50,
    )
    keep_freed_memory()  # as every trial does (asc_bench.core.allocator)
    if device.type == "cpu":  # one thread: on a shared machine two threads' barriers dominate (not what is measured)
        torch.set_num_threads(1)
    name = "gpu.md" if device.type == "cuda" else "gpu-cpu-quick.md" if args.quick else "gpu-cpu.md"
    out = args.out or RESULTS / name  # a CPU run never writes the GPU figures' file
    folder = Path(tempfile.mkdtemp(prefix="asc-bench-gpu-"))
    try:
        lines = measure(run, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    text = "\n".join(header(run) + lines) + "\n"
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"saved {out}")


def header(run: SimpleNamespace) -> list[str]:
    device = run.device
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    lines = [f"# GPU training throughput: DCASE 2024 baseline model, {run.clips:,} synthetic clips, batch {run.batch}"]
    if device.type != "cuda":
        lines += [
            "",
            "**CPU smoke run, not GPU figures**: every part of benchmarks/gpu.py ran, at tiny sizes; single short "
            "epochs on a CPU are noisy, so these numbers show only that each part runs, not how fast.",
        ]
    lines += [
        "",
        f"Device {device} ({name}), torch {torch.__version__}, {torch.get_num_threads()} torch thread(s) of "
        f"{os.cpu_count()} CPU cores, reference loader "
        f"workers {run.workers}, {run.epochs} timed epoch(s) after a warm-up epoch, {time.strftime('%Y-%m-%d')}.",
        "",
    ]
    return lines


def measure(run: SimpleNamespace, folder: Path) -> list[str]:
    """Every measure of the table, as markdown rows."""
    device, batch = run.device, run.batch
    paths, labels = write_clips(folder, run.clips)
    mel = Mel(Mel.Config(**MEL), sample_rate=RATE)
    waves, features = cache_rows(paths, device, mel)
    bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    variants = {"fp32 NCHW eager": (False, False, False), "fp32 channels-last": (True, False, False)}
    if bf16:
        variants["bf16 channels-last"] = (True, True, False)
    if run.compiled:
        variants["compiled, channels-last" + (", bf16" if bf16 else "")] = (True, bf16, True)
    step = {name: model_step(device, batch, run.steps, *v) for name, v in variants.items()}
    base, best = step["fp32 NCHW eager"], max(step.values())
    winner = max(step, key=step.__getitem__)
    on_device = "resident" if device.type != "cpu" else "host"
    feats = prepared(features, labels)

    def epochs(split: PreparedSplit, online: list, path: str) -> float:
        return asc_epochs(split, online, device, path, batch, run.epochs, run.compiled)

    resident = epochs(feats, feature_augment(), on_device)
    streamed = epochs(feats, feature_augment(), "streamed")
    online_mel = [Roll(Roll.Config(max_shift_s=0.1), sample_rate=RATE), mel, *feature_augment()]
    wave_epoch = epochs(prepared(waves, labels), online_mel, on_device)
    reference = reference_loop(paths, labels, new_model().to(device), device, batch, run.workers)
    rows = [
        f"| model step: {name} | {rate:,.0f} | {rate / base:.2f}× fp32 NCHW eager | |" for name, rate in step.items()
    ]
    rows += [
        f"| best model step ({winner}) | {best:,.0f} | {best / base:.2f}× fp32 NCHW eager | "
        f"≥ 3× {_met(best / base, 3)} |",
        f"| epoch, asc-bench, {on_device} features | {resident:,.0f} | {resident / best:.0%} of best step | "
        f"≥ 90 % {_met(resident / best, 0.9)} |",
        f"| epoch, asc-bench, streamed from pinned memory | {streamed:,.0f} | {streamed / best:.0%} of best step | "
        f"≥ 75 % {_met(streamed / best, 0.75)} |",
        f"| epoch, asc-bench, {on_device} waveforms + online roll and mel | {wave_epoch:,.0f} | "
        f"{wave_epoch / best:.0%} of best step | |",
        f"| reference-style loop (DataLoader, mel per batch, fp32 eager) | {reference:,.0f} | asc-bench "
        f"{resident / reference:.1f}× it | ≥ 3× {_met(resident / reference, 3)} |",
        *sweep_rows(sweep(features, labels, device, batch, run.epochs, run.counts), run.counts),
    ]
    fastest = "resident" if resident >= streamed else "streamed"
    return [
        "| measure | clips/s | ratio | goal |",
        "|---|---:|---|---|",
        *rows,
        "",
        f"Fastest model step: {winner}. Fastest data path: {fastest}. Epochs with compile "
        f"{'on' if run.compiled else 'off'}. Single runs: compare ratios within this table, not across machines.",
    ]


def sweep_rows(rates: dict[int, float] | None, counts: list[int]) -> list[str]:
    if rates is None:
        return ["| sweep of concurrent trials | skipped: Ray is not installed | | |"]
    rows = []
    for n, rate in rates.items():
        ratio = rate / rates[counts[0]]
        goal = f"≥ 4× {_met(ratio, 4)}" if n == 8 else ""
        rows.append(f"| sweep, {n} concurrent trial(s) through Ray | {rate:,.0f} | {ratio:.2f}× 1 trial | {goal} |")
    return rows


def _met(ratio: float, goal: float) -> str:
    return "(met)" if ratio >= goal else "(not met)"


if __name__ == "__main__":
    main()
