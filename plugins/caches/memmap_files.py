"""The files of the ``memmap`` cache: one ``.npy`` array of rows per cache key, its ``.json`` metadata, reads.

``<key>.npy`` is a standard NumPy array (``np.load(path, mmap_mode="r")`` opens it) written under the name
``<key>.partial-<pid>.npy`` and renamed when complete; ``<key>.json`` is written last and is what makes a
cache complete: it holds the shape, storage dtype, byte size, a CRC-32 per chunk of rows and the parts the
key was made of. ``<key>.lock`` serialises builds of one key across processes.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from asc_bench.api import CacheEntry, ClipStore, UserError, process_alive

if TYPE_CHECKING:
    import torch

FORMAT = 2
FULL_CHECK_BYTES = 2 << 30
"""Caches up to this size have every chunk's checksum verified before each run; larger ones the first, middle
and last chunk, and every chunk when a process first reads it."""
INT16_SCALE = 1.0 / 32768.0
IOV_MAX = 1024
_PARTIAL = re.compile(r"^(?P<key>[0-9a-f]+)\.partial-(?P<pid>\d+)\.npy$")
Check = Literal["quick", "sample", "full"]


@dataclass(frozen=True)
class CacheFiles:
    """The paths of one cache key in a folder."""

    folder: Path
    key: str

    @property
    def data(self) -> Path:
        return self.folder / f"{self.key}.npy"

    @property
    def meta(self) -> Path:
        return self.folder / f"{self.key}.json"

    @property
    def lock(self) -> Path:
        return self.folder / f"{self.key}.lock"

    def partial(self, pid: int) -> Path:
        return self.folder / f"{self.key}.partial-{pid}.npy"

    def partials(self) -> list[Path]:
        """Partial files of this key: rows being written (or left by a killed build), metadata being written."""
        return sorted(self.folder.glob(f"{self.key}.partial-*.npy")) + sorted(
            self.folder.glob(f".{self.meta.name}.*.partial")
        )

    def remove(self) -> int:
        """Delete the data, metadata and any partial file of this key; returns the bytes freed."""
        freed = 0
        legacy = self.meta.with_name(self.meta.name + ".partial")  # what earlier versions named metadata being written
        for path in (self.data, self.meta, legacy, *self.partials()):
            try:
                freed += path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                pass
        return freed


def npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """The ``.npy`` header of a C-ordered array (format 2.0, padded so the data starts aligned)."""
    buffer = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_2_0(buffer, header)
    return buffer.getvalue()


def pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    """Write all of ``data`` at ``offset`` (an ``OSError`` such as ENOSPC propagates)."""
    while len(data):
        done = os.pwrite(fd, data, offset)
        if done <= 0:
            raise OSError(errno.EIO, "write made no progress")
        data, offset = data[done:], offset + done


def allocate(fd: int, size: int) -> None:
    """Reserve ``size`` bytes on disk now, so a full disk fails here and not in the middle of the build."""
    if hasattr(os, "posix_fallocate"):
        os.posix_fallocate(fd, 0, size)
    else:  # pragma: no cover - platforms without fallocate
        os.ftruncate(fd, size)


def encode(rows: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """float32 rows in the storage dtype (int16: full scale ±1; float16 refuses values it cannot hold)."""
    if dtype == np.int16:
        return np.clip(np.rint(rows * 32768.0), -32768, 32767).astype(np.int16)
    with np.errstate(over="ignore"):
        encoded = rows.astype(dtype)
    if dtype == np.float16 and not np.isfinite(encoded).all() and np.isfinite(rows).all():
        raise ValueError(f"cached values up to {np.abs(rows).max():.4g} do not fit float16 (at most 65504)")
    return np.ascontiguousarray(encoded)


def read_meta(files: CacheFiles) -> dict[str, Any] | None:
    try:
        meta = json.loads(files.meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def problem(files: CacheFiles, expected: dict[str, Any] | None, level: Check) -> str | None:
    """Why the cache of ``files`` cannot be used (``None`` if it can): metadata, size, header, checksums.

    ``expected`` holds metadata fields the request fixes (count, shape, dtype); ``level`` says how many
    chunks' checksums are verified: none (``quick``), all (``full``), or ``sample``: all up to
    :data:`FULL_CHECK_BYTES`, first/middle/last beyond.
    """
    meta = read_meta(files)
    if meta is None:
        return "it has no metadata (an interrupted build?)"
    for name, value in {"format": FORMAT, **(expected or {})}.items():
        if meta.get(name) != value:
            return f"its {name} is {meta.get(name)!r}, expected {value!r}"
    try:
        size = files.data.stat().st_size
    except OSError:
        return "its data file is missing"
    if size != meta.get("nbytes"):
        return f"its data file has {size:,} bytes, expected {meta.get('nbytes'):,} (truncated?)"
    try:
        with open(files.data, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
            offset = f.tell()
    except (OSError, ValueError) as exc:
        return f"its header cannot be read ({exc})"
    if list(shape) != [meta["count"], *meta["shape"]] or str(dtype) != meta["dtype"] or offset != meta["offset"]:
        return "its header does not match its metadata"
    crcs = meta.get("crc32", [])
    chunks = list(range(len(crcs)))
    if level == "sample" and size > FULL_CHECK_BYTES:
        chunks = sorted({0, len(crcs) // 2, len(crcs) - 1} & set(chunks))
    elif level == "quick":
        chunks = []
    for index, crc in _checksums(files.data, meta, chunks):
        if crc != crcs[index]:
            return f"{_rows_text(meta, index)} fail their checksum"
    return None


def _rows_text(meta: dict[str, Any], index: int) -> str:
    first = index * meta["chunk"]
    return f"rows {first:,}-{min(first + meta['chunk'], meta['count']) - 1:,}"


def _checksums(path: Path, meta: dict[str, Any], chunks: list[int]) -> Iterator[tuple[int, int]]:
    row_bytes = int(np.prod(meta["shape"], dtype=np.int64)) * np.dtype(meta["dtype"]).itemsize
    with open(path, "rb", buffering=0) as f:
        for index in chunks:
            first = index * meta["chunk"]
            rows = min(meta["chunk"], meta["count"] - first)
            f.seek(meta["offset"] + first * row_bytes)
            yield index, zlib.crc32(f.read(rows * row_bytes))


class RowFile(ClipStore):
    """Rows read from a cache file with positioned reads (sorted, runs of neighbours in one call).

    Reads go into a reused buffer (one per thread) rather than through a memory map, so a process's
    resident memory stays at one batch however large the cache (the page cache still serves repeated
    reads); the float32 rows returned are a new tensor. The first read of a chunk verifies its checksum.
    """

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path = path
        self.meta = meta
        self._verified: set[int] = set()
        self.count = int(meta["count"])
        self.shape = tuple(meta["shape"])
        self.dtype = np.dtype(meta["dtype"])
        self.offset = int(meta["offset"])
        self.row_bytes = int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize
        self._fd: int | None = None
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__, _fd=None)
        del state["_local"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _local=threading.local())

    def _buffer(self, rows: int) -> np.ndarray:
        buffer = getattr(self._local, "buffer", None)
        if buffer is None or len(buffer) < rows:
            buffer = self._local.buffer = np.empty((rows, *self.shape), dtype=self.dtype)
        return buffer[:rows]

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self.count

    def get(self, positions: np.ndarray) -> torch.Tensor:
        import torch

        positions = np.asarray(positions, dtype=np.int64).reshape(-1)
        if len(positions) and (positions.min() < 0 or positions.max() >= self.count):
            raise IndexError(f"cache rows {positions.min()}..{positions.max()} outside 0..{self.count - 1}")
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        out = self._buffer(len(positions))
        order = np.argsort(positions, kind="stable")
        ordered = positions[order]
        self._verify(ordered)
        runs = np.flatnonzero(np.diff(ordered) != 1) + 1
        for run in np.split(np.arange(len(order)), runs):
            for part in range(0, len(run), IOV_MAX):
                slots = order[run[part : part + IOV_MAX]]
                views = [memoryview(out[i]).cast("B") for i in slots]
                self._read(views, self.offset + int(ordered[run[part]]) * self.row_bytes)
        rows = torch.from_numpy(out).to(torch.float32, copy=True)  # a copy even for float32: the buffer is reused
        return rows.mul_(INT16_SCALE) if self.dtype == np.int16 else rows

    def _verify(self, ordered: np.ndarray) -> None:
        """Check the checksum of every chunk of these rows that this process has not read before."""
        chunk, crcs = int(self.meta.get("chunk") or 0), self.meta.get("crc32") or []
        if not chunk or not crcs:
            return
        for index in sorted(set((ordered // chunk).tolist()) - self._verified):
            first = index * chunk
            size = min(chunk, self.count - first) * self.row_bytes
            if zlib.crc32(os.pread(self._fd, size, self.offset + first * self.row_bytes)) != crcs[index]:
                self.path.with_suffix(".json").unlink(missing_ok=True)  # the next run rebuilds it
                raise UserError(
                    f"the cache file {self.path} is damaged: {_rows_text(self.meta, index)} fail their checksum "
                    "(changed on disk after it was built).",
                    fix="Run again: the cache is rebuilt before the next run (its metadata was removed).",
                )
            self._verified.add(index)

    def _read(self, views: list[memoryview], offset: int) -> None:
        expected = len(views) * self.row_bytes
        done = os.preadv(self._fd, views, offset)  # type: ignore[arg-type]
        if done != expected:
            raise OSError(errno.EIO, f"{self.path} is shorter than its metadata says (truncated while in use?)")


def inventory(folder: Path, level: Check = "quick") -> list[CacheEntry]:
    """Every cache in ``folder``: its metadata (if any), size and status (checked at ``level``), and the partial
    files of builds that run or were killed."""
    keys = {p.stem for p in folder.glob("*.json")} | {p.stem for p in folder.glob("*.npy") if "." not in p.stem}
    entries = []
    for key in sorted(keys):
        files = CacheFiles(folder, key)
        meta = read_meta(files) or {}
        size = sum(p.stat().st_size for p in (files.data, files.meta) if p.exists())
        shape = meta.get("shape")
        entries.append(
            CacheEntry(
                key=key,
                status=problem(files, None, level) or "ok",
                size=size,
                label=meta.get("label"),
                count=meta.get("count"),
                shape=tuple(shape) if isinstance(shape, list) else None,
                dtype=meta.get("dtype"),
                created=meta.get("created"),
                key_parts=meta.get("key_parts") or {},
                location=str(files.data),
            )
        )
    for path in sorted(folder.glob("*.partial-*.npy")):
        match = _PARTIAL.match(path.name)
        if match:
            alive = process_alive(int(match["pid"]))
            status = f"being built by process {match['pid']}" if alive else "left over by a killed build"
            entries.append(
                CacheEntry(
                    key=match["key"], status=status, size=path.stat().st_size, location=str(path), building=alive
                )
            )
    return entries
