"""Session fixtures made once per test run rather than once per pytest-xdist worker.

Under ``pytest -n 2`` every worker is a session of its own, so a session fixture used by tests on both workers
(the synthetic dataset, the finished run, the DCASE 2025 run) would be made twice, doubling the CPU work of the
longest fixtures on a machine the suite keeps busy. :func:`made_once` makes such a folder once, in the temporary
folder the workers share, under a file lock: the first worker to need it makes it, the others wait for it and use
it. The pytest-xdist documentation gives this recipe ("Making session-scoped fixtures execute only once").
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock


def made_once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """The folder ``name``, filled by ``make(folder)`` once per test run; without pytest-xdist it is simply a new
    temporary folder. A failed ``make`` leaves no completion marker, so the next worker that needs the folder
    makes it anew (its own error then shows in its tests too)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        folder = factory.mktemp(name)
        make(folder)
        return folder
    shared = factory.getbasetemp().parent  # pytest-N/, above each worker's popen-gwN/
    folder, done = shared / name, shared / f"{name}.done"
    with FileLock(str(shared / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # what a failed attempt left
            folder.mkdir()
            make(folder)
            done.touch()
    return folder
