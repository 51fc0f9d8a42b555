"""TAU22 audio files: decoding with the checks a run needs, and the header scan of ``asc-bench data check``.

Both report a bad file with the same words, so a run refuses a broken dataset with exactly the message the
check printed for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from asc_bench.api import Finding, UserError
from asc_bench_plugins.datasets.tau22.layout import CLIP_SECONDS, UNPACK

FILE_RATE = 44100
_DAMAGED = "The file is damaged; restore it from the release (or write the synthetic set again)."
_FIXES = {
    "missing": UNPACK,
    "unreadable": _DAMAGED,
    "format": "Restore the file from the dataset release: every clip is a PCM WAV file, and a clip that was "
    "encoded to another format (lossy MP3, say) and renamed is not the recording the results are measured on.",
    "channels": "Restore the file from the dataset release (the development set is mono throughout).",
    "length": "Restore the file from the dataset release (1-s clips only; no 10-s recordings).",
    "rate": "It is resampled to the working rate like every clip; restore it from the release if it is not "
    "the file you meant.",
}
_SCAN_BLOCK = 256  # files per task of the header scan
EXAMPLES = 3


@dataclass(frozen=True)
class ClipProblem:
    """What is wrong with one audio file: ``kind`` groups problems, ``message`` says it for this file."""

    kind: Literal["missing", "unreadable", "format", "channels", "length", "rate"]
    message: str

    @property
    def severity(self) -> Literal["error", "warning"]:
        return "warning" if self.kind == "rate" else "error"

    @property
    def fix(self) -> str:
        return _FIXES[self.kind]

    def error(self) -> UserError:
        return UserError(self.message, fix=self.fix)


def missing(clip_id: str, path: Path) -> ClipProblem:
    return ClipProblem("missing", f"the clip {clip_id} is listed in meta.csv but its file {path} does not exist.")


def unreadable(clip_id: str, path: Path, err: Exception) -> ClipProblem:
    found = sniff(path)
    what = f"; its content is {found}" if found else ""
    return ClipProblem("unreadable", f"the clip {clip_id} ({path}) cannot be decoded as a WAV file: {err}{what}.")


_MAGIC = ((b"ID3", "an MP3 file"), (b"fLaC", "a FLAC file"), (b"OggS", "an Ogg file"), (b"PK", "a ZIP archive"))


def sniff(path: Path) -> str | None:
    """What a file's first bytes say it is, when that is not WAV (for messages about files named .wav)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return None
    if head[4:8] == b"ftyp":
        return "an MP4/M4A file"
    if head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "an MP3 file"
    if head.lstrip()[:1] in (b"<", b"{"):
        return "text (HTML, XML or JSON: a download error page?)"
    return next((name for magic, name in _MAGIC if head.startswith(magic)), None)


def format_problem(
    clip_id: str, path: Path, channels: int, frames: int, rate: int, container: tuple[str, str, str] = ("WAV", "", "")
) -> ClipProblem | None:
    """The first thing wrong with a file of this format, or ``None`` for a good TAU22 clip. ``container`` is
    libsndfile's format, its description and the encoding's description (e.g. ``MP3``, ``MPEG-1/2 Audio``,
    ``MPEG Layer III``)."""
    name, described, encoding = container
    if name != "WAV":
        return ClipProblem(
            "format",
            f"the clip {clip_id} ({path}) is not a WAV file but {described or name}"
            + (f" ({encoding})" if encoding else "")
            + ".",
        )
    if channels != 1:
        return ClipProblem("channels", f"the clip {clip_id} ({path}) has {channels} channels; tau22 clips are mono.")
    if frames != CLIP_SECONDS * rate:
        return ClipProblem(
            "length",
            f"the clip {clip_id} ({path}) is {frames / rate:.3f} s long ({frames:,} samples at {rate:,} Hz); "
            f"tau22 clips are {CLIP_SECONDS} s long.",
        )
    if rate != FILE_RATE:
        return ClipProblem(
            "rate",
            f"the clip {clip_id} ({path}) is sampled at {rate:,} Hz; the TAU22 release is {FILE_RATE:,} Hz throughout.",
        )
    return None


def decode(clip_id: str, path: Path) -> tuple[np.ndarray, int]:
    """The clip's mono float32 samples at the file's rate, and that rate; a bad file is a :class:`UserError`."""
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as file:
            container = (file.format, file.format_info, file.subtype_info)
            data, rate = file.read(dtype="float32", always_2d=True), file.samplerate
    except (RuntimeError, OSError) as err:  # soundfile.LibsndfileError is a RuntimeError
        problem = missing(clip_id, path) if not path.is_file() else unreadable(clip_id, path, err)
        raise problem.error() from err
    problem = format_problem(clip_id, path, data.shape[1], data.shape[0], rate, container)
    if problem is not None and problem.severity == "error":
        raise problem.error()
    return data[:, 0], int(rate)


def _inspect(clip_id: str, path: Path) -> ClipProblem | None:
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (RuntimeError, OSError) as err:
        return missing(clip_id, path) if not path.is_file() else unreadable(clip_id, path, err)
    container = (info.format, info.format_info, info.subtype_info)
    return format_problem(clip_id, path, info.channels, info.frames, info.samplerate, container)


def _inspect_block(ids: Sequence[str], paths: Sequence[Path]) -> list[ClipProblem]:
    return [p for p in map(_inspect, ids, paths) if p is not None]


def scan(ids: Sequence[str], paths: Sequence[Path], workers: int = 2) -> list[Finding]:
    """Read the header of every file (in threads) and report each kind of problem once, with examples."""
    blocks = range(0, len(ids), _SCAN_BLOCK)
    with ThreadPoolExecutor(max(1, workers)) as pool:
        results = pool.map(lambda s: _inspect_block(ids[s : s + _SCAN_BLOCK], paths[s : s + _SCAN_BLOCK]), blocks)
        problems = [p for block in results for p in block]
    by_kind: dict[str, list[ClipProblem]] = {}
    for problem in problems:
        by_kind.setdefault(problem.kind, []).append(problem)
    return [_grouped(group) for group in by_kind.values()]


def _grouped(group: list[ClipProblem]) -> Finding:
    """One finding for every file with the same kind of problem: the first file's message and examples."""
    first = group[0]
    if len(group) == 1:
        return Finding(first.severity, first.message, fix=first.fix)
    others = [p.message.split(" ")[2] for p in group[1 : 1 + EXAMPLES]]  # "the clip <id> ..."
    more = len(group) - 1 - len(others)
    tail = f" and {more:,} more" if more else ""
    message = f"{len(group):,} clips have this problem. The first: {first.message} Others: {', '.join(others)}{tail}."
    return Finding(first.severity, message, fix=first.fix)
