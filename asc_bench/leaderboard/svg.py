"""Inline SVG plots for the HTML leaderboard: accuracy per device (bars) and accuracy vs complexity (scatter).

Plain SVG text, no scripts and no external resources, so the page works offline and renders the same everywhere.
The legend is not drawn in the SVG: the page lists the entries in HTML below each plot (``colour(j)`` is the
colour of the ``j``-th entry), where the text wraps to the width the browser really has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from asc_bench.leaderboard.entries import Entry

PALETTE = (
    # Okabe & Ito's colour-blind-safe palette without its pale yellow, then thirteen more chosen greedily for the
    # largest smallest CIELAB distance to all before them (none lighter than L* 82, so all show on white); the
    # smallest distance between any two is 26.
    *("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000"),
    *("#000075", "#f032e6", "#8db600", "#c2b280", "#661100", "#e6194b", "#f99379", "#4363d8"),
    *("#7f7f7f", "#9a6324", "#3cb44b", "#882255", "#808000"),
)
WIDTH = 560
HEIGHT = 300
_M = {"left": 56, "right": 16, "top": 28, "bottom": 44}


def colour(j: int) -> str:
    """The colour of the ``j``-th entry of a plot (distinct for up to ``len(PALETTE)`` entries)."""
    return PALETTE[j % len(PALETTE)]


def _svg(title: str, body: list[str], height: int = HEIGHT) -> str:
    return "\n".join(
        [
            f'<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}" role="img" aria-label="{escape(title)}">',
            f"<title>{escape(title)}</title>",
            f'<text x="{WIDTH / 2:.0f}" y="16" text-anchor="middle" class="plot-title">{escape(title)}</text>',
            *body,
            "</svg>",
        ]
    )


def _y_axis(lo: float, hi: float, y: Callable[[float], float], label: str) -> list[str]:
    parts = []
    step = 10.0 if hi - lo > 30 else 5.0
    tick = lo
    while tick <= hi + 1e-9:
        yy = y(tick)
        parts.append(f'<line class="grid" x1="{_M["left"]}" x2="{WIDTH - _M["right"]}" y1="{yy:.1f}" y2="{yy:.1f}"/>')
        parts.append(f'<text x="{_M["left"] - 6}" y="{yy + 4:.1f}" text-anchor="end" class="tick">{tick:.0f}</text>')
        tick += step
    mid = (_M["top"] + HEIGHT - _M["bottom"]) / 2
    parts.append(
        f'<text transform="translate(14 {mid:.0f}) rotate(-90)" text-anchor="middle" class="axis">{label}</text>'
    )
    return parts


def _acc_range(values: Sequence[float]) -> tuple[float, float]:
    """Percent range for the y axis: whole tens around the data."""
    lo = max(0.0, (min(values) // 10) * 10 - 10) if values else 0.0
    hi = min(100.0, (max(values) // 10) * 10 + 10) if values else 100.0
    return lo, max(hi, lo + 10)


def device_bars(entries: Sequence[Entry], devices: Sequence[str], unseen: Callable[[str], bool], title: str) -> str:
    """Grouped bars: accuracy (%) per device for each entry (the top entries of a table)."""
    values = [100 * s.mean for e in entries for d in devices if (s := e.per_device.get(d)) is not None]
    lo, hi = _acc_range(values)
    plot_w = WIDTH - _M["left"] - _M["right"]
    plot_h = HEIGHT - _M["top"] - _M["bottom"]

    def y(v: float) -> float:
        return _M["top"] + plot_h * (1 - (v - lo) / (hi - lo))

    body = _y_axis(lo, hi, y, "accuracy %")
    group_w = plot_w / max(len(devices), 1)
    bar_w = group_w * 0.8 / max(len(entries), 1)
    for i, device in enumerate(devices):
        x0 = _M["left"] + i * group_w + group_w * 0.1
        for j, e in enumerate(entries):
            stat = e.per_device.get(device)
            if stat is None:
                continue
            v = max(100 * stat.mean, lo)
            x = x0 + j * bar_w
            body.append(
                f'<rect x="{x:.1f}" y="{y(v):.1f}" width="{bar_w * 0.92:.1f}" height="{y(lo) - y(v):.1f}" '
                f'fill="{colour(j)}"><title>{escape(e.name)} · {escape(device)}: '
                f"{100 * stat.mean:.2f} %</title></rect>"
            )
        label = f"{device} †" if unseen(device) else device
        body.append(
            f'<text x="{x0 + group_w * 0.4:.1f}" y="{HEIGHT - _M["bottom"] + 16}" text-anchor="middle" '
            f'class="tick">{escape(label)}</text>'
        )
    return _svg(title, body)


def plotted(entries: Sequence[Entry]) -> list[Entry]:
    """The entries a scatter plot draws (those with a macro accuracy), in the order of their colours."""
    return [e for e in entries if e.macro_acc is not None]


def scatter(entries: Sequence[Entry], *, measure: str, unit: str, scale: float, limit: float, title: str) -> str:
    """Macro accuracy (%) against a complexity measure (``macs`` or ``param_bytes``), with the DCASE limit.

    ``scale`` divides the measure (1e6 for MMAC, 1e3 for kB); error bars are ± the std over seeds. The ``j``-th
    entry of :func:`plotted` is drawn in ``colour(j)``.
    """
    points = [(getattr(e, measure) / scale, e) for e in plotted(entries)]
    accs = [100 * e.macro_acc.mean for _, e in points if e.macro_acc]
    lo, hi = _acc_range(accs)
    x_hi = max([limit * 1.1, *(x * 1.1 for x, _ in points)])
    plot_w = WIDTH - _M["left"] - _M["right"]
    plot_h = HEIGHT - _M["top"] - _M["bottom"]

    def px(v: float) -> float:
        return _M["left"] + plot_w * v / x_hi

    def py(v: float) -> float:
        return _M["top"] + plot_h * (1 - (v - lo) / (hi - lo))

    body = _y_axis(lo, hi, py, "macro accuracy %")
    step = _nice_step(x_hi)
    tick = 0.0
    while tick <= x_hi:
        body.append(
            f'<text x="{px(tick):.1f}" y="{HEIGHT - _M["bottom"] + 16}" text-anchor="middle" class="tick">'
            f"{tick:g}</text>"
        )
        tick += step
    body.append(
        f'<text x="{_M["left"] + plot_w / 2:.0f}" y="{HEIGHT - _M["bottom"] + 36}" text-anchor="middle" '
        f'class="axis">{escape(unit)}</text>'
    )
    body.append(
        f'<line class="limit" x1="{px(limit):.1f}" x2="{px(limit):.1f}" y1="{_M["top"]}" '
        f'y2="{HEIGHT - _M["bottom"]}"/><text x="{px(limit) - 4:.1f}" y="{HEIGHT - _M["bottom"] - 6}" '
        f'text-anchor="end" class="limit-label">DCASE limit {limit:g}</text>'
    )
    for j, (x, e) in enumerate(points):
        acc = e.macro_acc
        assert acc is not None
        color = colour(j)
        cx, cy = px(x), py(100 * acc.mean)
        if acc.std:
            top, bottom = py(min(hi, 100 * (acc.mean + acc.std))), py(max(lo, 100 * (acc.mean - acc.std)))
            body.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" stroke="{color}"/>')
        body.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{color}"><title>{escape(e.name)}: '
            f"{100 * acc.mean:.2f} % at {x:.2f} {escape(unit)}</title></circle>"
        )
    return _svg(title, body)


def _nice_step(span: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that gives at most ten ticks over ``span``."""
    steps = sorted(m * 10.0**k for k in range(-3, 13) for m in (1, 2, 5))
    return next((s for s in steps if span / s <= 10), steps[-1])
