"""Conformance of a cache plugin: exact round trip, one build shared by opens, separate keys, atomic builds."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import torch

from asc_bench.api import Cache, CacheEntry, CacheRequest, ClearResult
from asc_bench.testing._common import check_config, config_for, expect, fail

SHAPE = (1, 4, 3)


class _BrokenFill(RuntimeError):
    """Raised by the kit's failing fill, to check that a cache does not keep a half-built result."""


class RowSource:
    """``fill`` for a :class:`CacheRequest`: rows that depend on the position (exact in float16), counted."""

    def __init__(self, offset: int = 0, *, fail_after: int | None = None) -> None:
        self.offset = offset
        self.fail_after = fail_after
        self.rows = 0
        self.largest_chunk = 0

    def expected(self, positions: np.ndarray) -> np.ndarray:
        """The rows a correct cache returns for ``positions``."""
        cells = np.arange(int(np.prod(SHAPE)), dtype=np.float32).reshape(SHAPE)
        return ((positions[:, None, None, None] * 16 + self.offset + cells) / 8).astype(np.float32)

    def __call__(self, positions: np.ndarray) -> np.ndarray:
        if self.fail_after is not None and self.rows + len(positions) > self.fail_after:
            raise _BrokenFill("the conformance kit's fill failed on purpose")
        self.rows += len(positions)
        self.largest_chunk = max(self.largest_chunk, len(positions))
        rows = self.expected(np.asarray(positions))
        return -rows if self.fail_after is not None else rows  # a failing build writes wrong rows first


def _request(source: RowSource, key: str, count: int, chunk: int = 4) -> CacheRequest:
    return CacheRequest(key=key, label="train", count=count, shape=SHAPE, fill=source, chunk=chunk)


def _read_all(cache: Cache, request: CacheRequest) -> torch.Tensor:
    cache.prepare(request)
    store = cache.open(request)
    return store.get(np.arange(request.count))


def check_cache(cls: type, config: Any = None, *, count: int = 10, folder: Path | None = None) -> Cache:
    """Check a cache plugin the way the built-in caches are checked; returns the instance.

    Give a ``config`` that writes into a temporary folder for caches that write files, and that ``folder`` to
    check what ``asc-bench cache ls / clear`` see. Checks:

    - the plugin contract and documented options;
    - ``prepare`` then ``open``: ``len(store) == count`` and ``get(positions)`` returns exactly the filled
      rows (float32, in the order asked, repeats allowed); ``fill`` is asked for at most ``chunk`` rows
      at a time; ``progress`` adds up to the rows ``prepare`` built; ``open`` does not rebuild what
      ``prepare`` built (trials only open);
    - requests with different keys get their own rows;
    - a build whose ``fill`` fails propagates the error and leaves nothing that a later request with the
      same key would take as complete;
    - ``location(request)`` is text or ``None``; a cache without a ``default_folder()`` lists nothing and
      clears nothing; with ``folder``: ``inventory(folder)`` lists the caches built, complete, as
      :class:`~asc_bench.api.CacheEntry`, and ``clear(folder=folder)`` removes them all.
    """
    check_config(cls, "cache")
    expect(issubclass(cls, Cache), cls, "must subclass asc_bench.api.Cache")
    cache = cls(config_for(cls, config))
    key = f"kit-{uuid.uuid4().hex[:12]}"

    source = RowSource()
    request = _request(source, key, count)
    progress: list[int] = []
    cache.prepare(request, progress.append)
    built = source.rows
    expect(built in (0, count), cls, f"prepare built {built} rows of {count}")
    expect(sum(progress) == built, cls, f"prepare built {built} rows but reported progress {sum(progress)}")
    store = cache.open(request)
    if built:
        expect(source.rows == built, cls, "open rebuilt rows that prepare had built (trials must only open)")
    expect(len(store) == count, cls, f"len(store) is {len(store)}, expected {count}")
    expect(source.largest_chunk <= request.chunk, cls, f"fill was asked for more than chunk={request.chunk} rows")
    positions = np.array([count - 1, 0, 3, 3, 1])
    rows = store.get(positions)
    expect(isinstance(rows, torch.Tensor) and rows.dtype == torch.float32, cls, "get must return a float32 tensor")
    expect(rows.shape == (len(positions), *SHAPE), cls, f"get gave shape {tuple(rows.shape)}")
    expect(np.array_equal(rows.numpy(), source.expected(positions)), cls, "get returned other rows than filled")

    other_source = RowSource(offset=1000)
    other = _read_all(cache, _request(other_source, key + "-other", count))
    expect(np.array_equal(other.numpy(), other_source.expected(np.arange(count))), cls, "keys are not kept apart")
    again = _read_all(cache, _request(RowSource(), key, count))
    expect(np.array_equal(again.numpy(), source.expected(np.arange(count))), cls, "a key lost its rows")

    _check_failed_build(cls, cache, key + "-broken", count)
    _check_listing(cls, cache, request, folder)
    return cache


def _check_listing(cls: type[Cache], cache: Cache, request: CacheRequest, folder: Path | None) -> None:
    location = cache.location(request)
    expect(location is None or isinstance(location, str), cls, "location(request) must return a str or None")
    if cls.default_folder() is None and folder is None:
        expect(cls.inventory() == [], cls, "a cache without a default_folder() must list nothing")
        cleared = cls.clear()
        expect(cleared == ClearResult(), cls, "a cache without a default_folder() must clear nothing")
    if folder is None:
        return
    entries = cls.inventory(Path(folder), verify=True)
    expect(all(isinstance(e, CacheEntry) for e in entries), cls, "inventory() must return CacheEntry items")
    expect(len(entries) >= 3, cls, f"inventory({folder}) lists {len(entries)} caches, 3 were built there")
    bad = [f"{e.key}: {e.status}" for e in entries if not e.ok]
    expect(not bad, cls, f"inventory(verify=True) finds built caches incomplete: {'; '.join(bad)}")
    result = cls.clear(folder=Path(folder))
    expect(isinstance(result, ClearResult), cls, "clear() must return a ClearResult")
    expect(sorted(result.removed) == sorted({e.key for e in entries}), cls, "clear() did not remove every cache")
    expect(result.freed > 0 and not result.busy, cls, f"clear() freed {result.freed} bytes, kept {result.busy}")
    expect(cls.inventory(Path(folder)) == [], cls, "inventory() still lists caches after clear()")


def _check_failed_build(cls: type, cache: Cache, key: str, count: int) -> None:
    broken = _request(RowSource(fail_after=4), key, count)
    try:
        _read_all(cache, broken)
    except _BrokenFill:
        pass
    except Exception as exc:  # a cache may wrap the error, but it must not swallow it
        if "failed on purpose" not in str(exc) and not isinstance(exc.__cause__, _BrokenFill):
            fail(cls, f"a failing fill raised {type(exc).__name__}: {exc}, which hides the cause")
    else:
        fail(cls, "a fill that raised an error did not make prepare/open/get fail")
    good = RowSource()
    rows = _read_all(cache, _request(good, key, count))
    expect(
        np.array_equal(rows.numpy(), good.expected(np.arange(count))),
        cls,
        "after a failed build, the same key returned the half-built rows (build atomically)",
    )
