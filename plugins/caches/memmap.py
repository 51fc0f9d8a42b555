"""The ``memmap`` cache: one memory-mapped array per split, built once, atomically, under a lock."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
from filelock import FileLock
from pydantic import Field

from asc_bench.api import Cache, CacheRequest, ClipStore, PluginConfig, non_semantic
from asc_bench.errors import UserError
from asc_bench_plugins.caches._rows import fill_rows
from asc_bench_plugins.caches.memory import ArrayStore

CACHE_DIR_ENV = "ASC_BENCH_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$ASC_BENCH_CACHE_DIR``, else ``~/.cache/asc-bench``."""
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env) if env else Path.home() / ".cache" / "asc-bench"


class MemmapConfig(PluginConfig):
    type: Literal["memmap"] = "memmap"
    dir: Path | None = non_semantic(
        None, description=f"Cache folder (default: ${CACHE_DIR_ENV} or ~/.cache/asc-bench)."
    )
    dtype: Literal["float16", "float32"] = Field("float16", description="Storage precision of cached rows.")

    def resolved(self) -> MemmapConfig:
        """The cache folder fixed in the driver, so every trial and node uses the same one."""
        return self.model_copy(update={"dir": Path(self.dir or default_cache_dir()).expanduser().absolute()})


class MemmapCache(Cache):
    """One memory-mapped array per split and cached prefix, keyed by content, shared by all trials."""

    Config = MemmapConfig

    @property
    def folder(self) -> Path:
        return Path(self.config.dir) if self.config.dir else default_cache_dir()  # type: ignore[attr-defined]

    def _paths(self, request: CacheRequest) -> tuple[Path, Path]:
        stem = f"{request.key}-{self.config.dtype}"  # type: ignore[attr-defined]
        return self.folder / f"{stem}.npy", self.folder / f"{stem}.json"

    def _valid(self, request: CacheRequest) -> bool:
        data_path, meta_path = self._paths(request)
        try:
            meta = json.loads(meta_path.read_text())
            rows = np.load(data_path, mmap_mode="r")
        except (OSError, ValueError):
            return False
        return (
            meta.get("count") == request.count
            and tuple(meta.get("shape", ())) == request.shape
            and rows.shape == (request.count, *request.shape)
            and data_path.stat().st_size == meta.get("nbytes")
        )

    def prepare(self, request: CacheRequest, progress: Callable[[int], None] | None = None) -> None:
        data_path, meta_path = self._paths(request)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"cannot create the cache folder {self.folder}: {exc}.",
                fix=f"Set data.cache.dir or ${CACHE_DIR_ENV} to a writable folder.",
            ) from None
        with FileLock(str(data_path) + ".lock"):
            if self._valid(request):
                return
            if meta_path.exists() or data_path.exists():
                print(
                    f"asc-bench: the cache {data_path} is damaged or incomplete; rebuilding it.",
                    file=sys.stderr,
                )
                meta_path.unlink(missing_ok=True)
            partial = data_path.with_suffix(f".partial-{os.getpid()}.npy")
            try:
                rows = np.lib.format.open_memmap(
                    partial,
                    mode="w+",
                    dtype=self.config.dtype,
                    shape=(request.count, *request.shape),  # type: ignore[attr-defined]
                )
                fill_rows(request, rows, progress)
                rows.flush()
                del rows
                os.replace(partial, data_path)
                meta = {
                    "key": request.key,
                    "label": request.label,
                    "count": request.count,
                    "shape": list(request.shape),
                    "dtype": self.config.dtype,  # type: ignore[attr-defined]
                    "nbytes": data_path.stat().st_size,
                }
                tmp_meta = meta_path.with_suffix(".json.partial")
                tmp_meta.write_text(json.dumps(meta, indent=1))
                os.replace(tmp_meta, meta_path)
            except OSError as exc:
                partial.unlink(missing_ok=True)
                raise UserError(
                    f"building the cache {data_path} failed: {exc}. Nothing half-written was kept.",
                    fix=f"Free disk space or point data.cache.dir / ${CACHE_DIR_ENV} elsewhere.",
                ) from None
            finally:
                partial.unlink(missing_ok=True)

    def open(self, request: CacheRequest) -> ClipStore:
        if not self._valid(request):
            self.prepare(request)
        data_path, _ = self._paths(request)
        return ArrayStore(np.load(data_path, mmap_mode="r"))
