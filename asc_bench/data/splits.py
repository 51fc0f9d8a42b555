"""Prepared splits: cache requests for a dataset split and batches drawn from the cache."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch

from asc_bench.api import Batch, Cache, CacheRequest, ClipStore, ClipTable, Dataset, TransformContext
from asc_bench.core.errors import UserError
from asc_bench.data.crops import CropSource
from asc_bench.data.device_batches import DataPath, HostRows, RowSource, make_source
from asc_bench.data.pipeline import Pipeline

CACHE_FORMAT = 2  # bump when the meaning of cached rows changes
BUILD_CHUNK = 64  # clips per fill call: small enough for the front end's data to stay in the CPU caches


@dataclass
class PreparedSplit:
    """One split ready for training or evaluation: its clip rows, their labels and the cached inputs.

    With shifted crops the store holds ``variants`` rows per clip (clip-major); training draws one of
    them per clip and epoch, evaluation takes the first (the clip itself).
    """

    name: str
    indices: np.ndarray  # rows of the clip table
    store: ClipStore
    labels: torch.Tensor
    devices: torch.Tensor
    cities: torch.Tensor
    variants: int = 1
    source: RowSource | None = None  # where batches' rows come from (None: the store, on the CPU)

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def rows(self) -> RowSource:
        """Where batches' rows come from: the store on the CPU unless :meth:`placed` chose another path."""
        return self.source or HostRows(self.store)

    @property
    def data_path(self) -> DataPath:
        """Which path batches take: ``host``, ``resident`` or ``streamed`` (:mod:`asc_bench.data.device_batches`)."""
        return self.rows.path

    def placed(self, device: torch.device, path: DataPath) -> PreparedSplit:
        """This split with its batches made on ``device`` through ``path`` (labels and groups moved there)."""
        return replace(
            self,
            labels=self.labels.to(device),
            devices=self.devices.to(device),
            cities=self.cities.to(device),
            source=make_source(self.store, device, path),
        )

    def on_host(self) -> PreparedSplit:
        """This split with its batches made on the CPU (int8 models run there)."""
        return replace(
            self, labels=self.labels.cpu(), devices=self.devices.cpu(), cities=self.cities.cpu(), source=None
        )


def split_indices(dataset: Dataset, name: str) -> np.ndarray:
    """The split's clip rows, refusing an empty split with a clear message."""
    indices = np.asarray(dataset.split(name), dtype=np.int64)  # type: ignore[arg-type]
    if len(indices) == 0:
        raise UserError(
            f"the {name} split of {dataset.describe()} has no clips (num_samples=0).",
            fix="Check that the dataset root and split files are the ones you meant.",
        )
    return indices


def cache_request(
    dataset: Dataset, fingerprint: str, name: str, indices: np.ndarray, pipeline: Pipeline, chunk: int
) -> CacheRequest:
    """What a cache must hold for one split: the cached prefix of the pipeline for each clip, computed at
    most ``min(chunk, BUILD_CHUNK)`` clips at a time.

    The key is a hash of everything that determines the rows: the dataset fingerprint, the split's
    members, the working sample rate, the cached transforms and their settings, and the shifted crops
    (training split only). A cache adds how it stores the rows (e.g. their dtype).
    """
    offsets = pipeline.crop_offsets if name == "train" else None
    key_parts = {
        "format": CACHE_FORMAT,
        "dataset": fingerprint,
        "split": name,
        "members": hashlib.sha256(np.ascontiguousarray(indices, dtype=np.int64).tobytes()).hexdigest()[:16],
        **pipeline.cache_description(),
        "crop_offsets": list(offsets) if offsets else None,
        "domain": pipeline.cached_domain,
    }
    key = hashlib.sha256(json.dumps(key_parts, sort_keys=True).encode()).hexdigest()[:24]
    variants = 1
    if offsets:
        source = CropSource(dataset, indices, offsets, pipeline.sample_rate)
        variants = source.variants

        def read(positions: np.ndarray) -> np.ndarray:
            return source.crops(positions)

    else:

        def read(positions: np.ndarray) -> np.ndarray:
            return dataset.read_many(indices[positions], pipeline.sample_rate)

    def fill(positions: np.ndarray) -> np.ndarray:
        return pipeline.cached_rows(torch.from_numpy(read(positions))).numpy()

    shape = tuple(pipeline.cached_rows(torch.zeros(1, pipeline.sample_rate)).shape[1:])
    return CacheRequest(
        key=key,
        label=name,
        count=len(indices) * variants,
        shape=shape,
        fill=fill,
        chunk=max(1, min(chunk, BUILD_CHUNK) // variants) * variants,
        domain=pipeline.cached_domain,
        key_parts=key_parts,
    )


def prepare_split(
    clips: ClipTable,
    request: CacheRequest,
    indices: np.ndarray,
    cache: Cache,
) -> PreparedSplit:
    """Open the cached split (built by ``Cache.prepare`` in the driver, or on demand)."""
    return PreparedSplit(
        name=request.label,
        indices=indices,
        store=cache.open(request),
        labels=torch.from_numpy(clips.labels[indices]),
        devices=torch.from_numpy(clips.devices[indices]),
        cities=torch.from_numpy(clips.cities[indices]),
        variants=max(1, request.count // max(1, len(indices))),
    )


def iterate_batches(
    split: PreparedSplit,
    batch_size: int,
    *,
    pipeline: Pipeline,
    ctx: TransformContext,
    num_classes: int,
    shuffle: bool,
    on_batch: Callable[[int], None] | None = None,
    drop_last: bool = False,
) -> Iterator[Batch]:
    """Batches of a split with the online transforms applied (shuffled with ``ctx.rng`` when asked), made on the
    device of the split's row source (:meth:`PreparedSplit.placed`).

    With shifted crops, training draws one crop per clip from ``ctx.rng``; evaluation takes the clip itself.
    ``drop_last`` leaves out the last partial batch (static shapes for a compiled model on a GPU).
    """
    n = len(split)
    order = torch.randperm(n, generator=ctx.rng).numpy() if shuffle else np.arange(n)
    k = split.variants
    variant = np.zeros(n, dtype=np.int64)
    if k > 1 and ctx.training:
        variant = torch.randint(0, k, (n,), generator=ctx.rng).numpy()
    stop = n - n % batch_size if drop_last and n > batch_size else n
    batch_positions = [order[start : start + batch_size] for start in range(0, stop, batch_size)]
    source = split.rows
    rows = source.batches([positions * k + variant[positions] for positions in batch_positions])
    for positions, x in zip(batch_positions, rows, strict=True):
        pos_t = torch.from_numpy(positions).to(source.device)
        labels = split.labels[pos_t]
        batch = Batch(
            x=x,
            target=torch.nn.functional.one_hot(labels, num_classes).float(),
            label=labels,
            device=split.devices[pos_t],
            city=split.cities[pos_t],
            clip=torch.from_numpy(split.indices[positions]).to(source.device),
        )
        yield pipeline.run(pipeline.online, batch, ctx)
        if on_batch:
            on_batch(len(positions))
