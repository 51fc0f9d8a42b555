"""The conformance kit itself: it passes sound plugins and names the broken rule of unsound ones."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
import torch
from pydantic import BaseModel, Field
from torch import nn

from asc_bench.api import (
    Batch,
    Cache,
    CacheRequest,
    ClipStore,
    ClipTable,
    Dataset,
    Model,
    PluginConfig,
    Transform,
    TransformContext,
)
from asc_bench.spec.limits import Limits
from asc_bench.testing import (
    ConformanceError,
    check_cache,
    check_dataset,
    check_model,
    check_trainer,
    check_transform,
    example_config,
)

SHAPE = (1, 16, 16)

# ------------------------------------------------------------------------------------------------ models


class TinyConfig(PluginConfig):
    type: Literal["tiny"] = "tiny"
    channels: int = Field(4, description="Convolution channels.")


class Tiny(nn.Module, Model):
    """A tiny sound CNN."""

    Config = TinyConfig
    default_input_shape = SHAPE

    def __init__(self, config: TinyConfig, *, input_shape: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(input_shape[0], config.channels, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU()
        )
        self.head = nn.Conv2d(config.channels, num_classes, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.head(self.conv(x))).flatten(1)


def test_a_sound_model_passes_and_its_complexity_is_reported() -> None:
    report = check_model(Tiny)
    assert report.params == 4 * 9 + 4 + 8 + 4 * 10 + 10 and tuple(report.input_shape) == SHAPE


def _broken_model(**overrides: Any) -> type:
    return type("Broken", (Tiny,), {"__doc__": "A broken CNN.", **overrides})


def _fixed_classes(self: Tiny, config: TinyConfig, *, input_shape: tuple[int, ...], num_classes: int) -> None:
    Tiny.__init__(self, config, input_shape=input_shape, num_classes=10)


def _unseeded(self: Tiny, config: TinyConfig, *, input_shape: tuple[int, ...], num_classes: int) -> None:
    Tiny.__init__(self, config, input_shape=input_shape, num_classes=num_classes)
    generator = torch.Generator().manual_seed(int.from_bytes(os.urandom(4), "little"))
    with torch.no_grad():
        self.head.weight.copy_(torch.randn(self.head.weight.shape, generator=generator))


def _unused_layer(self: Tiny, config: TinyConfig, *, input_shape: tuple[int, ...], num_classes: int) -> None:
    Tiny.__init__(self, config, input_shape=input_shape, num_classes=num_classes)
    self.spare = nn.Linear(3, 3)


class UndocumentedConfig(PluginConfig):
    type: Literal["tiny"] = "tiny"
    channels: int = 4


class NotAPluginConfig(BaseModel):
    type: Literal["tiny"] = "tiny"


def _branchy_forward(self: Tiny, x: torch.Tensor) -> torch.Tensor:
    out = Tiny.forward(self, x)
    return out if x.sum() > 0 else -out  # data-dependent control flow: torch.export cannot capture it


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"__init__": _fixed_classes}, "num_classes=7"),
        ({"__init__": _unseeded}, "equal seeds gave different initial weights"),
        ({"__init__": _unused_layer}, "parameters without a gradient"),
        ({"Config": UndocumentedConfig}, "options without a description: channels"),
        ({"Config": NotAPluginConfig}, "subclass of asc_bench.api.PluginConfig"),
        ({"__doc__": None}, "no docstring"),
        ({"forward": _branchy_forward}, "int8 deployment fails"),
    ],
)
def test_a_broken_model_fails_naming_the_rule(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConformanceError, match=problem):
        check_model(_broken_model(**overrides))


def test_model_limits_and_int8_opt_out() -> None:
    check_model(_broken_model(forward=_branchy_forward), int8=False)
    with pytest.raises(ConformanceError, match="over its limits"):
        check_model(Tiny, limits=Limits(macs=1000))
    check_model(type("Teacher", (Tiny,), {"__doc__": "A teacher.", "teacher": True}), limits=Limits(macs=1000))


# ------------------------------------------------------------------------------------------------ transforms


class NoiseConfig(PluginConfig):
    type: Literal["noise"] = "noise"
    level: float = Field(0.1, description="Noise level.")


class Noise(Transform):
    """Adds seeded noise to features."""

    Config = NoiseConfig
    takes = "features"
    gives = "features"
    deterministic = False
    train_only = True

    def noise(self, batch: Batch, ctx: TransformContext) -> torch.Tensor:
        return torch.randn(batch.x.shape, generator=ctx.rng) * self.config.level

    def __call__(self, batch: Batch, ctx: TransformContext) -> Batch:
        return batch.with_x(batch.x + self.noise(batch, ctx))


def _broken_transform(**overrides: Any) -> type:
    return type("BrokenNoise", (Noise,), {"__doc__": "A broken transform.", **overrides})


def _in_place(self: Noise, batch: Batch, ctx: TransformContext) -> Batch:
    batch.x.add_(self.noise(batch, ctx))
    return batch


def _unseeded_noise(self: Noise, batch: Batch, ctx: TransformContext) -> torch.Tensor:
    return torch.randn(batch.x.shape) * self.config.level


def _relabel(self: Noise, batch: Batch, ctx: TransformContext) -> Batch:
    return replace(Noise.__call__(self, batch, ctx), label=batch.label.flip(0))


def _float64(self: Noise, batch: Batch, ctx: TransformContext) -> Batch:
    return batch.with_x(Noise.__call__(self, batch, ctx).x.double())


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"deterministic": True}, "declares deterministic = True"),
        ({"noise": lambda self, batch, ctx: torch.zeros_like(batch.x)}, "declares deterministic = False"),
        ({"__call__": _in_place}, "modified its input batch in place"),
        ({"noise": _unseeded_noise}, "the same seed gave different outputs"),
        ({"__call__": _relabel}, "changed batch.label"),
        ({"__call__": _float64}, "expected float32"),
        ({"gives": "waveform"}, "cannot turn features back into a waveform"),
    ],
)
def test_a_broken_transform_fails_naming_the_rule(overrides: dict[str, Any], problem: str) -> None:
    check_transform(Noise)
    with pytest.raises(ConformanceError, match=problem):
        check_transform(_broken_transform(**overrides))


# ------------------------------------------------------------------------------------------------ caches


class FileCacheConfig(PluginConfig):
    type: Literal["files"] = "files"
    dir: Path = Field(..., description="Where the rows go.")


class Rows(ClipStore):
    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, positions: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self.rows[positions], dtype=np.float32))


class FileCache(Cache):
    """Writes each request to one .npy file, atomically, keyed by the request."""

    Config = FileCacheConfig

    def path(self, request: CacheRequest) -> Path:
        return Path(self.config.dir) / f"{request.key}.npy"

    def build(self, request: CacheRequest, progress: Any = None) -> None:
        rows = np.empty((request.count, *request.shape), dtype=np.float32)
        for start in range(0, request.count, request.chunk):
            positions = np.arange(start, min(start + request.chunk, request.count))
            rows[positions] = request.fill(positions)
            if progress:
                progress(len(positions))
        self.save(request, rows)

    def save(self, request: CacheRequest, rows: np.ndarray) -> None:
        partial = self.path(request).with_suffix(".partial.npy")
        np.save(partial, rows)
        os.replace(partial, self.path(request))

    def prepare(self, request: CacheRequest, progress: Any = None) -> None:
        Path(self.config.dir).mkdir(parents=True, exist_ok=True)
        if not self.path(request).exists():
            self.build(request, progress)

    def open(self, request: CacheRequest) -> ClipStore:
        return Rows(np.load(self.path(request)))


def _not_atomic_build(self: FileCache, request: CacheRequest, progress: Any = None) -> None:
    rows = np.lib.format.open_memmap(
        self.path(request), mode="w+", dtype=np.float32, shape=(request.count, *request.shape)
    )
    for start in range(0, request.count, request.chunk):
        positions = np.arange(start, min(start + request.chunk, request.count))
        rows[positions] = request.fill(positions)
        rows.flush()
        if progress:
            progress(len(positions))


def _rebuilding_open(self: FileCache, request: CacheRequest) -> ClipStore:
    self.build(request)
    return FileCache.open(self, request)


def _one_file(self: FileCache, request: CacheRequest) -> Path:
    return Path(self.config.dir) / "rows.npy"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"build": _not_atomic_build}, "half-built rows"),
        ({"open": _rebuilding_open}, "open rebuilt rows that prepare had built"),
        ({"path": _one_file}, "keys are not kept apart"),
        ({"prepare": lambda self, request, progress=None: (self.build(request), None)[1]}, "reported progress 0"),
    ],
)
def test_a_broken_cache_fails_naming_the_rule(overrides: dict[str, Any], problem: str, tmp_path: Path) -> None:
    check_cache(FileCache, {"dir": tmp_path / "good"})
    broken = type("BrokenCache", (FileCache,), {"__doc__": "A broken cache.", **overrides})
    (tmp_path / "bad").mkdir()
    with pytest.raises(ConformanceError, match=problem):
        check_cache(broken, {"dir": tmp_path / "bad"})


# ------------------------------------------------------------------------------------------------ datasets


class TonesConfig(PluginConfig):
    type: Literal["tones"] = "tones"
    recordings: int = Field(4, description="Recordings per class.")


class Tones(Dataset):
    """Two classes of generated tones, four recordings each, the last one of each class for testing."""

    Config = TonesConfig

    def clips(self) -> ClipTable:
        n = 2 * self.config.recordings * 2  # two classes, two clips per recording
        recordings = np.arange(n, dtype=np.int64) // 2
        ids = tuple(f"clip{i}" for i in range(n))
        zeros = np.zeros(n, dtype=np.int64)
        labels = (recordings // self.config.recordings).astype(np.int64)
        return ClipTable(ids, tuple(map(Path, ids)), labels, zeros, zeros, recordings, ("a", "b"), ("d",), ("c",))

    def split(self, name: str) -> np.ndarray:
        test = self.clips().recordings % self.config.recordings == 0
        return np.flatnonzero(test if name == "test" else ~test)

    def fingerprint(self) -> str:
        return f"tones-{self.config.recordings}"

    def read(self, index: int, sample_rate: int) -> np.ndarray:
        t = np.arange(sample_rate) / sample_rate
        return np.sin(2 * np.pi * (100 + 100 * index) * t).astype(np.float32)


def _leaky_split(self: Tones, name: str) -> np.ndarray:
    rows = np.arange(len(self.clips().ids))
    return rows[rows % 2 == 1] if name == "test" else rows[rows % 2 == 0]  # pieces of one recording on both sides


def _bad_labels(self: Tones) -> ClipTable:
    table = Tones.clips(self)
    return replace(table, labels=table.labels + 1)


def _uneven(self: Tones, index: int, sample_rate: int) -> np.ndarray:
    return np.zeros(sample_rate + index, dtype=np.float32)


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"split": _leaky_split}, "the test and train splits share 8 recordings"),
        ({"clips": _bad_labels}, "labels indexes past class_names"),
        ({"read": _uneven}, "clips have different lengths"),
        ({"fingerprint": lambda self: str(os.urandom(4))}, "differs between equal instances"),
    ],
)
def test_a_broken_dataset_fails_naming_the_rule(overrides: dict[str, Any], problem: str) -> None:
    check_dataset(Tones)
    with pytest.raises(ConformanceError, match=problem):
        check_dataset(type("BrokenTones", (Tones,), {"__doc__": "A broken dataset.", **overrides}))


def test_example_config_fills_required_settings_or_gives_none(tmp_path: Path) -> None:
    assert example_config(FileCache) is None
    assert example_config(FileCache, dir=tmp_path, root="ignored").dir == tmp_path
    assert example_config(Tones).recordings == 4


# ------------------------------------------------------------------------------------------------ trainers


def test_a_trainer_that_keeps_state_outside_its_checkpoint_fails(synth_root: Path, tmp_path: Path) -> None:
    from asc_bench.plugins import registry

    supervised = registry.load("trainer", "supervised")

    class Forgetful(supervised):
        """Weights each step's loss by a step counter that its state_dict leaves out."""

        steps = 0

        def loss(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
            self.steps += 1
            return super().loss(logits, batch) / self.steps

    with pytest.raises(ConformanceError, match="resuming from the epoch-1 checkpoint gave other results"):
        check_trainer(Forgetful, dataset_root=synth_root, workdir=tmp_path)
