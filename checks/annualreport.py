"""Annual reports (``annual_report``): the 政府信息公开工作年度报告 of the previous year must be
published by 31 January (《政府信息公开条例》第四十九条), and a site that publishes a
政府网站工作年度报表 must publish that one by the same day (政府网站发展指引).

The reports are found by their titles anywhere in the crawl: titles of crawled pages and
titles of list entries (so a report listed but not crawled still counts).  The publish date
is the article page's, else the one its list shows, else the one its URL carries.

The year judged is the latest whose deadline has passed: on 10 March 2026 the 2025 report
(due 31 January 2026); on 10 January 2026 still the 2024 report.  Every report of that year
published after the deadline is a finding (a portal often lists its departments' reports
too), and none at all is a finding; a report whose date cannot be read is listed in the facts
without a verdict.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from checks.columns import column_key
from checks.dates import date_from_url, make_date, parse_iso
from checks.govsite import homepage, setting, shown_title, today_of
from checks.model import CheckContext, CheckOutput, Finding, SiteCrawl

KINDS = {
    # kind: (title pattern, label, required of every site)
    "disclosure": (re.compile(r"((?:19|20)\d{2})\s*年度?[^，。；]{0,40}?政府信息公开(?:工作)?年度报告"),
                   "政府信息公开工作年度报告", True),
    "website": (re.compile(r"((?:19|20)\d{2})\s*年度?[^，。；]{0,40}?政府网站(?:工作)?年度报表"),
                "政府网站工作年度报表", False),
}


@dataclass
class Report:
    kind: str
    year: int
    title: str
    url: str
    page: str                   # where it was found: the report itself, or the list showing it
    published: date | None
    date_from: str              # page | list | url | ""


def due_date(year: int, ctx: CheckContext, kind: str) -> date:
    """The deadline of ``year``'s report: ``due`` (MM-DD) of the next year."""
    raw = str(setting(ctx, "annual_report", f"{kind}_due") or setting(ctx, "annual_report", "due") or "01-31")
    m = re.fullmatch(r"(\d{1,2})-(\d{1,2})", raw.strip())
    found = make_date(year + 1, int(m.group(1)), int(m.group(2))) if m else None
    if found is None:
        raise ValueError(f"thresholds: annual_report.due must be MM-DD, not {raw!r}")
    return found


def target_year(today: date, ctx: CheckContext, kind: str) -> int:
    """The latest year whose report is due on or before ``today``."""
    year = today.year - 1
    while due_date(year, ctx, kind) >= today:
        year -= 1
    return year


def find_reports(crawl: SiteCrawl) -> list[Report]:
    """Every report of either kind the crawl shows, once per URL (the best-dated sighting)."""
    found: dict[tuple[str, str], Report] = {}

    def offer(report: Report) -> None:
        key = (report.kind, column_key(report.url))
        old = found.get(key)
        rank = {"page": 0, "list": 1, "url": 2, "": 3}
        if old is None or rank[report.date_from] < rank[old.date_from]:
            found[key] = report

    for page in crawl.pages:
        if not 200 <= page.status < 300:
            continue
        title = shown_title(page)
        for kind, (pattern, _, _) in KINDS.items():
            m = pattern.search(title)
            if m:
                published = parse_iso(page.published)
                source = "page" if published else ""
                if published is None:
                    published = date_from_url(page.url)
                    source = "url" if published else ""
                offer(Report(kind, int(m.group(1)), title, page.url, page.url, published, source))
        for item in page.list_items:
            for kind, (pattern, _, _) in KINDS.items():
                m = pattern.search(item.title)
                if m:
                    published = parse_iso(item.date) if item.date_source == "list" else None
                    source = "list" if published else ""
                    if published is None:
                        published = date_from_url(item.url)
                        source = "url" if published else ""
                    offer(Report(kind, int(m.group(1)), item.title, item.url, page.url, published, source))
    return sorted(found.values(), key=lambda r: (r.kind, r.year, r.url))


def check_site(crawl: SiteCrawl, ctx: CheckContext) -> CheckOutput:
    out = CheckOutput()
    today = today_of(ctx)
    reports = find_reports(crawl)
    home = homepage(crawl)
    site_url = home.url if home is not None else (crawl.homepage_url or crawl.url)
    dep = ctx.department or crawl.department
    facts: list[dict[str, Any]] = []
    for kind, (_, label, required) in KINDS.items():
        year = target_year(today, ctx, kind)
        due = due_date(year, ctx, kind)
        of_kind = [r for r in reports if r.kind == kind]
        of_year = [r for r in of_kind if r.year == year]
        row: dict[str, Any] = {"kind": kind, "label": label, "year": year, "due": due.isoformat(),
                               "reports": [], "status": ""}
        for r in of_year:
            late = r.published is not None and r.published > due
            status = "unknown" if r.published is None else "late" if late else "on_time"
            row["reports"].append({"title": r.title, "url": r.url, "page": r.page, "status": status,
                                   "published": r.published.isoformat() if r.published else None,
                                   "date_from": r.date_from})
            if late:
                assert r.published is not None
                days = (r.published - due).days
                out.findings.append(Finding(
                    check="annual_report", severity="error", site=crawl.name, department=dep,
                    url=r.url, page=r.page,
                    message=f"《{r.title}》于 {r.published.isoformat()} 发布，晚于 {due.isoformat()} 的期限 {days} 天",
                    detail={"kind": kind, "rule": "late", "year": year, "due": due.isoformat(),
                            "published": r.published.isoformat(), "days_late": days, "title": r.title}))
        if of_year:
            row["status"] = "late" if all(x["status"] == "late" for x in row["reports"]) else \
                "on_time" if any(x["status"] == "on_time" for x in row["reports"]) else \
                "unknown" if all(x["status"] == "unknown" for x in row["reports"]) else "late"
        elif not required and not of_kind:
            row["status"] = "none_published"        # the site publishes no such report at all
        else:
            row["status"] = "missing"
            other = sorted({r.year for r in of_kind})
            message = f"未找到{year}年{label}（应于 {due.isoformat()} 前发布）"
            if other:
                message += f"；找到的年份：{'、'.join(str(y) for y in other)}"
            # A crawl stopped by its page limit may not have reached the report: 疑似 only.
            partial = bool(crawl.stats.get("max_pages_reached"))
            if partial:
                message = "疑似：" + message + "；本次抓取达到页数上限，可能未覆盖全部页面，请人工核实"
            out.findings.append(Finding(
                check="annual_report", severity="warning" if partial else "error", site=crawl.name,
                department=dep,
                url=site_url, page=site_url, message=message,
                # The year is part of the rule: next year's missing report is another problem.
                detail={"kind": kind, "rule": f"missing-{year}", "year": year, "due": due.isoformat(),
                        "other_years": other, **({"suspected": True} if partial else {})}))
        row["other_years"] = sorted({r.year for r in of_kind if r.year != year})
        facts.append(row)
    out.facts = {"reports": facts}
    return out
