"""What the 政务公开 checks (site identity, page labels, annual report, policy interpretation)
share: their settings, the site's homepage, and the crawled pages sorted by page type (the
homepage, column pages, article pages with the column they are listed in).

Columns come from :mod:`checks.columns` (the same columns the freshness check judges); an
article page is a crawled page listed on one of a column's list pages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import yaml

from checks.columns import Column, column_key, discover, keywords, page_index
from checks.model import CheckContext, PageSnapshot, SiteCrawl
from patroldata import data_path


@lru_cache(maxsize=1)
def _defaults() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(data_path("thresholds.yaml").read_text(encoding="utf-8")) or {}


def setting(ctx: CheckContext, section: str, key: str) -> Any:
    """A threshold of ``section``: the site's or the config's, else patroldata/thresholds.yaml's."""
    value = (ctx.thresholds.get(section) or {}).get(key)
    return value if value is not None else (_defaults().get(section) or {}).get(key)


def today_of(ctx: CheckContext) -> date:
    try:
        return date.fromisoformat(ctx.today[:10]) if ctx.today else date.today()
    except ValueError:
        raise ValueError(f"CheckContext.today must be an ISO date, not {ctx.today!r}") from None


def homepage(crawl: SiteCrawl, index: dict[str, PageSnapshot] | None = None) -> PageSnapshot | None:
    """The crawled start page (after redirects), or None when it was not crawled."""
    index = index if index is not None else page_index(crawl)
    for url in (crawl.homepage_url, crawl.url):
        if url:
            page = index.get(column_key(url))
            if page is not None:
                return page
    return next((p for p in crawl.pages if p.depth == 0), None)


def is_html_page(page: PageSnapshot) -> bool:
    return 200 <= page.status < 300 and "html" in (page.content_type or "text/html").lower()


@dataclass
class PageTypes:
    """The site's crawled pages by the 发展指引's page types."""

    home: PageSnapshot | None
    columns: list[Column] = field(default_factory=list)          # every column found, crawled or not
    column_pages: list[tuple[PageSnapshot, Column]] = field(default_factory=list)
    articles: list[tuple[PageSnapshot, Column]] = field(default_factory=list)
    index: dict[str, PageSnapshot] = field(default_factory=dict)


# The last crawl's page types: page_labels and policy_interpretation run one after the other
# on the same crawl, and finding the columns is the costly part.  The crawl itself is kept, so
# its id cannot be reused by another object while cached.
_last: list[Any] = []


def page_types(crawl: SiteCrawl, ctx: CheckContext) -> PageTypes:
    """Homepage, the first list page of every column (sections included) and every crawled
    article listed on a column's list pages, each with its column (the first that lists it)."""
    key = (id(crawl), len(crawl.pages), repr(ctx.columns))
    if _last and _last[0] == key and _last[1] is crawl:
        return _last[2]
    found = _page_types(crawl, ctx)
    _last[:] = [key, crawl, found]
    return found


def _page_types(crawl: SiteCrawl, ctx: CheckContext) -> PageTypes:
    index = page_index(crawl)
    home = homepage(crawl, index)
    columns = [c for c in discover(crawl, ctx.columns, table=keywords()) if not c.ignore]
    out = PageTypes(home=home, columns=columns, index=index)
    home_key = column_key(home.url) if home is not None else ""
    seen: set[str] = {home_key}
    for col in columns:
        if col.page is None or not is_html_page(col.page):
            continue
        key = column_key(col.page.url)
        if key in seen:
            continue
        seen.add(key)
        out.column_pages.append((col.page, col))
    column_keys = set(seen)
    # An article belongs to the most specific column that lists it: a column before the
    # section page (政务公开) that shows the newest items of its sub-columns.
    for col in sorted(columns, key=lambda c: c.kind == "section"):
        for list_url in col.pages:
            listing = index.get(column_key(list_url))
            if listing is None:
                continue
            for item in listing.list_items:
                key = column_key(item.url)
                page = index.get(key)
                if page is None or key in seen or key in column_keys or not is_html_page(page):
                    continue
                seen.add(key)
                out.articles.append((page, col))
    return out


def shown_title(page: PageSnapshot) -> str:
    """The title a reader sees: the headline, else the ``<title>``."""
    return page.headline or page.title
