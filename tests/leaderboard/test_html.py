"""The HTML leaderboard in a real headless Chromium: tables render, the sorting script works, plots draw.

Skipped only when Chromium is not installed (``make test`` installs Debian's ``chromium`` package).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from helpers.browser import CHROMIUM, chromium, dom
from helpers.records import BASELINE_DEVICE_ACC, make_record
from PIL import Image

from asc_bench.leaderboard.entries import Entry
from asc_bench.leaderboard.html import render_html, write_html
from asc_bench.leaderboard.reported import ReportedEntry
from asc_bench.leaderboard.store import load_board
from asc_bench.records.io import write_record

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (`make test` installs it)")
TH_BACKGROUND = (0xF6, 0xF8, 0xFA)  # table header cells
FIRST_BAR = (0x00, 0x72, 0xB2)  # first palette colour: bars and points of the top entry


def table(page_dom: str, table_id: str) -> str:
    match = re.search(rf'<table class="board" id="{table_id}"[^>]*>.*?</table>', page_dom, re.S)
    assert match, f"no table {table_id}"
    return match.group(0)


def names(table_html: str) -> list[str]:
    body = table_html.split("<tbody>", 1)[1]
    found = re.findall(r'<td class="text" data-value="[^"]*"><a href="[^"]*">([^<]+)</a></td>', body)
    return [html.unescape(name) for name in found]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three measured entries (one with three seeds) and one reported entry."""
    root = tmp_path_factory.mktemp("html")
    for seed, macro in ((1, 0.55), (2, 0.57), (3, 0.56)):
        write_record(make_record("cp_mobile", seed, macro), root / f"runs/a{seed}/record.json")
    worse = {**BASELINE_DEVICE_ACC, "a": 0.50}
    write_record(make_record("tf_sepnet", 7, 0.60, spec_hash="5e6f7a8b9c0d"), root / "runs/b7/record.json")
    write_record(
        make_record("tiny <b>net</b>", 1, 0.40, spec_hash="1111", device_acc=worse), root / "runs/c1/record.json"
    )
    reported = ReportedEntry(
        name="Published",
        citation="A. Author (2024)",
        url="https://example.org/paper",
        runs=5,
        dataset={"type": "tau22", "split": "split100", "identity": "TAU22 development"},
        complexity={"macs": 20_000_000, "params": 100_000, "param_bytes": 100_000, "param_dtype": "int8"},
        metrics={"macro_acc": {"mean": 0.5, "std": 0.01}},
    )
    (root / "entries/reported").mkdir(parents=True)
    (root / "entries/reported/p.json").write_text(reported.model_dump_json())
    entries = load_board([root / "runs"], entries_dir=root / "entries")
    path = root / "site" / "index.html"
    write_html(entries, path)
    return path


def test_page_is_self_contained(page: Path) -> None:
    text = page.read_text()
    assert "<script src" not in text and "<link" not in text and "@import" not in text and "url(" not in text
    assert re.findall(r'(?:src|href)="(https?:[^"]*)"', text) == ["https://example.org/paper"] * 2  # citation links
    assert "tiny &lt;b&gt;net&lt;/b&gt;" in text and "<b>net</b>" not in text  # names are escaped


def test_tables_and_plots_render_in_the_browser(tmp_path: Path, page: Path) -> None:
    page_dom = dom(tmp_path, page)
    assert page_dom.count('<table class="board"') == 4 + 1  # overall, class, device, city; reported overall
    overall = table(page_dom, "t1-overall")
    assert names(overall) == ["tf_sepnet", "cp_mobile", "tiny <b>net</b>"]  # ranked by macro accuracy
    assert "56.00 ± 1.00" in overall and "1, 2, 3" in overall
    assert names(table(page_dom, "t2-overall")) == ["Published"]
    assert page_dom.count('<svg class="plot"') == 3  # the lone reported entry has no plots
    assert page_dom.count("<rect") >= 3 * 9  # a bar per entry and device
    assert page_dom.count("<circle") == 2 * 3  # a point per entry in each scatter plot
    assert "data-sorted" not in overall  # nothing sorted before a click or #sort=


def test_sorting_script(tmp_path: Path, page: Path) -> None:
    by_acc = table(dom(tmp_path, page, "#sort=t1-overall:3:asc"), "t1-overall")
    assert 'data-sorted="3:asc"' in by_acc and names(by_acc) == ["tiny <b>net</b>", "cp_mobile", "tf_sepnet"]
    assert '<th aria-sort="ascending">macro acc %</th>' in by_acc
    by_name = table(dom(tmp_path, page, "#sort=t1-overall:1:desc"), "t1-overall")
    assert names(by_name) == ["tiny <b>net</b>", "tf_sepnet", "cp_mobile"]
    by_device = table(dom(tmp_path, page, "#sort=t1-device:2:asc"), "t1-device")  # column 2 is device a
    assert names(by_device)[0] == "tiny <b>net</b>"


def test_screenshot_shows_tables_and_plots(tmp_path: Path, page: Path) -> None:
    def colours(path: Path, url: str) -> dict[tuple[int, int, int], int]:
        chromium(tmp_path, url, f"--screenshot={path}", "--window-size=1280,2600", "--hide-scrollbars")
        image = Image.open(path).convert("RGB")
        assert image.size == (1280, 2600)
        return {colour: n for n, colour in image.getcolors(maxcolors=1 << 20)}

    full = colours(tmp_path / "full.png", page.as_uri())
    empty_page = tmp_path / "empty.html"
    empty_page.write_text(render_html([]))
    empty = colours(tmp_path / "empty.png", empty_page.as_uri())
    assert full.get(TH_BACKGROUND, 0) > 20_000  # header rows of the tables
    assert full.get(FIRST_BAR, 0) > 2_000  # bars of the top entry
    assert empty.get(TH_BACKGROUND, 0) == 0 and empty.get(FIRST_BAR, 0) == 0
    white = (255, 255, 255)
    assert sum(full.values()) - full.get(white, 0) > 5 * (sum(empty.values()) - empty.get(white, 0))


def test_committed_page_loads(tmp_path: Path) -> None:
    committed = ROOT / "leaderboard" / "index.html"
    page_dom = dom(tmp_path, committed, "#sort=t1-overall:3:asc")
    entries: list[Entry] = load_board([], entries_dir=ROOT / "leaderboard" / "entries")
    assert page_dom.count("<section ") == len({e.dataset_key for e in entries})
    assert 'data-sorted="3:asc"' in table(page_dom, "t1-overall")
    assert "synthetic" in page_dom and "Reported figures" in page_dom


def test_clicking_a_header_sorts_and_toggles(tmp_path: Path, page: Path) -> None:
    """A copy of the page with a script that clicks the macro-accuracy header twice, as a user would."""
    clicks = (
        "<script>var th = document.querySelectorAll('#t1-overall th')[3];"
        "th.click(); document.body.setAttribute('data-first', document.querySelector('#t1-overall')"
        ".getAttribute('data-sorted')); th.click();</script></body>"
    )
    copy = page.with_name("clicked.html")
    copy.write_text(page.read_text().replace("</body>", clicks))
    page_dom = dom(tmp_path, copy)
    assert 'data-first="3:desc"' in page_dom  # numbers sort best first on the first click
    clicked = table(page_dom, "t1-overall")
    assert 'data-sorted="3:asc"' in clicked and names(clicked) == ["tiny <b>net</b>", "cp_mobile", "tf_sepnet"]
