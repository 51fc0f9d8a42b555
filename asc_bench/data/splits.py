"""Prepared splits: cache requests for a dataset split and batches drawn from the cache."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from asc_bench.api import Batch, Cache, CacheRequest, ClipStore, ClipTable, Dataset, TransformContext
from asc_bench.data.pipeline import Pipeline
from asc_bench.errors import UserError

SPLITS = ("train", "test")
CACHE_FORMAT = 1  # bump when the meaning of cached rows changes


@dataclass
class PreparedSplit:
    """One split ready for training or evaluation: its clip rows, their labels and the cached inputs."""

    name: str
    indices: np.ndarray  # rows of the clip table
    store: ClipStore
    labels: torch.Tensor
    devices: torch.Tensor
    cities: torch.Tensor

    def __len__(self) -> int:
        return len(self.indices)


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
    """What a cache must hold for one split: the cached prefix of the pipeline for each clip."""
    key_parts = {
        "format": CACHE_FORMAT,
        "dataset": fingerprint,
        "split": hashlib.sha256(indices.tobytes()).hexdigest()[:16],
        "pipeline": pipeline.cache_fingerprint(),
    }
    key = hashlib.sha256(json.dumps(key_parts, sort_keys=True).encode()).hexdigest()[:24]

    def fill(positions: np.ndarray) -> np.ndarray:
        waveforms = dataset.read_many(indices[positions], pipeline.sample_rate)
        return pipeline.cached_rows(torch.from_numpy(waveforms)).numpy()

    shape = tuple(pipeline.cached_rows(torch.zeros(1, pipeline.sample_rate)).shape[1:])
    return CacheRequest(key=key, label=name, count=len(indices), shape=shape, fill=fill, chunk=chunk)


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
) -> Iterator[Batch]:
    """Batches of a split with the online transforms applied (shuffled with ``ctx.rng`` when asked)."""
    n = len(split)
    order = torch.randperm(n, generator=ctx.rng).numpy() if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        positions = order[start : start + batch_size]
        pos_t = torch.from_numpy(positions)
        labels = split.labels[pos_t]
        batch = Batch(
            x=split.store.get(positions),
            target=torch.nn.functional.one_hot(labels, num_classes).float(),
            label=labels,
            device=split.devices[pos_t],
            city=split.cities[pos_t],
            clip=torch.from_numpy(split.indices[positions]),
        )
        yield pipeline.run(pipeline.online, batch, ctx)
        if on_batch:
            on_batch(len(positions))
