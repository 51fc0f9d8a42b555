"""The TAU22 development-set layout: vocabularies, where the tables are, the root check and the table reader.

Every way the layout can be wrong that users of the reference code ran into (root one level too high or
pointing at ``audio/``, doubled ``audio/audio/`` paths, comma-separated tables) is a
:class:`~asc_bench.core.errors.UserError` that names the file and says how to fix it.
"""

from __future__ import annotations

from pathlib import Path

from asc_bench.api import UserError
from asc_bench_plugins.datasets.tau22.vocabulary import CITIES, SCENES
from asc_bench_plugins.datasets.tau22.vocabulary import (
    DEVICES as DEVICES,  # re-exported: the layout names every vocabulary
)

CLASSES: tuple[str, ...] = SCENES
DEV_CITIES: tuple[str, ...] = CITIES
META_COLUMNS: tuple[str, ...] = ("filename", "scene_label", "identifier", "source_label")
SPLIT_COLUMNS: tuple[str, ...] = ("filename", "scene_label")
RELEASE_FOLDER = "TAU-urban-acoustic-scenes-2022-mobile-development"
CLIP_SECONDS = 1
DOUBLED = ("audio/audio/", "audioaudio/")

WHAT_ROOT_IS = (
    "The tau22 root must be the folder that contains meta.csv, audio/ and evaluation_setup/ (the TAU Urban "
    f"Acoustic Scenes 2022 Mobile development set, zenodo record 6337421, unpacks into {RELEASE_FOLDER}/)."
)
UNPACK = "Unpack every audio zip part of the development set into the root (they fill audio/)."
HOW_TO_GET_DATA = (
    "Set data.dataset.root to that folder, or write a small synthetic dataset in the same layout with "
    "`asc-bench data synth DIR` and set root to DIR."
)


SUBSETS: tuple[str, ...] = ("split5", "split10", "split25", "split50", "split100")


def split_files(root: Path, split: str) -> dict[str, Path]:
    """The train and test tables of a split setting (``fold1`` or a 2024 subset) under ``root``."""
    if split == "fold1":
        return {
            "train": root / "evaluation_setup" / "fold1_train.csv",
            "test": root / "evaluation_setup" / "fold1_evaluate.csv",
        }
    test = root / "split_setup" / "test.csv"
    if not test.is_file():
        test = root / "evaluation_setup" / "fold1_evaluate.csv"
    return {"train": root / "split_setup" / f"{split}.csv", "test": test}


def present_split_files(root: Path) -> list[Path]:
    """Every split table of the release found under ``root`` (for the dataset check)."""
    names = [f"evaluation_setup/fold1_{side}.csv" for side in ("train", "evaluate")]
    names += [f"split_setup/{name}.csv" for name in (*SUBSETS, "test")]
    return [root / name for name in names if (root / name).is_file()]


def check_root(root: Path) -> None:
    """Raise a :class:`UserError` that names the likely mistake when ``root`` is not a TAU22 root."""
    if not root.exists():
        raise UserError(f"the tau22 dataset root {root} does not exist. {WHAT_ROOT_IS}", fix=HOW_TO_GET_DATA)
    if not root.is_dir():
        raise UserError(
            f"the tau22 dataset root {root} is a file, not a folder. {WHAT_ROOT_IS}",
            fix="If it is a downloaded zip, unpack it and point root at the unpacked folder. " + HOW_TO_GET_DATA,
        )
    if (root / "meta.csv").is_file():
        audio = root / "audio"
        if not audio.is_dir():
            raise UserError(
                f"the tau22 dataset root {root} has a meta.csv but no audio/ folder. {WHAT_ROOT_IS}",
                fix=UNPACK,
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
            f"the tau22 dataset root {root} has no meta.csv: it looks like {what}. {WHAT_ROOT_IS}",
            fix=f"Set data.dataset.root to {suggestion}.",
        )
    raise UserError(f"the tau22 dataset root {root} has no meta.csv. {WHAT_ROOT_IS}", fix=HOW_TO_GET_DATA)


def read_table(path: Path, columns: tuple[str, ...], missing_fix: str) -> list[list[str]]:
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
