"""Inline SVG charts: plain bar charts that need no script and print as they look on screen.

Every label is escaped: site names and check names come from configuration and crawled data.
"""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass
class Bar:
    label: str
    value: float
    color: str = "#3b6ea5"
    note: str = ""          # text after the bar; the value when empty


def hbar(bars: list[Bar], *, maximum: float | None = None, title: str = "", width: int = 640,
         row: int = 22, label_width: int = 200) -> Markup:
    """A horizontal bar chart; ``maximum`` fixes the scale (100 for scores)."""
    if not bars:
        return Markup("")
    top = 24 if title else 4
    height = top + row * len(bars) + 6
    scale_max = maximum if maximum else max((b.value for b in bars), default=0) or 1
    plot = width - label_width - 70
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
              f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">')]
    if title:
        parts.append(f'<title>{escape(title)}</title>'
                     f'<text x="0" y="15" font-size="13" font-weight="bold">{escape(title)}</text>')
    for i, bar in enumerate(bars):
        y = top + i * row
        length = max(0.0, min(bar.value, scale_max)) / scale_max * plot
        text = bar.note or _num(bar.value)
        parts.append(
            f'<text x="{label_width - 6}" y="{y + row * 0.68:.1f}" font-size="12" text-anchor="end">'
            f'{escape(_clip(bar.label, 18))}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 7}" '
            f'fill="{escape(bar.color)}"><title>{escape(bar.label)}: {escape(text)}</title></rect>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + row * 0.68:.1f}" font-size="12">'
            f'{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
