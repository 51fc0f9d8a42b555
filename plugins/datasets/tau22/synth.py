"""A synthetic acoustic-scene dataset written in the exact TAU Urban Acoustic Scenes 2022 Mobile layout.

Tests, the quickstart and benchmarks use it instead of the 30 GB real set, through the real ``tau22``
loading code (docs/dcase.md §1): ``audio/<scene>-<city>-<location>-<segment>-<piece>-<device>.wav`` (1-s mono
44.1 kHz 24-bit PCM, ten continuous pieces per 10-s recording), a tab-separated ``meta.csv``,
``evaluation_setup/fold1_{train,evaluate}.csv`` split by recording location, and the nested 2024 subsets under
``split_setup/``. The plan (segments, devices, tables) is :mod:`.synth_plan`, the sound :mod:`.synth_audio`,
the microphone impulse responses shipped beside it :mod:`.irs`.

Size is set by ``cities``, ``locations_per_pair``, ``segments_per_location``, ``parallel_fraction`` and
``devices_per_parallel``. Every 10-s segment is recorded by device ``a``; a ``parallel_fraction`` of them is
also recorded by ``devices_per_parallel`` of the other eight devices (balanced over devices and classes).
The test split holds only the parallel segments of test locations (all their devices), as in the real set.

- default (10 cities, 1 location per scene and city, 1 segment, all parallel, 2 extra devices):
  100 segments, 300 recordings, **3,000 clips** (1,580 train, 900 test, 520 in neither), about 400 MB.
- full TAU22 size (:data:`FULL_SIZE`): ``locations_per_pair=12, segments_per_location=12,
  parallel_fraction=0.075, devices_per_parallel=8`` → 14,400 segments recorded by ``a`` + 1,080 parallel
  segments × 8 devices = 23,040 recordings = **230,400 clips** (138,600 train, 29,160 test; the real set has
  230,350 clips: five recordings are missing there), about 30 GB.
- :func:`synthetic_dataset_size` gives the counts for any parameters without writing anything.

The folders and files come out with the modes the umask gives (``0755`` / ``0644`` under umask ``022``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from asc_bench.api import UserError, atomic_folder, process_alive
from asc_bench_plugins.datasets.tau22.irs import IR_FOLDER, write_synthetic_impulse_responses
from asc_bench_plugins.datasets.tau22.synth_audio import render_chunk
from asc_bench_plugins.datasets.tau22.synth_plan import (
    Segment,
    SynthParams,
    check_params,
    clip_counts,
    plan_segments,
    table_rows,
    write_tables,
)
from asc_bench_plugins.datasets.tau22.vocabulary import CITIES

MARKER = ".asc-bench-synthetic.json"
GENERATOR_VERSION = 1
FULL_SIZE: dict[str, Any] = {
    "locations_per_pair": 12,
    "segments_per_location": 12,
    "parallel_fraction": 0.075,
    "devices_per_parallel": 8,
}
"""The generator parameters of the full TAU22 size (230,400 clips)."""

Progress = Callable[[int, int], None]
_SEGMENTS_PER_TASK = 4


def synthetic_dataset_size(
    *,
    seed: int = 0,
    cities: int = 10,
    locations_per_pair: int = 1,
    segments_per_location: int = 1,
    parallel_fraction: float = 1.0,
    devices_per_parallel: int = 2,
) -> dict[str, int]:
    """The clip counts :func:`write_synthetic_dataset` would write with these parameters (nothing written).

    Keys: ``clips``, ``train``, ``test``, ``unused`` (in neither split), ``recordings``, ``split5`` …
    ``split100``. Each clip is about 132 kB on disk.
    """
    params = SynthParams(
        seed, cities, locations_per_pair, segments_per_location, float(parallel_fraction), devices_per_parallel
    )
    check_params(params)
    return clip_counts(table_rows(params, plan_segments(params)))


def write_synthetic_dataset(
    root: Path | str,
    *,
    seed: int = 0,
    cities: int = 10,
    locations_per_pair: int = 1,
    segments_per_location: int = 1,
    parallel_fraction: float = 1.0,
    devices_per_parallel: int = 2,
    workers: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write a synthetic dataset in the TAU22 development layout at ``root``; return what was done.

    ``cities``: how many of the ten development cities (alphabetical) to use. ``locations_per_pair``:
    recording locations per (scene, city). ``segments_per_location``: 10-s segments per location, all
    recorded by device a. ``parallel_fraction`` of the segments (on each side of the split) are also
    recorded by ``devices_per_parallel`` of the other eight devices. See the module docstring for the
    default size (3,000 clips) and the parameters that give the full TAU22 size (230,400 clips).

    The output is byte-identical for the same parameters, whatever ``workers`` (process count; default:
    the CPU count, at most 8; worker processes are spawned, so a calling script needs the usual
    ``if __name__ == "__main__":`` guard). It is built in a temporary folder next to ``root`` and renamed
    into place at the end, so an interrupted run never leaves a root that looks complete. If ``root``
    already holds a synthetic dataset made with the same parameters, nothing is written (``created`` is
    False); a ``root`` with any other content is a :class:`UserError`. ``progress(clips_written,
    clips_total)`` is called as it goes (from the calling process).

    Returns a dict: ``root``, ``created``, ``message``, ``seconds``, ``params`` and the counts ``clips``,
    ``train``, ``test``, ``unused`` (in neither split), ``recordings`` and ``split5`` … ``split100``.
    """
    start = time.perf_counter()
    root = Path(root).expanduser().absolute()
    params = SynthParams(
        seed, cities, locations_per_pair, segments_per_location, float(parallel_fraction), devices_per_parallel
    )
    check_params(params)
    wanted = {"generator": "asc-bench synth", "version": GENERATOR_VERSION, "params": asdict(params)}
    existing = _existing_marker(root, wanted)
    if existing is not None:
        write_synthetic_impulse_responses(root / IR_FOLDER, seed=seed)  # sets written before they shipped
        message = f"{root} already holds this synthetic dataset (same parameters); nothing written."
        return _result(root, params, existing.get("counts", {}), created=False, start=start, message=message)
    counts = _build(root, params, wanted, workers, progress)
    seconds = time.perf_counter() - start
    message = (
        f"wrote {counts['clips']:,} clips ({counts['train']:,} train, {counts['test']:,} test) "
        f"to {root} in {seconds:.1f} s"
    )
    return _result(root, params, counts, created=True, start=start, message=message)


def _result(
    root: Path, params: SynthParams, counts: dict[str, int], *, created: bool, start: float, message: str
) -> dict[str, Any]:
    return {
        "root": str(root),
        "created": created,
        "seconds": time.perf_counter() - start,
        "params": asdict(params),
        **counts,
        "message": message,
    }


def _existing_marker(root: Path, wanted: dict[str, Any]) -> dict[str, Any] | None:
    """The marker of the synthetic set already at ``root`` with the ``wanted`` parameters, ``None`` if ``root``
    is absent or an empty folder; a :class:`UserError` for anything else there."""
    if not root.exists():
        return None
    if not root.is_dir():
        raise UserError(
            f"cannot write the synthetic dataset to {root}: it exists and is a file, not a folder.",
            fix="Choose a new folder name (it will be created).",
        )
    marker = _read_marker(root)
    if marker is not None and {k: marker.get(k) for k in wanted} == wanted:
        return marker
    if marker is not None:
        raise UserError(
            f"{root} already holds a synthetic dataset made with other parameters "
            f"({marker.get('params')}, generator version {marker.get('version')}); asked for "
            f"{wanted['params']}, version {GENERATOR_VERSION}.",
            fix="Delete that folder first, or write to another folder.",
        )
    if any(root.iterdir()):
        raise UserError(
            f"cannot write the synthetic dataset to {root}: the folder exists and is not empty, and it "
            "is not a synthetic dataset written by asc-bench.",
            fix="Choose a new (or empty) folder; asc-bench never overwrites other files.",
        )
    return None


def _read_marker(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((root / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _build(
    root: Path, params: SynthParams, wanted: dict[str, Any], workers: int | None, progress: Progress | None
) -> dict[str, int]:
    """Write the whole set in a temporary folder beside ``root`` and rename it into place; returns the counts."""
    plan = plan_segments(params)
    tables = table_rows(params, plan)
    counts = clip_counts(tables)
    root.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_partials(root)
    with atomic_folder(root, prefix=f"{_partial_stem(root)}{os.getpid()}-") as tmp:
        (tmp / "audio").mkdir()
        write_tables(tmp, tables)
        write_synthetic_impulse_responses(tmp / IR_FOLDER, seed=params.seed)  # for the `dir` transform
        done = _render_audio(tmp, params.seed, plan, counts["clips"], workers, progress)
        if done != counts["clips"]:  # pragma: no cover - a bug, not a user error
            raise RuntimeError(f"synthetic dataset: wrote {done} clips, planned {counts['clips']}")
        marker = {**wanted, "counts": counts}
        (tmp / MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if root.exists():
            root.rmdir()  # empty (checked before), so the finished folder can take its place
    return counts


def _render_audio(
    folder: Path, seed: int, plan: list[Segment], total: int, workers: int | None, progress: Progress | None
) -> int:
    """Render every segment's recordings into ``folder/audio`` (in worker processes when there are several);
    returns the number of clips written."""
    n_workers = max(1, min(workers or os.cpu_count() or 1, 8))
    tasks = [plan[i : i + _SEGMENTS_PER_TASK] for i in range(0, len(plan), _SEGMENTS_PER_TASK)]
    done = 0
    if progress:
        progress(0, total)
    if n_workers == 1 or len(tasks) < 2:
        for task in tasks:
            done += render_chunk(seed, task, str(folder))
            if progress:
                progress(done, total)
        return done
    # spawn: safe even when the caller has torch (and its threads) loaded
    with ProcessPoolExecutor(n_workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(render_chunk, seed, task, str(folder)) for task in tasks]
        for future in futures:
            done += future.result()
            if progress:
                progress(done, total)
    return done


def _partial_stem(root: Path) -> str:
    """The start of the temporary folder's name; the process id and a random part follow."""
    return f".{root.name}.partial-"


def remove_abandoned_partials(root: Path) -> list[Path]:
    """Delete half-written folders of earlier runs for ``root`` whose process is gone (e.g. killed); a folder
    of a process that still runs (this one, or another user's) is left alone. Returns the folders removed."""
    stem = _partial_stem(root)
    removed = []
    for partial in sorted(root.parent.glob(f"{stem}*-*")):
        pid = partial.name[len(stem) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            shutil.rmtree(partial, ignore_errors=True)
            removed.append(partial)
    return removed


def params_for_clips(clips: int) -> dict[str, int]:
    """Generator parameters for at least ``clips`` clips (at the default layout: 300 clips per city,
    3,000 per segment of every location), for ``asc-bench data synth --clips N``."""
    if clips <= 0:
        raise UserError(f"--clips must be positive, not {clips}.", fix="Use e.g. --clips 3000.")
    full = synthetic_dataset_size()["clips"]
    per_city = full // len(CITIES)
    if clips <= full:
        return {"cities": max(2, -(-clips // per_city))}
    return {"segments_per_location": -(-clips // full)}


def size_params(clips: int | None, full_size: bool) -> dict[str, Any]:
    """The generator parameters for a size asked as ``clips`` (at least that many) or ``full_size``; neither:
    the default size (3,000 clips). Both at once is a :class:`UserError`."""
    if clips is not None and full_size:
        raise UserError("--clips and --full-size exclude each other.", fix="Give one of them.")
    if full_size:
        return dict(FULL_SIZE)
    return params_for_clips(clips) if clips is not None else {}
