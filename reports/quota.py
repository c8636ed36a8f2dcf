"""The yearly quota: at least 12 inspections a year for every website and account.

Every completed run (``patrol run`` or the demo; a ``patrol check`` spot check does not
count) is one inspection for its month for each site and account it covered completely.
Inspections are counted by month, as the work plans ask for one a month: two runs in
March still leave April to do, so a month that passed without a run makes 12 unreachable.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import select

from store import Run, Site, SiteResult, Store
from reports.data import INSPECTION_KINDS

if TYPE_CHECKING:
    from common.config import Config

TARGET = 12
KIND_LABELS = {"website": "网站", "newmedia": "新媒体"}


@dataclass
class QuotaRow:
    name: str
    kind: str
    department: str
    counts: list[int] = field(default_factory=lambda: [0] * 12)   # runs per month, Jan..Dec
    missed: list[int] = field(default_factory=list)               # months past with no run
    done: int = 0                                                 # months with at least one run
    remaining: int = 0                                            # months still open this year
    reachable: bool = True

    @property
    def verdict(self) -> str:
        if self.done >= TARGET:
            return "已完成"
        if self.reachable:
            return f"可完成（还需 {TARGET - self.done} 次，剩余 {self.remaining} 个月）"
        return f"无法完成（已漏 {len(self.missed)} 个月，最多 {self.done + self.remaining} 次）"


@dataclass
class QuotaGrid:
    year: int
    today: date
    rows: list[QuotaRow]

    @property
    def current_month(self) -> int:
        """Months before this one are past; 0 for a future year, 13 for a past one."""
        if self.year < self.today.year:
            return 13
        if self.year > self.today.year:
            return 0
        return self.today.month


def quota_grid(store: Store, year: int, cfg: Config | None = None, today: date | None = None) -> QuotaGrid:
    """Runs per month for every site and account of ``year``, and whether 12 is still reachable."""
    today = today or date.today()
    prefix = f"{year:04d}-"
    rows: dict[str, QuotaRow] = {}
    with store.session() as s:
        q = (select(Run.period, Site.name, Site.kind, Site.department)
             .join(SiteResult, SiteResult.run_id == Run.id)
             .join(Site, Site.id == SiteResult.site_id)
             .where(Run.status == "completed", Run.kind.in_(INSPECTION_KINDS),  # type: ignore[attr-defined]
                    SiteResult.status == "completed"))
        for period, name, kind, department in s.exec(q):
            if not period.startswith(prefix):
                continue
            try:
                month = int(period[5:7])
            except ValueError:
                continue
            if not 1 <= month <= 12:
                continue
            row = rows.setdefault(name, QuotaRow(name, kind, department))
            row.counts[month - 1] += 1
    # Configured sites with no run at all belong on the grid too: they are the ones behind.
    if cfg is not None:
        for site in cfg.sites:
            rows.setdefault(site.name, QuotaRow(site.name, "website", site.department))
        for acc in cfg.newmedia:
            rows.setdefault(acc.name, QuotaRow(acc.name, "newmedia", acc.department))
    grid = QuotaGrid(year, today, [])
    current = grid.current_month
    for row in rows.values():
        row.done = sum(1 for n in row.counts if n)
        row.missed = [m for m in range(1, 13) if m < current and not row.counts[m - 1]]
        row.remaining = sum(1 for m in range(max(current, 1), 13) if not row.counts[m - 1])
        row.reachable = row.done + row.remaining >= TARGET
    grid.rows = sorted(rows.values(), key=lambda r: (r.kind != "website", r.name))
    return grid


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def render_text(grid: QuotaGrid) -> str:
    """The grid as aligned text: a run count per month, ✗ for a month missed, · for one to come."""
    lines = [f"{grid.year} 年巡检完成情况（每月一次，全年不少于 {TARGET} 次；统计至 {grid.today.isoformat()}）"]
    if not grid.rows:
        lines.append("本年度还没有完成的巡检。")
        return "\n".join(lines) + "\n"
    name_w = max(8, *(_width(r.name) for r in grid.rows)) + 2
    header = _pad("名称", name_w) + _pad("类型", 8) + "".join(f"{m:>3}" for m in range(1, 13)) + "  完成  漏检月份      全年12次"
    lines.append(header)
    current = grid.current_month
    for r in grid.rows:
        cells = []
        for m in range(1, 13):
            n = r.counts[m - 1]
            cells.append(f"{n:>3}" if n else ("  ✗" if m < current else "  ·"))
        missed = ",".join(str(m) for m in r.missed) or "—"
        lines.append(_pad(r.name, name_w) + _pad(KIND_LABELS.get(r.kind, r.kind), 8) + "".join(cells)
                     + f"  {r.done:>2}/{TARGET}  " + _pad(missed, 12) + "  " + r.verdict)
    behind = [r.name for r in grid.rows if not r.reachable]
    lines.append("")
    lines.append(f"无法完成全年 {TARGET} 次的：{'、'.join(behind)}" if behind
                 else f"所有网站和账号仍可完成全年 {TARGET} 次巡检。")
    return "\n".join(lines) + "\n"
