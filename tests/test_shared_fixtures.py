"""helpers.shared.made_once: the session fixtures' folders are made once per test run, on whichever worker needs
them first, and a failed attempt is made again by the next worker instead of being reused half-made."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.shared import made_once


class _Workers:
    """The part of pytest's TempPathFactory that made_once uses, for one pytest-xdist worker of a run."""

    def __init__(self, run: Path, worker: str) -> None:
        self.basetemp = run / f"popen-{worker}"
        self.basetemp.mkdir(parents=True, exist_ok=True)

    def getbasetemp(self) -> Path:
        return self.basetemp

    def mktemp(self, name: str) -> Path:
        raise AssertionError("a worker must use the run's shared folder")


def test_two_workers_make_the_folder_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    made: list[Path] = []

    def make(folder: Path) -> None:
        made.append(folder)
        (folder / "data.txt").write_text("once")

    first = made_once(_Workers(tmp_path, "gw0"), "thing", make)  # type: ignore[arg-type]
    second = made_once(_Workers(tmp_path, "gw1"), "thing", make)  # type: ignore[arg-type]
    assert first == second == tmp_path / "thing" and made == [first]
    assert (second / "data.txt").read_text() == "once"


def test_a_failed_make_is_made_again_from_scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")

    def broken(folder: Path) -> None:
        (folder / "half.txt").write_text("half")
        raise RuntimeError("the run failed")

    with pytest.raises(RuntimeError, match="the run failed"):
        made_once(_Workers(tmp_path, "gw0"), "thing", broken)  # type: ignore[arg-type]
    again = _Workers(tmp_path, "gw1")
    folder = made_once(again, "thing", lambda f: (f / "whole.txt").write_text("whole"))  # type: ignore[arg-type]
    assert sorted(p.name for p in folder.iterdir()) == ["whole.txt"]


def test_without_workers_each_session_gets_a_new_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    folder = made_once(tmp_path_factory, "alone", lambda f: (f / "x").write_text("x"))
    assert folder.parent == tmp_path_factory.getbasetemp() and (folder / "x").read_text() == "x"
