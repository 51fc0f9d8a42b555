"""The ``tau22`` dataset: TAU Urban Acoustic Scenes 2022 Mobile, development set (REFERENCE.md §1).

Reads the real layout under ``root``: ``meta.csv`` (tab-separated: filename, scene_label, identifier,
source_label), ``audio/*.wav`` (1-s clips), ``evaluation_setup/fold1_{train,evaluate}.csv`` and, for the 2024
data-efficiency subsets, ``split_setup/split{5,10,25,50,100}.csv`` and ``split_setup/test.csv``. The synthetic
dataset written by ``asc-bench data synth DIR`` has the same layout, so it is read by this same code.

Every way the layout can be wrong that users of the reference code ran into (root one level too high or
pointing at ``audio/``, doubled ``audio/audio/`` paths, comma-separated tables, a split naming an unknown
clip, 1-s and 10-s audio mixed) is a :class:`~asc_bench.errors.UserError` that names the file and says how
to fix it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Literal, NoReturn

import numpy as np

from asc_bench.api import ClipTable, Dataset, PluginConfig, non_semantic
from asc_bench.errors import UserError

CLASSES: tuple[str, ...] = (
    "airport",
    "bus",
    "metro",
    "metro_station",
    "park",
    "public_square",
    "shopping_mall",
    "street_pedestrian",
    "street_traffic",
    "tram",
)
DEV_CITIES: tuple[str, ...] = (
    "barcelona",
    "helsinki",
    "lisbon",
    "london",
    "lyon",
    "milan",
    "paris",
    "prague",
    "stockholm",
    "vienna",
)
DEVICES: tuple[str, ...] = ("a", "b", "c", "s1", "s2", "s3", "s4", "s5", "s6")
META_COLUMNS: tuple[str, ...] = ("filename", "scene_label", "identifier", "source_label")
SPLIT_COLUMNS: tuple[str, ...] = ("filename", "scene_label")
RELEASE_FOLDER = "TAU-urban-acoustic-scenes-2022-mobile-development"
CLIP_SECONDS = 1
_DOUBLED = ("audio/audio/", "audioaudio/")

_WHAT_ROOT_IS = (
    "The tau22 root must be the folder that contains meta.csv, audio/ and evaluation_setup/ (the TAU Urban "
    f"Acoustic Scenes 2022 Mobile development set, zenodo record 6337421, unpacks into {RELEASE_FOLDER}/)."
)
_UNPACK = "Unpack every audio zip part of the development set into the root (they fill audio/)."
_HOW_TO_GET_DATA = (
    "Set data.dataset.root to that folder, or write a small synthetic dataset in the same layout with "
    "`asc-bench data synth DIR` and set root to DIR."
)


class TAU22Config(PluginConfig):
    """Settings of the ``tau22`` dataset."""

    type: Literal["tau22"] = "tau22"
    root: Path = non_semantic(
        description="The folder containing meta.csv, audio/ and evaluation_setup/ (not part of the spec hash)."
    )
    split: Literal["fold1", "split5", "split10", "split25", "split50", "split100"] = "fold1"


def _split_files(root: Path, split: str) -> dict[str, Path]:
    if split == "fold1":
        return {
            "train": root / "evaluation_setup" / "fold1_train.csv",
            "test": root / "evaluation_setup" / "fold1_evaluate.csv",
        }
    test = root / "split_setup" / "test.csv"
    if not test.is_file():
        test = root / "evaluation_setup" / "fold1_evaluate.csv"
    return {"train": root / "split_setup" / f"{split}.csv", "test": test}


def _check_root(root: Path) -> None:
    """Raise a :class:`UserError` that names the likely mistake when ``root`` is not a TAU22 root."""
    if not root.exists():
        raise UserError(f"the tau22 dataset root {root} does not exist. {_WHAT_ROOT_IS}", fix=_HOW_TO_GET_DATA)
    if not root.is_dir():
        raise UserError(
            f"the tau22 dataset root {root} is a file, not a folder. {_WHAT_ROOT_IS}",
            fix="If it is a downloaded zip, unpack it and point root at the unpacked folder. " + _HOW_TO_GET_DATA,
        )
    if (root / "meta.csv").is_file():
        audio = root / "audio"
        if not audio.is_dir():
            raise UserError(
                f"the tau22 dataset root {root} has a meta.csv but no audio/ folder. {_WHAT_ROOT_IS}",
                fix=_UNPACK,
            )
        return
    suggestion = None
    if (root / RELEASE_FOLDER / "meta.csv").is_file():
        suggestion = root / RELEASE_FOLDER
        what = "one level too high"
    elif root.name == "audio" and (root.parent / "meta.csv").is_file():
        suggestion = root.parent
        what = "the audio/ folder itself, not the dataset root above it"
    elif (root.parent / "meta.csv").is_file():
        suggestion = root.parent
        what = f"a sub-folder ({root.name}/) of the dataset root"
    else:
        inner = sorted(p.parent for p in root.glob("*/meta.csv"))
        if inner:
            suggestion = inner[0]
            what = "one level too high"
    if suggestion is not None:
        raise UserError(
            f"the tau22 dataset root {root} has no meta.csv: it looks like {what}. {_WHAT_ROOT_IS}",
            fix=f"Set data.dataset.root to {suggestion}.",
        )
    raise UserError(f"the tau22 dataset root {root} has no meta.csv. {_WHAT_ROOT_IS}", fix=_HOW_TO_GET_DATA)


def _read_table(path: Path, columns: tuple[str, ...], missing_fix: str) -> list[list[str]]:
    """Rows of a tab-separated table with exactly ``columns`` as its header (header checked, not returned)."""
    expected = "\t".join(columns)
    shown = "filename<TAB>scene_label..." if len(columns) > 2 else "filename<TAB>scene_label"
    if not path.is_file():
        raise UserError(f"{path} is missing.", fix=missing_fix)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path} cannot be read as UTF-8 text ({err}).", fix=missing_fix) from err
    lines = text.splitlines()
    header = lines[0].strip() if lines else ""
    if "\t" not in header and any(sep in header for sep in ",;"):
        sep = "," if "," in header else ";"
        raise UserError(
            f"{path} is not tab-separated: its header {header!r} is separated by {sep!r}. The TAU22 tables "
            f"are tab-separated with the header columns {', '.join(columns)} ({shown}).",
            fix="Restore the file from the dataset release, or rewrite it with tabs between the columns.",
        )
    if tuple(h.strip() for h in header.split("\t")) != columns:
        raise UserError(
            f"{path} has the header {header!r}; expected the tab-separated columns {', '.join(columns)} "
            f"(first line exactly {expected!r}).",
            fix="Restore the file from the dataset release (the header line is required).",
        )
    rows = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.rstrip().split("\t")
        if len(fields) != len(columns):
            raise UserError(
                f"line {lineno} has {len(fields)} tab-separated field(s), expected {len(columns)} "
                f"({', '.join(columns)}): {line[:120]!r}.",
                where=str(path),
                fix="Restore the file from the dataset release.",
            )
        rows.append(fields)
    return rows


class TAU22Dataset(Dataset):
    """TAU Urban Acoustic Scenes 2022 Mobile development set (or the synthetic set in its layout)."""

    Config = TAU22Config

    def __init__(self, config: TAU22Config) -> None:  # type: ignore[override]
        super().__init__(config)
        self.root = Path(config.root).expanduser()
        self.split_name: str = config.split
        _check_root(self.root)
        self._table: ClipTable | None = None
        self._row_of: dict[str, int] = {}
        self._splits: dict[str, np.ndarray] = {}
        self._fingerprint: str | None = None
        self._resamplers: dict[tuple[int, int], Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_resamplers"] = {}  # rebuilt where needed (cheap), keeps pickles small
        state["_row_of"] = {}  # rebuilt from the clip table if a split is loaded there
        return state

    def describe(self) -> str:
        return str(self.root)

    # ------------------------------------------------------------------------------------------ metadata

    def clips(self) -> ClipTable:
        if self._table is None:
            self._table = self._load_meta()
        return self._table

    def _load_meta(self) -> ClipTable:
        meta = self.root / "meta.csv"
        rows = _read_table(meta, META_COLUMNS, "Restore meta.csv from the dataset release. " + _WHAT_ROOT_IS)
        if not rows:
            raise UserError(f"{meta} lists no clips.", fix="Restore meta.csv from the dataset release.")
        class_index = {c: i for i, c in enumerate(CLASSES)}
        ids = [r[0] for r in rows]
        labels: list[int] = []
        device_of: list[str] = []
        city_of: list[str] = []
        recording_index: dict[str, int] = {}
        recordings: list[int] = []
        row_of: dict[str, int] = {}
        for row, (filename, scene, identifier, _source) in enumerate(rows):
            stem = filename[filename.rfind("/") + 1 : -4]
            label = class_index.get(scene)
            if (
                label is None
                or stem.count("-") != 5
                or not filename.endswith(".wav")
                or filename.startswith(_DOUBLED)
                or filename in row_of
            ):
                self._bad_meta_row(meta, row, filename, scene, row_of)
            row_of[filename] = row
            head, _, device = stem.rpartition("-")
            recording = head[: head.rfind("-")] + "-" + device  # without the piece number
            labels.append(label)
            device_of.append(device)
            city_of.append(identifier.partition("-")[0])
            recordings.append(recording_index.setdefault(recording, len(recording_index)))
        self._check_first_clip(ids[0])
        device_names = DEVICES + tuple(sorted(set(device_of) - set(DEVICES)))
        city_names = DEV_CITIES + tuple(sorted(set(city_of) - set(DEV_CITIES)))
        device_idx = {d: i for i, d in enumerate(device_names)}
        city_idx = {c: i for i, c in enumerate(city_names)}
        self._row_of = row_of
        return ClipTable(
            ids=tuple(ids),
            paths=tuple(self.root / f for f in ids),
            labels=np.asarray(labels, dtype=np.int64),
            devices=np.asarray([device_idx[d] for d in device_of], dtype=np.int64),
            cities=np.asarray([city_idx[c] for c in city_of], dtype=np.int64),
            recordings=np.asarray(recordings, dtype=np.int64),
            class_names=CLASSES,
            device_names=device_names,
            city_names=city_names,
        )

    @staticmethod
    def _bad_meta_row(meta: Path, row: int, filename: str, scene: str, row_of: dict[str, int]) -> NoReturn:
        """Raise the :class:`UserError` that explains what is wrong with one meta.csv row."""
        where = f"{meta}:{row + 2}"
        fix = "Restore meta.csv from the dataset release."
        if filename.startswith(_DOUBLED):
            raise UserError(
                f"the file name {filename!r} has a doubled audio/ prefix; meta.csv names clips as "
                "audio/<scene>-<city>-<location>-<segment>-<piece>-<device>.wav relative to the root.",
                where=where,
                fix=fix + " (A script that prefixed 'audio/' again changed it.)",
            )
        stem = filename[filename.rfind("/") + 1 :]
        if stem.count("-") != 5 or not stem.endswith(".wav"):
            raise UserError(
                f"the file name {filename!r} is not of the form "
                "audio/<scene>-<city>-<location>-<segment>-<piece>-<device>.wav.",
                where=where,
                fix=fix,
            )
        if scene not in CLASSES:
            raise UserError(
                f"unknown scene_label {scene!r} for {filename}; the tau22 classes are {', '.join(CLASSES)}.",
                where=where,
                fix=fix,
            )
        raise UserError(f"{filename} is listed twice (also on line {row_of[filename] + 2}).", where=where, fix=fix)

    def _check_first_clip(self, clip_id: str) -> None:
        """A cheap early check that the listed audio is where meta.csv says (full check: fingerprint)."""
        if (self.root / clip_id).is_file():
            return
        nested = self.root / "audio" / clip_id
        if nested.is_file():
            raise UserError(
                f"the audio is nested one level too deep: meta.csv lists {clip_id} but the file is at "
                f"{nested} (a doubled audio/audio/ folder, typically from unpacking the zips inside audio/).",
                where=str(self.root),
                fix=f"Move the files of {self.root / 'audio' / 'audio'} up into {self.root / 'audio'}.",
            )
        raise UserError(
            f"meta.csv lists {clip_id} but {self.root / clip_id} does not exist: the audio/ folder is missing files.",
            where=str(self.root),
            fix=_UNPACK,
        )

    # ------------------------------------------------------------------------------------------ splits

    def split_files(self) -> dict[str, Path]:
        """The train and test split files this configuration reads."""
        return _split_files(self.root, self.split_name)

    def split(self, name: Literal["train", "test"]) -> np.ndarray:
        if name not in ("train", "test"):
            raise ValueError(f"split name must be 'train' or 'test', not {name!r}")
        if name not in self._splits:
            for side, path in self.split_files().items():
                self._splits[side] = self._load_split(path)
            overlap = np.intersect1d(self._splits["train"], self._splits["test"])
            if overlap.size:
                files = self.split_files()
                raise UserError(
                    f"{overlap.size} clip(s) are in both the train split {files['train']} and the test split "
                    f"{files['test']}, e.g. {self.clips().ids[int(overlap[0])]}.",
                    fix="Restore the split files from the dataset release (train and test must be disjoint).",
                )
        return self._splits[name]

    def _load_split(self, path: Path) -> np.ndarray:
        table = self.clips()
        if not self._row_of:
            self._row_of = {clip_id: row for row, clip_id in enumerate(table.ids)}
        if path.parent.name == "split_setup":
            fix = (
                "The 2024 subsets split5/10/25/50/100.csv and test.csv are published with the DCASE 2024 "
                f"Task 1 baseline (its split_setup/ folder); copy them to {path.parent}, or use split: fold1."
            )
        else:
            fix = f"Restore evaluation_setup/ from the dataset release. {_WHAT_ROOT_IS}"
        rows = _read_table(path, SPLIT_COLUMNS, fix)
        out = np.empty(len(rows), dtype=np.int64)
        seen: set[str] = set()
        for i, (filename, scene) in enumerate(rows):
            row = self._row_of.get(filename)
            if row is None:
                hint = ""
                if ("audio/" + filename) in self._row_of:
                    hint = " (meta.csv has it with the audio/ prefix)"
                elif filename.startswith("audio/audio/"):
                    hint = " (the audio/ prefix is doubled)"
                raise UserError(
                    f"line {i + 2} names the clip {filename!r}, which is not in meta.csv{hint}.",
                    where=str(path),
                    fix="Use the split files that came with this dataset (they must name clips exactly as "
                    "meta.csv does, e.g. audio/airport-lisbon-1000-40000-0-a.wav).",
                )
            if scene != table.class_names[table.labels[row]]:
                raise UserError(
                    f"line {i + 2} labels {filename} as {scene!r} but meta.csv says "
                    f"{table.class_names[table.labels[row]]!r}.",
                    where=str(path),
                    fix="Use the split files that came with this dataset.",
                )
            if filename in seen:
                raise UserError(
                    f"{filename} is listed twice.", where=str(path), fix="Use the split files of the release."
                )
            seen.add(filename)
            out[i] = row
        return out

    # ------------------------------------------------------------------------------------------ identity

    def fingerprint(self) -> str:
        """SHA-256 (16 hex digits) of meta.csv, the split files used, and every clip's size and mtime."""
        if self._fingerprint is None:
            table = self.clips()
            h = hashlib.sha256(b"asc-bench tau22 fingerprint v1\n")
            for path in (self.root / "meta.csv", *self.split_files().values()):
                data = path.read_bytes() if path.is_file() else b""
                h.update(f"{path.relative_to(self.root).as_posix()}\t{len(data)}\n".encode())
                h.update(data)
            root = str(self.root)
            missing: list[str] = []
            lines = []
            for clip_id in sorted(table.ids):
                try:
                    st = os.stat(os.path.join(root, clip_id))
                except OSError:
                    missing.append(clip_id)
                    continue
                lines.append(f"{clip_id}\t{st.st_size}\t{st.st_mtime_ns}\n")
            if missing:
                raise UserError(
                    f"{len(missing):,} of the {len(table):,} clips listed in meta.csv are missing under "
                    f"{self.root}, e.g. {', '.join(missing[:3])}.",
                    fix=_UNPACK,
                )
            h.update("".join(lines).encode())
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    # ------------------------------------------------------------------------------------------ audio

    def read(self, index: int, sample_rate: int) -> np.ndarray:
        import soundfile as sf

        table = self.clips()
        clip_id, path = table.ids[index], table.paths[index]
        try:
            data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        except (RuntimeError, OSError) as err:  # soundfile.LibsndfileError is a RuntimeError
            if not path.is_file():
                raise UserError(
                    f"the clip {clip_id} is listed in meta.csv but its file {path} does not exist.",
                    fix=_UNPACK,
                ) from err
            raise UserError(
                f"the clip {clip_id} ({path}) cannot be decoded as a WAV file: {err}.",
                fix="The file is damaged; restore it from the release (or write the synthetic set again).",
            ) from err
        if data.shape[1] != 1:
            raise UserError(
                f"the clip {clip_id} ({path}) has {data.shape[1]} channels; tau22 clips are mono.",
                fix="Restore the file from the dataset release (the development set is mono throughout).",
            )
        if data.shape[0] != CLIP_SECONDS * rate:
            raise UserError(
                f"the clip {clip_id} ({path}) is {data.shape[0] / rate:.3f} s long ({data.shape[0]:,} "
                f"samples at {rate:,} Hz); tau22 clips are {CLIP_SECONDS} s long.",
                fix="Restore the file from the dataset release (1-s clips only; no 10-s recordings).",
            )
        x = data[:, 0]
        if rate != sample_rate:
            x = self._resampler(rate, sample_rate)(_torch().from_numpy(x)).numpy()
        return np.ascontiguousarray(x, dtype=np.float32)

    def _resampler(self, orig: int, new: int) -> Any:
        key = (orig, new)
        if key not in self._resamplers:
            import torchaudio

            self._resamplers[key] = torchaudio.transforms.Resample(orig, new)
        return self._resamplers[key]


def _torch() -> Any:
    import torch

    return torch
