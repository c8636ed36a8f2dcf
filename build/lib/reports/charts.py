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


def vbar(bars: list[Bar], *, title: str = "", height: int = 150, column: int = 44) -> Markup:
    """A column chart (months along the bottom), as wide as it needs and no wider."""
    if not bars:
        return Markup("")
    top = 24 if title else 4
    plot = height - top - 34
    width = max(240, column * len(bars) + 10)
    scale_max = max((b.value for b in bars), default=0) or 1
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
              f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">')]
    if title:
        parts.append(f'<title>{escape(title)}</title>'
                     f'<text x="0" y="15" font-size="13" font-weight="bold">{escape(title)}</text>')
    base = top + plot + 14
    for i, bar in enumerate(bars):
        x = 5 + i * column
        length = max(0.0, bar.value) / scale_max * plot
        text = bar.note or _num(bar.value)
        parts.append(
            f'<rect x="{x + 6}" y="{base - length:.1f}" width="{column - 12}" height="{length:.1f}" '
            f'fill="{escape(bar.color)}"><title>{escape(bar.label)}: {escape(text)}</title></rect>'
            f'<text x="{x + column / 2:.1f}" y="{base - length - 3:.1f}" font-size="11" '
            f'text-anchor="middle">{escape(text)}</text>'
            f'<text x="{x + column / 2:.1f}" y="{base + 14}" font-size="11" text-anchor="middle">'
            f'{escape(_clip(bar.label, 7))}</text>')
    parts.append(f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="#9aa5b1"/></svg>')
    return Markup("".join(parts))


def progress(value: float, target: float, expected: float | None = None, *, title: str = "",
             width: int = 520) -> Markup:
    """Progress towards a yearly target: the bar so far, a tick where the calendar says it
    should be by now, and the target at the end."""
    if not target or target <= 0:
        return Markup("")
    top = 24 if title else 4
    height = top + 58
    plot = width - 20
    scale = max(float(target), float(value)) or 1
    done = min(float(value), scale) / scale * plot
    behind = expected is not None and value < expected
    color = "#c0392b" if behind else "#2e7d32"
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
              f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">')]
    if title:
        parts.append(f'<title>{escape(title)}</title>'
                     f'<text x="0" y="15" font-size="13" font-weight="bold">{escape(title)}</text>')
    parts.append(f'<rect x="10" y="{top + 4}" width="{plot}" height="16" fill="#eef2f6" stroke="#d9dee4"/>'
                 f'<rect x="10" y="{top + 4}" width="{done:.1f}" height="16" fill="{color}">'
                 f'<title>{escape(_num(value))} / {escape(_num(target))}</title></rect>'
                 f'<text x="{10 + plot}" y="{top + 36}" font-size="11" text-anchor="end">'
                 f'目标 {escape(_num(target))}</text>')
    if expected is not None:
        x = 10 + min(float(expected), scale) / scale * plot
        # Its label goes on a line of its own: near the end it would overwrite the target's.
        anchor = "end" if x > width * 0.7 else "start" if x < width * 0.3 else "middle"
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + 40}" stroke="#1f2933" '
                     f'stroke-width="2"/><text x="{x:.1f}" y="{top + 52}" font-size="11" '
                     f'text-anchor="{anchor}">按进度应达 {escape(_num(round(float(expected))))}</text>')
    parts.append(f'<text x="10" y="{top + 36}" font-size="11">已转发 {escape(_num(value))}</text></svg>')
    return Markup("".join(parts))


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
