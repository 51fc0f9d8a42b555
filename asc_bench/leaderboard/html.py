"""The static HTML leaderboard: one self-contained file (inline CSS, SVG and a small sorting script, no network).

Per table (one kind of entry on one dataset and split): sortable overall, per-class, per-device and per-city
tables, a bar plot of accuracy per device for the top entries, and macro accuracy against MACs and against
parameter bytes with the DCASE limits. Any table sorts by clicking a header, or from the address:
``index.html#sort=<table id>:<column>:<asc|desc>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from asc_bench.core.files import atomic_write_text
from asc_bench.leaderboard.entries import Entry, Stat, tables
from asc_bench.leaderboard.format import (
    INTRO,
    MISSING,
    UNSEEN_MARK,
    entry_link,
    group_names,
    loss,
    pct,
    runs_text,
    spread,
    unseen,
)
from asc_bench.leaderboard.reported import web_url
from asc_bench.leaderboard.svg import colour, device_bars, plotted, scatter
from asc_bench.spec.limits import DCASE_MACS, DCASE_PARAM_BYTES

TOP_ENTRIES = 5
"""How many entries of a table the per-device bar plot shows."""

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1180px;
padding:0 16px;color:#1b1f24;background:#fff}
h1{font-size:26px;margin:0 0 8px}h2{font-size:19px;margin:36px 0 8px;border-bottom:1px solid #d0d7de}
h3{font-size:15px;margin:18px 0 6px}p.intro{max-width:900px;color:#444}
.kind{display:inline-block;font-size:12px;padding:1px 7px;border-radius:10px;margin-right:6px;color:#fff}
.kind.measured{background:#1a7f37}.kind.reported{background:#8250df}
table.board{border-collapse:collapse;margin:4px 0 10px;font-variant-numeric:tabular-nums}
table.board th,table.board td{padding:3px 9px;border-bottom:1px solid #eaeef2;text-align:right;white-space:nowrap}
table.board th{background:#f6f8fa;cursor:pointer;user-select:none;position:sticky;top:0}
table.board th.text,table.board td.text{text-align:left}
table.board th[aria-sort=ascending]::after{content:" ▲"}table.board th[aria-sort=descending]::after{content:" ▼"}
table.board tbody tr:hover{background:#f3f8ff}
.scroll{overflow-x:auto}.plots{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;max-width:560px;flex:1 1 320px}svg.plot{background:#fff;border:1px solid #eaeef2;width:100%;height:auto}
ul.legend{list-style:none;margin:4px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:2px 14px;font-size:12px}
ul.legend li{display:flex;align-items:center;gap:5px;min-width:0;overflow-wrap:anywhere}
ul.legend .swatch{flex:none;width:10px;height:10px}h2 .data{border-bottom:1px dotted #8c959f;cursor:help}
svg .grid{stroke:#eaeef2}svg .tick{font-size:11px;fill:#57606a}svg .axis{font-size:12px;fill:#24292f}
svg .plot-title{font-size:13px;font-weight:600;fill:#24292f}
svg .limit{stroke:#cf222e;stroke-dasharray:5 4}svg .limit-label{font-size:11px;fill:#cf222e}
.note{color:#57606a;font-size:13px}nav a{margin-right:14px}footer{margin-top:40px;color:#57606a;font-size:12px}
"""

SCRIPT = """
(function () {
  function key(cell, numeric) {
    var v = cell.getAttribute('data-value');
    if (v === null) v = cell.textContent.trim();
    if (!numeric) return v.toLowerCase();
    return v === '' ? null : parseFloat(v);
  }
  function sortTable(table, col, dir) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = !table.tHead.rows[0].cells[col].classList.contains('text');
    rows.sort(function (a, b) {
      var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
      if (x === null || y === null) return (x === null) - (y === null);
      var c = x < y ? -1 : x > y ? 1 : 0;
      return dir === 'asc' ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (i === col) th.setAttribute('aria-sort', dir === 'asc' ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    });
    table.setAttribute('data-sorted', col + ':' + dir);
  }
  document.querySelectorAll('table.board').forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.addEventListener('click', function () {
        var cur = table.getAttribute('data-sorted');
        var first = th.classList.contains('text') ? 'asc' : 'desc';
        var dir = cur === i + ':' + first ? (first === 'asc' ? 'desc' : 'asc') : first;
        sortTable(table, i, dir);
      });
    });
  });
  function fromHash() {
    var m = /sort=([\\w-]+):(\\d+):(asc|desc)/.exec(decodeURIComponent(location.hash));
    var table = m && document.getElementById(m[1]);
    if (table) sortTable(table, parseInt(m[2], 10), m[3]);
  }
  window.addEventListener('hashchange', fromHash);
  fromHash();
})();
"""


def _num_cell(text: str, value: float | int | None) -> str:
    return f'<td data-value="{"" if value is None else repr(value)}">{escape(text)}</td>'


def _stat_cell(stat: Stat | None, *, as_loss: bool = False) -> str:
    return _num_cell(loss(stat) if as_loss else pct(stat), None if stat is None else stat.mean)


def _mean_cell(stat: Stat | None) -> str:
    """The mean alone, the spread in the tooltip (keeps the wide per-group tables readable)."""
    if stat is None or not spread(stat):
        return _num_cell(pct(stat), None if stat is None else stat.mean)
    return f'<td data-value="{stat.mean!r}" title="± {100 * stat.std:.2f}">{pct(stat, std=False)}</td>'


def _anchor(text: str, href: str | None) -> str:
    """``text`` escaped, linked to ``href`` when there is one (callers pass http(s) URLs or encoded paths)."""
    return escape(text) if href is None else f'<a href="{escape(href)}">{escape(text)}</a>'


def _name_cell(e: Entry, base: Path | None) -> str:
    return f'<td class="text" data-value="{escape(e.name.lower())}">{_anchor(e.name, entry_link(e, base))}</td>'


def _table(table_id: str, headers: Sequence[tuple[str, bool]], rows: Sequence[str]) -> str:
    head = "".join(f'<th class="text">{escape(h)}</th>' if text else f"<th>{escape(h)}</th>" for h, text in headers)
    return (
        f'<div class="scroll"><table class="board" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n{''.join(rows)}</tbody></table></div>"
    )


def _overall(table_id: str, group: Sequence[Entry], base: Path | None) -> str:
    measured = group[0].kind == "measured"
    sources = measured and len({e.source for e in group}) > 1
    headers = [("#", False), ("system", True), *([("source", True)] if sources else [])]
    headers += [("seeds" if measured else "runs", True), ("macro acc %", False)]
    headers += [*([("float32 %", False)] if measured else []), ("micro acc %", False), ("log loss", False)]
    headers += [("seen %", False), ("unseen %", False), ("MMAC", False), ("params", False), ("param kB", False)]
    headers += [("dtype", True)]
    rows = []
    for rank, e in enumerate(group, 1):
        cells = [_num_cell(str(rank), rank), _name_cell(e, base)]
        if sources:
            cells.append(f'<td class="text">{escape(e.source)}</td>')
        cells.append(f'<td class="text">{escape(runs_text(e))}</td>')
        cells.append(_stat_cell(e.macro_acc))
        if measured:
            cells.append(_stat_cell(e.macro_acc_float32))
        cells += [_stat_cell(e.micro_acc), _stat_cell(e.log_loss, as_loss=True)]
        cells += [_stat_cell(e.seen_acc), _stat_cell(e.unseen_acc)]
        cells += [_num_cell(f"{e.macs / 1e6:.2f}", e.macs), _num_cell(f"{e.params:,}", e.params)]
        cells.append(_num_cell(f"{e.param_bytes / 1000:.2f}", e.param_bytes))
        cells.append(f'<td class="text">{escape(e.param_dtype)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>\n")
    return _table(table_id, headers, rows)


def _groups(table_id: str, group: Sequence[Entry], attr: str, base: Path | None) -> str:
    names = group_names(group, attr)
    labels = [f"{n} {UNSEEN_MARK}" if attr == "per_device" and unseen(group, n) else n for n in names]
    headers = [("#", False), ("system", True), *((label, False) for label in labels)]
    rows = [
        f"<tr>{_num_cell(str(rank), rank)}{_name_cell(e, base)}"
        + "".join(_mean_cell(getattr(e, attr).get(n)) for n in names)
        + "</tr>\n"
        for rank, e in enumerate(group, 1)
    ]
    return _table(table_id, headers, rows)


def _figure(svg: str, entries: Sequence[Entry]) -> str:
    """A plot with its legend in HTML below it: one swatch and name per entry, wrapping to the page's width."""
    items = "".join(
        f'<li><span class="swatch" style="background:{colour(j)}"></span>{escape(e.name)}</li>'
        for j, e in enumerate(entries)
    )
    return f'<figure>{svg}<ul class="legend">{items}</ul></figure>'


def _plots(group: Sequence[Entry], devices: list[str]) -> list[str]:
    """Accuracy per device of the top entries; macro accuracy vs MACs and vs parameter bytes."""
    plots = []
    if devices:
        top = list(group[:TOP_ENTRIES])
        title = f"Accuracy per device, top {len(top)} entr{'y' if len(top) == 1 else 'ies'}"
        plots.append(_figure(device_bars(top, devices, lambda d: unseen(group, d), title), top))
    for measure, unit, scale, limit in (
        ("macs", "MMAC", 1e6, DCASE_MACS),
        ("param_bytes", "kB", 1e3, DCASE_PARAM_BYTES),
    ):
        title = f"Macro accuracy vs {'MACs' if measure == 'macs' else 'parameter bytes'}"
        svg = scatter(group, measure=measure, unit=unit, scale=scale, limit=limit / scale, title=title)
        plots.append(_figure(svg, plotted(group)))
    return plots


def short_title(title: str) -> str:
    """A table's heading with the dataset named briefly: a generator's parameter list (``name (params)``) is left
    out; the page shows the whole title on hover."""
    return " · ".join(part.split(" (", 1)[0] for part in title.split(" · "))


def _heading(title: str) -> str:
    short = short_title(title)
    if short == title:
        return escape(title)
    return f'<span class="data" title="{escape(title)}">{escape(short)}</span>'


def _section(index: int, title: str, group: Sequence[Entry], base: Path | None) -> str:
    sid = f"t{index}"
    kind = group[0].kind
    parts = [
        f'<section id="{sid}" data-kind="{escape(kind)}">',
        f'<h2><span class="kind {escape(kind)}">{escape(kind)}</span>{_heading(title)}</h2>',
        "<h3>Overall</h3>",
        _overall(f"{sid}-overall", group, base),
    ]
    for label, attr in (("class", "per_class"), ("device", "per_device"), ("city", "per_city")):
        if group_names(group, attr):
            spread = ", mean over seeds; hover for ± std" if kind == "measured" else ""
            heading = f"<h3>Per {label} (accuracy %{spread})</h3>"
            parts += [heading, _groups(f"{sid}-{label}", group, attr, base)]
    devices = group_names(group, "per_device")
    if any(unseen(group, d) for d in devices):
        parts.append(f'<p class="note">{UNSEEN_MARK} device not in the training split (unseen).</p>')
    if kind == "measured" or len(group) > 1:  # one published system alone needs no plots
        parts += ['<div class="plots">', *_plots(group, devices), "</div>"]
    notes = [
        f"<li><b>{escape(e.name)}</b>: "
        + (f"{_anchor(e.citation, web_url(e.url))}. " if e.citation else "")
        + escape(e.note)
        + "</li>"
        for e in group
        if e.citation or e.note
    ]
    if notes:
        parts += [f"<h3>{'Notes' if kind == 'measured' else 'Sources'}</h3>", '<ul class="note">', *notes, "</ul>"]
    parts.append("</section>")
    return "\n".join(parts)


def _nav_link(index: int, title: str, kind: str) -> str:
    data = short_title(title).split(" · ", 1)[-1]  # the heading without its kind of figures
    return f'<a href="#t{index}" title="{escape(title)}">{escape(kind)}: {escape(data)}</a>'


def render_html(entries: Sequence[Entry], base: Path | None = None) -> str:
    """The whole page; links are relative to ``base`` (the folder the page is written to)."""
    boards = tables(entries)
    nav = " ".join(_nav_link(i, title, group[0].kind) for i, (title, group) in enumerate(boards, 1))
    sections = [_section(i, title, group, base) for i, (title, group) in enumerate(boards, 1)]
    measured = sum(len(e.records) for e in entries if e.kind == "measured")
    reported = sum(1 for e in entries if e.kind == "reported")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>asc-bench leaderboard</title>",
            f"<style>{CSS}</style></head><body>",
            "<h1>asc-bench leaderboard</h1>",
            f'<p class="intro">{escape(INTRO).replace("*", "")}</p>',
            f"<nav>{nav}</nav>" if boards else f"<p>{MISSING} No entries yet.</p>",
            *sections,
            f"<footer>Rendered by <code>asc-bench leaderboard</code> from {measured} result record(s) and "
            f"{reported} reported entr{'y' if reported == 1 else 'ies'}.</footer>",
            f"<script>{SCRIPT}</script>",
            "</body></html>",
            "",
        ]
    )


def write_html(entries: Sequence[Entry], path: Path) -> None:
    """Write :func:`render_html` to ``path`` atomically (links relative to its folder; the umask's mode)."""
    path = Path(path)
    atomic_write_text(path, render_html(entries, base=path.parent))
