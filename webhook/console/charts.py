"""Charts drawn on the server as inline SVG: no script, no outside resource, readable without colour.

Every number is also in a <title> (hover) and the chart's <desc>, so a screen reader can read it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#1d4f91", "#e07b39", "#3a9d5d", "#c0392b", "#8e6bbf", "#c9a227", "#2a9d9f", "#d35d90",
           "#6d7f8f", "#7a5230", "#5b8c2a", "#b03a8f")
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 34, 40


def _nice_max(value: int, ticks: int = 4) -> int:
    """The axis top: `ticks` equal whole steps of 1, 2 or 5 × 10^k covering the value."""
    need = max(1, math.ceil(value / ticks))
    magnitude: int = 10 ** int(math.log10(need))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= need)
    return step * ticks


def _text(x: float, y: float, label: str, *, anchor: str = "middle", size: int = 12, cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"{klass}>'
            f"{escape(label)}</text>")


def stacked_bars(x_labels: Sequence[str], series: dict[str, list[int]], title: str,
                 colours: Sequence[str] = PALETTE) -> Markup:
    """One bar per x label, stacked by series, with a legend."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(x_labels))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(x_labels))
    bar = slot * 0.7
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 22 * math.ceil(len(series) / 4)}" role="img">',
             f"<title>{escape(title)}</title>",
             "<desc>" + escape("；".join(f"{x}: {t}" for x, t in zip(x_labels, totals, strict=True))) + "</desc>",
             _text(LEFT, 20, title, anchor="start", size=15, cls="chart-title")]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#d8dee6"/>')
        parts.append(_text(LEFT - 6, y + 4, f"{value:g}", anchor="end", size=11))
    for i, label in enumerate(x_labels):
        x = LEFT + slot * i + (slot - bar) / 2
        y = TOP + plot_h
        for n, (name, values) in enumerate(series.items()):
            if not values[i]:
                continue
            h = plot_h * values[i] / top
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{colours[n % len(colours)]}"><title>{escape(f"{label} {name}：{values[i]}")}'
                         "</title></rect>")
        if totals[i]:
            parts.append(_text(x + bar / 2, y - 4, str(totals[i]), size=11))
        parts.append(_text(x + bar / 2, TOP + plot_h + 16, label, size=11))
    for n, name in enumerate(series):
        lx, ly = LEFT + (n % 4) * (plot_w / 4), HEIGHT + 22 * (n // 4) - 6
        fill = colours[n % len(colours)]
        parts.append(f'<rect x="{lx:.1f}" y="{ly - 10:.1f}" width="12" height="12" fill="{fill}"/>')
        parts.append(_text(lx + 18, ly, name, anchor="start", size=12))
    if not any(totals):
        parts.append(_text(WIDTH / 2, TOP + plot_h / 2, "这段时间没有新线索", size=14))
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(items: Sequence[tuple[str, float | int]], title: str, colour: str = "#1d4f91") -> Markup:
    """Horizontal bars, one per labelled value."""
    row = 28
    height = TOP + row * max(1, len(items)) + 10
    top = max((v for _, v in items), default=0) or 1
    label_w, plot_w = 130, WIDTH - 130 - 60
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img">', f"<title>{escape(title)}</title>",
             "<desc>" + escape("；".join(f"{k}: {v:g}" for k, v in items)) + "</desc>",
             _text(LEFT, 20, title, anchor="start", size=15, cls="chart-title")]
    for i, (label, value) in enumerate(items):
        y = TOP + row * i
        w = plot_w * value / top
        parts.append(_text(label_w - 8, y + 17, label, anchor="end", size=12))
        parts.append(f'<rect x="{label_w}" y="{y + 4:.1f}" width="{w:.1f}" height="{row - 8}" fill="{colour}">'
                     f"<title>{escape(f'{label}：{value:g}')}</title></rect>")
        parts.append(_text(label_w + w + 6, y + 17, f"{value:g}", anchor="start", size=12))
    if not items:
        parts.append(_text(WIDTH / 2, TOP + 16, "暂无数据", size=14))
    parts.append("</svg>")
    return Markup("".join(parts))
