"""``asc-bench cache build | ls | clear`` as a user runs them, including two builds at once and a full disk."""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
from pathlib import Path

from helpers import spec_file

CLI = [sys.executable, "-m", "asc_bench.cli"]


def cli(*args: str, cache: Path, **kwargs) -> subprocess.Popen:  # noqa: ANN003
    env = {**os.environ, "COLUMNS": "200", "ASC_BENCH_CACHE_DIR": str(cache)}
    return subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **kwargs)


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=600)
    return proc.returncode, re.sub(r"\s+", " ", out), re.sub(r"\s+", " ", err)


def test_two_builds_at_once_build_each_split_once_then_ls_and_clear(tmp_path: Path, synth_root: Path) -> None:
    cache = tmp_path / "cache"
    spec = spec_file(tmp_path, synth_root)
    results = [finish(p) for p in [cli("cache", "build", str(spec), cache=cache) for _ in range(2)]]
    for code, out, err in results:
        assert code == 0 and "Traceback" not in out + err, (out, err)
    for split in ("train", "test"):
        built = [out for _, out, _ in results if re.search(rf"{split}: built in [\d.]+ s", out)]
        fresh = [out for _, out, _ in results if f"{split}: up to date" in out]
        assert len(built) == 1 and len(fresh) == 1, results
    assert "(450 rows of 32000, waveform)" in results[0][1]  # roll comes first: the waveforms are cached
    assert re.search(rf"train: .*\) → {re.escape(str(cache))}/[0-9a-f]+\.npy", results[0][1]), results[0][1]

    code, out, _ = finish(cli("cache", "ls", "--verify", cache=cache))
    assert code == 0 and "2 cache(s)" in out and out.count(" ok ") == 2 and "int16" in out
    assert "waveform @ 32000 Hz" in out
    code, out, _ = finish(cli("cache", "clear", "--yes", cache=cache))
    assert code == 0 and "removed 2 cache(s)" in out
    assert list(cache.iterdir()) == []


def test_build_on_a_full_disk_is_a_clear_error_and_leaves_nothing(tmp_path: Path, synth_root: Path) -> None:
    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writing past the limit fails with EFBIG, as a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    cache = tmp_path / "cache"
    code, out, err = finish(
        cli("cache", "build", str(spec_file(tmp_path, synth_root)), cache=cache, preexec_fn=small_disk)
    )
    assert code == 2 and "Traceback" not in out + err
    assert "File too large" in err and "Nothing half-written was kept" in err and "Free disk space" in err
    assert sorted(p.suffix for p in cache.iterdir()) == [".lock"]


def test_ls_and_clear_work_with_any_cache_plugin(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    code, out, err = finish(cli("cache", "ls", "--cache", "memory", cache=cache))
    assert code == 0 and "Traceback" not in out + err, (out, err)
    assert "caches of the memory cache (it keeps nothing on disk)" in out and "0 cache(s), 0.0 MB" in out
    code, out, _ = finish(cli("cache", "clear", "--cache", "none", cache=cache))
    assert code == 0 and "removed 0 cache(s) from the none cache" in out
    code, _, err = finish(cli("cache", "clear", "abc", "--cache", "none", cache=cache))
    assert code == 2 and "the none cache keeps nothing on disk" in err
    code, out, _ = finish(cli("cache", "ls", cache=cache))  # memmap, the default: its folder, empty
    assert code == 0 and f"caches in {cache}" in out and "0 cache(s)" in out
    code, _, err = finish(cli("cache", "ls", "--cache", "no_such_cache", cache=cache))
    assert code == 2 and "no cache plugin named 'no_such_cache'" in err
    assert not cache.exists(), "listing and clearing create nothing"
