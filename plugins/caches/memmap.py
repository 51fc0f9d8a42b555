"""The ``memmap`` cache: one array file per split and cached prefix, built once, atomically, under a lock.

The rows are built in the driver on every core, written under a temporary name (space reserved up front,
so a full disk fails at once) and renamed when complete; the metadata file written last, with a checksum
per chunk, makes the cache complete. Concurrent builders of one key wait for the first; a damaged or
truncated cache is detected, reported and rebuilt: before each run every chunk's checksum is verified (a
sample of chunks for files over 2 GiB), and a trial verifies each chunk the first time it reads it. Trials read
rows with positioned reads, so their memory stays flat however large the cache (see :mod:`.memmap_files`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from filelock import FileLock, Timeout
from pydantic import Field

from asc_bench.api import (
    Cache,
    CacheEntry,
    CacheRequest,
    ClearResult,
    ClipStore,
    PluginConfig,
    UserError,
    atomic_write_text,
    non_semantic,
)
from asc_bench_plugins.caches._rows import compute_rows, cores
from asc_bench_plugins.caches.memmap_files import (
    FORMAT,
    CacheFiles,
    RowFile,
    allocate,
    encode,
    inventory,
    npy_header,
    problem,
    pwrite_all,
    read_meta,
)

CACHE_DIR_ENV = "ASC_BENCH_CACHE_DIR"
StorageDtype = Literal["auto", "float16", "int16", "float32"]


def default_cache_dir() -> Path:
    """``$ASC_BENCH_CACHE_DIR``, else ``~/.cache/asc-bench``."""
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env) if env else Path.home() / ".cache" / "asc-bench"


class MemmapConfig(PluginConfig):
    type: Literal["memmap"] = "memmap"
    dir: Path | None = non_semantic(
        None, description=f"Cache folder (default: ${CACHE_DIR_ENV} or ~/.cache/asc-bench)."
    )
    dtype: StorageDtype = Field(
        "auto",
        description="Storage of cached rows: auto = int16 for waveforms and float16 for features; float32 is "
        "exact and twice the size; int16 holds waveforms only.",
    )
    workers: int | None = non_semantic(None, ge=1, description="Threads building the cache (default: every core).")

    def resolved(self) -> MemmapConfig:
        """The cache folder fixed in the driver, so every trial and node uses the same one."""
        return self.model_copy(update={"dir": Path(self.dir or default_cache_dir()).expanduser().absolute()})


class MemmapCache(Cache):
    """One array file per split and cached prefix, keyed by content, built once and shared by all trials."""

    Config = MemmapConfig
    config: MemmapConfig

    @property
    def folder(self) -> Path:
        return Path(self.config.dir).expanduser() if self.config.dir else default_cache_dir()

    def storage_dtype(self, request: CacheRequest) -> np.dtype:
        """The dtype rows of ``request`` are stored in."""
        name = self.config.dtype
        if name == "auto":
            name = "int16" if request.domain == "waveform" else "float16"
        if name == "int16" and request.domain != "waveform":
            raise UserError(
                "data.cache.dtype int16 stores waveforms only, but the cached rows here are features (the "
                "front end is part of the cached prefix).",
                fix="Use dtype auto or float16 (or float32).",
            )
        return np.dtype(name)

    def files(self, request: CacheRequest) -> CacheFiles:
        """Where the rows of ``request`` live: named by a hash of its key, storage dtype and file format."""
        dtype = self.storage_dtype(request)
        key = hashlib.sha256(f"{request.key}|{dtype.name}|{FORMAT}".encode()).hexdigest()[:24]
        return CacheFiles(self.folder, key)

    def location(self, request: CacheRequest) -> str:
        """The array file that holds the rows of ``request``."""
        return str(self.files(request).data)

    def _expected(self, request: CacheRequest) -> dict[str, Any]:
        return {"count": request.count, "shape": list(request.shape), "dtype": self.storage_dtype(request).name}

    def prepare(self, request: CacheRequest, progress: Callable[[int], None] | None = None) -> None:
        files = self.files(request)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"cannot create the cache folder {self.folder}: {exc}.",
                fix=f"Set data.cache.dir or ${CACHE_DIR_ENV} to a writable folder.",
            ) from None
        lock = FileLock(str(files.lock))
        try:
            lock.acquire(timeout=1)
        except Timeout:
            print(f"asc-bench: waiting for another process building the cache {files.data} ...", file=sys.stderr)
            lock.acquire()
        try:
            reason = problem(files, self._expected(request), "sample")
            if reason is None:
                return
            if files.meta.exists() or files.data.exists():
                print(
                    f"asc-bench: the cache {files.data} ({request.label}) is damaged: {reason}; rebuilding it.",
                    file=sys.stderr,
                )
            elif files.partials():
                print(
                    f"asc-bench: an earlier build of the cache {files.data} ({request.label}) was interrupted; "
                    "removing what it left and building it again.",
                    file=sys.stderr,
                )
            files.remove()  # holding the lock: any partial file is left over by a killed build
            self._build(files, request, progress)
        finally:
            lock.release()

    def _build(self, files: CacheFiles, request: CacheRequest, progress: Callable[[int], None] | None) -> None:
        started = time.perf_counter()
        dtype = self.storage_dtype(request)
        header = npy_header(dtype, (request.count, *request.shape))
        row_bytes = int(np.prod(request.shape, dtype=np.int64)) * dtype.itemsize
        nbytes = len(header) + request.count * row_bytes
        crcs = [0] * -(-request.count // request.chunk)
        partial = files.partial(os.getpid())

        def write(start: int, rows: np.ndarray) -> None:
            data = memoryview(encode(rows, dtype)).cast("B")
            pwrite_all(fd, data, len(header) + start * row_bytes)
            crcs[start // request.chunk] = zlib.crc32(data)

        try:
            fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            try:
                allocate(fd, nbytes)
                pwrite_all(fd, memoryview(header), 0)
                compute_rows(request, write, progress, self.config.workers or cores())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(partial, files.data)
            meta = {
                "format": FORMAT,
                **self._expected(request),
                "key": files.key,
                "request_key": request.key,
                "label": request.label,
                "domain": request.domain,
                "offset": len(header),
                "nbytes": nbytes,
                "chunk": request.chunk,
                "crc32": crcs,
                "key_parts": request.key_parts,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "build_seconds": round(time.perf_counter() - started, 3),
            }
            _write_json(files.meta, meta)
        except OSError as exc:
            files.remove()
            raise UserError(
                f"building the cache {files.data} ({request.label}, {nbytes:,} bytes) failed: {exc}. Nothing "
                "half-written was kept.",
                fix=f"Free disk space or point data.cache.dir / ${CACHE_DIR_ENV} at another disk.",
            ) from None
        except ValueError as exc:
            files.remove()
            raise UserError(
                f"building the cache {files.data} ({request.label}) failed: {exc}.",
                fix="Set data.cache.dtype to float32.",
            ) from None
        except BaseException:
            files.remove()
            raise

    def open(self, request: CacheRequest) -> ClipStore:
        files = self.files(request)
        if problem(files, self._expected(request), "quick") is not None:
            self.prepare(request)
        return RowFile(files.data, read_meta(files) or {})

    @classmethod
    def default_folder(cls) -> Path:
        """The cache folder trials use when ``dir`` is not set: ``$ASC_BENCH_CACHE_DIR``, else
        ``~/.cache/asc-bench`` (absolute)."""
        return default_cache_dir().expanduser().absolute()

    @classmethod
    def inventory(cls, folder: Path | None = None, *, verify: bool = False) -> list[CacheEntry]:
        """Every cache in ``folder`` (default: :meth:`default_folder`), for ``asc-bench cache ls``;
        ``verify`` checks every chunk's checksum instead of only sizes and headers."""
        folder = Path(folder or cls.default_folder())
        return inventory(folder, "full" if verify else "quick") if folder.is_dir() else []

    @classmethod
    def clear(cls, keys: Sequence[str] | None = None, *, folder: Path | None = None) -> ClearResult:
        """Delete caches (all, or those whose key starts with one of ``keys``) that no process is building."""
        folder = Path(folder or cls.default_folder())
        removed: list[str] = []
        busy: list[str] = []
        freed = 0
        names = sorted({entry.key for entry in cls.inventory(folder)})
        for key in names:
            if keys and not any(key.startswith(k) for k in keys):
                continue
            files = CacheFiles(folder, key)
            lock = FileLock(str(files.lock))
            try:
                lock.acquire(timeout=0)
            except Timeout:
                busy.append(key)
                continue
            try:
                freed += files.remove()
                files.lock.unlink(missing_ok=True)
            finally:
                lock.release()
            removed.append(key)
        return ClearResult(removed=removed, busy=busy, freed=freed)


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """Write ``value`` atomically, then make the rename durable (the metadata is what makes a cache complete)."""
    atomic_write_text(path, json.dumps(value, indent=1) + "\n")
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
