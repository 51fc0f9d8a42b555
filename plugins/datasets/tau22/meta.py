"""TAU22 tables: meta.csv as a clip table, split files as row indices, and the validation hold-out."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np

from asc_bench.api import ClipTable, Finding, UserError
from asc_bench_plugins.datasets.tau22.audio import EXAMPLES
from asc_bench_plugins.datasets.tau22.layout import (
    CLASSES,
    DEV_CITIES,
    DEVICES,
    DOUBLED,
    META_COLUMNS,
    SPLIT_COLUMNS,
    UNPACK,
    WHAT_ROOT_IS,
    read_table,
)

_META_FIX = "Restore meta.csv from the dataset release."


@dataclass
class Meta:
    """meta.csv, parsed: the clip table plus what only this plugin needs (rows by name, locations)."""

    table: ClipTable
    row_of: dict[str, int]
    locations: np.ndarray  # int64 index of the clip's recording location (its meta.csv identifier)
    rows: list[list[str]]  # the raw meta.csv rows (for the vocabulary check)


def read_meta(root: Path) -> Meta:
    """Parse ``root/meta.csv``; the first problem found is a :class:`UserError` naming its line."""
    meta = root / "meta.csv"
    rows = read_table(meta, META_COLUMNS, f"{_META_FIX} {WHAT_ROOT_IS}")
    if not rows:
        raise UserError(f"{meta} lists no clips.", fix=_META_FIX)
    class_index = {c: i for i, c in enumerate(CLASSES)}
    labels: list[int] = []
    device_of: list[str] = []
    city_of: list[str] = []
    pieces: list[int] = []
    recording_index: dict[str, int] = {}
    recordings: list[int] = []
    location_index: dict[str, int] = {}
    locations: list[int] = []
    row_of: dict[str, int] = {}
    for row, (filename, scene, identifier, _source) in enumerate(rows):
        stem = filename[filename.rfind("/") + 1 : -4]
        label = class_index.get(scene)
        fields = stem.split("-")
        if (
            label is None
            or len(fields) != 6
            or not fields[4].isdigit()
            or not filename.endswith(".wav")
            or filename.startswith(DOUBLED)
            or filename in row_of
        ):
            _bad_meta_row(meta, row, filename, scene, row_of)
        row_of[filename] = row
        device = fields[5]
        recording = "-".join(fields[:4]) + "-" + device  # without the piece number
        labels.append(label)
        device_of.append(device)
        city_of.append(identifier.partition("-")[0])
        pieces.append(int(fields[4]))
        recordings.append(recording_index.setdefault(recording, len(recording_index)))
        locations.append(location_index.setdefault(identifier, len(location_index)))
    ids = [r[0] for r in rows]
    _check_first_clip(root, ids[0])
    device_names = DEVICES + tuple(sorted(set(device_of) - set(DEVICES)))
    city_names = DEV_CITIES + tuple(sorted(set(city_of) - set(DEV_CITIES)))
    device_idx = {d: i for i, d in enumerate(device_names)}
    city_idx = {c: i for i, c in enumerate(city_names)}
    table = ClipTable(
        ids=tuple(ids),
        paths=tuple(root / f for f in ids),
        labels=np.asarray(labels, dtype=np.int64),
        devices=np.asarray([device_idx[d] for d in device_of], dtype=np.int64),
        cities=np.asarray([city_idx[c] for c in city_of], dtype=np.int64),
        recordings=np.asarray(recordings, dtype=np.int64),
        class_names=CLASSES,
        device_names=device_names,
        city_names=city_names,
        pieces=np.asarray(pieces, dtype=np.int64),
    )
    return Meta(table, row_of, np.asarray(locations, dtype=np.int64), rows)


def _bad_meta_row(meta: Path, row: int, filename: str, scene: str, row_of: dict[str, int]) -> NoReturn:
    """Raise the :class:`UserError` that explains what is wrong with one meta.csv row."""
    where = f"{meta}:{row + 2}"
    if filename.startswith(DOUBLED):
        raise UserError(
            f"the file name {filename!r} has a doubled audio/ prefix; meta.csv names clips as "
            "audio/<scene>-<city>-<location>-<segment>-<piece>-<device>.wav relative to the root.",
            where=where,
            fix=_META_FIX + " (A script that prefixed 'audio/' again changed it.)",
        )
    stem = filename[filename.rfind("/") + 1 :]
    fields = stem[:-4].split("-")
    if len(fields) != 6 or not fields[4].isdigit() or not stem.endswith(".wav"):
        raise UserError(
            f"the file name {filename!r} is not of the form "
            "audio/<scene>-<city>-<location>-<segment>-<piece>-<device>.wav.",
            where=where,
            fix=_META_FIX,
        )
    if scene not in CLASSES:
        raise UserError(
            f"unknown scene_label {scene!r} for {filename}; the tau22 classes are {', '.join(CLASSES)}.",
            where=where,
            fix=_META_FIX,
        )
    raise UserError(f"{filename} is listed twice (also on line {row_of[filename] + 2}).", where=where, fix=_META_FIX)


def _check_first_clip(root: Path, clip_id: str) -> None:
    """A cheap early check that the listed audio is where meta.csv says (full check: fingerprint)."""
    if (root / clip_id).is_file():
        return
    nested = root / "audio" / clip_id
    if nested.is_file():
        raise UserError(
            f"the audio is nested one level too deep: meta.csv lists {clip_id} but the file is at "
            f"{nested} (a doubled audio/audio/ folder, typically from unpacking the zips inside audio/).",
            where=str(root),
            fix=f"Move the files of {root / 'audio' / 'audio'} up into {root / 'audio'}.",
        )
    raise UserError(
        f"meta.csv lists {clip_id} but {root / clip_id} does not exist: the audio/ folder is missing files.",
        where=str(root),
        fix=UNPACK,
    )


def read_split(path: Path, meta: Meta) -> np.ndarray:
    """The meta.csv rows a split table names, in its order; every line naming no known clip is reported."""
    table = meta.table
    if path.parent.name == "split_setup":
        fix = (
            "The 2024 subsets split5/10/25/50/100.csv and test.csv are published with the DCASE 2024 "
            f"Task 1 baseline (its split_setup/ folder); copy them to {path.parent}, or use split: fold1."
        )
    else:
        fix = f"Restore evaluation_setup/ from the dataset release. {WHAT_ROOT_IS}"
    rows = read_table(path, SPLIT_COLUMNS, fix)
    out = np.empty(len(rows), dtype=np.int64)
    seen: set[str] = set()
    unknown: list[tuple[int, str]] = []
    for i, (filename, scene) in enumerate(rows):
        row = meta.row_of.get(filename)
        if row is None:
            unknown.append((i + 2, filename))
            continue
        if scene != table.class_names[table.labels[row]]:
            raise UserError(
                f"line {i + 2} labels {filename} as {scene!r} but meta.csv says "
                f"{table.class_names[table.labels[row]]!r}.",
                where=str(path),
                fix="Use the split files that came with this dataset.",
            )
        if filename in seen:
            raise UserError(f"{filename} is listed twice.", where=str(path), fix="Use the split files of the release.")
        seen.add(filename)
        out[i] = row
    if unknown:
        _unknown_clips(path, unknown, meta)
    return out


def _unknown_clips(path: Path, unknown: list[tuple[int, str]], meta: Meta) -> NoReturn:
    line, filename = unknown[0]
    hint = ""
    if ("audio/" + filename) in meta.row_of:
        hint = " (meta.csv has it with the audio/ prefix)"
    elif filename.startswith("audio/audio/"):
        hint = " (the audio/ prefix is doubled)"
    more = ""
    if len(unknown) > 1:
        others = ", ".join(f"line {n}" for n, _ in unknown[1 : 1 + EXAMPLES])
        rest = len(unknown) - 1 - min(EXAMPLES, len(unknown) - 1)
        more = f" {len(unknown) - 1:,} more line(s) name unknown clips too ({others}{' …' if rest else ''})."
    raise UserError(
        f"line {line} names the clip {filename!r}, which is not in meta.csv{hint}.{more}",
        where=str(path),
        fix="Use the split files that came with this dataset (they must name clips exactly as "
        "meta.csv does, e.g. audio/airport-lisbon-1000-40000-0-a.wav).",
    )


def hold_out(rows: np.ndarray, meta: Meta, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split training ``rows`` into (train, validation) by recording location, never by clip.

    Locations are chosen per scene class (each location counts for the class most of its clips have), so
    every class with two or more locations gets round(fraction × its locations) of them held out — at least
    one, never all. The order of ``rows`` is kept on both sides.
    """
    locations = meta.locations[rows]
    labels = meta.table.labels[rows]
    unique, inverse = np.unique(locations, return_inverse=True)
    votes = np.zeros((len(unique), len(meta.table.class_names)), dtype=np.int64)
    np.add.at(votes, (inverse, labels), 1)
    scene_of = votes.argmax(axis=1)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x7A1]))
    held: list[np.ndarray] = []
    for scene in range(votes.shape[1]):
        candidates = unique[scene_of == scene]
        if len(candidates) < 2:
            continue
        take = min(max(1, round(fraction * len(candidates))), len(candidates) - 1)
        held.append(rng.permutation(candidates)[:take])
    if not held:
        raise UserError(
            f"cannot hold out a validation split: no scene class has two or more recording locations in the "
            f"training split ({len(unique)} location(s) in all).",
            fix="Set data.dataset.validation.fraction to 0, or use a dataset with more recording locations.",
        )
    is_held = np.isin(locations, np.concatenate(held))
    return rows[~is_held], rows[is_held]


def vocabulary_findings(meta: Meta) -> list[Finding]:
    """Devices and cities outside the development set, and meta.csv columns that disagree with file names."""
    findings = []
    table = meta.table
    for column, known, what in (("devices", DEVICES, "device"), ("cities", DEV_CITIES, "city")):
        names = table.device_names if column == "devices" else table.city_names
        counts = np.bincount(getattr(table, column), minlength=len(names))
        extra = [f"{names[i]} ({counts[i]:,} clips)" for i in range(len(known), len(names)) if counts[i]]
        if extra:
            findings.append(
                Finding(
                    "warning",
                    f"meta.csv names {what} labels outside the TAU22 development set ({', '.join(known)}): "
                    f"{', '.join(extra)}.",
                    fix="Expected for other TAU releases; otherwise check meta.csv.",
                )
            )
    for column, position, what in ((2, 1, "city (identifier)"), (3, 5, "device (source_label)")):
        odd = []
        for row in meta.rows:
            fields = row[0][row[0].rfind("/") + 1 : -4].split("-")
            value = row[column].partition("-")[0] if column == 2 else row[column]
            if value != fields[position]:
                odd.append(f"{row[0]} says {value!r}")
        if odd:
            findings.append(
                Finding(
                    "warning",
                    f"{len(odd):,} meta.csv row(s) give a {what} that differs from the file name, e.g. "
                    f"{'; '.join(odd[:EXAMPLES])}. Scores per device come from the file name, per city from "
                    "the identifier.",
                    fix=_META_FIX,
                )
            )
    return findings


def unlisted_findings(root: Path, meta: Meta) -> list[Finding]:
    """WAV files in audio/ that meta.csv does not list (never read, but a sign of a mixed-up folder)."""
    audio = root / "audio"
    try:
        names = {entry.name for entry in os.scandir(audio) if entry.name.endswith(".wav")}
    except OSError:
        return []
    listed = {clip_id[len("audio/") :] for clip_id in meta.row_of if clip_id.startswith("audio/")}
    extra = sorted(names - listed)
    if not extra:
        return []
    return [
        Finding(
            "warning",
            f"{len(extra):,} WAV file(s) in {audio} are not listed in meta.csv, e.g. "
            f"{', '.join(extra[:EXAMPLES])}. They are never read.",
            fix="If they belong to the dataset, restore meta.csv from the release; otherwise remove them.",
        )
    ]
