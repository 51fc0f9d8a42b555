"""Records and reported entries are untrusted input: every leaderboard format escapes them for itself (HTML run in
headless Chromium, Markdown rendered by markdown-it, the terminal through rich, CSV as a spreadsheet reads it),
and the schemas refuse what has no business in an enumerated field or a link."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.browser import CHROMIUM, dom
from helpers.records import make_record
from markdown_it import MarkdownIt
from rich.console import Console

from asc_bench.cli.leaderboard import print_leaderboard
from asc_bench.leaderboard.entries import Entry, collect
from asc_bench.leaderboard.files import render_csv
from asc_bench.leaderboard.html import render_html
from asc_bench.leaderboard.markdown import render_markdown
from asc_bench.leaderboard.reported import ReportedEntry
from asc_bench.records.io import write_record

CLI = [sys.executable, "-m", "asc_bench.cli"]
SCRIPT = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
DESCRIPTION = f"# Injected heading\n\n{SCRIPT} [click](javascript:document.body.setAttribute('data-pwned','2'))"
PWNED = re.compile(r"<body[^>]*data-pwned")


def _hostile_record(root: Path, name: str = "net|<b>x</b>\n[red]r[/]") -> Path:
    record = make_record(name, 1, 0.55)
    record.spec["description"] = DESCRIPTION
    metrics = record.metrics
    metrics.per_device["=cmd|' /C calc'!A0"] = metrics.per_device.pop("a")  # a device name from a dataset
    metrics.per_city[f"ci|ty\n{SCRIPT}"] = metrics.per_city.pop("barcelona")
    path = root / "runs" / "r1" / "record.json"
    write_record(record, path)
    return path


def _hostile_entries(tmp_path: Path) -> list[Entry]:
    """A measured entry with hostile names, and one that the schemas would refuse (built past them)."""
    _hostile_record(tmp_path)
    (measured,) = collect([tmp_path / "runs"])
    forged = dataclasses.replace(
        measured,
        kind="reported",
        name="forged",
        param_dtype=SCRIPT,
        url="javascript:document.body.setAttribute('data-pwned','3')",
        citation="click me",
        note=DESCRIPTION,
    )
    return [measured, forged]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (`make test` installs it)")
def test_html_runs_no_payload_and_links_only_http(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text(render_html(_hostile_entries(tmp_path), base=tmp_path))
    page_dom = dom(tmp_path, page)
    assert "<section " in page_dom and "forged" in page_dom  # the page rendered
    assert not PWNED.search(page_dom), "a payload ran in the page"
    assert "<img" not in page_dom and "javascript:" not in re.sub(r">[^<]*<", "><", page_dom)  # only in text
    assert 'href="javascript' not in page_dom.lower()


def test_markdown_keeps_descriptions_and_names_as_text(tmp_path: Path) -> None:
    text = render_markdown(_hostile_entries(tmp_path), base=tmp_path)
    rendered = MarkdownIt("commonmark").enable("table").render(text)
    assert "<img" not in rendered and "<b>" not in rendered  # raw HTML stays text
    headings = re.findall(r"<h\d>(.*?)</h\d>", rendered)
    assert rendered.count("<h1>") == 1 and not any("Injected" in h for h in headings)
    assert "Injected heading" in rendered  # the description is there, as text
    hrefs = re.findall(r'href="([^"]*)"', rendered)
    assert hrefs and all(":" not in href for href in hrefs), hrefs  # record folders only; forged: not linked
    for table in re.findall(r"<table>.*?</table>", rendered, re.S):  # no cell splits or ends a row
        widths = {len(re.findall(r"<t[hd][ >]", row)) for row in re.findall(r"<tr>.*?</tr>", table, re.S)}
        assert len(widths) == 1, table


def test_terminal_shows_rich_markup_as_text(tmp_path: Path) -> None:
    console = Console(record=True, width=250)
    print_leaderboard(_hostile_entries(tmp_path)[:1], console)
    assert "[red]r[/]" in console.export_text()


def test_csv_cells_cannot_be_formulas(tmp_path: Path) -> None:
    measured, forged = _hostile_entries(tmp_path)
    formulas = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
    entries = [dataclasses.replace(measured, name=name) for name in formulas] + [forged]
    rows = list(csv.reader(io.StringIO(render_csv(entries, base=tmp_path), newline="")))
    header, body = rows[0], rows[1:]
    assert "device_=cmd|' /C calc'!A0" in header  # starts with "device_": no formula, kept as it is
    names = [row[header.index("name")] for row in body]
    assert sorted(names[:-1]) == sorted("'" + name.replace("\r", "\n") for name in formulas)
    assert names[-1] == "forged"
    for row in rows:
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row if not _number(cell)), row
    assert body[0][header.index("macro_acc_mean")] == "0.55"  # numbers stay numbers


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_schemas_refuse_free_text_dtypes_and_non_http_links(tmp_path: Path) -> None:
    record = json.loads(_hostile_record(tmp_path).read_text())
    record["complexity"]["param_dtype"] = SCRIPT
    (tmp_path / "runs" / "r1" / "record.json").write_text(json.dumps(record))
    lb = tmp_path / "lb"
    refused = _cli("leaderboard", tmp_path / "runs", "--no-entries", "--format", "html", "--out", lb, cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert "complexity.param_dtype" in refused.stderr and "record.json" in refused.stderr
    assert not (lb / "leaderboard.html").exists()

    entry = {
        "name": "Published",
        "citation": "A. Author (2024)",
        "url": "javascript:alert(1)",
        "dataset": {"type": "tau22", "split": "split100", "identity": "TAU22 development"},
        "complexity": {"macs": 1, "params": 1, "param_bytes": 1, "param_dtype": "int8"},
        "metrics": {"macro_acc": {"mean": 0.5}},
    }
    (lb / "entries" / "reported").mkdir(parents=True)
    (lb / "entries" / "reported" / "p.json").write_text(json.dumps(entry))
    refused = _cli("leaderboard", "--entries", lb / "entries", "--publish", cwd=tmp_path)
    message = " ".join(refused.stderr.split())
    assert refused.returncode == 2 and "url" in message and "https://" in message, refused.stderr
    assert ReportedEntry.model_validate({**entry, "url": "https://example.org/p"}).url == "https://example.org/p"


def _cli(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    command = [*CLI, *map(str, args)]
    env = {**os.environ, "COLUMNS": "160"}
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=300, env=env)
