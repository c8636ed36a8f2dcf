"""What one HTML page says about itself: main text, menus, breadcrumb, list entries, dates.

The crawler parses each response once with lxml and calls :func:`extract`; the result is
copied into the page's ``PageSnapshot`` and read by every check.  It runs on every page, so
the tree is walked once, iteratively (deeply nested broken HTML must not hit the recursion
limit), and everything is collected in that single pass:

* text pieces go to the main text, to the block (menu, header, footer, breadcrumb) they sit
  in, to the link they belong to, or to the list entry around them;
* links are remembered with the zone they sit in (menu, main, footer) and the innermost
  list entry (``li``/``tr``/``dd``/``dl``) holding them.

Zones are told apart by semantic tags (``nav``, ``header``, ``footer``, ``aside``) and by the
``id``/``class`` names Chinese government CMSs use (``nav``, ``menu``, ``daohang``, ``dh``,
``position``, ``weizhi``, ``foot``, ``copyright`` ...).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree

from checks.dates import Written, find_date, parse_date, resolve_years, url_date
from checks.columnrules import placeholder_phrases
from checks.model import LinkRef, ListItem

# --- zones -------------------------------------------------------------------------------

MAIN, NAV, CHROME, FOOTER, CRUMB = 0, 1, 2, 3, 4

SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "select", "textarea", "svg",
                       "object", "iframe", "head", "button", "map"})
BLOCK_TAGS = frozenset({"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "br", "dd",
                        "dt", "dl", "ul", "ol", "table", "tbody", "section", "article",
                        "blockquote", "pre", "form", "hr", "center", "address", "fieldset",
                        "figure", "figcaption", "header", "footer", "nav", "aside", "main", "td",
                        "th", "caption"})
ENTRY_TAGS = frozenset({"li", "tr", "dd", "dl"})
_ZONE_TAGS = frozenset({"nav", "footer", "header", "aside"})
_CONTAINER_TAGS = frozenset({"ul", "ol", "tbody", "table", "div"})
# Marks a paragraph end inside the collected text (a private-use character, never whitespace).
BREAK = "\ue000"

# Whole class/id tokens (split on whitespace, "-" and "_") and substrings that mark a zone.
# "whole": a whole class or id value; "part": a piece of one split on "-" and "_";
# "sub": a substring.  Ambiguous words count only whole: "bottom" alone is a footer, but
# Bootstrap's "border-bottom" is not; "position-relative" is no breadcrumb.
_NAV_PARTS = frozenset({"nav", "navbar", "navigation", "menu", "menus", "daohang", "dh", "lmdh",
                        "mainnav", "topnav", "subnav", "sidenav", "leftnav", "navlist", "menulist"})
_NAV_SUBSTRINGS = ("nav", "menu", "daohang")
_FOOTER_PARTS = frozenset({"footer", "copyright", "banquan", "friendlink", "yqlj"})
_FOOTER_WHOLE = frozenset({"foot", "bottom", "copy", "bq", "links", "ft"})
_CHROME_WHOLE = frozenset({"header", "head", "top", "banner", "sidebar", "side", "aside", "toolbar",
                           "topbar", "logo", "search"})
_CHROME_PARTS = frozenset({"header", "sidebar", "topbar"})
_CRUMB_PARTS = frozenset({"breadcrumb", "breadcrumbs", "crumb", "crumbs", "weizhi", "dqwz", "curpos",
                          "position", "location"})
_CRUMB_WHOLE = frozenset({"wz", "dqwz", "weizhi", "position", "location", "curpos"})
_CRUMB_SUBSTRINGS = ("crumb", "weizhi", "dqwz")
_LAYOUT_WORDS = frozenset({"relative", "absolute", "fixed", "sticky", "static"})
_DATE_CLASS_TOKENS = frozenset({"date", "time", "pubtime", "pubdate", "fbsj", "fbrq", "publish",
                                "rq", "sj", "datetime"})
# Names of list containers that scripts fill (newsList, list-con, xxgk_data, liebiao ...).
_LISTISH = re.compile(r"list|news|content|data|article|item|info|xxgk|liebiao|xinwen|wenzhang",
                      re.IGNORECASE)
_PAGER_CLASS = re.compile(r"page|pager|pagination|fenye|fy|pages", re.IGNORECASE)

_SPLIT_TOKENS = re.compile(r"[\s_\-]+")
_WS = re.compile(r"\s+")
_CRUMB_LABEL = re.compile(r"^.*?(?:当前位置|您的位置|您现在的位置|现在的位置|所在位置|位置)\s*[:：]?\s*")
_CRUMB_TEXT = re.compile(r"(?:当前|您的|您现在的|现在的|所在)位置")
_HIDING = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_CRUMB_SEP = re.compile(r"\s*(?:>>|»|›|→|＞|>|/|\\|－>|->|—>)\s*")
_MORE = re.compile(r"^[\s>»+\[【]*(?:更多|查看更多|more)[\s>»+.…\]】]*$", re.IGNORECASE)
_ARROWS = re.compile(r"^(?:>>|>>>|»»|»)$")          # a block's 更多 written as arrows only
_PAGER_WORDS = re.compile(r"^(?:下一页|下页|尾页|末页|最后一页|上一页|上页|next|last|prev|previous|\d{1,4}|[<>«»]{1,2})$",
                          re.IGNORECASE)
_NEXT_LAST = re.compile(r"^(?:下一页|下页|尾页|末页|最后一页|next|last)$", re.IGNORECASE)
_STEM_NUM = re.compile(r"^(.*?)_(\d{1,4})(\.[A-Za-z]{2,6})$")
# Later list pages as the common CMSs name them (TRS index_1.html is page 2).
_LATER_STEM = re.compile(r"/(?:index|list|default|more|page|news|lm)_\d{1,4}\.[A-Za-z]{2,6}$", re.IGNORECASE)
_BACKWARDS = re.compile(r"^(?:上一页|上页|prev|previous|<|<<|«)$", re.IGNORECASE)
_PAGE_PARAMS = ("page", "pageno", "pagenum", "pageindex", "currentpage", "p", "pn", "curpage")
_CREATE_PAGE = re.compile(
    r"createPage(?:HTML)?\(\s*(?:['\"][^'\"]*['\"]\s*,\s*)?(\d+)\s*,\s*(\d+)\s*,\s*['\"]([\w-]+)['\"]"
    r"\s*,\s*['\"](\w+)['\"]")
_PUB_LABELS = (
    re.compile(r"(?:发布时间|发布日期|发文日期|印发日期|公开日期|发稿时间)\s*[:：]?\s*([^\n]{6,40})"),
    re.compile(r"(?:成文日期|生成日期|更新时间|信息时间|日期|时间)\s*[:：]\s*([^\n]{6,40})"),
)
_PUB_META = frozenset({"pubdate", "publishdate", "publish_date", "publishtime", "publish-date",
                       "article:published_time", "og:release_date", "dc.date", "dc.date.issued",
                       "dc.date.created", "dcterms.created", "dcterms.issued", "firstpublishedtime",
                       "releasedate", "created"})
_BAD_HREF = ("javascript:", "mailto:", "tel:", "#", "data:", "about:")
MAX_PAGES = 500            # list pages generated from one pagination pattern, at most
PLACEHOLDER_LINE_MAX = 30  # characters of a line that shows a placeholder word
MIN_UNDATED_TITLE = 6      # an undated entry with a shorter title is a menu item, not an article


@dataclass(slots=True)
class PageFacts:
    """What :func:`extract` found on one page (copied into ``PageSnapshot``)."""

    title: str = ""
    text: str = ""                                   # main text, paragraphs joined by "\n"
    blocks: list[str] = field(default_factory=list)  # texts of menu/header/footer blocks
    published: str | None = None                     # ISO date of an article page
    breadcrumb: list[str] = field(default_factory=list)
    nav_links: list[LinkRef] = field(default_factory=list)
    list_items: list[ListItem] = field(default_factory=list)
    placeholder: bool = False                        # the list area shows only 暂无信息 ...
    more_links: list[LinkRef] = field(default_factory=list)   # anchor: the block's heading
    pagination: list[str] = field(default_factory=list)       # URLs of list pages 2..n
    needs_render: bool = False                       # an empty list that a script fills
    dir_links: list[LinkRef] = field(default_factory=list)    # directories of columns
    headline: str = ""                               # h1 / .title / ArticleTitle meta
    published_from: str = ""                         # label | date_element | meta
    meta: dict[str, str] = field(default_factory=dict)  # the 发展指引 labels: name -> content
    written_links: list[str] = field(default_factory=list)  # absolute URLs scripts document.write


# --- zone classification, cached per (tag, class, id) ---------------------------------------

_zone_cache: dict[tuple[str, str, str], int] = {}


def _zone_of(tag: str, cls: str, ident: str) -> int:
    """The zone an element opens, or -1 when it opens none."""
    key = (tag, cls, ident)
    found = _zone_cache.get(key)
    if found is not None:
        return found
    zone = -1
    if tag == "nav":
        zone = NAV
    elif tag == "footer":
        zone = FOOTER
    elif tag in ("header", "aside"):
        zone = CHROME
    if (cls or ident) and zone == -1:
        raw = f"{cls} {ident}".lower()
        whole = set(raw.split())
        parts = set(_SPLIT_TOKENS.split(raw))
        if whole & _CRUMB_WHOLE or any(c in raw for c in _CRUMB_SUBSTRINGS) or (
                parts & _CRUMB_PARTS and not parts & _LAYOUT_WORDS):
            zone = CRUMB
        elif parts & _FOOTER_PARTS or whole & _FOOTER_WHOLE or "footer" in raw:
            zone = FOOTER
        elif parts & _NAV_PARTS or any(n in raw for n in _NAV_SUBSTRINGS):
            zone = NAV
        elif whole & _CHROME_WHOLE or parts & _CHROME_PARTS:
            zone = CHROME
    if len(_zone_cache) < 20000:
        _zone_cache[key] = zone
    return zone


_date_class_cache: dict[str, bool] = {}
_hides_cache: dict[str, bool] = {}


def _hides(style: str) -> bool:
    """Whether an inline style hides the element (``display:none``, ``visibility:hidden``)."""
    found = _hides_cache.get(style)
    if found is None:
        found = ("none" in style or "hidden" in style) and bool(_HIDING.search(style))
        if len(_hides_cache) < 20000:
            _hides_cache[style] = found
    return found



def _is_date_class(cls: str) -> bool:
    found = _date_class_cache.get(cls)
    if found is None:
        found = bool(set(_SPLIT_TOKENS.split(cls.lower())) & _DATE_CLASS_TOKENS)
        if len(_date_class_cache) < 20000:
            _date_class_cache[cls] = found
    return found


class _Anchor:
    __slots__ = ("el", "entry", "href", "parent", "parts", "title", "zone")

    def __init__(self, el: etree._Element, href: str, title: str, zone: int, entry: int,
                 parent: etree._Element) -> None:
        self.el, self.href, self.title, self.zone, self.entry = el, href, title, zone, entry
        self.parent = parent                   # kept from the walk: getparent() costs a lookup
        self.parts: list[str] | str = []

    def text(self) -> str:
        if self.parts.__class__ is list:
            self.parts = _fold("".join(self.parts))      # folded once, kept
        return self.parts


class _Entry:
    __slots__ = ("anchors", "el", "parent", "rest")

    def __init__(self, el: etree._Element, parent: etree._Element) -> None:
        self.el, self.parent = el, parent
        self.rest: list[str] = []
        self.anchors: list[int] = []


def extract(tree: lxml.html.HtmlElement, url: str, *, html_text: str | None = None,
            today: date | None = None) -> PageFacts:
    """Everything the checks need from one parsed page; never raises on odd HTML.

    ``today`` is the check date, used to give ``[11-10]`` its year (default: the clock's).
    """
    today = today or date.today()
    facts = PageFacts()
    root = tree.getroottree().getroot() if hasattr(tree, "getroottree") else tree
    base = _base_url(root, url)
    facts.title = _fold(root.findtext(".//title") or "")
    body = root.find("body")
    if body is None:
        body = root

    main_parts: list[str] = []
    block_parts: list[list[str]] = []
    anchors: list[_Anchor] = []
    entries: list[_Entry] = []
    crumb_els: list[etree._Element] = []
    crumb_text_els: list[etree._Element] = []
    date_els: list[etree._Element] = []
    heads: list[etree._Element] = []            # headline candidates: h1-h3, .title ...
    scripts: list[str] = []
    empty_lists = 0

    def emit(text: str, zone: int, block: int, entry: int, anchor: int, hidden: bool) -> None:
        if zone == MAIN and not hidden:
            main_parts.append(text)
        if block >= 0:
            block_parts[block].append(text)
        if anchor >= 0:
            anchors[anchor].parts.append(text)
        elif entry >= 0:
            entries[entry].rest.append(text)

    def brk(zone: int, block: int, entry: int, hidden: bool) -> None:
        if zone == MAIN and not hidden:
            main_parts.append(BREAK)
        if block >= 0:
            block_parts[block].append(BREAK)
        if entry >= 0:
            entries[entry].rest.append(" ")

    def walk(el: etree._Element, zone: int, block: int, entry: int, anchor: int, hidden: bool) -> None:
        # Recursion is safe: libxml2's HTML parser nests at most 255 levels deep.
        # ``hidden``: inside a block readers do not see (display:none, hidden); its text is no
        # main text, but its links and list entries count (tab panes, drop-down menus).
        nonlocal empty_lists
        parent_plain = zone == MAIN and block < 0 and entry < 0 and not hidden
        for child in el:
            tag = child.tag
            if tag.__class__ is str:
                if tag in SKIP_TAGS:
                    if tag == "script":
                        scripts.append(child.text or "")
                else:
                    czone, cblock, centry, canchor, chidden = zone, block, entry, anchor, hidden
                    if not hidden:
                        style = child.get("style")
                        if (style and _hides(style)) or child.get("hidden") is not None:
                            chidden = True
                    cls = child.get("class")
                    ident = child.get("id")
                    if cls or ident or tag in _ZONE_TAGS:
                        opened = _zone_of(tag, cls or "", ident or "")
                        if opened != -1 and czone != FOOTER and czone != CRUMB:
                            if opened == CRUMB:
                                crumb_els.append(child)
                            if czone == MAIN or (czone == CHROME and opened != CHROME) \
                                    or (czone == NAV and opened == CRUMB):
                                if cblock == -1:
                                    block_parts.append([])
                                    cblock = len(block_parts) - 1
                                czone = opened
                        if cls and czone == MAIN and not chidden and _is_date_class(cls):
                            date_els.append(child)
                        if cls and czone == MAIN and not chidden and len(heads) < 40 and _is_title_class(cls):
                            heads.append(child)
                    if tag in _HEADLINE_TAGS and czone == MAIN and not chidden and len(heads) < 40:
                        heads.append(child)
                    if czone == CHROME and (tag == "ul" or tag == "ol") and _is_link_list(child):
                        czone = NAV                # a header's plain list of links is its menu
                    if tag == "a":
                        href = child.get("href")
                        if href and not href.lstrip().lower().startswith(_BAD_HREF):
                            anchors.append(_Anchor(child, href.strip(), child.get("title") or "",
                                                   czone, centry, el))
                            canchor = len(anchors) - 1
                            if centry >= 0:
                                entries[centry].anchors.append(canchor)
                    elif tag in ENTRY_TAGS and czone == MAIN:
                        entries.append(_Entry(child, el))
                        centry = len(entries) - 1
                    plain = czone == MAIN and cblock < 0 and centry < 0 and not chidden   # the common case
                    is_block = tag in BLOCK_TAGS
                    if is_block:
                        if plain:
                            main_parts.append(BREAK)
                        else:
                            brk(czone, cblock, centry, chidden)
                    text = child.text
                    if text:
                        if "位置" in text and _CRUMB_TEXT.search(text):
                            crumb_text_els.append(child)
                        if plain and canchor < 0:
                            main_parts.append(text)
                        else:
                            emit(text, czone, cblock, centry, canchor, chidden)
                    if len(child):
                        walk(child, czone, cblock, centry, canchor, chidden)
                    elif (cls or ident) and tag in _CONTAINER_TAGS and not (text and text.strip()) \
                            and _LISTISH.search(f"{cls or ''} {ident or ''}"):
                        empty_lists += 1
                    if is_block:
                        if parent_plain:
                            main_parts.append(BREAK)
                        else:
                            brk(zone, block, entry, hidden)
            tail = child.tail
            if tail:
                if parent_plain and anchor < 0:
                    main_parts.append(tail)
                else:
                    emit(tail, zone, block, entry, anchor, hidden)

    if body.text:
        emit(body.text, MAIN, -1, -1, -1, False)
    try:
        walk(body, MAIN, -1, -1, -1, False)
    except RecursionError:                   # a tree parsed with huge_tree: keep what we have
        pass

    facts.text = _paragraphs(main_parts)
    facts.blocks = [b for b in (_paragraphs(parts) for parts in block_parts) if b]
    facts.breadcrumb = _breadcrumb(crumb_els, crumb_text_els)

    page_url = _strip_fragment(url)
    more: list[tuple[str, _Anchor, str]] = []     # (URL, the 更多 link, its label): named below
    pager_hrefs: list[tuple[str, str]] = []
    nav_seen: set[str] = set()
    for a in anchors:
        text = a.text()
        if a.zone == FOOTER:
            continue
        label = text or a.title or _img_alt(a.el)
        if _MORE.match(label) or (("more" in (a.el.get("class") or "").lower()) and len(label) <= 6) \
                or (_ARROWS.match(label) and not _in_pager(a.el)):
            absolute = _abs(base, a.href)
            if absolute:
                more.append((absolute, a, label))
            continue
        if _PAGER_WORDS.match(label) and (_NEXT_LAST.match(label) or _in_pager(a.el)):
            pager_hrefs.append((a.href, label))
            continue
        if a.zone == NAV and label:
            absolute = _abs(base, a.href)
            if absolute and absolute not in nav_seen:
                nav_seen.add(absolute)
                facts.nav_links.append(LinkRef(url=absolute, tag="a", anchor=_clean_name(label)[:120]))
    script_text = html_text if html_text is not None and "createPage" in html_text else "\n".join(scripts)
    facts.pagination = _pagination(base, page_url, pager_hrefs, script_text)
    facts.list_items = _list_items(entries, anchors, base, today, {page_url, *facts.pagination},
                                   page_date=_labelled_full_date(facts.text))
    articles = _article_shapes(facts.list_items)
    head_refs = _heading_links(anchors, base, articles, set())
    # A tab or heading that links where a 更多 link points names that column better than the
    # block around the 更多 link (tabs share one 更多 box; its nearest heading is another block's).
    head_names = {r.url: r.anchor for r in head_refs if r.anchor}
    facts.more_links = [LinkRef(url=u, tag="a", anchor=head_names.get(u) or _more_name(a, label)[:120])
                        for u, a, label in more]
    more_urls = {u for u, _a, _label in more}
    facts.more_links += [r for r in head_refs if r.url not in more_urls]
    facts.nav_links = _menu_links(facts.nav_links, articles)
    facts.dir_links = _link_lists(anchors, base, articles, set(nav_seen))
    facts.dir_links += _image_links(anchors, base, articles,
                                    {*nav_seen, *(r.url for r in facts.more_links), *(r.url for r in facts.dir_links)})

    facts.headline = _headline(root, heads, facts.title, listing=len(facts.list_items) >= 5)
    published, facts.published_from = _published(facts, root, date_els, today)
    facts.published = published.isoformat() if published else None
    facts.placeholder = not facts.list_items and _has_placeholder(facts.text)
    facts.needs_render = empty_lists > 0 and bool(scripts) and not facts.list_items
    facts.meta = label_meta(root)
    facts.written_links = written_links(scripts, base)
    return facts


_WRITTEN_URL = re.compile(r"""\b(?:src|href)\s*=\s*\\?['"]?((?:https?:)?//[^'"\s>)\\]+)""", re.IGNORECASE)
WRITTEN_LINKS_MAX = 20


def written_links(scripts: list[str], base: str) -> list[str]:
    """Absolute URLs that inline scripts write into the page with ``document.write`` (often
    percent-encoded: the 党政机关网站标识 is ``document.write(unescape("%3Cspan id='_ideConac'
    %3E%3C/span%3E%3Cscript src='http://dcs.conac.cn/js/…'"))``).  Only a browser would see
    them as elements; they are kept as written, not fetched."""
    found: list[str] = []
    for text in scripts:
        if "document.write" not in text:
            continue
        if "%3C" in text or "%3c" in text:
            text = unquote(text)
        for m in _WRITTEN_URL.finditer(text):
            url = _abs(base, m.group(1))
            if url and url not in found:
                found.append(url)
                if len(found) >= WRITTEN_LINKS_MAX:
                    return found
    return found


# The <meta> labels of the 政府网站发展指引 (国办发〔2017〕47号, 附件 网页标签), in their spelling.
LABEL_META_NAMES = ("SiteName", "SiteDomain", "SiteIDCode", "ColumnName", "ColumnDescription",
                    "ColumnKeywords", "ColumnType", "ArticleTitle", "PubDate", "ContentSource",
                    "Keywords", "Author", "Description", "Image", "Url")
_LABEL_META = {name.lower(): name for name in LABEL_META_NAMES}
LABEL_META_MAX = 300        # characters of a label's content kept


def label_meta(root: etree._Element) -> dict[str, str]:
    """The 发展指引 labels a page carries, by their spelling in the 指引: ``{"SiteIDCode":
    "5001120001"}``.  A label written twice keeps its first non-empty content; a label with
    empty content is kept as "" (present but empty)."""
    found: dict[str, str] = {}
    for meta in root.iter("meta"):
        name = _LABEL_META.get((meta.get("name") or "").strip().lower())
        if name is None:
            continue
        content = _fold(meta.get("content") or "")[:LABEL_META_MAX]
        if content or name not in found:
            if not found.get(name):
                found[name] = content
    return found


def needs_render(tree: lxml.html.HtmlElement) -> bool:
    """True when the page has an empty list container that one of its scripts fills.

    Used by ``render: auto``: such a page is fetched again through the browser.
    """
    return next(lists_to_fill(tree), None) is not None


def lists_to_fill(tree: lxml.html.HtmlElement) -> Iterator[lxml.html.HtmlElement]:
    """The empty list containers of a page with scripts (those ``needs_render`` looks for)."""
    root = tree.getroottree().getroot() if hasattr(tree, "getroottree") else tree
    if not _HAS_SCRIPT(root):
        return
    for el in _empty_containers(root):
        label = f"{el.get('class') or ''} {el.get('id') or ''}"
        if _LISTISH.search(label) and _zone_of(el.tag, el.get("class") or "", el.get("id") or "") \
                not in (NAV, FOOTER, CRUMB):
            yield el


_HAS_SCRIPT = etree.XPath("boolean(//script)")
_BODY_SCRIPT_SRC = etree.XPath("boolean(//body//script[@src])")


def menu_written_by_script(tree: lxml.html.HtmlElement, url: str = "http://localhost/") -> bool:
    """True when a homepage shows no menu links and a script of its body may write them
    (``<script src="/resource/js/home_top.js">`` where the top menu should be).

    Used by ``render: auto`` for the homepage only: its menus name the site's columns.
    """
    root = tree.getroottree().getroot() if hasattr(tree, "getroottree") else tree
    if not _BODY_SCRIPT_SRC(root):
        return False
    return not extract(tree, url).nav_links


def _empty_containers(root: lxml.html.HtmlElement) -> Iterator[lxml.html.HtmlElement]:
    """The body's list-like containers with a class or an id and nothing in them, comments
    aside (the XPath ``//body//*[self::ul or ...][@class or @id][not(*)][normalize-space()='']``,
    walked in Python at a third of its cost: it runs on every crawled page)."""
    for body in root.iter("body"):      # a page may have a second body (libxml2 keeps it)
        yield from _empty_in(body)


def _empty_in(body: lxml.html.HtmlElement) -> Iterator[lxml.html.HtmlElement]:
    for el in body.iter(_CONTAINER_TAGS):
        if el.get("class") is None and el.get("id") is None:
            continue
        if len(el) and any(isinstance(child.tag, str) for child in el):
            continue                    # an element inside: not empty
        if not el.text_content().strip(" \t\r\n"):        # XPath's whitespace only
            yield el


# --- helpers of the walk --------------------------------------------------------------------

def _is_link_list(el: etree._Element) -> bool:
    items = [li for li in el if li.tag == "li"]
    return len(items) >= 3 and sum(1 for li in items if li.find(".//a") is not None) >= 3


def _fold(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _paragraphs(parts: list[str]) -> str:
    text = _WS.sub(" ", "".join(parts))
    return "\n".join(line for line in (p.strip() for p in text.split(BREAK)) if line)


def _base_url(root: etree._Element, url: str) -> str:
    base = root.find(".//base")
    if base is not None and base.get("href"):
        return urljoin(url, base.get("href").strip())
    return url


def _abs(base: str, href: str) -> str | None:
    """Absolute URL without fragment; None for what is not an http(s) link."""
    if href.startswith(("http://", "https://")) and "/./" not in href and "/../" not in href:
        return _strip_fragment(href)
    return _join(base, href)


@lru_cache(maxsize=65536)
def _join(base: str, href: str) -> str | None:
    # Menus and footers repeat on every page of a site: the same joins come back all the time.
    try:
        absolute = urljoin(base, href)
    except ValueError:
        return None
    if not absolute.startswith(("http://", "https://")):
        return None
    return _strip_fragment(absolute)


def _strip_fragment(url: str) -> str:
    cut = url.find("#")
    return url[:cut] if cut >= 0 else url


_GENERATED = re.compile(r"(?:页面生成时间|生成时间|generated)\s*[:：]?\s*([0-9][0-9:\-/ .]{7,24})", re.IGNORECASE)


def _meta_date(root: etree._Element, today: date) -> date | None:
    """The publish date a ``<meta>`` states, unless it is the time the page was generated
    (TRS writes ``<meta name="others" content="页面生成时间 2022-04-24 10:00:43">`` and
    often the same stamp as PubDate when it regenerates a page)."""
    head = root.find("head")
    metas = list((head if head is not None else root).iter("meta"))
    stamps = set()
    for meta in metas:
        m = _GENERATED.search(meta.get("content") or "")
        if m:
            stamps.add(_fold(m.group(1)))
    for meta in metas:
        name = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").lower()
        if name in _PUB_META:
            content = _fold(meta.get("content") or "")
            if content in stamps:
                continue
            found = parse_date(content, today=today)
            if found:
                return found
    return None


def _labelled_date(text: str, today: date, patterns: tuple[re.Pattern[str], ...] = _PUB_LABELS) -> date | None:
    for pattern in patterns:
        for m in pattern.finditer(text):
            found = parse_date(m.group(1), today=today)
            if found:
                return found
    return None


def _labelled_full_date(text: str) -> date | None:
    """The page's own 发布日期/发布时间, when it is written with its year (evidence for the
    years of month-day dates in its lists)."""
    if "发布" not in text and "日期" not in text:
        return None
    m = _PUB_LABELS[0].search(text)
    written = find_date(m.group(1)) if m else None
    return written.on(written.year) if written is not None and written.year is not None else None


def _published(facts: PageFacts, root: etree._Element, date_els: list[etree._Element],
               today: date) -> tuple[date | None, str]:
    """The date readers see as the page's publish date, and where it was read: a 发布日期-style
    label (``label``), the date line under the headline (``headline``), another date label
    such as 成文日期 (``label``), an element classed as a date (``date_element``); the
    ``<meta>`` PubDate only when the page shows none (``meta``)."""
    found = _labelled_date(facts.text, today, _PUB_LABELS[:1])
    if found:
        return found, "label"
    found = _date_under(facts.text, facts.headline)
    if found:
        return found, "headline"
    found = _labelled_date(facts.text, today, _PUB_LABELS[1:]) or \
        _labelled_date("\n".join(facts.blocks), today)
    if found:
        return found, "label"
    if len(facts.list_items) < 3:
        for el in date_els:
            found = parse_date(el.text_content(), today=today)
            if found:
                return found, "date_element"
    found = _meta_date(root, today)
    return (found, "meta") if found else (None, "")


def _date_under(text: str, headline: str) -> date | None:
    """A full date on one of the lines right under the headline that stands on its own
    (``2021-08-01 06:59  来源：新华社``, ``<li>2023-12-01 14:43</li>``)."""
    if not headline:
        return None
    at = text.find(headline)
    if at < 0:
        return None
    lines = text[at + len(headline):at + len(headline) + 400].split("\n")[1:7]
    for line in lines:
        written = find_date(line)
        if written is None or written.year is None:
            continue
        before = _DATE_NOISE.sub("", line[:written.start])
        after = _DATE_NOISE.sub("", line[written.end:])
        # the date opens the line (来源 may follow) or is nearly all of it; a line that ends
        # with a date is a related article's entry
        if not before or len(before) + len(after) <= 6:
            return written.on(written.year)
    return None


_HEADLINE_TAGS = frozenset({"h1", "h2", "h3"})
_TITLE_CLASS_TOKENS = frozenset({"title", "tit", "bt", "biaoti", "headline", "article-title",
                                 "arttitle", "news-title", "detail-title"})
_title_class_cache: dict[str, bool] = {}


def _is_title_class(cls: str) -> bool:
    found = _title_class_cache.get(cls)
    if found is None:
        low = cls.lower()
        tokens = set(low.split()) | set(_SPLIT_TOKENS.split(low))
        found = bool(tokens & _TITLE_CLASS_TOKENS) or any(t.endswith("title") for t in low.split())
        if len(_title_class_cache) < 20000:
            _title_class_cache[cls] = found
    return found


_SQUEEZE = re.compile(r"[\s\u3000\u00a0]+")
_TITLE_PARTS = re.compile(r"\s*(?:[_|｜—–]+|-{1,2}| - )\s*")


def _headline(root: etree._Element, heads: list[etree._Element], title: str, listing: bool = False) -> str:
    """The headline readers see: the ``ArticleTitle`` meta, else the heading or ``.title``
    element whose text the ``<title>`` repeats (the <title> adds the site's name), else the
    longest part of the ``<title>`` when it has a separator, else the first ``h1`` (on a page
    that is no list: ``listing``), else the ``<title>``."""
    head = root.find("head")
    for meta in (head if head is not None else root).iter("meta"):
        if (meta.get("name") or "").lower() == "articletitle":
            content = _fold(meta.get("content") or "")
            if content:
                return content
    squeezed_title = _SQUEEZE.sub("", title)
    best = ""
    first_h1 = ""
    for el in heads:
        text = _fold(el.text_content())
        if not (2 <= len(text) <= 200):
            continue
        if not first_h1 and el.tag == "h1":
            first_h1 = text
        squeezed = _SQUEEZE.sub("", text)
        if len(squeezed) >= 4 and squeezed in squeezed_title and len(text) > len(best):
            best = text
    parts = [p for p in _TITLE_PARTS.split(title) if p.strip()]
    if best and (len(parts) < 2 or len(_SQUEEZE.sub("", best)) * 2 >= max(len(_SQUEEZE.sub("", p)) for p in parts)):
        return best
    if len(parts) >= 2:
        return max(parts, key=len).strip()
    if best or not first_h1 or listing:
        return best or title                   # a homepage's or list's h1 is a slider's or a logo's
    return first_h1


def _breadcrumb(crumb_els: list[etree._Element], text_els: list[etree._Element]) -> list[str]:
    for el in crumb_els + text_els:
        names = _crumb_names(el)
        if not names and el in text_els:
            parent = el.getparent()
            names = _crumb_names(parent) if parent is not None else []
        if names:
            return names
    return []


def _crumb_names(el: etree._Element) -> list[str]:
    text = _fold(el.text_content())
    labelled = _CRUMB_LABEL.sub("", text, count=1) if _CRUMB_TEXT.search(text) or "位置" in text else text
    names = [n for n in (_fold(p) for p in _CRUMB_SEP.split(labelled)) if n]
    links = [_fold(a.text_content()) for a in el.iter("a")]
    links = [t for t in links if t]
    if len(names) <= 1 and len(links) >= 2:
        names = links
        tail = _fold(labelled.split(links[-1])[-1]) if links[-1] in labelled else ""
        if tail and not _CRUMB_SEP.fullmatch(tail):
            names.append(_CRUMB_SEP.sub("", tail).strip())
    if len(names) > 12 or any(len(n) > 40 for n in names):
        return []                          # not a breadcrumb but a whole block of text
    return names


def _more_name(a: _Anchor, label: str) -> str:
    """The heading of the block a 更多 link belongs to: its column's name."""
    title = _fold(a.title).replace("更多", "").strip(" >»")
    if title:
        return title
    tab = _tab_of_more(a.el)
    if tab:
        return tab
    node = a.el.getparent()
    href = a.href
    own = _fold(a.el.text_content())
    for _ in range(4):
        if node is None:
            break
        for h in _HEADINGS(node):
            if a.el in h.iterancestors() or h is a.el:
                continue
            if any((x.get("href") or "").strip() not in ("", href) for x in h.iter("a")):
                continue                       # it links elsewhere: the block's lead article
            name = _fold(h.text_content())
            if name and len(name) <= 20 and not _MORE.match(name):
                return name
        rest = _MORE_WORDS.sub("", _fold(node.text_content().replace(own, "", 1))).strip()
        if rest and len(rest) <= 16:
            return rest                        # (other tabs' 更多 links are no name)
        for el in node.iter("span", "strong", "b", "em", "p", "div"):
            if len(el) == 0 and el is not a.el:
                name = _fold(el.text or "")
                if 2 <= len(name) <= 8 and not _MORE.match(name) and not find_date(name):
                    return name                # a short label standing alone (<span class=mark>要闻</span>)
        node = node.getparent()
    return ""                                  # no name to be read: the column is named otherwise


_MORE_WORDS = re.compile(r"查看更多|更多|more\b|[>»＞]+", re.IGNORECASE)


TAB_ROW_MAX = 12           # links of a row of 更多 boxes, one per tab, at most


def _tab_of_more(el: etree._Element) -> str:
    """The tab a 更多 link belongs to when a tab bar of plain tabs (``<li onmouseover=
    "setTab('one',2,4)">总局要闻</li>``) sits before a row of 更多 links, one per tab and all but
    the current one hidden: the n-th 更多 is the n-th tab's."""
    node = el.getparent()
    mores: list[etree._Element] = []
    for _ in range(3):
        if node is None:
            return ""
        mores = []
        for n, x in enumerate(node.iter("a")):
            if n >= TAB_ROW_MAX:
                return ""                      # a block of many links is no row of 更多 links
            if _MORE.match((x.text or "").strip()):
                mores.append(x)
        if len(mores) >= 2:
            break
        node = node.getparent()
    if len(mores) < 2 or node is None:
        return ""
    for sib in node.itersiblings(preceding=True):
        if not isinstance(sib.tag, str):
            continue
        tabs = list(sib.iter("li"))
        if len(tabs) == len(mores) and not any(t.find(".//a") is not None for t in tabs):
            name = _fold(tabs[mores.index(el)].text_content())
            return name if 2 <= len(name) <= HEADING_NAME_MAX else ""
        return ""                              # only the element just before the row
    return ""


_HEADINGS = etree.XPath(
    ".//*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6 "
    "or contains(@class,'tit') or contains(@class,'hd') or contains(@class,'bt') "
    "or contains(@class,'name') or contains(@class,'head')]")


# Class/id tokens of the element that heads a block or a tab bar (栏目标题, 选项卡).
_HEAD_TOKENS = frozenset({"title", "tit", "hd", "bt", "head", "heading", "tab", "tabs", "tabbar",
                          "tab-title", "lmmc", "lm", "mark", "caption", "column-title"})
_HEAD_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
HEADING_NAME_MAX = 16      # characters of a block heading; longer is an article's title
_head_cache: dict[str, bool] = {}
_DIGITS = re.compile(r"\d+")


def _heads_block(el: etree._Element) -> bool:
    tag = el.tag
    if tag in _HEAD_TAGS:
        return True
    label = f"{el.get('class') or ''} {el.get('id') or ''}".strip()
    if not label:
        return False
    found = _head_cache.get(label)
    if found is None:
        low = label.lower()
        tokens = set(low.split()) | set(_SPLIT_TOKENS.split(low))
        found = bool(tokens & _HEAD_TOKENS) or any(t.endswith(("title", "tit")) for t in low.split())
        if len(_head_cache) < 20000:
            _head_cache[label] = found
    return found


def _article_shapes(items: list[ListItem]) -> tuple[set[str], dict[str, int]]:
    """URLs of the page's articles (entries with a date or a long title; a short undated
    entry may be a link of a directory of columns) and how many share each shape (digits
    as ``#``)."""
    shapes: dict[str, int] = {}
    for i in items:
        if i.date or len(i.title) > HEADING_NAME_MAX:
            shape = _DIGITS.sub("#", i.url)
            shapes[shape] = shapes.get(shape, 0) + 1
    # an undated long title counts when others share its shape (a door page's two described
    # tiles /Officer and /CityExams are no articles)
    urls = {i.url for i in items if i.date or (len(i.title) > HEADING_NAME_MAX
                                                and shapes[_DIGITS.sub("#", i.url)] >= 2)}
    return urls, shapes


MENU_NAME_MAX = 12        # characters of a menu entry that may share the shape of an article's address


def _menu_links(links: list[LinkRef], articles: tuple[set[str], dict[str, int]]) -> list[LinkRef]:
    """A menu's entries without the articles a ticker or a header list shows among them
    (``<ul id="scrollNews">`` of ``通知：关于…的通知`` in the page header): a link to one of the
    page's listed articles, or a long name at an address shaped like the page's articles."""
    item_urls, shapes = articles
    if not item_urls or not links:
        return links
    return [r for r in links if r.url not in item_urls
            and not (len(r.anchor) > MENU_NAME_MAX and shapes.get(_DIGITS.sub("#", r.url), 0) >= 2)]


def _heading_links(anchors: list[_Anchor], base: str, articles: tuple[set[str], dict[str, int]], known: set[str]) -> list[LinkRef]:
    """Links that head a block or a tab over a list (``<h3><a href="/zwgk/tzgg/">通知公告</a></h3>``,
    ``<div class="title"><a …>开庭公告</a></div>``): the list's column, named by the heading.

    A heading that links to a page shaped like the list's entries (``/zixun-xiangqing-86092.html``
    among ``/zixun-xiangqing-…`` entries) is the block's lead article, not a column.
    """
    item_urls, shapes = articles
    found: list[LinkRef] = []
    seen = set(known)
    for a in anchors:
        if a.zone == FOOTER or a.zone == CRUMB:
            continue
        text = _clean_name(a.text())
        nameless = False
        if not text:
            # An image tab (<a><img alt="政府公告"></a>), or a tab whose name is painted on an
            # image with no alt or on the box's background: a person reads the name off the
            # picture; patrol cannot, so the column keeps its address for a name.
            text = _clean_name(_fold(a.title) or _img_alt(a.el))
            nameless = not text and _text_free(a.el)
        if not nameless and (not (2 <= len(text) <= HEADING_NAME_MAX) or _MORE.match(text)
                             or _PAGER_WORDS.match(text)):
            continue
        if len(a.el) and any(child.tag in _HEAD_TAGS for child in a.el):
            head = a.el                        # <a href=…><h3>中央要闻</h3></a>
        else:
            head = a.parent
            for _ in range(2):
                if head is None or _heads_block(head):
                    break
                head = head.getparent()
            if head is None or not _heads_block(head):
                if a.zone == NAV or not _leads_list(a.el):
                    continue                   # (a menu entry over its drop-down is a menu entry)
                head = a.el                    # <a href="./zxxw/">最新新闻</a><div><ul>…</ul></div>
        url = _abs(base, a.href)
        if not url or url in seen or url in item_urls or url_date(url) is not None or _ARTICLE_URL.search(url):
            continue
        if shapes.get(_DIGITS.sub("#", url), 0) >= 2:
            continue
        if nameless and not _same_site(url, base):
            continue                           # an unnamed picture linking elsewhere: a banner
        if not _over_list(head):
            continue
        seen.add(url)
        found.append(LinkRef(url=url, tag="a", anchor=text[:120]))
    return found


_BULLETS = re.compile(r"^[\s·•●○■□◆◇▪▫►▶>»\-*]+|[\s>»]+$")


_BULLET_CHARS = frozenset(" ·•●○■□◆◇▪▫►▶>»-*")


def _clean_name(text: str) -> str:
    """A menu or heading name without the bullets and arrows around it (``·教育质量提升工程``)."""
    if text and (text[0] in _BULLET_CHARS or text[-1] in _BULLET_CHARS):
        return _BULLETS.sub("", text)
    return text


def _img_alt(el: etree._Element) -> str:
    """The name of an image link (``<a><img alt="政务公开"></a>``)."""
    img = el.find(".//img")
    return _fold(img.get("alt") or img.get("title") or "") if img is not None else ""


# An article's address rather than a column's: a long id in the file name or the query
# (/chaoyang/tsjq/8a24f09a2c7625….html, content_5626689.htm, ShowArticle.aspx?ArticleID=130466).
_ARTICLE_URL = re.compile(r"/[^/?]*(?:[0-9a-f]{16,}|\d{5,})[^/?]*$|[?&](?:article|doc|info|news|content)?id=\d{4,}",
                          re.IGNORECASE)
_BOXES = frozenset({"div", "center", "h4", "h5", "h6"})
_WRAPPERS = frozenset({"li", "td", "tr", "dd", "dt", "dl", "span", "font", "b", "strong", "i", "em", "p"})
LINK_LIST_MIN = 3          # short links side by side that make a directory of columns
LINK_NAME_MAX = 12         # characters of a column name in such a directory
IMAGE_NAME_MAX = 120       # ... of the title of an image link there (a door page's tiles)


def _link_lists(anchors: list[_Anchor], base: str, articles: tuple[set[str], dict[str, int]], seen: set[str]) -> list[LinkRef]:
    """Directories of columns outside any menu class: a container holding three or more short
    links to undated pages of the site (``<div class="jumin_list">``, a table of 信息公开
    sub-columns, a menu table with a misspelt id).  Links shaped like the page's list entries
    (``ShowArticle.aspx?ArticleID=…``) are articles, not columns."""
    item_urls, shapes = articles
    groups: dict[etree._Element, list[tuple[str, str, bool]]] = {}   # (url, name, on the page's host)
    hrefs: dict[etree._Element, set[str]] = {}         # links of each container that name a column
    for a in anchors:
        if a.zone != MAIN and a.zone != CHROME:
            continue
        text = _clean_name(a.text())
        limit = LINK_NAME_MAX
        if not text:                           # an image link: named by its title or alt
            text, limit = _clean_name(_fold(a.title) or _img_alt(a.el)), IMAGE_NAME_MAX
            if ":" in text or "：" in text:
                continue                       # 文章标题：… 作者：… 更新时间：…, not a name
        if not (2 <= len(text) <= limit) or _MORE.match(text) or _PAGER_WORDS.match(text):
            continue
        url = _abs(base, a.href)
        if not url or url in item_urls:
            continue
        # The parts of the 信息公开 platform (指南, 年报, 依申请公开) are often single documents
        # (content_7e6d….shtml): named so, they are columns whatever their address looks like.
        if not public_platform(text) and (url_date(url) is not None or shapes.get(_DIGITS.sub("#", url), 0) >= 2
                                          or _ARTICLE_URL.search(url)):
            continue
        # A district's 政府信息公开 often lives on its city's platform: links named for it
        # belong to the site wherever they point.
        own = _same_site(url, base) or public_platform(text)
        if not own and not same_site(_host(url), _host(base)):
            continue
        node = a.parent
        # up through the list item or cell, and any box that holds this one link alone
        while node is not None and (node.tag in _WRAPPERS or (node.tag in _BOXES and len(node) == 1)):
            node = node.getparent()
        if node is None:
            continue
        groups.setdefault(node, []).append((url, text, own))
        hrefs.setdefault(node, set()).add(a.href)
    found: list[LinkRef] = []
    for node, links in groups.items():
        if len(links) < LINK_LIST_MIN:
            continue
        # other links of the container, an image link beside its named twin aside
        others = set()
        for x in node.iter("a"):
            href = (x.get("href") or "").strip()
            if href and not href.lower().startswith(_BAD_HREF):
                others.add(href)
        others -= hrefs[node]
        if len(links) * 3 < (len(links) + len(others)) * 2:
            continue
        if sum(1 for link in links if link[2]) * 2 < len(links):
            links = [link for link in links if link[2]]   # a bar of the sub-sites' platforms
            if len(links) < LINK_LIST_MIN:
                continue
        for url, text, _own in links:
            if url not in seen:
                seen.add(url)
                found.append(LinkRef(url=url, tag="a", anchor=text[:120]))
    # A link of the site's own host standing alone that names a part of its 政府信息公开
    # (依申请公开 under the 政府信息公开 box) is that column as well; not a document of it.
    for a in anchors:
        if a.zone != MAIN and a.zone != CHROME:
            continue
        text = _clean_name(a.text())
        if 2 <= len(text) <= LINK_NAME_MAX and public_platform(text):
            url = _abs(base, a.href)
            if url and url not in seen and url not in item_urls and _same_site(url, base) \
                    and url_date(url) is None and not _ARTICLE_URL.search(url):
                seen.add(url)
                found.append(LinkRef(url=url, tag="a", anchor=text))
    return found


# Names of the parts of a 政府信息公开 platform (指南, 目录, 年报, 依申请公开 ...).
PUBLIC_PLATFORM_WORDS = ("信息公开", "政务公开", "依申请公开", "公开指南", "公开目录", "公开年报")


def public_platform(name: str) -> bool:
    """Whether a link's name names the site's 政府信息公开, which may live on another host
    (a district's on its city's platform): such a link is the site's column wherever it points."""
    return any(word in name for word in PUBLIC_PLATFORM_WORDS)


IMAGE_LINK_NAME_MAX = 24   # characters of the alt/title of a picture button or 专题 banner


def _image_links(anchors: list[_Anchor], base: str, articles: tuple[set[str], dict[str, int]], seen: set[str]) -> list[LinkRef]:
    """Picture buttons and 专题 banners that lead to a page of the site's own host, named by
    the caption inside the link or else the picture's ``alt``/``title`` or the link's ``title``
    (``<a href="/hudong-gengduo-36.html"><img alt="院长信箱"></a>``): a person reads the name off
    the picture.  Pictures of the page's list entries, of articles and of other hosts are not
    columns."""
    found: list[LinkRef] = []
    pictures = [a for a in anchors if a.zone != FOOTER and a.zone != CRUMB
                and len(a.text()) <= HEADING_NAME_MAX and a.el.find(".//img") is not None]
    if not pictures:
        return found
    item_urls, shapes = articles
    for a in pictures:
        caption = _clean_name(a.text())
        if caption:
            text = caption                     # a banner with its caption inside the link
        elif _text_free(a.el):
            text = _clean_name(_fold(a.title) or _img_alt(a.el))
        else:
            continue
        if not (2 <= len(text) <= IMAGE_LINK_NAME_MAX) or ":" in text or "：" in text or _MORE.match(text):
            continue
        url = _abs(base, a.href)
        if not url or url in seen or url in item_urls or not _same_site(url, base) \
                or url_date(url) is not None or shapes.get(_DIGITS.sub("#", url), 0) >= 1 \
                or _ARTICLE_URL.search(url):
            continue
        seen.add(url)
        found.append(LinkRef(url=url, tag="a", anchor=text))
    return found


def _in_heading(el: etree._Element) -> bool:
    """Whether an entry sits in a block heading or a tab bar (``<div class="tab_tit"><ul><li>``)."""
    node = el
    for _ in range(3):
        if node is None:
            return False
        if _heads_block(node):
            return True
        node = node.getparent()
    return False


def _over_list(head: etree._Element) -> bool:
    """Whether a list of links (two entries or more) follows the heading in its block."""
    node = head
    for _ in range(4):
        if node is None:
            return False
        for n, sib in enumerate(node.itersiblings()):
            if n >= 4:
                break
            if not isinstance(sib.tag, str):
                continue
            if _link_list(sib):
                return True
            if _script_block(sib):
                return True                    # the list is written by a script
        node = node.getparent()
    return False


def _link_list(el: etree._Element) -> bool:
    """Whether an element holds a list of links: two entries (li, tr, dd) with a link each."""
    count = 0
    for entry in el.iter("li", "tr", "dd"):
        if entry.find(".//a") is not None:
            count += 1
            if count >= 2:
                return True
    return False


def _leads_list(el: etree._Element) -> bool:
    """Whether a link opens its block and the block's next element is a list of links: the
    link heads that list though no class says so."""
    parent = el.getparent()
    if parent is None or (parent.text or "").strip():
        return False
    for sib in el.itersiblings(preceding=True):
        if isinstance(sib.tag, str) or (sib.tail or "").strip():
            return False                       # something before the link
    for sib in el.itersiblings():
        if not isinstance(sib.tag, str):
            continue
        return _link_list(sib)
    return False


def _text_free(el: etree._Element) -> bool:
    """Whether a link that shows no text holds only an image, or nothing (a box over a
    background picture): no block or list inside it."""
    for x in el.iterdescendants():
        if x.tag.__class__ is str and x.tag not in _TEXT_FREE_TAGS:
            return False
    return True


_TEXT_FREE_TAGS = frozenset({"img", "span", "i", "b", "em", "strong", "font"})


# A script that writes content: document.write / innerHTML, or a call given a channel path or a
# data file (homelist4index(1,"FTXW/FTDT"), loadList('/zwgk/list.json')); a tab switcher's
# addClass("cur") is none.
_WRITES_SCRIPT = re.compile(r"document\.write|\.innerHTML|\w\s*\([^()]*['\"][^'\"]*(?:/|\.js|\.json|\.s?html?)[^'\"]*['\"]")


def _script_block(el: etree._Element) -> bool:
    """Whether a block shows nothing but what its scripts write: a list that a script fills in
    the browser (``<div class="content"><script src="/js/sy_list.js"></script></div>``,
    ``<div id="FTXW1"><script>homelist4index(1,"FTXW/FTDT")</script></div>``)."""
    if el.tag == "script":
        return bool(el.get("src")) or bool(_WRITES_SCRIPT.search(el.text or ""))
    if el.find(".//script") is None or el.find(".//a") is not None or (el.text or "").strip():
        return False                           # (cheap tests first: this runs for many blocks)
    found = False
    for x in el.iterdescendants():
        tag = x.tag
        if tag.__class__ is str:
            if tag == "script":
                found = found or bool(x.get("src")) or bool(_WRITES_SCRIPT.search(x.text or ""))
            elif tag in ("a", "img", "iframe", "input", "form", "object", "embed", "video"):
                return False
            elif (x.text or "").strip():
                return False
        if (x.tail or "").strip():
            return False
    return found


def _in_pager(el: etree._Element) -> bool:
    node = el.getparent()
    for _ in range(3):
        if node is None:
            return False
        label = f"{node.get('class') or ''} {node.get('id') or ''}"
        if _PAGER_CLASS.search(label):
            return True
        node = node.getparent()
    return False


def _pagination(base: str, page_url: str, hrefs: list[tuple[str, str]], script_text: str) -> list[str]:
    found: list[str] = []
    for href, label in hrefs:
        if _BACKWARDS.match(label):
            continue                           # points back, at best to page 1
        absolute = _abs(base, href)
        if absolute and absolute != page_url and absolute not in found:
            found.append(absolute)
    for m in _CREATE_PAGE.finditer(script_text):
        total, prefix, ext = int(m.group(1)), m.group(3), m.group(4)
        for n in range(1, min(total, MAX_PAGES + 1)):
            absolute = _abs(base, f"{prefix}_{n}.{ext}")
            if absolute and absolute not in found:
                found.append(absolute)
    # The filled-in ranges first, in page order; then any link that fits no pattern, unless
    # some do: then the rest are links back to page 1 (首页, 上一页 on page 2).
    expanded = _expand(found)
    known = set(expanded)
    if not any(is_later_page(u) for u in found):
        expanded += [u for u in found if u not in known]
    else:
        expanded += [u for u in found if u not in known and is_later_page(u)]
    out: list[str] = []
    for u in expanded:
        if u != page_url and u not in out and _same_site(u, page_url):
            out.append(u)
    return out


def is_later_page(url: str) -> bool:
    """Whether a URL names list page 2 or later: ``index_3.html``, ``?page=2``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in _PAGE_PARAMS and value.isdigit():
            return int(value) >= 2
    return bool(_LATER_STEM.search(parts.path))


def _expand(urls: list[str]) -> list[str]:
    """Fill the gaps: ``index_1`` and ``index_9`` (尾页) mean index_1 .. index_9."""
    stems: dict[tuple[str, str], list[int]] = {}
    params: dict[tuple[str, str, str], list[int]] = {}
    for url in urls:
        parts = urlsplit(url)
        m = _STEM_NUM.match(parts.path)
        if m and not parts.query:
            stems.setdefault((parts.scheme + "://" + parts.netloc + m.group(1), m.group(3)), []).append(
                int(m.group(2)))
            continue
        if parts.query:
            query = parse_qsl(parts.query, keep_blank_values=True)
            for i, (key, value) in enumerate(query):
                if key.lower() in _PAGE_PARAMS and value.isdigit():
                    rest = urlencode(query[:i] + [(key, "{n}")] + query[i + 1:]).replace("%7Bn%7D", "{n}")
                    template = urlunsplit((parts.scheme, parts.netloc, parts.path, rest, ""))
                    params.setdefault((template, key, ""), []).append(int(value))
                    break
    out: list[str] = []
    for (prefix, ext), numbers in stems.items():
        for n in range(min(numbers), min(max(numbers), MAX_PAGES) + 1):
            out.append(f"{prefix}_{n}{ext}")
    for (template, _key, _), numbers in params.items():
        for n in range(max(min(numbers), 2), min(max(numbers), MAX_PAGES) + 1):
            out.append(template.replace("{n}", str(n)))
    return out


def same_site(host: str, site_host: str) -> bool:
    """The site's own host or one of its sub-sites (``gongbao.court.gov.cn`` of
    ``www.court.gov.cn``, ``ny.alt.gov.cn`` of ``www.alt.gov.cn``)."""
    if not host or not site_host:
        return False
    if host == site_host:
        return True
    base = site_host[4:] if site_host.startswith("www.") else site_host
    return base.count(".") >= 2 and host.endswith("." + base)


@lru_cache(maxsize=65536)
def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


@lru_cache(maxsize=65536)
def _netloc(url: str) -> str | None:
    try:
        return urlsplit(url).netloc
    except ValueError:                         # http://[broken/ : no site at all
        return None


def _same_site(url: str, page_url: str) -> bool:
    here = _netloc(url)
    return here is not None and here == _netloc(page_url)


def _list_items(entries: list[_Entry], anchors: list[_Anchor], base: str, today: date,
                exclude: set[str], page_date: date | None = None) -> list[ListItem]:
    items: list[ListItem] = []
    evidence: list[tuple[Written | None, date | None]] = []
    group_of: list[int] = []
    groups: dict[etree._Element, int] = {}     # lxml elements, not id(): proxies come and go
    page_host = _host(base)
    seen: set[str] = set()
    for entry in entries:
        if not entry.anchors:
            continue
        candidates = []
        hrefs = set()
        for i in entry.anchors:
            a = anchors[i]
            text = a.text()
            label = a.title if len(a.title) > len(text) else text
            if not label or _MORE.match(label) or _PAGER_WORDS.match(label):
                continue
            hrefs.add(a.href)
            candidates.append((len(label), label, a))
        if not candidates or len(hrefs) > 3:
            continue
        _, title, a = max(candidates, key=lambda c: c[0])
        url = _abs(base, a.href)
        if not url or url in seen or url in exclude:
            continue
        rest = "".join(entry.rest)
        written = _list_date(rest) if rest.strip() else None
        from_url = url_date(url)
        if from_url and written is None and not same_site(_host(url), page_host):
            from_url = None                    # another site's date, not shown on this page
        if written is None and from_url is None and (len(title) < MIN_UNDATED_TITLE or _in_heading(entry.el)):
            continue                           # a menu item, or a tab of a tab bar
        seen.add(url)
        parent = entry.parent
        group_of.append(groups.setdefault(parent, len(groups)))
        evidence.append((written, from_url[0] if from_url else None))
        item = ListItem(title=title[:200], url=url)
        if written is None and from_url:
            item.date = from_url[0].isoformat()
            item.date_source = "url" if from_url[1] == "day" else "url_month"
        items.append(item)
    if not items:
        return items
    # Years of month-day dates from the evidence of the page's lists (one list per container).
    by_group: list[list[int]] = [[] for _ in groups]
    for i, g in enumerate(group_of):
        by_group[g].append(i)
    resolved = resolve_years([[(evidence[i][0], evidence[i][1]) for i in members] for members in by_group],
                             today=today, page_date=page_date)
    for members, row in zip(by_group, resolved):
        for i, (found, source) in zip(members, row):
            if evidence[i][0] is None:
                continue                       # no date shown: the URL's, set above
            items[i].date = found.isoformat() if found else None
            items[i].date_source = source
    return items


_DATE_NOISE = re.compile(r"\d{1,2}[:：]\d{2}(?:[:：]\d{2})?|(?:发布|更新|发文|成文)?(?:日期|时间)[:：]?|"
                         r"[\s\[\]【】()（）<>〔〕|｜:：,，.。\-/]+")


def _list_date(rest: str) -> Written | None:
    """The date an entry shows beside its title: a date that stands on its own (``[03-16]``,
    ``2026-11-10 09:30``, ``发布时间：…``) or opens or closes the entry's other text, not one
    inside a sentence (``开庭与庭审直播公告（3月19日开庭）``)."""
    written = find_date(rest)
    if written is None:
        return None
    before = _DATE_NOISE.sub("", rest[:written.start])
    after = _DATE_NOISE.sub("", rest[written.end:])
    if not before or not after or len(before) + len(after) <= 12:
        return written
    return None


def _has_placeholder(text: str) -> bool:
    """A placeholder word standing (nearly) alone on a line; an article that merely uses
    the words 暂无数据 in a sentence is not an empty list."""
    if not text:
        return False
    pattern = _placeholder_re()
    return any(len(line) <= PLACEHOLDER_LINE_MAX and pattern.search(line) for line in text.split("\n"))


_PLACEHOLDER_RE: list[re.Pattern[str]] = []


def _placeholder_re() -> re.Pattern[str]:
    if not _PLACEHOLDER_RE:
        _PLACEHOLDER_RE.append(re.compile("|".join(re.escape(p) for p in placeholder_phrases())))
    return _PLACEHOLDER_RE[0]
