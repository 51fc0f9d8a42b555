"""Atomic writes that keep the user's umask: readers see the old file (or folder) or the whole new one.

``tempfile`` creates its files ``0600`` and its folders ``0700`` whatever the umask; a record, a leaderboard page
or a scaffolded package written that way cannot be read by other users of shared storage. Every helper here gives
the final file the mode a plain ``open(path, "w")`` would (``0644`` under umask ``022``), and a folder the mode of
a plain ``mkdir`` (``0755``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def umask() -> int:
    """The process's umask (read without changing it where /proc allows; else set and restored at once)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a newly created file gets under the current umask."""
    return 0o666 & ~umask()


def folder_mode() -> int:
    """The mode a newly created folder gets under the current umask."""
    return 0o777 & ~umask()


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed onto ``path`` (with the umask's mode) when the block
    ends without an error, removed when it raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (flushed to disk before the rename)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_folder(target: Path | str, *, prefix: str | None = None) -> Iterator[Path]:
    """A temporary folder beside ``target`` to fill; renamed onto ``target`` (which must not exist) with the
    umask's mode when the block ends without an error, removed with its contents when it raises.
    ``prefix`` names the temporary folder (default ``.<name>.partial-``), e.g. to mark it with a process id."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix or f".{target.name}.partial-", dir=target.parent))
    try:
        os.chmod(tmp, folder_mode())
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
