"""Where a split's cached rows come from on their way to the device a trial computes on.

- ``host``: read from the cache's store batch by batch (the CPU path, as it always was).
- ``resident``: the whole split uploaded once into device memory, in the narrowest dtype that holds its rows
  exactly (float16 or int16 / 32768 when every row round-trips bit for bit, else float32); batches are gathered
  on the device.
- ``streamed``: read batch by batch on a background thread into pinned host memory (unpinned where pinning is not
  possible, e.g. without CUDA), copied with ``non_blocking`` on a side CUDA stream, the next batch in flight while
  the current one trains.

Every path yields the same float32 rows, bit for bit, as ``ClipStore.get``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from asc_bench.api.cache import ClipStore

DataPath = Literal["host", "resident", "streamed"]
UPLOAD_CHUNK = 1024  # rows per upload step of a resident split
RESIDENT_SHARE = 0.5  # auto keeps a split on the device when it takes at most this share of the free memory
INT16_SCALE = 32768.0


def pin(rows: torch.Tensor) -> torch.Tensor:
    """``rows`` in page-locked host memory, or as they are where that is not possible (no CUDA driver)."""
    try:
        return rows.pin_memory()
    except RuntimeError:
        return rows


@dataclass
class HostRows:
    """Rows read from the store batch by batch on the calling thread (no copy to a device)."""

    store: ClipStore
    path: DataPath = "host"
    device: torch.device = torch.device("cpu")

    def batches(self, positions: Iterable[np.ndarray]) -> Iterator[torch.Tensor]:
        """The float32 rows at each array of ``positions``, in order."""
        for p in positions:
            yield self.store.get(p)


def _same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.equal(a.contiguous().view(torch.int32), b.contiguous().view(torch.int32))


def _exactly(rows: torch.Tensor, kind: str) -> torch.Tensor | None:
    """``rows`` stored as ``kind`` when that gives them back bit for bit, else ``None``."""
    if kind == "float32":
        return rows
    if kind == "float16":
        half = rows.to(torch.float16)
        return half if _same_bits(half.to(torch.float32), rows) else None
    scaled = torch.round(rows * INT16_SCALE)
    if rows.numel() and bool(scaled.abs().max() > 32767):
        return None
    return scaled.to(torch.int16) if _same_bits(scaled / INT16_SCALE, rows) else None


def _widen(rows: torch.Tensor) -> torch.Tensor:
    """Stored rows back as float32 (int16 rows are full scale ±1)."""
    if rows.dtype == torch.int16:
        return rows.to(torch.float32) / INT16_SCALE
    return rows.to(torch.float32)


class ResidentRows:
    """A whole split in device memory, in the narrowest exact dtype its first chunk allows (float32 from the
    first chunk that does not fit it); batches are gathered there."""

    path: DataPath = "resident"

    def __init__(self, store: ClipStore, device: torch.device) -> None:
        self.device = device
        count = len(store)
        self.rows = torch.empty(0, device=device)
        self.dtype = "float32"
        for start in range(0, count, UPLOAD_CHUNK):
            chunk = store.get(np.arange(start, min(start + UPLOAD_CHUNK, count)))
            if start == 0:
                self.dtype = next(k for k in ("float16", "int16", "float32") if _exactly(chunk, k) is not None)
                self.rows = torch.empty((count, *chunk.shape[1:]), dtype=getattr(torch, self.dtype), device=device)
            stored = _exactly(chunk, self.dtype)
            if stored is None:  # this chunk needs float32: widen what is already uploaded
                self.rows, self.dtype, stored = _widen(self.rows), "float32", chunk
            self.rows[start : start + len(chunk)] = stored.to(device)

    @property
    def nbytes(self) -> int:
        """Bytes the split takes in device memory."""
        return self.rows.numel() * self.rows.element_size()

    def batches(self, positions: Iterable[np.ndarray]) -> Iterator[torch.Tensor]:
        """The float32 rows at each array of ``positions``, gathered on the device."""
        for p in positions:
            yield _widen(self.rows[torch.from_numpy(p).to(self.device)])


class StreamedRows:
    """Rows read on a background thread into pinned memory and copied to the device one batch ahead."""

    path: DataPath = "streamed"

    def __init__(self, store: ClipStore, device: torch.device) -> None:
        self.store = store
        self.device = device

    def _read(self, p: np.ndarray) -> torch.Tensor:
        return pin(self.store.get(p))

    def batches(self, positions: Iterable[np.ndarray]) -> Iterator[torch.Tensor]:
        """The float32 rows at each array of ``positions``, in order, on the device."""
        cuda = self.device.type == "cuda"
        stream = torch.cuda.Stream(self.device) if cuda else None
        with ThreadPoolExecutor(1, thread_name_prefix="asc-bench-stream") as pool:
            reads: Iterator[Future[torch.Tensor]] = (pool.submit(self._read, p) for p in positions)
            ahead = [next(reads, None), next(reads, None)]  # two reads in flight
            pending = self._copy(ahead.pop(0), stream)
            while pending is not None:
                ahead.append(next(reads, None))
                upcoming = self._copy(ahead.pop(0), stream)  # the next batch's copy overlaps this one's step
                yield self._ready(pending)
                pending = upcoming

    def _copy(
        self, read: Future[torch.Tensor] | None, stream: torch.cuda.Stream | None
    ) -> tuple[torch.Tensor, torch.Tensor, object] | None:
        if read is None:
            return None
        host = read.result()
        if stream is None:
            return host.to(self.device, non_blocking=host.is_pinned()), host, None
        with torch.cuda.stream(stream):
            rows = host.to(self.device, non_blocking=True)
            event = torch.cuda.Event()
            event.record(stream)
        return rows, host, event

    def _ready(self, pending: tuple[torch.Tensor, torch.Tensor, object]) -> torch.Tensor:
        rows, _host, event = pending  # the pinned host rows live until their copy was waited for
        if event is not None:
            current = torch.cuda.current_stream(self.device)
            current.wait_event(event)  # type: ignore[arg-type]
            rows.record_stream(current)
        return rows


RowSource = HostRows | ResidentRows | StreamedRows


def choose_path(setting: str, device: torch.device, nbytes: int, free: int | None) -> DataPath:
    """Which path a split of ``nbytes`` (as float32) takes: ``host`` on the CPU unless ``always``; on a device,
    ``resident`` when ``always`` or (``auto``) when it takes at most half the ``free`` device memory, else
    ``streamed``."""
    if setting == "never":
        return "host" if device.type == "cpu" else "streamed"
    if setting == "always":
        return "resident"
    if device.type == "cpu" or free is None:
        return "host" if device.type == "cpu" else "streamed"
    return "resident" if nbytes <= RESIDENT_SHARE * free else "streamed"


def make_source(store: ClipStore, device: torch.device, path: DataPath) -> RowSource:
    """The row source of one path."""
    builders: dict[str, Callable[[], RowSource]] = {
        "host": lambda: HostRows(store),
        "resident": lambda: ResidentRows(store, device),
        "streamed": lambda: StreamedRows(store, device),
    }
    return builders[path]()
