"""The HTML leaderboard's layout in a real headless Chromium: legends wrap inside their plots, twenty entries get
twenty distinct colours, dataset headings are short with the whole identity on hover, and the page fits a phone.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest
from helpers.browser import CHROMIUM, chromium, dom
from helpers.records import make_record
from PIL import Image

from asc_bench.leaderboard.html import write_html
from asc_bench.leaderboard.store import load_board
from asc_bench.leaderboard.svg import PALETTE
from asc_bench.records.io import write_record

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (`make test` installs it)")
IDENTITY = "synthetic (asc-bench synth v1: cities=10, devices_per_parallel=2, locations_per_pair=1, seed=0)"
ENTRIES = 20
FIRST_BAR = (0x00, 0x72, 0xB2)
TH_BACKGROUND = (0xF6, 0xF8, 0xFA)

# Measures the page after layout: every legend item inside its figure, and the page no wider than the window.
MEASURE = """<script>
var bad = 0, items = document.querySelectorAll('ul.legend li');
items.forEach(function (li) {
  var box = li.getBoundingClientRect(), fig = li.closest('figure').getBoundingClientRect();
  if (box.left < fig.left - 0.5 || box.right > fig.right + 0.5) bad += 1;
});
document.body.setAttribute('data-legend-items', items.length);
document.body.setAttribute('data-legend-outside', bad);
document.body.setAttribute('data-page-width', document.documentElement.scrollWidth);
document.body.setAttribute('data-window-width', window.innerWidth);
</script></body>"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twenty measured entries with long names on a dataset whose identity is a generator's parameter list."""
    root = tmp_path_factory.mktemp("layout")
    for i in range(ENTRIES):
        record = make_record(
            f"system-{i:02d} with a rather long descriptive name", 1, 0.40 + 0.01 * i, spec_hash=f"h{i}"
        )
        record = record.model_copy(update={"dataset": record.dataset.model_copy(update={"identity": IDENTITY})})
        write_record(record, root / f"runs/r{i}/record.json")
    path = root / "site" / "index.html"
    write_html(load_board([root / "runs"], entries_dir=root / "none"), path)
    measured = path.with_name("measured.html")
    measured.write_text(path.read_text().replace("</body>", MEASURE))
    return measured


def _lab(hex_colour: str) -> tuple[float, float, float]:
    """CIELAB (D65) of an sRGB colour."""
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92 for c in rgb)
    xyz = ((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b)
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    fx, fy, fz = (v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116 for v in (*xyz, z))
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def test_palette_has_twenty_distinct_colours() -> None:
    assert len(set(PALETTE)) >= ENTRIES
    closest = min(math.dist(_lab(a), _lab(b)) for a, b in itertools.combinations(PALETTE[:ENTRIES], 2))
    assert closest > 20  # CIE76 distance: clearly different side by side
    assert all(_lab(c)[0] < 85 for c in PALETTE)  # none too pale to see on white


def test_twenty_entries_are_drawn_in_twenty_colours(tmp_path: Path, page: Path) -> None:
    page_dom = dom(tmp_path, page)
    scatter = re.search(r'<svg class="plot"[^>]*aria-label="Macro accuracy vs MACs".*?</svg>', page_dom, re.S)
    assert scatter
    fills = re.findall(r'<circle [^>]*fill="(#[0-9a-f]{6})"', scatter.group(0))
    assert len(fills) == ENTRIES and len(set(fills)) == ENTRIES


@pytest.mark.parametrize("width", [1280, 390])
def test_legends_wrap_inside_their_plots(tmp_path: Path, page: Path, width: int) -> None:
    page_dom = chromium(
        tmp_path, page.as_uri(), "--dump-dom", "--virtual-time-budget=2000", f"--window-size={width},900"
    ).stdout
    items = int(re.search(r'data-legend-items="(\d+)"', page_dom).group(1))
    assert items == 5 + 2 * ENTRIES  # the bar plot's top five, each scatter plot's twenty
    assert re.search(r'data-legend-outside="(\d+)"', page_dom).group(1) == "0"
    page_width = int(re.search(r'data-page-width="(\d+)"', page_dom).group(1))
    assert page_width <= int(re.search(r'data-window-width="(\d+)"', page_dom).group(1))  # no sideways scrolling


def test_dataset_heading_is_short_with_the_identity_on_hover(tmp_path: Path, page: Path) -> None:
    heading = re.search(r"<h2>.*?</h2>", dom(tmp_path, page), re.S).group(0)
    assert '<span class="data" title="Measured · synthetic (asc-bench synth v1: cities=10,' in heading
    assert ">Measured · synthetic · fold1</span>" in heading


def test_phone_width_screenshot_shows_tables_and_plots(tmp_path: Path, page: Path) -> None:
    shot = tmp_path / "phone.png"
    chromium(tmp_path, page.as_uri(), f"--screenshot={shot}", "--window-size=390,7000", "--hide-scrollbars")
    image = Image.open(shot).convert("RGB")
    assert image.size == (390, 7000)
    colours = {colour: n for n, colour in image.getcolors(maxcolors=1 << 20)}
    assert colours.get(TH_BACKGROUND, 0) > 3_000  # table headers, scrolled inside their boxes
    assert colours.get(FIRST_BAR, 0) > 300  # the plots, scaled down to the phone's width
