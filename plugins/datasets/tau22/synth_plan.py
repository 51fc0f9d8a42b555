"""The plan of a synthetic TAU22-layout dataset: which 10-s segments exist, which side of the split each is on,
which devices record it, and the rows of every table (``meta.csv``, the fold1 split, the 2024 subsets).

Everything here is decided before any audio is rendered (:mod:`.synth_audio`), so the clip counts of any
parameters are known without writing a file (:func:`~.synth.synthetic_dataset_size`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asc_bench.api import UserError
from asc_bench_plugins.datasets.tau22.vocabulary import CITIES, DEVICES, SCENES, TRAIN_DEVICES

OTHER_DEVICES: tuple[str, ...] = DEVICES[1:]
SUBSET_PERCENTS: tuple[int, ...] = (5, 10, 25, 50, 100)
PIECES = 10  # 1-s clips per 10-s recording
TEST_FRACTION = 0.3

_META_HEADER = "filename\tscene_label\tidentifier\tsource_label\n"
_SPLIT_HEADER = "filename\tscene_label\n"
Tables = dict[str, list[tuple[str, ...]]]  # the rows of each table, by path relative to the root


@dataclass(frozen=True)
class Segment:
    """One 10-s segment of scene audio and the devices that record it."""

    scene: int
    city: int
    location: int  # numeric location id, as in the file name
    segment: int  # numeric segment id, as in the file name
    test: bool  # its location is on the test side
    parallel: bool  # also recorded by devices other than a
    devices: tuple[str, ...]
    key: tuple[int, ...]  # seed entropy: (scene, city, location index, segment index)

    def filename(self, piece: int, device: str) -> str:
        """The clip's path relative to the root, as in the real set."""
        scene, city = SCENES[self.scene], CITIES[self.city]
        return f"audio/{scene}-{city}-{self.location}-{self.segment}-{piece}-{device}.wav"


@dataclass(frozen=True)
class SynthParams:
    """Everything that determines the written files (not the worker count)."""

    seed: int = 0
    cities: int = 10
    locations_per_pair: int = 1
    segments_per_location: int = 1
    parallel_fraction: float = 1.0
    devices_per_parallel: int = 2


def check_params(p: SynthParams) -> None:
    """Refuse parameters that cannot make a usable dataset (a :class:`UserError` naming the parameter)."""

    def bad(field: str, value: Any, expected: str) -> UserError:
        return UserError(
            f"the synthetic dataset parameter {field}={value!r} is invalid: expected {expected}.",
            fix=f"Pass a valid {field}.",
        )

    if not 1 <= p.cities <= len(CITIES):
        raise bad("cities", p.cities, f"an integer from 1 to {len(CITIES)}")
    if p.locations_per_pair < 1:
        raise bad("locations_per_pair", p.locations_per_pair, "an integer of at least 1")
    if p.cities * p.locations_per_pair < 2:
        raise bad(
            "locations_per_pair",
            p.locations_per_pair,
            "at least 2 recording locations per scene (cities × locations_per_pair ≥ 2) so that every "
            "scene appears in both the train and the test split",
        )
    if p.segments_per_location < 1:
        raise bad("segments_per_location", p.segments_per_location, "an integer of at least 1")
    if not 0.0 < p.parallel_fraction <= 1.0:
        raise bad("parallel_fraction", p.parallel_fraction, "a number in (0, 1]")
    if not 1 <= p.devices_per_parallel <= len(OTHER_DEVICES):
        raise bad("devices_per_parallel", p.devices_per_parallel, f"an integer from 1 to {len(OTHER_DEVICES)}")


def _test_locations(p: SynthParams) -> set[tuple[int, int, int]]:
    """(scene, city, location index) triples on the test side: about 30 % of each scene's locations.

    For each scene the locations are ranked location index first, then city rotated by the scene, so every
    scene has test and train locations, each city is on the test side for some scenes, and with several
    locations per pair every city contributes test locations to every scene.
    """
    per_scene = p.cities * p.locations_per_pair
    n_test = min(max(1, round(TEST_FRACTION * per_scene)), per_scene - 1)
    chosen = set()
    for s in range(len(SCENES)):
        for c in range(p.cities):
            for j in range(p.locations_per_pair):
                if j * p.cities + (c - s) % p.cities < n_test:
                    chosen.add((s, c, j))
    return chosen


def plan_segments(p: SynthParams) -> list[Segment]:
    """The segments to render, in a fixed order, with their side and recording devices."""
    rng = np.random.default_rng(np.random.SeedSequence([p.seed, 0x5EED]))
    test_locs = _test_locations(p)
    raw = []  # (scene, city, j, k, location id, test)
    for s in range(len(SCENES)):
        for c in range(p.cities):
            for j in range(p.locations_per_pair):
                loc_id = 1000 + (s * p.cities + c) * p.locations_per_pair + j
                for k in range(p.segments_per_location):
                    raw.append((s, c, j, k, loc_id, (s, c, j) in test_locs))
    # Parallel segments: a fraction of each side, first segments first, scenes interleaved (so every class
    # gets its share), locations in a seeded order within each scene. Each takes the devices least used so
    # far on its side, ties broken at random, so that devices are balanced and not tied to scenes.
    position = {}
    for side in (True, False):
        for s in range(len(SCENES)):
            locs = sorted({r[4] for r in raw if r[0] == s and r[5] == side})
            for pos, i in enumerate(rng.permutation(len(locs))):
                position[locs[i]] = pos
    devices: dict[int, tuple[str, ...]] = {}
    for side in (True, False):
        idx = [i for i, r in enumerate(raw) if r[5] == side]
        idx.sort(key=lambda i: (raw[i][3], position[raw[i][4]], raw[i][0]))
        n_parallel = max(1, round(p.parallel_fraction * len(idx)))
        used = np.zeros(len(OTHER_DEVICES), dtype=np.int64)
        for i in idx[:n_parallel]:
            tie = rng.random(len(OTHER_DEVICES))
            chosen = np.lexsort((tie, used))[: p.devices_per_parallel]
            used[chosen] += 1
            devices[i] = ("a", *(OTHER_DEVICES[d] for d in sorted(chosen)))
    return [
        Segment(
            scene=s,
            city=c,
            location=loc_id,
            segment=40000 + 10000 * k,
            test=test,
            parallel=i in devices,
            devices=devices.get(i, ("a",)),
            key=(s, c, j, k),
        )
        for i, (s, c, j, k, loc_id, test) in enumerate(raw)
    ]


# --------------------------------------------------------------------------------------------- the tables


def _subset_order(seed: int, recordings: list[tuple[str, int]]) -> list[str]:
    """Train recordings in a class-stratified seeded order: every prefix holds each class proportionally."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x2024]))
    by_class: dict[int, list[str]] = {}
    for rec, label in sorted(recordings):
        by_class.setdefault(label, []).append(rec)
    keyed = []
    for label, recs in sorted(by_class.items()):
        perm = rng.permutation(len(recs))
        for pos, i in enumerate(perm):
            keyed.append(((pos + 0.5) / len(recs), label, recs[i]))
    return [rec for _, _, rec in sorted(keyed)]


def table_rows(p: SynthParams, plan: list[Segment]) -> Tables:
    """The rows of every table, by path relative to the root (unsorted)."""
    meta: list[tuple[str, ...]] = []
    train: list[tuple[str, ...]] = []
    test: list[tuple[str, ...]] = []
    train_recordings: list[tuple[str, int]] = []
    for seg in plan:
        scene, city = SCENES[seg.scene], CITIES[seg.city]
        for device in seg.devices:
            names = [seg.filename(piece, device) for piece in range(PIECES)]
            meta += [(n, scene, f"{city}-{seg.location}", device) for n in names]
            if seg.test and seg.parallel:
                test += [(n, scene) for n in names]
            elif not seg.test and device in TRAIN_DEVICES:
                train += [(n, scene) for n in names]
                train_recordings.append((f"{scene}-{city}-{seg.location}-{seg.segment}-{device}", seg.scene))
    tables = {
        "meta.csv": meta,
        "evaluation_setup/fold1_train.csv": train,
        "evaluation_setup/fold1_evaluate.csv": test,
        "split_setup/test.csv": test,
    }
    order = _subset_order(p.seed, train_recordings)
    for pct in SUBSET_PERCENTS:
        n = len(order) if pct == 100 else max(1, round(pct / 100 * len(order)))
        keep = set(order[:n])
        tables[f"split_setup/split{pct}.csv"] = [r for r in train if _recording_of(r[0]) in keep]
    return tables


def clip_counts(tables: Tables) -> dict[str, int]:
    """Clips in the whole set, each split and each 2024 subset, and the number of 10-s recordings."""
    clips, train, test = (
        len(tables[k]) for k in ("meta.csv", "evaluation_setup/fold1_train.csv", "evaluation_setup/fold1_evaluate.csv")
    )
    counts = {
        "clips": clips,
        "train": train,
        "test": test,
        "unused": clips - train - test,
        "recordings": clips // PIECES,
    }
    counts.update({f"split{pct}": len(tables[f"split_setup/split{pct}.csv"]) for pct in SUBSET_PERCENTS})
    return counts


def write_tables(root: Path, tables: Tables) -> None:
    """Write every table under ``root`` (tab-separated, sorted rows, the real headers)."""
    for rel, rows in tables.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        header = _META_HEADER if rel == "meta.csv" else _SPLIT_HEADER
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(header)
            f.writelines("\t".join(r) + "\n" for r in sorted(rows))


def _recording_of(filename: str) -> str:
    """``audio/<scene>-<city>-<loc>-<seg>-<piece>-<device>.wav`` → the recording without the piece."""
    parts = filename[len("audio/") : -len(".wav")].split("-")
    return "-".join(parts[:4] + parts[5:])
