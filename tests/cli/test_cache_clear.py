"""``asc-bench cache clear`` asks before deleting: ``--dry-run`` lists, ``--yes`` skips the question, a
terminal gets asked (answered through a pseudo-terminal), and no terminal without ``--yes`` is a clear refusal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import spec_file

CLI = [sys.executable, "-m", "asc_bench.cli"]


def cli(*args: str | Path, stdin: int | None = subprocess.DEVNULL, answer: str | None = None) -> tuple[int, str]:
    """Run asc-bench; with ``answer``, standard input is a terminal that types it. Returns (status, all output)."""
    env = {**os.environ, "COLUMNS": "200"}
    command = [*CLI, *map(str, args)]
    if answer is None:
        done = subprocess.run(command, stdin=stdin, capture_output=True, text=True, timeout=300, env=env)
        return done.returncode, " ".join((done.stdout + done.stderr).split())
    main, secondary = pty.openpty()
    with subprocess.Popen(command, stdin=secondary, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env) as p:
        os.close(secondary)
        os.write(main, answer.encode())
        out, _ = p.communicate(timeout=300)
    os.close(main)
    return p.returncode, " ".join(out.decode().split())


@pytest.fixture
def caches(tmp_path: Path, synth_root: Path) -> Path:
    folder = tmp_path / "cache"
    spec = spec_file(tmp_path, synth_root)
    env = {**os.environ, "ASC_BENCH_CACHE_DIR": str(folder)}
    done = subprocess.run([*CLI, "cache", "build", str(spec)], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(list(folder.glob("*.npy"))) == 2
    return folder


def test_clear_lists_asks_and_refuses_without_a_terminal(caches: Path) -> None:
    code, out = cli("cache", "clear", "--cache-dir", caches)
    assert code == 2 and "standard input is not a terminal" in out and "Pass --yes" in out and "Traceback" not in out
    code, out = cli("cache", "clear", "--cache-dir", caches, "--dry-run")
    assert code == 0 and "that would be removed" in out and "train" in out and "test" in out
    assert len(list(caches.glob("*.npy"))) == 2  # neither removed anything
    code, out = cli("cache", "clear", "--cache-dir", caches, answer="n\n")
    assert code == 1 and "delete these 2 cache(s)" in out and "nothing removed" in out
    assert len(list(caches.glob("*.npy"))) == 2
    code, out = cli("cache", "clear", "--cache-dir", caches, answer="y\n")
    assert code == 0 and "removed 2 cache(s)" in out and not list(caches.glob("*.npy"))


def test_yes_deletes_without_asking_and_the_old_dir_spelling_still_works(caches: Path) -> None:
    code, out = cli("cache", "clear", "--dir", caches, "--yes")
    assert code == 0 and "removed 2 cache(s)" in out and "--dir is now --cache-dir" in out
    assert not list(caches.glob("*.npy"))
    code, out = cli("cache", "clear", "--cache-dir", caches)  # nothing left: nothing to ask about
    assert code == 0 and "removed 0 cache(s)" in out
