"""What the driver checks about where a run writes, before anything runs: the output folder (and Tune's local
storage) can be created and written, and on ``--resume`` every checkpoint of the experiment to continue loads
safely."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from asc_bench.core.errors import UserError
from asc_bench.records.layout import CHECKPOINT_STATE
from asc_bench.runner.experiments import has_resumable, latest_resumable
from asc_bench.runner.trainable import load_checkpoint
from asc_bench.spec.model import Spec


def check_output(specs: Iterable[Spec], *, resume: bool) -> None:
    """Refuse an output folder (or local ``tune.storage``) that is a file or cannot be written; on ``resume``,
    refuse a damaged or unsafe checkpoint of the experiment to continue (naming it) before any trial starts."""
    for spec in specs:
        writable_folder(Path(spec.output.dir), "output.dir")
        storage = spec.tune.storage
        if storage is not None and "://" not in storage:
            writable_folder(Path(storage).expanduser(), "tune.storage")
        if resume and has_resumable(spec):
            _, state = latest_resumable(Path(spec.output.dir) / spec.name, spec.model_dump(mode="json"))
            if "://" not in state.tune_path:
                for path in sorted(Path(state.tune_path).glob(f"*/checkpoint_*/{CHECKPOINT_STATE}")):
                    load_checkpoint(path)


def writable_folder(folder: Path, field: str) -> None:
    """Check that ``folder``, or the nearest folder above it that exists, takes new files (a temporary file is
    made and removed; nothing is created); a :class:`UserError` otherwise."""
    folder = folder.expanduser().resolve()
    fix = f"Set {field} to a folder you can write to (e.g. --set {field}=runs)."
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise UserError(f"{existing} is a file, so the folder {folder} cannot be created.", where=field, fix=fix)
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        raise UserError(f"cannot write into {folder}: {reason}.", where=field, fix=fix) from None
