"""The result record: one versioned JSON file per trial, with everything needed to rank and reproduce it."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, NotRequired

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from typing_extensions import TypedDict  # pydantic needs this TypedDict before Python 3.12

from asc_bench.core.errors import UserError

SCHEMA_VERSION = 2
"""Version 2 added ``environment.device``, ``complexity.macs_fused``/``params_fused`` and ``dataset.identity``."""
RECORD_NAME = "record.json"
_PACKAGES = ("torch", "torchaudio", "ray", "torchmetrics", "numpy", "pydantic", "asc-bench")
_PLUGIN_GROUPS = tuple(f"asc_bench.{kind}" for kind in ("dataset", "cache", "transform", "model", "trainer"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GroupScore(_Strict):
    """Accuracy and log loss over one class, device or city; ``None`` when it has no clips."""

    acc: float | None
    log_loss: float | None
    count: int


class Metrics(_Strict):
    """Scores of one evaluation, as made by :func:`asc_bench.evaluation.metrics.named_metrics`."""

    macro_acc: float | None
    micro_acc: float | None
    log_loss: float | None
    macro_log_loss: float | None
    count: int
    seen_acc: float | None
    unseen_acc: float | None
    seen_devices: list[str] | None
    per_class: dict[str, GroupScore]
    per_device: dict[str, GroupScore]
    per_city: dict[str, GroupScore]
    confusion: list[list[int]]


class DatasetInfo(_Strict):
    """Which data a record was measured on.

    Records compare only on equal type and split and equal data: the same ``identity`` when the dataset
    vouches for one (a machine-independent name of its exact content, e.g. the synthetic generator's
    version and parameters), otherwise the same ``fingerprint`` (a hash that includes file times).
    """

    type: str
    fingerprint: str
    split: str
    describe: str = ""
    identity: str | None = None


class Complexity(BaseModel):
    """Model size as checked against the limits (extra keys, e.g. the limits and per-layer table, are kept).

    ``macs``/``params`` are counted as the model runs (``fused`` says whether conv+BatchNorm pairs were
    folded first); ``macs_fused``/``params_fused`` after folding them, ``None`` when not counted.
    """

    model_config = ConfigDict(extra="allow")
    macs: int
    params: int
    param_bytes: int
    param_dtype: str
    input_shape: list[int]
    fused: bool = False
    macs_fused: int | None
    params_fused: int | None


class Environment(TypedDict):
    """Where a trial ran: versions, git state, compute device (further keys are kept)."""

    __pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[misc]
    python: str
    platform: str
    packages: dict[str, str]
    git_commit: str | None
    git_dirty: bool | None
    device: str
    threads: NotRequired[int]


class Timings(BaseModel):
    """Wall-clock seconds of the trial's phases (extra phases are kept)."""

    model_config = ConfigDict(extra="allow")
    train_s: float
    eval_s: float
    total_s: float
    clips_per_s: float


class ResultRecord(_Strict):
    """One trial's result. ``metrics`` are those of the model at its deployed precision."""

    schema_version: int = SCHEMA_VERSION
    name: str
    spec: dict[str, Any]
    spec_hash: str
    seed: int
    trial_id: str
    dataset: DatasetInfo
    environment: Environment
    complexity: Complexity
    metrics: Metrics
    metrics_float32: Metrics | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)
    timings: Timings
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))


def capture_environment(repo: Path | None = None, device: str = "cpu") -> dict[str, Any]:
    """Versions, git state and compute resources of this process; ``device`` is the torch device trained on.

    ``repo`` is the folder whose git commit is recorded (default: where asc_bench is installed);
    ``git_commit``/``git_dirty`` are ``None`` when there is no git or no repository.
    """
    import torch

    versions = {}
    for name in _PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    plugins = {}
    for group in _PLUGIN_GROUPS:
        for ep in metadata.entry_points(group=group):
            if ep.dist is not None:
                plugins[ep.dist.name] = ep.dist.version
    commit, dirty = _git_state(repo or Path(__file__).resolve().parent)
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": versions,
        "plugin_distributions": dict(sorted(plugins.items())),
        "git_commit": commit,
        "git_dirty": dirty,
        "device": device,
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch_build": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
    }


def _git_state(folder: Path) -> tuple[str | None, bool | None]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10, check=True
        ).stdout

    try:
        return git("rev-parse", "HEAD").strip(), bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None, None


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_record(record: ResultRecord, path: Path) -> None:
    """Write ``record`` as indented JSON, atomically."""
    atomic_write_text(path, record.model_dump_json(indent=2) + "\n")


def record_digest(record: ResultRecord) -> str:
    """A short content hash of a record (16 hex digits): equal records, equal digests, wherever stored."""
    canonical = json.dumps(record.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def record_schema() -> dict[str, Any]:
    """The JSON Schema of the current record version (published in ``leaderboard/schema/``)."""
    schema = ResultRecord.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"asc-bench result record, schema_version {SCHEMA_VERSION}"
    return schema


def _upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 → 2. Version 1 trained on the CPU only and did not count fused complexity."""
    environment = data.get("environment")
    if isinstance(environment, dict):
        environment.setdefault("device", "cpu")
        environment.setdefault("platform", "")
    complexity = data.get("complexity")
    if isinstance(complexity, dict):
        complexity.setdefault("macs_fused", None)
        complexity.setdefault("params_fused", None)
    return {**data, "schema_version": 2}


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _upgrade_v1}
"""Readers of older records: version → function returning the record at the next version."""


def read_record(path: Path) -> ResultRecord:
    """Read and validate a record; any problem is a :class:`UserError` naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UserError(f"cannot read result record: {e.strerror}", where=str(path)) from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(
            f"result record is not valid JSON ({e})",
            where=str(path),
            fix="The file is damaged: delete it and re-run the trial that wrote it.",
        ) from e
    if not isinstance(data, dict) or "schema_version" not in data:
        raise UserError("not an asc-bench result record (no schema_version)", where=str(path))
    version = data["schema_version"]
    while isinstance(version, int) and not isinstance(version, bool) and version in UPGRADES:
        data = UPGRADES[version](data)
        version = data["schema_version"]
    if version != SCHEMA_VERSION:
        newer = isinstance(version, int) and version > SCHEMA_VERSION
        readable = ", ".join(map(str, sorted({*UPGRADES, SCHEMA_VERSION})))
        raise UserError(
            f"result record has schema_version {version!r}; this asc-bench reads versions {readable}"
            + (" (the record was written by a newer asc-bench)." if newer else "."),
            where=str(path),
            fix="Upgrade asc-bench to read it." if newer else "The file was not written by asc-bench.",
        )
    try:
        return ResultRecord.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()[:5])
        raise UserError(f"invalid result record: {problems}", where=str(path)) from e


def find_records(root: Path) -> list[Path]:
    """All ``record.json`` files under ``root`` (or ``root`` itself if it is one), sorted."""
    root = Path(root)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise UserError("no such file or folder", where=str(root), fix="Pass a results folder or a record.json.")
    return sorted(root.rglob(RECORD_NAME))
