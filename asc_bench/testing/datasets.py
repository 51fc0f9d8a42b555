"""Conformance of a dataset plugin: complete metadata, splits disjoint by recording, decoding, fingerprint."""

from __future__ import annotations

from typing import Any

import numpy as np

from asc_bench.api import ClipTable, Dataset, PluginConfig
from asc_bench.testing._common import check_config, config_for, expect

COLUMNS = ("labels", "devices", "cities", "recordings")
NAMES = {"labels": "class_names", "devices": "device_names", "cities": "city_names"}


def check_dataset(cls: type, config: Any = None, *, sample_rate: int = 32000, reads: int = 4) -> Dataset:
    """Check a dataset plugin the way the built-in datasets are checked; returns the instance.

    - the plugin contract and documented options;
    - the clip table is complete: every column has one entry per clip, ids are unique, labels, devices
      and cities index their (unique, non-empty) name lists, recordings are non-negative;
    - every split of ``splits()`` (at least train and test) is a non-empty set of distinct rows, and no
      two splits share a clip or a recording (pieces of one recording on both sides leak the test set);
    - ``fingerprint()`` is a non-empty string, equal for two instances with the same settings;
    - ``read`` decodes mono float32 finite audio, every clip equally long, reproducibly; ``read_many``
      stacks the same; half the sample rate gives half the samples; ``check()`` finds no errors;
    - ``check_config(root, options)`` (``asc-bench data check``) rebuilds ``config`` from its ``root`` and its
      other settings, for a Config with a ``root``; an overridden ``synthetic_size()`` gives clip counts.
    """
    check_config(cls, "dataset")
    expect(issubclass(cls, Dataset), cls, "must subclass asc_bench.api.Dataset")
    config = config_for(cls, config)
    dataset = cls(config)
    clips = dataset.clips()
    expect(isinstance(clips, ClipTable), cls, "clips() must return an asc_bench.api.ClipTable")
    _check_table(cls, clips)
    rows = {name: np.asarray(dataset.split(name)) for name in dataset.splits()}
    _check_splits(cls, clips, rows)
    fingerprint = dataset.fingerprint()
    expect(isinstance(fingerprint, str) and bool(fingerprint), cls, "fingerprint() must be a non-empty string")
    expect(cls(config).fingerprint() == fingerprint, cls, "fingerprint() differs between equal instances")
    expect(isinstance(dataset.describe(), str) and bool(dataset.describe()), cls, "describe() must give text")
    expect(isinstance(dataset.partition(), str), cls, "partition() must return a string")
    every_row = np.concatenate(list(rows.values()))
    _check_audio(cls, dataset, every_row, sample_rate, reads)
    errors = [f.message for f in dataset.check(every_row[:reads]) if f.severity == "error"]
    expect(not errors, cls, f"check() reports errors on its own data: {'; '.join(errors)}")
    _check_hooks(type(dataset), config)
    return dataset


def _check_hooks(cls: type[Dataset], config: PluginConfig) -> None:
    if "root" in type(config).model_fields:
        options = config.model_dump(exclude={"type", "root"})
        rebuilt = cls.check_config(config.root, options)  # type: ignore[attr-defined]  # Config has a root
        expect(rebuilt == config, cls, f"check_config(root, options) gives {rebuilt!r}, not {config!r}")
    if cls.synthetic_size.__func__ is not Dataset.synthetic_size.__func__:  # type: ignore[attr-defined]
        counts = cls.synthetic_size()
        ok = isinstance(counts, dict) and isinstance(counts.get("clips"), int) and counts["clips"] > 0
        expect(ok, cls, f"synthetic_size() must give a dict with a positive int 'clips', not {counts!r}")


def _check_table(cls: type, clips: ClipTable) -> None:
    n = len(clips.ids)
    expect(n > 0, cls, "the clip table is empty")
    expect(len(clips.paths) == n, cls, f"{len(clips.paths)} paths for {n} clip ids")
    expect(len(set(clips.ids)) == n, cls, "clip ids are not unique")
    expect(len(clips.class_names) >= 2, cls, "a classification dataset needs at least two classes")
    declared = cls.num_classes  # type: ignore[attr-defined]
    expect(
        declared is None or declared == len(clips.class_names),
        cls,
        f"num_classes = {declared} but clips() has {len(clips.class_names)} class names",
    )
    for column in COLUMNS:
        values = np.asarray(getattr(clips, column))
        expect(values.shape == (n,), cls, f"clips.{column} has shape {values.shape}, expected ({n},)")
        expect(values.dtype == np.int64, cls, f"clips.{column} must be int64, not {values.dtype}")
        expect(bool((values >= 0).all()), cls, f"clips.{column} has negative entries")
        if column in NAMES:
            names = getattr(clips, NAMES[column])
            expect(bool(names) and all(isinstance(s, str) and s for s in names), cls, f"empty {NAMES[column]}")
            expect(len(set(names)) == len(names), cls, f"{NAMES[column]} are not unique")
            expect(bool((values < len(names)).all()), cls, f"clips.{column} indexes past {NAMES[column]}")


def _check_splits(cls: type, clips: ClipTable, rows: dict[str, np.ndarray]) -> None:
    expect({"train", "test"} <= set(rows), cls, "needs at least the splits 'train' and 'test'")
    for name, idx in rows.items():
        expect(idx.ndim == 1 and len(idx) > 0, cls, f"the {name} split is empty")
        expect(np.issubdtype(idx.dtype, np.integer), cls, f"the {name} split must hold integer rows")
        expect(bool((idx >= 0).all() and (idx < len(clips.ids)).all()), cls, f"the {name} split has invalid rows")
        expect(len(np.unique(idx)) == len(idx), cls, f"the {name} split lists a clip twice")
    names = sorted(rows)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared = np.intersect1d(rows[a], rows[b])
            expect(len(shared) == 0, cls, f"the {a} and {b} splits share {len(shared)} clips")
            recordings = np.intersect1d(clips.recordings[rows[a]], clips.recordings[rows[b]])
            expect(len(recordings) == 0, cls, f"the {a} and {b} splits share {len(recordings)} recordings")


def _check_audio(cls: type, dataset: Dataset, rows: np.ndarray, sample_rate: int, reads: int) -> None:
    picks = rows[np.linspace(0, len(rows) - 1, min(reads, len(rows))).astype(int)]
    audio = [dataset.read(int(i), sample_rate) for i in picks]
    for clip in audio:
        ok = isinstance(clip, np.ndarray) and clip.ndim == 1 and clip.dtype == np.float32
        expect(ok, cls, "read() must return a mono float32 numpy array (samples,)")
        expect(bool(np.isfinite(clip).all()) and len(clip) > 0, cls, "read() gave empty or non-finite audio")
    lengths = {len(clip) for clip in audio}
    expect(len(lengths) == 1, cls, f"clips have different lengths {sorted(lengths)} (cached rows need one shape)")
    many = dataset.read_many(picks, sample_rate)
    expect(np.array_equal(many, np.stack(audio)), cls, "read_many differs from read, or reading is not reproducible")
    half = dataset.read(int(picks[0]), sample_rate // 2)
    expected = len(audio[0]) / 2
    message = f"at {sample_rate // 2} Hz a clip has {len(half)} samples, expected about {expected:g}"
    expect(abs(len(half) - expected) <= 1, cls, message)
