"""Small server-side SVG charts for the overview page (no JavaScript, nothing fetched).

Pure Python: callers pass numbers and labels, and get SVG markup back with every label
escaped, so untrusted text can never become markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# Colour-blind-friendly categorical palette (Okabe-Ito plus two greys-blues).
PALETTE = (
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9",
    "#d55e00", "#f0e442", "#6a3d9a", "#8c8c8c", "#b3b3b3",
)  # fmt: skip


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]
    colour: str


def _nice_max(value: int) -> int:
    """The axis top: the smallest of 2, 4, 6, 8 x 10^k that holds ``value``.

    Always even, so the middle gridline falls on a whole number of emails.
    """
    step = 1
    while True:
        for m in (2, 4, 6, 8):
            if m * step >= value:
                return m * step
        step *= 10


def stacked_bars(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    width: int = 1100,
    height: int = 220,
    title: str = "",
) -> str:
    """Vertical bars, one per category, stacked by series; a <title> tooltip per segment."""
    left, right, top, bottom = 36, 8, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(categories), 1)
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    ymax = _nice_max(max(totals, default=0))
    slot = plot_w / n
    bar_w = max(slot * 0.7, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
            f"{round(ymax * frac)}</text>"
        )
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar_w) / 2
        y = top + plot_h
        for s in series:
            value = s.values[i]
            if not value:
                continue
            h = plot_h * value / ymax
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{escape(s.colour)}"><title>{escape(category)} · {escape(s.label)}: '
                f"{value}</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - 10}" text-anchor="middle" class="axis">'
            f"{escape(category)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def sparkline(values: Sequence[int], *, width: int = 120, height: int = 24, label: str = "") -> str:
    """A tiny bar sparkline (one bar per value) with a tooltip per bar."""
    n = max(len(values), 1)
    ymax = max(max(values, default=0), 1)
    slot = width / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="spark" role="img" aria-label="{escape(label)}">'
    ]
    for i, value in enumerate(values):
        h = max((height - 2) * value / ymax, 1.0 if value else 0.0)
        parts.append(
            f'<rect x="{slot * i + 0.5:.1f}" y="{height - h:.1f}" width="{max(slot - 1, 1):.1f}" '
            f'height="{h:.1f}"><title>{value}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


def interval(
    estimate: float, low: float, high: float, *, width: int = 120, height: int = 14, label: str = ""
) -> str:
    """A 0-100% track with the interval as a bar and the estimate as a tick: a wide bar says
    "too few reviews to tell" at a glance."""
    x = [width * max(0.0, min(1.0, v)) for v in (low, estimate, high)]
    title = f"{label}: {estimate:.0%} (95% interval {low:.0%}–{high:.0%})"
    mid = height / 2
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="ci" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<line x1="0" y1="{mid}" x2="{width}" y2="{mid}" class="ci-track"/>'
        f'<rect x="{x[0]:.1f}" y="{mid - 3}" width="{max(x[2] - x[0], 1):.1f}" height="6" '
        f'rx="3" class="ci-bar"/>'
        f'<rect x="{x[1] - 1:.1f}" y="1" width="2" height="{height - 2}" class="ci-point"/>'
        "</svg>"
    )
