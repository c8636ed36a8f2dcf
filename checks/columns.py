"""Finding a site's columns (栏目) in a crawl and telling which update rule each falls under.

A column is a list page reached from a navigation menu, a breadcrumb or a 更多 link, together
with its further list pages (``index_1.html``, ``?page=2``).  Nothing here needs
configuration: per-site rules (``sites[].columns``) only add, rename, re-categorise or ignore.

Category keywords and the placeholder words of empty lists live in ``patroldata/columns.yaml``.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from checks.columnrules import keywords, not_column_words, placeholder_phrases  # noqa: F401 (placeholder_phrases for callers)
from checks.model import PageSnapshot, SiteCrawl
from checks.pagefacts import is_later_page, public_platform, same_site


# Index documents that stand for their folder: /tzgg/ and /tzgg/index.html are one column.
_INDEX_NAMES = re.compile(r"/(?:index|default)\.(?:s?html?|jhtml|jsp|php|aspx?)$", re.IGNORECASE)
_TITLE_SEP = re.compile(r"\s*(?:[_|｜—–]|-{1,2}| - )\s*")
# A page with at least this much main text and no list is a single-page column (机构职能).
PAGE_TEXT_MIN = 100
# ... or this many links of its own (互动交流: 在线咨询, 区长信箱).
OWN_LINKS_MIN = 2
HOME_NAMES = frozenset({"首页", "网站首页", "返回首页", "主页", "home", "Home", "HOME"})


NOT_COLUMN_NAME_MAX = 10


# A district's or department's 政府信息公开 often lives on its city's platform, another host
# (zfxxgk.beijing.gov.cn): a link named for it is the site's column wherever it points.
_public_platform = public_platform


def is_tool_link(name: str, words: list[str] | None = None) -> bool:
    """A sign-in, search, language, accessibility or font-size link (never a column)."""
    name = name.strip()
    if not name or len(name) > NOT_COLUMN_NAME_MAX:
        return False
    # The word opens or closes the name (用户注册, 登录邮箱系统, 站内搜索) or nearly fills it; in the
    # middle of a longer name it is part of another name (药品注册服务指南 is a guide).
    return any(w and w in name and (name.startswith(w) or name.endswith(w) or len(name) <= len(w) + 2)
               for w in (words if words is not None else not_column_words()))


def categorise(name: str, *, table: dict[str, list[str]] | None = None) -> tuple[str, str]:
    """(category, the keyword that decided it); ("none", "") when no keyword matches.

    The longest matching keyword wins: 人事任免通知 is yearly (人事任免), not notice (通知).
    """
    table = table or keywords()
    best = ("none", "")
    for category, words in table.items():
        for word in words:
            if word and word in name and len(word) > len(best[1]):
                best = (category, word)
    return best


def column_key(url: str) -> str:
    """One spelling per column URL: no fragment, no index document, no trailing slash."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    path = _INDEX_NAMES.sub("/", parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), (parts.netloc or "").lower(), path, parts.query, ""))


@dataclass
class Column:
    """A column found in the crawl (or named in the site's rules)."""

    url: str                                  # the column's first list page, as crawled
    key: str
    name: str = ""
    name_from: str = ""                       # menu | breadcrumb | heading | directory | title | config
    found_by: list[str] = field(default_factory=list)   # menu, more, breadcrumb, directory, config
    category: str = "none"
    category_from: str = ""                   # the keyword, or "config"
    parent: str = ""                          # the parent column's name, from the breadcrumb
    pages: list[str] = field(default_factory=list)      # crawled list pages: first, then 2..n
    page: PageSnapshot | None = None          # the first list page, when crawled
    kind: str = "list"                        # list | page | empty | missing | section (parent page)
    ignore: bool = False
    note: str = ""


class _Candidate:
    def __init__(self, url: str) -> None:
        self.url = url
        self.names: dict[str, Counter[str]] = {}
        self.found_by: list[str] = []

    def add(self, source: str, name: str) -> None:
        if source not in self.found_by:
            self.found_by.append(source)
        name = name.strip()
        if name:
            self.names.setdefault(source, Counter())[name] += 1


def discover(crawl: SiteCrawl, rules: Iterable[dict[str, Any]] = (),
             table: dict[str, list[str]] | None = None, *, uncrawled: bool = False) -> list[Column]:
    """Every column of the crawled site, named and categorised, with the site's rules applied.

    Links found only in a directory of links (``dir_links``) count when they lead to a list
    or a page of content; ``uncrawled=True`` (one page read on its own, nothing crawled)
    keeps those not crawled as well."""
    table = table or keywords()
    index = _page_index(crawl)
    site_host = (urlsplit(crawl.homepage_url or crawl.url).hostname or "").lower()
    home_keys = {column_key(crawl.url)}
    if crawl.homepage_url:
        home_keys.add(column_key(crawl.homepage_url))
    home = index.get(column_key(crawl.homepage_url or crawl.url))
    if home is not None:
        home_keys.add(column_key(home.url))
        home_keys.add(column_key(home.final_url or home.url))

    # Later list pages belong to their first page, never to a column of their own.  Only
    # first pages vouch for them: page 2's pager links back to page 1 as well.
    # A page named like a later page (TRS channel pages are index_257.html) that no list's
    # pager reaches is a first page of its own: a column, and it vouches for its own pages.
    page_of: dict[str, str] = {}
    firsts = [p for p in crawl.pages if not is_later_page(p.url)]
    for channels, pages in ((False, firsts), (True, [p for p in crawl.pages if is_later_page(p.url)])):
        for p in pages:
            own = column_key(p.url)
            if channels and own in page_of:
                continue                       # a later page of some list after all
            for later in p.pagination:
                key = column_key(later)
                if key != own:
                    page_of.setdefault(key, own)

    candidates: dict[str, _Candidate] = {}

    tools = not_column_words()

    def offer(url: str, source: str, name: str) -> None:
        key = column_key(url)
        if key in home_keys or name in HOME_NAMES or is_tool_link(name, tools):
            return
        key = page_of.get(key, key)
        if key in home_keys or (key not in index and is_later_page(url) and not name.strip()):
            return                             # an unnamed link to page N of some list
        target = index.get(key)
        if target is None:
            host = (urlsplit(url).hostname or "").lower()
            if not _looks_like_page_url(url) or not (same_site(host, site_host) or _public_platform(name)):
                return                         # another site, a file: not a column of this one
        cand = candidates.get(key)
        if cand is None:
            cand = candidates[key] = _Candidate(target.url if target else url)
        cand.add(source, name)

    for p in crawl.pages:
        for ref in p.nav_links:
            offer(ref.url, "menu", ref.anchor)
        for ref in p.more_links:
            offer(ref.url, "more", ref.anchor)
        for ref in p.dir_links:
            offer(ref.url, "directory", ref.anchor)
        if p.breadcrumb:
            by_anchor = _anchors(p)
            for name in p.breadcrumb[1:]:
                url = by_anchor.get(name)
                if url:
                    offer(url, "breadcrumb", name)

    # Links every page shows (logo, menus, footer) are the site's chrome, not a page's content.
    chrome = {column_key(ref.url) for ref in home.links} if home is not None else set()
    columns: list[Column] = []
    for key, cand in candidates.items():
        page = index.get(key)
        col = Column(url=cand.url, key=key, found_by=list(cand.found_by), page=page)
        _fill_pages(col, page, index)
        col.kind = _kind(page, index, chrome)
        if cand.found_by == ["directory"] and col.kind not in ("list", "page") \
                and not (uncrawled and page is None):
            continue                           # a link in a directory that leads to no list: not a column
        if col.kind == "list" and page is not None and _is_section(page, key, candidates, page_of):
            col.kind = "section"
        col.name, col.name_from = _name(cand, page)
        if page is not None and len(page.breadcrumb) >= 3:
            col.parent = page.breadcrumb[-2]
        col.category, col.category_from = _categorise_names(col.name, cand, page, table)
        columns.append(col)
    columns.sort(key=lambda c: c.url)
    return apply_rules(columns, rules, crawl, index, table)


def apply_rules(columns: list[Column], rules: Iterable[dict[str, Any]], crawl: SiteCrawl,
                index: dict[str, PageSnapshot] | None = None,
                table: dict[str, list[str]] | None = None) -> list[Column]:
    """Per-site rules ``{url, name, category, ignore}``: add, rename, re-categorise, ignore."""
    index = index if index is not None else _page_index(crawl)
    by_key = {c.key: c for c in columns}
    for rule in rules or ():
        if not isinstance(rule, dict):
            rule = dict(vars(rule))            # a common.config.ColumnRule passed as it is
        url = str(rule.get("url") or "").strip()
        if not url:
            continue
        key = column_key(urljoin(crawl.homepage_url or crawl.url, url))
        col = by_key.get(key)
        if col is None:
            page = index.get(key)
            col = Column(url=page.url if page else urljoin(crawl.url, url), key=key, page=page,
                         found_by=["config"])
            _fill_pages(col, page, index)
            col.kind = _kind(page, index, set())
            title_name = _title_name(page) if page is not None else ""
            col.name, col.name_from = (title_name, "title") if title_name else (url, "config")
            col.category, col.category_from = categorise(col.name, table=table or keywords())
            columns.append(col)
            by_key[key] = col
        else:
            if "config" not in col.found_by:
                col.found_by.append("config")
            if col.kind == "section":
                col.kind = "list"              # named in the rules: judged as a column after all
        if rule.get("name"):
            col.name, col.name_from = str(rule["name"]), "config"
            if not rule.get("category"):
                col.category, col.category_from = categorise(col.name, table=table or keywords())
        if rule.get("category"):
            col.category, col.category_from = str(rule["category"]), "config"
        if rule.get("ignore"):
            col.ignore = True
    return columns


# --- helpers ---------------------------------------------------------------------------------

def _page_index(crawl: SiteCrawl) -> dict[str, PageSnapshot]:
    index: dict[str, PageSnapshot] = {}
    for p in crawl.pages:
        index.setdefault(column_key(p.url), p)
        if p.final_url:
            index.setdefault(column_key(p.final_url), p)
    return index


def page_index(crawl: SiteCrawl) -> dict[str, PageSnapshot]:
    """Crawled pages by :func:`column_key` of their URL and final URL."""
    return _page_index(crawl)


def _looks_like_page_url(url: str) -> bool:
    path = urlsplit(url).path.lower()
    tail = path.rsplit("/", 1)[-1]
    if "." not in tail:
        return True
    return tail.rsplit(".", 1)[-1] in ("html", "htm", "shtml", "jhtml", "jsp", "php", "asp", "aspx", "do")


def _anchors(page: PageSnapshot) -> dict[str, str]:
    found: dict[str, str] = {}
    for ref in list(page.nav_links) + list(page.links):
        if ref.tag == "a" and ref.anchor and ref.anchor not in found:
            found[ref.anchor] = ref.url
    return found


def _fill_pages(col: Column, page: PageSnapshot | None, index: dict[str, PageSnapshot]) -> None:
    if page is None:
        return
    col.pages = [page.url]
    for later in page.pagination:
        other = index.get(column_key(later))
        if other is not None and other.url not in col.pages:
            col.pages.append(other.url)


def _kind(page: PageSnapshot | None, index: dict[str, PageSnapshot], chrome: set[str]) -> str:
    """list | page (single page such as 机构职能, or a page of links such as 互动交流) |
    empty | missing (not crawled).  ``section`` is decided by the caller."""
    if page is None:
        return "missing"
    if page.list_items or page.pagination or page.placeholder or page.needs_render:
        return "list"
    if iframe_pages(page, index):
        return "list"
    if len(_own_text(page)) >= PAGE_TEXT_MIN or len(_own_links(page, chrome)) >= OWN_LINKS_MIN:
        return "page"
    return "empty"


def _own_links(page: PageSnapshot, chrome: set[str]) -> set[str]:
    """Links of the page's own content: not the site's chrome, menus, breadcrumb or pager."""
    skip = set(chrome)
    skip.update(column_key(ref.url) for ref in page.nav_links)
    skip.update(column_key(u) for u in page.pagination)
    skip.add(column_key(page.url))
    crumbs = set(page.breadcrumb)
    return {column_key(ref.url) for ref in page.links
            if ref.tag == "a" and ref.anchor not in crumbs and column_key(ref.url) not in skip}


def _is_section(page: PageSnapshot, key: str, candidates: dict[str, _Candidate],
                page_of: dict[str, str]) -> bool:
    """A parent page (新闻中心, 政务公开) that shows blocks of its sub-columns, each with its
    own 更多 link: its entries are the sub-columns' entries, so it is no column of its own."""
    targets = set()
    for ref in page.more_links:
        other = column_key(ref.url)
        other = page_of.get(other, other)
        if other != key and other in candidates:
            targets.add(other)
    return len(targets) >= 2


def iframe_pages(page: PageSnapshot, index: dict[str, PageSnapshot]) -> list[PageSnapshot]:
    """Crawled pages a column page embeds with ``<iframe>`` that hold list entries."""
    found = []
    for ref in page.links:
        if ref.tag == "iframe":
            other = index.get(column_key(ref.url))
            if other is not None and other is not page and (other.list_items or other.placeholder):
                found.append(other)
    return found


def _own_text(page: PageSnapshot) -> str:
    """Main text without the breadcrumb line and the page title, which every page shows."""
    text = page.text
    for name in page.breadcrumb:
        text = text.replace(name, "")
    if page.title:
        text = text.replace(page.title, "")
    return re.sub(r"当前位置|您的位置|所在位置|[\s:：>»]", "", text)


def _name(cand: _Candidate, page: PageSnapshot | None) -> tuple[str, str]:
    for source, label in (("menu", "menu"),):
        names = cand.names.get(source)
        if names:
            return names.most_common(1)[0][0], label
    if page is not None and page.breadcrumb and page.breadcrumb[-1] not in HOME_NAMES:
        return page.breadcrumb[-1], "breadcrumb"
    for source, label in (("more", "heading"), ("breadcrumb", "breadcrumb"), ("directory", "directory")):
        names = cand.names.get(source)
        if names:
            return names.most_common(1)[0][0], label
    title = _title_name(page) if page is not None else ""
    if title:
        return title, "title"
    return cand.url, "url"


def _title_name(page: PageSnapshot) -> str:
    parts = [p for p in _TITLE_SEP.split(page.title or "") if p.strip()]
    return parts[0].strip() if parts else ""


def _categorise_names(name: str, cand: _Candidate, page: PageSnapshot | None,
                      table: dict[str, list[str]]) -> tuple[str, str]:
    category, word = categorise(name, table=table)
    if word:
        return category, word
    others = [n for counter in cand.names.values() for n in counter]
    if page is not None and page.breadcrumb:
        others.append(page.breadcrumb[-1])
    for other in others:
        category, word = categorise(other, table=table)
        if word:
            return category, word
    return "none", ""
