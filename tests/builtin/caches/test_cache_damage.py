"""A memmap cache damaged on disk after it was built (4 KB flipped in the middle of the file) is never used:
the driver's check before a run verifies every chunk and rebuilds it, a trial verifies each chunk on its first
read, `cache build` rebuilds it and `cache ls --verify` fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from asc_bench.api import CacheRequest, UserError
from asc_bench.plugins import registry
from asc_bench_plugins.caches.memmap_files import problem

CLI = [sys.executable, "-m", "asc_bench.cli"]
SHAPE = (2, 64)


def _fill(positions: np.ndarray) -> np.ndarray:
    return (np.asarray(positions, dtype=np.float32)[:, None, None] % 97 + np.zeros(SHAPE, np.float32)) / 128


def _cache(folder: Path):  # noqa: ANN202
    cls = registry.load("cache", "memmap")
    return cls(cls.Config(type="memmap", dir=folder))


def _request(count: int = 400) -> CacheRequest:
    return CacheRequest(key="k", label="train", count=count, shape=SHAPE, fill=_fill, chunk=16)


def flip(path: Path, at: float = 0.5, size: int = 4096) -> None:
    """Invert ``size`` bytes from fraction ``at`` of a file on, keeping its size (only checksums can tell)."""
    raw = bytearray(path.read_bytes())
    start = int(len(raw) * at)
    raw[start : start + size] = bytes(b ^ 0xFF for b in raw[start : start + size])
    path.write_bytes(bytes(raw))


def test_the_check_before_a_run_finds_damage_anywhere_and_rebuilds(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    cache, req = _cache(tmp_path), _request()
    cache.prepare(req)
    files = cache.files(req)
    flip(files.data, at=0.3)  # rows 120-135: not the first, middle (chunk 12) or last chunk
    assert problem(files, None, "quick") is None  # sizes and header are intact
    cache.prepare(req)
    assert "fail their checksum; rebuilding it" in capsys.readouterr().err
    assert problem(files, None, "full") is None


def test_a_trial_verifies_each_chunk_on_its_first_read(tmp_path: Path) -> None:
    cache, req = _cache(tmp_path), _request()
    cache.prepare(req)
    files = cache.files(req)
    store = cache.open(req)
    np.testing.assert_array_equal(store.get(np.array([3, 399])).numpy(), _fill(np.array([3, 399])))
    flip(files.data)
    with pytest.raises(UserError, match=r"is damaged: rows 192-207 fail their checksum"):
        store.get(np.array([5, 200]))
    assert not files.meta.exists()  # so the next run rebuilds it, however large
    fresh = cache.open(req)  # what the next trial does: the cache is rebuilt first
    np.testing.assert_array_equal(fresh.get(np.arange(400)).numpy(), _fill(np.arange(400)))


def _cli(*args: object, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "250", "ASC_BENCH_CACHE_DIR": str(cache)}
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, env=env, timeout=900)


@pytest.mark.slow
def test_a_damaged_cache_is_rebuilt_by_the_next_run_with_equal_metrics(finished_run: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"  # its own: the session's cache holds other specs' entries (and other workers write)
    original = finished_run.parents[3]
    spec = tmp_path / "spec.yaml"
    spec.write_text((original / "spec.yaml").read_text().replace(str(original), str(tmp_path)))
    built = _cli("cache", "build", spec, cache=cache)
    assert built.returncode == 0 and "built in" in built.stdout, built.stdout + built.stderr
    arrays = sorted(cache.glob("*.npy"))
    for path in arrays:
        flip(path)

    listed = _cli("cache", "ls", "--verify", cache=cache)
    assert listed.returncode == 2 and "fail their checksum" in listed.stdout, listed.stdout + listed.stderr
    ran = _cli("run", spec, "--no-leaderboard", cache=cache)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert " ".join(ran.stderr.split()).count("fail their checksum; rebuilding it") >= 1
    (record,) = (tmp_path / "runs" / "finished").glob("*/*/record.json")
    clean = json.loads((finished_run / "record.json").read_text())
    assert json.loads(record.read_text())["metrics"] == clean["metrics"]
    assert _cli("cache", "ls", "--verify", cache=cache).returncode == 0
