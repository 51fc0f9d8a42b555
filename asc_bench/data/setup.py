"""Everything the driver and each trial derive identically from a spec's data section."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asc_bench.api.cache import Cache, CacheRequest
from asc_bench.api.dataset import ClipTable, Dataset
from asc_bench.data.pipeline import Pipeline
from asc_bench.data.splits import PreparedSplit, cache_request, prepare_split, split_indices
from asc_bench.plugins import registry
from asc_bench.spec.model import Spec


@dataclass
class DataSetup:
    """A spec's dataset, clip table, pipeline and cache, with each split's rows and cache request."""

    dataset: Dataset
    clips: ClipTable
    fingerprint: str
    pipeline: Pipeline
    cache: Cache
    indices: dict[str, np.ndarray]
    requests: dict[str, CacheRequest]
    eval_batch_size: int

    @property
    def num_classes(self) -> int:
        """How many classes the dataset has (the model's output size)."""
        return len(self.clips.class_names)

    def split(self, name: str, rows: np.ndarray | None = None) -> PreparedSplit:
        """A split's rows opened from the cache (``rows``: another selection of clips, cached the same way)."""
        if rows is None:
            return prepare_split(self.clips, self.requests[name], self.indices[name], self.cache)
        request = cache_request(self.dataset, self.fingerprint, name, rows, self.pipeline, self.eval_batch_size)
        return prepare_split(self.clips, request, rows, self.cache)

    def splits(self) -> dict[str, PreparedSplit]:
        """Every split of the dataset, opened from the cache."""
        return {name: self.split(name) for name in self.indices}


def build_data(spec: Spec) -> DataSetup:
    """Instantiate the dataset, pipeline and cache of a spec and describe each split's cache request."""
    data = spec.data
    dataset = registry.build("dataset", data.dataset, where="data.dataset")
    clips = dataset.clips()
    fingerprint = dataset.fingerprint()
    pipeline = Pipeline(data.transforms, sample_rate=data.sample_rate)
    cache = registry.build("cache", data.cache, where="data.cache")
    indices = {name: split_indices(dataset, name) for name in dataset.splits()}
    requests = {
        name: cache_request(dataset, fingerprint, name, idx, pipeline, data.eval_batch_size)
        for name, idx in indices.items()
    }
    return DataSetup(dataset, clips, fingerprint, pipeline, cache, indices, requests, data.eval_batch_size)
