"""The command line's naming rules (docs/cli.md): choices listed by --help, one option name per idea with the old
spellings hidden but working, and help text whose first line is a whole sentence."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from asc_bench.cli.app import app

RUNNER = CliRunner()
WIDE = {"COLUMNS": "250", "TERMINAL_WIDTH": "250"}


def help_text(*command: str) -> str:
    result = RUNNER.invoke(app, [*command, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            found += commands(command, (*prefix, name))
    return found


@pytest.mark.parametrize(
    ("command", "choices"),
    [
        (("predict",), ["train|validation|test|all", "deployed|float32"]),
        (("schema",), ["spec|record|reported"]),
        (("plugin", "new"), ["dataset|cache|transform|model|trainer"]),
        (("leaderboard",), ["md|csv|json|html"]),
    ],
)
def test_help_lists_the_choices(command: tuple[str, ...], choices: list[str]) -> None:
    text = help_text(*command)
    for listed in choices:
        assert listed in text, text


RENAMED = [
    (("cache", "ls"), "--dir", "--cache-dir"),
    (("cache", "clear"), "--dir", "--cache-dir"),
    (("plugin", "new"), "--dir", "--out-dir"),
    (("docs",), "--folder", "--out-dir"),
    (("predict",), "--split", "--subset"),
    (("predict",), "--folder", "--audio-dir"),
    (("export", "dcase"), "--eval-folder", "--audio-dir"),
    (("export", "dcase"), "--out", "--out-dir"),
    (("export", "dcase"), "--split", "--split-percent"),
    (("export", "dcase2025"), "--evaluation", "--eval-dir"),
    (("export", "dcase2025"), "--out", "--out-dir"),
    (("reproduce",), "--out", "--out-dir"),
    (("leaderboard",), "--entries", "--entries-dir"),
]


@pytest.mark.parametrize(("command", "old", "new"), RENAMED)
def test_old_spellings_are_hidden_but_accepted(command: tuple[str, ...], old: str, new: str) -> None:
    text = help_text(*command)
    assert new in text and not re.search(rf"{old}(?![-\w])", text), text
    click_command = typer.main.get_command(app)
    for part in command:
        click_command = click_command.commands[part]  # type: ignore[attr-defined]
    hidden = [p for p in click_command.params if old in getattr(p, "opts", ())]
    assert len(hidden) == 1 and hidden[0].hidden  # type: ignore[attr-defined]


def test_an_old_spelling_runs_with_a_note(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["plugin", "new", "acme-net", "--dir", str(tmp_path)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "asc-bench-acme-net" / "pyproject.toml").is_file()
    assert "--dir is now --out-dir" in result.output
    both = RUNNER.invoke(app, ["plugin", "new", "b", "--dir", str(tmp_path), "--out-dir", str(tmp_path)], env=WIDE)
    assert both.exit_code != 0 and "old spelling of --out-dir" in str(both.exception)


def test_every_command_starts_with_a_whole_sentence() -> None:
    top = help_text()
    for path, command in commands(typer.main.get_command(app)):  # type: ignore[arg-type]
        first, *_ = (command.help or "").strip().split("\n\n")
        assert "\n" not in first.strip() and first.strip().endswith("."), (path, command.help)
        if len(path) == 1:
            assert " ".join(first.split()) in " ".join(top.replace("│", " ").split()), path
