"""Page labels (``page_labels``): the ``<meta>`` labels the 政府网站发展指引 asks for, by page type.

* homepage: ``SiteName SiteDomain SiteIDCode``;
* column pages: those plus ``ColumnName ColumnDescription ColumnKeywords ColumnType``;
* article pages: the site labels plus ``ColumnName ColumnType ArticleTitle PubDate ContentSource``
  (and ``Keywords Author Description Image Url`` where the site's rules ask).

The lists are settings (``page_labels`` in patroldata/thresholds.yaml, per site under
``sites[].thresholds``).  A label present with empty content counts as missing.  One finding
per page that misses a required label (with its column, so the rectification list gives a
department one row per column); the facts give, per page type, the share of pages missing
each label.
"""
from __future__ import annotations

from typing import Any

from checks.govsite import is_html_page, page_types, setting
from checks.model import CheckContext, CheckOutput, Finding, PageSnapshot, SiteCrawl

TYPES = ("homepage", "column", "article")
TYPE_LABELS = {"homepage": "首页", "column": "栏目页", "article": "内容页"}


def required_labels(ctx: CheckContext) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for kind in TYPES:
        names = setting(ctx, "page_labels", kind) or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"thresholds: page_labels.{kind} must be a list of label names, not {names!r}")
        found[kind] = list(dict.fromkeys(names))
    extra = setting(ctx, "page_labels", "article_extra") or []
    found["article"] += [n for n in extra if n not in found["article"]]
    return found


def missing_labels(page: PageSnapshot, names: list[str]) -> list[str]:
    return [n for n in names if not (page.meta.get(n) or "").strip()]


def check_site(crawl: SiteCrawl, ctx: CheckContext) -> CheckOutput:
    out = CheckOutput()
    required = required_labels(ctx)
    types = page_types(crawl, ctx)
    rows: list[tuple[str, PageSnapshot, str]] = []      # (type, page, column name)
    if types.home is not None and is_html_page(types.home):
        rows.append(("homepage", types.home, ""))
    rows += [("column", p, col.name) for p, col in types.column_pages]
    rows += [("article", p, col.name) for p, col in types.articles]
    counts: dict[str, dict[str, Any]] = {
        kind: {"pages": 0, "complete": 0, "missing": {n: 0 for n in required[kind]}} for kind in TYPES}
    for kind, page, column in rows:
        names = required[kind]
        missing = missing_labels(page, names)
        c = counts[kind]
        c["pages"] += 1
        for n in missing:
            c["missing"][n] += 1
        if not missing:
            c["complete"] += 1
            continue
        if not names:
            continue
        empty = [n for n in missing if n in page.meta]
        message = f"{TYPE_LABELS[kind]}缺少网页标签：{'、'.join(missing)}"
        if empty:
            message += f"（{'、'.join(empty)} 内容为空）"
        out.findings.append(Finding(
            check="page_labels", severity="warning", site=crawl.name,
            department=ctx.department or crawl.department, url=page.url, page=page.url, message=message,
            detail={"kind": kind, "column": column or "首页", "missing": missing, "empty": empty,
                    "title": (page.headline or page.title)[:120]}))
    out.facts = {
        "required": required,
        "types": [{"type": kind, "label": TYPE_LABELS[kind], "pages": c["pages"], "complete": c["complete"],
                   "labels": [{"name": n, "missing": m, "share": round(m / c["pages"], 4) if c["pages"] else None}
                              for n, m in c["missing"].items()]}
                  for kind, c in counts.items()],
    }
    return out
