"""Atomic writes keep the user's umask: records, scaffolded packages and other outputs are readable by others on
shared storage (0644 files, 0755 folders under umask 022), and a failed write leaves nothing behind."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from asc_bench.core.files import atomic_folder, atomic_path, atomic_write_text, umask


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_umask_is_read_without_changing_it(umask_022) -> None:
    assert umask() == 0o022
    assert umask() == 0o022


def test_files_and_folders_get_the_umask_modes(tmp_path: Path, umask_022) -> None:
    atomic_write_text(tmp_path / "a" / "file.txt", "text")
    assert _mode(tmp_path / "a" / "file.txt") == 0o644
    with atomic_folder(tmp_path / "pkg") as tmp:
        (tmp / "inner").mkdir()
        (tmp / "inner" / "x.py").write_text("")
    assert _mode(tmp_path / "pkg") == 0o755 and _mode(tmp_path / "pkg" / "inner") == 0o755
    os.umask(0o027)
    atomic_write_text(tmp_path / "private.txt", "text")
    assert _mode(tmp_path / "private.txt") == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "kept.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]
    with pytest.raises(RuntimeError), atomic_folder(tmp_path / "pkg") as folder:
        (folder / "a").write_text("")
        raise RuntimeError("disk full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]


def test_a_record_is_written_0644(tmp_path: Path, umask_022) -> None:
    from helpers.records import make_record

    from asc_bench.records.io import write_record

    write_record(make_record(), tmp_path / "trial" / "record.json")
    assert _mode(tmp_path / "trial" / "record.json") == 0o644


def test_a_scaffolded_package_keeps_the_umask(tmp_path: Path) -> None:
    code = "import os, sys; os.umask(0o022); from asc_bench.cli import main; sys.argv = sys.argv[1:]; main()"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "asc-bench",
            "plugin",
            "new",
            "umask_net",
            "--kind",
            "model",
            "--dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    package = tmp_path / "asc-bench-umask-net"
    folders = [package, *(p for p in package.rglob("*") if p.is_dir())]
    files = [p for p in package.rglob("*") if p.is_file()]
    assert files and {_mode(p) for p in folders} == {0o755} and {_mode(p) for p in files} == {0o644}
