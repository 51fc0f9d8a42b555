"""The built-in caches: exact rows, one build shared by trials and processes, damage and crashes recovered."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from filelock import FileLock

from asc_bench.api import Cache, CacheEntry, CacheRequest, ClearResult, UserError
from asc_bench.plugins import registry
from asc_bench.testing import check_cache
from asc_bench_plugins.caches._rows import compute_rows
from asc_bench_plugins.caches.memmap_files import IOV_MAX, CacheFiles, problem

SHAPE = (1, 4, 3)


class CountingFill:
    """Rows that depend only on the position (exact in float16), and a count of the rows computed."""

    def __init__(self, shape: tuple[int, ...] = SHAPE, scale: float = 1 / 8) -> None:
        self.rows = 0
        self.shape = shape
        self.scale = scale

    def expected(self, positions: np.ndarray) -> np.ndarray:
        cells = np.arange(int(np.prod(self.shape)), dtype=np.float32).reshape(self.shape) % 7
        rows = ((np.asarray(positions)[:, None] % 50).reshape(-1, *[1] * len(self.shape)) + cells) * self.scale
        return rows.astype(np.float32)

    def __call__(self, positions: np.ndarray) -> np.ndarray:
        self.rows += len(positions)
        return self.expected(positions)


def make(kind: str, **fields):  # noqa: ANN003, ANN201
    cls = registry.load("cache", kind)
    return cls(cls.Config(type=kind, **fields))


def request(fill: CountingFill, key: str = "k1", count: int = 10, **kwargs) -> CacheRequest:  # noqa: ANN003
    return CacheRequest(key=key, label="train", count=count, shape=fill.shape, fill=fill, chunk=4, **kwargs)


@pytest.mark.parametrize("kind", ["memory", "none", "memmap"])
def test_every_cache_returns_the_filled_rows(kind: str, tmp_path: Path) -> None:
    fields = {"dir": tmp_path} if kind == "memmap" else {}
    cache = make(kind, **fields)
    fill = CountingFill()
    req = request(fill)
    cache.prepare(req)
    store = cache.open(req)
    assert len(store) == 10
    positions = np.array([3, 0, 9, 3])
    rows = store.get(positions)
    assert rows.dtype == torch.float32 and rows.shape == (4, *SHAPE)
    np.testing.assert_array_equal(rows.numpy(), fill.expected(positions))


@pytest.mark.parametrize(
    ("dtype", "domain", "stored", "tolerance"),
    [
        ("auto", "waveform", "int16", 1 / 32768),
        ("auto", "features", "float16", 1e-3),
        ("float32", "waveform", "float32", 0),
    ],
)
def test_memmap_storage_dtype(tmp_path: Path, dtype: str, domain: str, stored: str, tolerance: float) -> None:
    fill = CountingFill(shape=(50,), scale=0.0137)
    req = request(fill, count=12, domain=domain)
    cache = make("memmap", dir=tmp_path, dtype=dtype)
    cache.prepare(req)
    assert np.load(cache.files(req).data, mmap_mode="r").dtype == np.dtype(stored)
    rows = cache.open(req).get(np.arange(12)).numpy()
    np.testing.assert_allclose(rows, fill.expected(np.arange(12)), rtol=tolerance, atol=tolerance)


def test_storage_dtype_is_part_of_the_key_and_int16_holds_waveforms_only(tmp_path: Path) -> None:
    req = request(CountingFill(), domain="waveform")
    paths = {make("memmap", dir=tmp_path, dtype=d).files(req).data for d in ("auto", "float16", "float32")}
    assert len(paths) == 3
    with pytest.raises(UserError, match="int16 stores waveforms only"):
        make("memmap", dir=tmp_path, dtype="int16").prepare(request(CountingFill(), domain="features"))


def test_float16_overflow_is_refused_with_a_fix(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"do not fit float16.*dtype to float32"):
        make("memmap", dir=tmp_path).prepare(request(CountingFill(scale=1e5)))
    assert not list(tmp_path.glob("*.npy")) and not list(tmp_path.glob("*.json"))


def test_memmap_builds_once_and_trials_only_open(tmp_path: Path) -> None:
    fill = CountingFill()
    progress: list[int] = []
    cache = make("memmap", dir=tmp_path)
    cache.prepare(request(fill), progress.append)
    assert fill.rows == 10 and sum(progress) == 10
    cache.prepare(request(fill))
    cache.open(request(fill))
    assert fill.rows == 10  # reused, not rebuilt
    files = sorted(p.suffix for p in tmp_path.iterdir())
    assert files == [".json", ".lock", ".npy"]
    meta = np.load(next(tmp_path.glob("*.npy")))  # a standard .npy file
    assert meta.shape == (10, *SHAPE)


def test_memmap_rebuilds_a_truncated_cache(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    fill = CountingFill()
    cache = make("memmap", dir=tmp_path)
    cache.prepare(request(fill))
    data = next(tmp_path.glob("*.npy"))
    data.write_bytes(data.read_bytes()[:-20])
    store = cache.open(request(fill))
    assert fill.rows == 20
    err = capsys.readouterr().err
    assert "is damaged" in err and "truncated" in err and "rebuilding" in err
    np.testing.assert_array_equal(store.get(np.array([9])).numpy(), fill.expected(np.array([9])))


def test_memmap_detects_flipped_bytes_by_checksum(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    fill = CountingFill()
    cache = make("memmap", dir=tmp_path)
    req = request(fill)
    cache.prepare(req)
    files = cache.files(req)
    raw = bytearray(files.data.read_bytes())
    raw[-3] ^= 0xFF  # last chunk, same size: only the checksum can tell
    files.data.write_bytes(bytes(raw))
    assert problem(files, None, "quick") is None
    assert "fail their checksum" in problem(files, None, "full")
    cache.prepare(req)
    assert fill.rows == 20 and "fail their checksum" in capsys.readouterr().err
    assert problem(files, None, "full") is None


def test_memmap_key_separates_caches(tmp_path: Path) -> None:
    cache = make("memmap", dir=tmp_path)
    cache.prepare(request(CountingFill(), key="a"))
    cache.prepare(request(CountingFill(), key="b"))
    assert len(list(tmp_path.glob("*.npy"))) == 2


def test_memmap_default_folder_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_BENCH_CACHE_DIR", str(tmp_path / "env-cache"))
    config = make("memmap").config.resolved()
    assert config.dir == tmp_path / "env-cache"


def test_row_reads_keep_order_repeats_and_long_runs(tmp_path: Path) -> None:
    fill = CountingFill(shape=(3,))
    count = IOV_MAX + 300
    req = CacheRequest(key="runs", label="train", count=count, shape=(3,), fill=fill, chunk=512)
    cache = make("memmap", dir=tmp_path, dtype="float32")
    cache.prepare(req)
    store = cache.open(req)
    positions = np.concatenate([np.arange(count)[::-1], [5, 5, 0], np.arange(100, 1200)])
    np.testing.assert_array_equal(store.get(positions).numpy(), fill.expected(positions))
    assert store.get(np.array([], dtype=np.int64)).shape == (0, 3)
    first = store.get(np.array([1, 2]))
    store.get(np.array([7, 8]))
    np.testing.assert_array_equal(first.numpy(), fill.expected(np.array([1, 2])), "batches own their rows")
    with pytest.raises(IndexError):
        store.get(np.array([count]))


def test_parallel_build_equals_serial_and_restores_torch_threads() -> None:
    fill = CountingFill()
    req = request(fill, count=37)
    serial, parallel = np.zeros((37, *SHAPE), np.float32), np.zeros((37, *SHAPE), np.float32)
    order: list[int] = []

    def write_serial(start: int, rows: np.ndarray) -> None:
        serial[start : start + len(rows)] = rows

    def write_parallel(start: int, rows: np.ndarray) -> None:
        order.append(start)
        parallel[start : start + len(rows)] = rows

    threads = torch.get_num_threads()
    compute_rows(req, write_serial)
    compute_rows(req, write_parallel, workers=2)
    np.testing.assert_array_equal(serial, parallel)
    assert order == sorted(order) and torch.get_num_threads() == threads


def test_a_failing_chunk_stops_the_build_and_keeps_nothing(tmp_path: Path) -> None:
    def fill(positions: np.ndarray) -> np.ndarray:
        if positions[0] >= 8:
            raise RuntimeError("decoder exploded")
        return np.zeros((len(positions), *SHAPE), np.float32)

    cache = make("memmap", dir=tmp_path, workers=2)
    with pytest.raises(RuntimeError, match="decoder exploded"):
        cache.prepare(CacheRequest(key="bad", label="train", count=40, shape=SHAPE, fill=fill, chunk=4))
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".lock"]


def test_disk_full_in_the_middle_of_a_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_pwrite = os.pwrite
    calls = {"n": 0}

    def failing_pwrite(fd: int, data: bytes, offset: int) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", failing_pwrite)
    cache = make("memmap", dir=tmp_path)
    fill = CountingFill()
    with pytest.raises(UserError, match=r"No space left on device.*Nothing half-written was kept.*Free disk space"):
        cache.prepare(request(fill))
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".lock"]
    monkeypatch.setattr(os, "pwrite", real_pwrite)
    cache.prepare(request(fill))
    np.testing.assert_array_equal(cache.open(request(fill)).get(np.arange(10)).numpy(), fill.expected(np.arange(10)))


# ------------------------------------------------------------------------------------ separate processes

BUILDER = textwrap.dedent(
    """
    import sys, time, numpy as np
    from pathlib import Path
    from asc_bench.api import CacheRequest
    from asc_bench_plugins.caches.memmap import MemmapCache, MemmapConfig

    folder, delay, log, gate = Path(sys.argv[1]), float(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])

    def fill(positions):
        with open(log, "a") as f:
            f.write(f"{len(positions)}\\n")
        deadline = time.monotonic() + 60
        while gate.name != "-" and not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.02)  # the test holds the build here until it opens the gate
        time.sleep(delay)
        return np.stack([np.full((256,), p % 50, np.float32) for p in positions])

    cache = MemmapCache(MemmapConfig(dir=folder, dtype="float32", workers=1))
    request = CacheRequest(key="shared", label="train", count=64, shape=(256,), fill=fill, chunk=8)
    cache.prepare(request)
    rows = cache.open(request).get(np.arange(64)).numpy()
    assert (rows[:, 0] == np.arange(64) % 50).all()
    print("ok")
    """
)


def _builder(folder: Path, delay: float, log: Path, gate: str = "-", **kwargs) -> subprocess.Popen:  # noqa: ANN003
    args = [sys.executable, "-c", BUILDER, str(folder), str(delay), str(log), gate]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _wait_for_partial(folder: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not list(folder.glob("*.partial-*.npy")):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.02)


def test_two_processes_building_the_same_cache_build_it_once(tmp_path: Path) -> None:
    log, gate = tmp_path / "fills.log", tmp_path / "gate"
    first = _builder(tmp_path / "c", 0.0, log, str(gate))
    _wait_for_partial(tmp_path / "c", first)
    second = _builder(tmp_path / "c", 0.0, log)  # starts while the first is building
    waiting = second.stderr.readline()  # blocks until the second reports that it waits for the first
    gate.touch()
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    assert sum(int(n) for n in log.read_text().split()) == 64, "the rows were computed once"
    assert "waiting for another process" in waiting


def test_a_killed_build_is_recovered_by_the_next_run(tmp_path: Path) -> None:
    folder, log = tmp_path / "c", tmp_path / "fills.log"
    victim = _builder(folder, 0.5, log)
    _wait_for_partial(folder, victim)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    memmap = registry.load("cache", "memmap")
    entries = memmap.inventory(folder)
    assert "left over by a killed build" in {e.status for e in entries}
    assert not any(e.building or e.ok for e in entries)
    again = _builder(folder, 0.0, log)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0 and out.strip() == "ok", err
    assert "was interrupted; removing what it left" in err
    assert not list(folder.glob("*.partial-*")), "the killed build's partial file is gone"
    assert [e.status for e in memmap.inventory(folder)] == ["ok"]


def test_full_disk_in_a_real_process_is_a_clear_error(tmp_path: Path) -> None:
    import resource

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write over the limit fails with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (32_000, 32_000))

    proc = _builder(tmp_path / "c", 0.0, tmp_path / "log", preexec_fn=small_files)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "File too large" in err and "Nothing half-written was kept" in err
    assert [p.suffix for p in (tmp_path / "c").iterdir()] == [".lock"]


def test_clear_removes_caches_but_not_one_being_built(tmp_path: Path) -> None:
    memmap = registry.load("cache", "memmap")
    cache = make("memmap", dir=tmp_path)
    for key in ("a", "b", "c"):
        cache.prepare(request(CountingFill(), key=key))
    keys = sorted(e.key for e in memmap.inventory(tmp_path))
    busy = CacheFiles(tmp_path, keys[0])
    with FileLock(str(busy.lock)):
        result = memmap.clear(folder=tmp_path)
    assert result.busy == [keys[0]] and sorted(result.removed) == keys[1:] and result.freed > 0
    assert [e.key for e in memmap.inventory(tmp_path)] == [keys[0]]
    assert memmap.clear([keys[0][:6]], folder=tmp_path).removed == [keys[0]]
    assert list(tmp_path.iterdir()) == []
    assert memmap.clear(["abc"], folder=tmp_path) == ClearResult()


# ------------------------------------------------------------------------------- what `cache ls / clear` use


def test_memmap_inventory_describes_each_cache(tmp_path: Path) -> None:
    cache = make("memmap", dir=tmp_path)
    req = request(CountingFill(), count=12, domain="waveform", key_parts={"domain": "waveform", "sample_rate": 8})
    assert cache.location(req) == str(cache.files(req).data)
    cache.prepare(req)
    (entry,) = type(cache).inventory(tmp_path, verify=True)
    assert isinstance(entry, CacheEntry) and entry.ok and not entry.building
    assert entry.key == cache.files(req).key and entry.location == cache.location(req)
    assert (entry.label, entry.count, entry.shape, entry.dtype) == ("train", 12, SHAPE, "int16")
    assert entry.key_parts == {"domain": "waveform", "sample_rate": 8} and entry.created.startswith("20")
    assert entry.size == sum(p.stat().st_size for p in tmp_path.iterdir() if p.suffix in (".npy", ".json"))
    data = cache.files(req).data
    data.write_bytes(data.read_bytes()[:-4])
    (damaged,) = type(cache).inventory(tmp_path)
    assert not damaged.ok and "truncated" in damaged.status
    assert type(cache).inventory(tmp_path / "nowhere") == []


def test_memmap_default_folder_and_lists_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_BENCH_CACHE_DIR", str(tmp_path / "env-cache"))
    memmap = registry.load("cache", "memmap")
    assert memmap.default_folder() == tmp_path / "env-cache"
    make("memmap").prepare(request(CountingFill()))
    assert [e.ok for e in memmap.inventory()] == [True]
    assert len(memmap.clear().removed) == 1 and memmap.inventory() == []


@pytest.mark.parametrize("kind", ["memory", "none"])
def test_caches_that_keep_nothing_on_disk_list_and_clear_nothing(kind: str) -> None:
    cls = registry.load("cache", kind)
    assert cls.default_folder() is None and cls.inventory() == [] and cls.inventory(verify=True) == []
    assert cls.clear() == ClearResult() and cls.clear(["abc"]) == ClearResult(removed=[], busy=[], freed=0)
    assert make(kind).location(request(CountingFill())) is None


def test_cache_contract_defaults() -> None:
    class Bare(Cache):
        """Keeps nothing."""

        def open(self, request: CacheRequest):  # noqa: ANN202
            raise NotImplementedError

    assert Bare.default_folder() is None and Bare.inventory() == [] and Bare.clear() == ClearResult()
    assert CacheEntry("k", "ok").ok and not CacheEntry("k", "left over by a killed build").ok


def test_memmap_passes_the_kit_with_its_listing(tmp_path: Path) -> None:
    check_cache(registry.load("cache", "memmap"), {"dir": tmp_path}, folder=tmp_path)
