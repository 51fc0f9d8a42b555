"""The built-in caches: same rows from every cache, one build shared by trials, damaged caches rebuilt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asc_bench import registry
from asc_bench.api import CacheRequest


class CountingFill:
    """Rows that depend only on the position, and a count of how many rows were computed."""

    def __init__(self) -> None:
        self.rows = 0

    def __call__(self, positions: np.ndarray) -> np.ndarray:
        self.rows += len(positions)
        return np.stack([np.full((1, 4, 3), p / 7, dtype=np.float32) for p in positions])


def make(kind: str, **fields):  # noqa: ANN003, ANN201
    cls = registry.load("cache", kind)
    return cls(cls.Config(type=kind, **fields))


def request(fill: CountingFill, key: str = "k1", count: int = 10) -> CacheRequest:
    return CacheRequest(key=key, label="train", count=count, shape=(1, 4, 3), fill=fill, chunk=4)


@pytest.mark.parametrize("kind", ["memory", "none", "memmap"])
def test_every_cache_returns_the_filled_rows(kind: str, tmp_path: Path) -> None:
    fields = {"dir": tmp_path} if kind == "memmap" else {}
    cache = make(kind, **fields)
    req = request(CountingFill())
    cache.prepare(req)
    store = cache.open(req)
    assert len(store) == 10
    rows = store.get(np.array([3, 0, 9]))
    assert rows.shape == (3, 1, 4, 3)
    np.testing.assert_allclose(rows[:, 0, 0, 0].numpy(), np.array([3, 0, 9]) / 7, rtol=1e-3)


def test_memmap_builds_once_and_trials_only_open(tmp_path: Path) -> None:
    fill = CountingFill()
    progress: list[int] = []
    cache = make("memmap", dir=tmp_path)
    cache.prepare(request(fill), progress.append)
    assert fill.rows == 10 and sum(progress) == 10
    cache.prepare(request(fill))
    cache.open(request(fill))
    assert fill.rows == 10  # reused, not rebuilt
    assert sorted(p.suffix for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [".json", ".npy"]


def test_memmap_rebuilds_a_truncated_cache(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    fill = CountingFill()
    cache = make("memmap", dir=tmp_path)
    cache.prepare(request(fill))
    data = next(tmp_path.glob("*.npy"))
    data.write_bytes(data.read_bytes()[:-20])
    store = cache.open(request(fill))
    assert fill.rows == 20
    assert "damaged or incomplete" in capsys.readouterr().err
    assert float(store.get(np.array([9]))[0, 0, 0, 0]) == pytest.approx(9 / 7, rel=1e-3)


def test_memmap_key_separates_caches(tmp_path: Path) -> None:
    cache = make("memmap", dir=tmp_path)
    cache.prepare(request(CountingFill(), key="a"))
    cache.prepare(request(CountingFill(), key="b"))
    assert len(list(tmp_path.glob("*.npy"))) == 2


def test_memmap_default_folder_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_BENCH_CACHE_DIR", str(tmp_path / "env-cache"))
    config = make("memmap").config.resolved()
    assert config.dir == tmp_path / "env-cache"
