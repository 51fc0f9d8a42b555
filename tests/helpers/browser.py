"""Headless Chromium for the HTML leaderboard tests: render a page and dump its DOM after its scripts ran."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on ``url`` with a fresh profile under ``tmp_path``."""
    assert CHROMIUM is not None
    profile = tmp_path / f"profile-{uuid.uuid4().hex}"
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def dom(tmp_path: Path, page: Path, fragment: str = "") -> str:
    """The page's DOM after its scripts ran (2 s of virtual time)."""
    return chromium(tmp_path, page.as_uri() + fragment, "--dump-dom", "--virtual-time-budget=2000").stdout
