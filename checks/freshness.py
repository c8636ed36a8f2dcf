"""Are the site's homepage and columns kept up to date, and does any column stand empty?

Judges every column that :func:`checks.columns.discover` finds against its category's rule
(``column_stale.<category>_days``), the homepage against ``homepage_stale``, and turns the
counts into the single-veto items of docs/indicators.md (``column_stale``, ``column_empty``,
``homepage_stale``) with early warnings below the veto line.

A column or homepage is stale when its newest item is *more than* the threshold's days old
(an item exactly 14 days old is still inside "the two weeks before the check").
Counts are "at least": ``veto_count: 5`` fails the site at the fifth stale column.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


from checks.columns import Column, column_key, discover, iframe_pages, keywords, page_index
from checks.dates import parse_iso
from checks.model import CheckContext, CheckOutput, Finding, ListItem, PageSnapshot, SiteCrawl
from common.thresholds import defaults

CATEGORY_NAMES = {"dynamic": "动态要闻类", "notice": "通知公告/政策文件类", "yearly": "人事/规划计划类",
                  "none": "无更新要求"}
# Order in which the report lists columns: problems first.
STATUS_ORDER = {"stale": 0, "empty": 1, "unknown": 2, "fresh": 3, "no_rule": 4, "ignored": 5}
# Entries that show only month and day, with no evidence of the year anywhere on the page.
YEARLESS_NOTE = "条目日期未标明年份，且无法从网址、列表顺序或页面其他日期确定年份，视为未更新"
# Dates this far after the check date are typing mistakes, not news.
FUTURE_TOLERANCE = timedelta(days=1)


def _threshold(ctx: CheckContext, section: str, key: str) -> Any:
    value = (ctx.thresholds.get(section) or {}).get(key)
    return value if value is not None else defaults()[section][key]


@dataclass
class Newest:
    """The newest dated entry of a list, and how its date was found."""

    latest: date | None = None
    basis: str = "none"          # list | url | article | url_month | none
    title: str = ""
    url: str = ""
    dated: int = 0               # entries with a date
    entries: int = 0
    future: int = 0              # entries dated after the check date (ignored)


def newest(items: list[ListItem], index: dict[str, PageSnapshot], today: date) -> Newest:
    """The newest entry: per entry, the list's date, else the URL's, else the article page's
    ``published`` from the crawl, else a month-only URL date (the first of that month)."""
    out = Newest(entries=len(items))
    limit = today + FUTURE_TOLERANCE
    for item in items:
        found, basis = _item_date(item, index)
        if found is None:
            continue
        if found > limit:
            out.future += 1
            continue
        out.dated += 1
        if out.latest is None or found > out.latest:
            out.latest, out.basis, out.title, out.url = found, basis, item.title, item.url
    return out


def _item_date(item: ListItem, index: dict[str, PageSnapshot]) -> tuple[date | None, str]:
    source = item.date_source or ("list" if item.date else "")
    if item.date and source in ("list", "url"):
        return parse_iso(item.date), source
    article = index.get(column_key(item.url))
    if article is not None and article.published:
        found = parse_iso(article.published)
        if found:
            return found, "article"
    if item.date:
        return parse_iso(item.date), source or "url_month"
    return None, "none"


def check_site(crawl: SiteCrawl, ctx: CheckContext) -> CheckOutput:
    """Column and homepage freshness, empty columns: findings, vetoes and the columns table."""
    try:
        today = date.fromisoformat(ctx.today[:10]) if ctx.today else date.today()
    except ValueError:
        raise ValueError(f"CheckContext.today must be an ISO date, not {ctx.today!r}") from None
    index = page_index(crawl)
    columns = discover(crawl, ctx.columns, table=keywords())
    out = CheckOutput()
    sections = [c for c in columns if c.kind == "section"]
    columns = [c for c in columns if c.kind != "section"]
    out.facts["sections"] = [{"url": c.url, "name": c.name, "found_by": c.found_by} for c in sections]
    rows = [_judge_column(col, index, today, ctx) for col in columns]
    rows.sort(key=lambda r: (STATUS_ORDER.get(r["status"], 9), r["category"], r["name"]))
    out.facts["columns"] = rows
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    out.facts["column_counts"] = counts

    site_url = crawl.homepage_url or crawl.url
    for r in rows:
        if r["status"] == "stale":
            out.findings.append(_column_stale_finding(r, crawl, ctx))
        elif r["status"] == "empty":
            out.findings.append(_column_empty_finding(r, crawl, ctx))
    _column_verdicts(rows, out, crawl, ctx, site_url)

    home = judge_homepage(crawl, index, today, ctx)
    out.facts["homepage"] = home
    if home["status"] in ("stale", "warning"):
        vetoed = home["status"] == "stale"
        latest = home["latest"] or "无"
        if home["latest"] is None:
            message = "首页栏目条目均无发布日期，视为未更新"
        else:
            message = f"首页已 {home['days']} 天未更新（最新信息 {latest}）"
        if not vetoed:
            message += f"，接近 {home['threshold']} 天的否决线"
        out.findings.append(Finding(
            check="homepage_stale", severity="veto" if vetoed else "warning", site=crawl.name,
            department=ctx.department or crawl.department, url=site_url, page=site_url,
            message=message,
            detail={"latest": home["latest"], "days": home["days"], "threshold": home["threshold"],
                    "warn_days": home["warn_days"], "basis": home["basis"]}))
        if vetoed:
            out.veto.append("homepage_stale")
    return out


def _judge_column(col: Column, index: dict[str, PageSnapshot], today: date,
                  ctx: CheckContext) -> dict[str, Any]:
    threshold = _threshold(ctx, "column_stale", f"{col.category}_days") \
        if col.category in ("dynamic", "notice", "yearly") else None
    row: dict[str, Any] = {
        "url": col.url, "name": col.name, "name_from": col.name_from, "found_by": col.found_by,
        "category": col.category, "category_from": col.category_from, "parent": col.parent,
        "kind": col.kind, "latest": None, "latest_title": "", "latest_url": "", "days": None,
        "threshold": threshold, "status": "unknown", "basis": "none", "items": 0, "dated": 0,
        "pages": len(col.pages), "rendered": bool(col.page and col.page.rendered), "note": col.note,
    }
    if col.ignore:
        row["status"], row["note"] = "ignored", row["note"] or "按站点配置忽略"
        return row
    page = col.page
    if page is None:
        row["note"] = "未抓取到该栏目页面"
        return row
    if page.status >= 400:
        row["note"] = f"栏目页面无法访问（HTTP {page.status}）"
        return row
    items: list[ListItem] = []
    seen: set[str] = set()
    sources = [index[column_key(u)] for u in col.pages if column_key(u) in index] or [page]
    sources += iframe_pages(page, index)
    for source in sources:
        for item in source.list_items:
            if item.url not in seen:
                seen.add(item.url)
                items.append(item)
    items = _own_items(col, items)
    row["items"] = len(items)
    if not items:
        if page.needs_render and not page.rendered:
            row["note"] = "列表由脚本生成，未经浏览器渲染，无法判断"
            return row
        if col.kind == "page":
            row["status"], row["note"] = "no_rule", row["note"] or "单页栏目（无列表）"
            return row
        row["status"] = "empty"
        row["note"] = "仅显示“暂无信息”类提示" if page.placeholder else "栏目无内容"
        return row
    found = newest(items, index, today)
    row["dated"] = found.dated
    row["basis"] = found.basis
    if found.future:
        row["note"] = f"{found.future} 条信息日期晚于检查日期，未计入"
    if found.latest is not None:
        row["latest"] = found.latest.isoformat()
        row["latest_title"], row["latest_url"] = found.title, found.url
        row["days"] = (today - found.latest).days
    if threshold is None:
        row["status"] = "no_rule"
    elif found.latest is None:
        row["status"] = "stale"
        row["note"] = row["note"] or (YEARLESS_NOTE if any(i.date_source == "yearless" for i in items)
                                      else "栏目条目均无发布日期，视为未更新")
    else:
        row["status"] = "stale" if row["days"] > threshold else "fresh"
    return row


def _own_items(col: Column, items: list[ListItem]) -> list[ListItem]:
    """When some entries live under the column's own folder (/zwgk/tzgg/202611/t...html) and
    others do not, the others are a box of some other column's news on the same page."""
    folder = column_key(col.url).rstrip("/") + "/"
    inside = [i for i in items if i.url.startswith(folder)]
    return inside if inside and len(inside) < len(items) else items


def _column_stale_finding(r: dict[str, Any], crawl: SiteCrawl, ctx: CheckContext) -> Finding:
    category = CATEGORY_NAMES.get(r["category"], r["category"])
    if r["latest"] is None:
        message = f"栏目“{r['name']}”的条目均无发布日期，视为未更新（{category}）"
    else:
        message = (f"栏目“{r['name']}”已 {r['days']} 天未更新（{category}，"
                   f"超过 {r['threshold']} 天；最新信息 {r['latest']}）")
    return Finding(check="column_stale", severity="error", site=crawl.name,
                   department=ctx.department or crawl.department, url=r["url"], page=r["url"],
                   message=message,
                   detail={"column": r["name"], "category": r["category"], "latest": r["latest"],
                           "days": r["days"], "threshold": r["threshold"], "basis": r["basis"]})


def _column_empty_finding(r: dict[str, Any], crawl: SiteCrawl, ctx: CheckContext) -> Finding:
    return Finding(check="column_empty", severity="error", site=crawl.name,
                   department=ctx.department or crawl.department, url=r["url"], page=r["url"],
                   message=f"栏目“{r['name']}”无内容（{r['note']}）",
                   detail={"column": r["name"], "category": r["category"],
                           "placeholder": r["note"].startswith("仅显示")})


def _column_verdicts(rows: list[dict[str, Any]], out: CheckOutput, crawl: SiteCrawl,
                     ctx: CheckContext, site_url: str) -> None:
    stale = [r for r in rows if r["status"] == "stale"]
    short = [r for r in stale if r["category"] in ("dynamic", "notice")]
    veto_count = int(_threshold(ctx, "column_stale", "veto_count"))
    veto_long = int(_threshold(ctx, "column_stale", "veto_count_long"))
    warn_count = int(_threshold(ctx, "column_stale", "warn_count"))
    dep = ctx.department or crawl.department
    detail = {"rule": "count", "stale": len(stale), "stale_dynamic_notice": len(short),
              "veto_count": veto_count, "veto_count_long": veto_long, "warn_count": warn_count,
              "columns": [r["name"] for r in stale]}
    if len(short) >= veto_count or len(stale) >= veto_long:
        out.veto.append("column_stale")
        why = (f"动态要闻类与通知公告/政策文件类栏目共 {len(short)} 个未按期更新（否决线 {veto_count} 个）"
               if len(short) >= veto_count else
               f"{len(stale)} 个栏目长期未更新（否决线 {veto_long} 个）")
        out.findings.append(Finding(check="column_stale", severity="veto", site=crawl.name,
                                    department=dep, url=site_url, page=site_url,
                                    message=f"栏目不更新：{why}", detail=detail))
    elif len(stale) >= warn_count:
        out.findings.append(Finding(
            check="column_stale", severity="warning", site=crawl.name, department=dep, url=site_url,
            page=site_url, detail=detail,
            message=f"预警：{len(stale)} 个栏目未按期更新（预警线 {warn_count} 个，否决线 {veto_count} 个）"))

    empty = [r for r in rows if r["status"] == "empty"]
    veto_empty = int(_threshold(ctx, "column_empty", "veto_count"))
    warn_empty = int(_threshold(ctx, "column_empty", "warn_count"))
    detail = {"rule": "count", "empty": len(empty), "veto_count": veto_empty, "warn_count": warn_empty,
              "columns": [r["name"] for r in empty]}
    if len(empty) >= veto_empty:
        out.veto.append("column_empty")
        out.findings.append(Finding(check="column_empty", severity="veto", site=crawl.name,
                                    department=dep, url=site_url, page=site_url, detail=detail,
                                    message=f"空白栏目：{len(empty)} 个栏目无内容（否决线 {veto_empty} 个）"))
    elif len(empty) >= warn_empty:
        out.findings.append(Finding(
            check="column_empty", severity="warning", site=crawl.name, department=dep, url=site_url,
            page=site_url, detail=detail,
            message=f"预警：{len(empty)} 个栏目无内容（预警线 {warn_empty} 个，否决线 {veto_empty} 个）"))


def judge_homepage(crawl: SiteCrawl, index: dict[str, PageSnapshot], today: date,
                   ctx: CheckContext) -> dict[str, Any]:
    """The homepage's newest dated item; a navigation-only homepage by its second-level pages."""
    veto_days = int(_threshold(ctx, "homepage_stale", "veto_days"))
    warn_days = int(_threshold(ctx, "homepage_stale", "warn_days"))
    result: dict[str, Any] = {"url": crawl.homepage_url or crawl.url, "latest": None, "days": None,
                              "status": "unknown", "basis": "homepage", "threshold": veto_days,
                              "warn_days": warn_days, "latest_title": "", "latest_url": "", "note": ""}
    home = index.get(column_key(crawl.homepage_url or crawl.url))
    if home is None or home.status >= 400:
        result["note"] = "首页未能抓取"
        return result
    found = newest(home.list_items, index, today)
    articles = [i for i in home.list_items if not _is_list_page(index.get(column_key(i.url)))]
    if found.latest is None and not articles:
        # Only menus and links to columns: judge by the pages one click away.
        result["basis"] = "second_level"
        second = _second_level(home, crawl, index)
        items = [i for p in second for i in p.list_items]
        if not second:
            result["note"] = "首页为导航页，但未抓取到二级页面"
            return result
        found = newest(items, index, today)
        result["note"] = f"首页为导航页，按 {len(second)} 个二级页面判断"
    if found.latest is None:
        result["status"] = "stale"
        result["note"] = result["note"] or (YEARLESS_NOTE if any(i.date_source == "yearless" for i in home.list_items)
                                            else "首页条目均无发布日期，视为未更新")
        return result
    days = (today - found.latest).days
    result.update(latest=found.latest.isoformat(), days=days, latest_title=found.title,
                  latest_url=found.url)
    if found.basis != "none" and result["basis"] == "homepage":
        result["date_from"] = found.basis
    result["status"] = "stale" if days > veto_days else "warning" if days > warn_days else "fresh"
    return result


def _is_list_page(page: PageSnapshot | None) -> bool:
    return page is not None and bool(page.list_items or page.pagination or page.placeholder)


def _second_level(home: PageSnapshot, crawl: SiteCrawl,
                  index: dict[str, PageSnapshot]) -> list[PageSnapshot]:
    home_key = column_key(home.url)
    found: dict[str, PageSnapshot] = {}
    for ref in list(home.links) + list(home.nav_links):
        if ref.tag != "a":
            continue
        page = index.get(column_key(ref.url))
        if page is not None and column_key(page.url) != home_key:
            found.setdefault(page.url, page)
    for p in crawl.pages:
        if p.depth == 1:
            found.setdefault(p.url, p)
    return list(found.values())
