"""Turning an HTML response into text, an lxml tree, links and a PageSnapshot (parse once)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from urllib.parse import unquote, urljoin, urlsplit

import lxml.html
from lxml import etree

from checks.model import LinkRef, PageSnapshot
from common.decoding import declared_encoding, decode_html  # noqa: F401  (pages.decode_html for the crawl)

try:  # per-page facts for the freshness and text checks
    from checks import pagefacts as _pagefacts
except ImportError:  # pragma: no cover - only while that module is absent
    _pagefacts = None


LINK_ATTRS = {
    "a": "href", "area": "href", "link": "href", "img": "src", "script": "src", "iframe": "src",
    "frame": "src", "embed": "src", "source": "src", "object": "data", "video": "src", "audio": "src",
    "track": "src", "input": "src",
}
# Every element that can carry a link a browser fetches or a visitor follows.  A union of
# narrow paths: one pass with a predicate on every element costs more on real pages.
_COMMON_PATHS = (
    "//a[@href]|//area[@href]|//link[@href]|//img[@src]|//script[@src]|//iframe[@src]|//frame[@src]"
    "|//embed[@src]|//source[@src]|//object[@data]|//video[@src]|//audio[@src]"
    "|//meta[@http-equiv]|//base[@href]|//input[@src]")
LINK_XPATH = etree.XPath(_COMMON_PATHS)
LINK_XPATH_ALL = etree.XPath(
    _COMMON_PATHS
    + "|//img[@srcset]|//source[@srcset]|//video[@poster]|//input[@formaction]"
    "|//button[@formaction]|//object[@codebase]|//applet|//track[@src]|//html[@manifest]|//style"
    "|//body[@background]|//table[@background]|//td[@background]|//th[@background]"
    "|//*[contains(translate(@style,'URL','url'),'url(')]")
# Words without which a page's source has none of the rarer links (srcset, CSS url(), background
# ...; see may_have_rare_links): looking for them in the bytes costs less than looking for the
# elements in the tree.
# Attributes read besides the tag's usual one (LINK_ATTRS), by tag.
EXTRA_ATTRS = {
    "img": ("srcset",), "source": ("srcset",), "video": ("poster",), "object": ("codebase",),
    "body": ("background",), "table": ("background",), "td": ("background",), "th": ("background",),
    "button": ("formaction",), "input": ("formaction",), "html": ("manifest",),
}
# Tags whose usual attribute is the only link they carry (unless a style has a url()).
PLAIN_TAGS = frozenset({"a", "area", "link", "script", "iframe", "frame", "embed", "audio"})
REFRESH_RE = re.compile(r"url\s*=\s*['\"]?([^'\";]+)", re.IGNORECASE)
# url(...) and @import "..." in CSS; the quotes, if any, are not part of the URL.
CSS_URL_RE = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""",
                        re.IGNORECASE)
CSS_COMMENT_RE = re.compile(r"/\*.*?\*/", re.DOTALL)
# <link rel=...> values that are not fetched by browsers as resources.
SKIPPED_LINK_RELS = {"dns-prefetch", "preconnect", "canonical", "alternate", "search", "pingback",
                     "profile", "author", "license", "shortlink", "edituri", "wlwmanifest"}
SPACE_RE = re.compile(r"\s+")


# End tags of the document that real pages also write in the middle (an included header
# closing its own </html>).  Browsers ignore them and keep what follows in the body; libxml2
# would drop it, so they are removed before parsing (the parser closes both at the end).
_DOCUMENT_END = re.compile(r"</(?:html|body)\s*>", re.IGNORECASE)


def parse_html(text: str) -> lxml.html.HtmlElement | None:
    """The page's tree, parsed as browsers do where libxml2 would lose content."""
    if not text.strip():
        return None
    text = _DOCUMENT_END.sub("", text)
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        try:  # an encoding declaration inside a str confuses lxml
            return lxml.html.document_fromstring(text.encode("utf-8"),
                                                 parser=lxml.html.HTMLParser(encoding="utf-8"))
        except (etree.ParserError, ValueError):
            return None


def may_have_rare_links(source: bytes) -> bool:
    """False when the page's source cannot hold any of the rarer links."""
    if source[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True             # UTF-16: the markers are not ASCII bytes there
    low = source.lower()
    # Spelled out: a generator over the markers costs as much as the searches.
    return (b"url(" in low or b"@import" in low or b"srcset" in low or b"background" in low
            or b"poster" in low or b"formaction" in low or b"manifest" in low or b"codebase" in low
            or b"applet" in low or b"<track" in low)


def iter_links(tree: lxml.html.HtmlElement, page_url: str, problems: list[str] | None = None,
               fragments: list[str] | None = None,
               source: bytes | None = None) -> Iterator[tuple[str, str, str, str]]:
    """(absolute raw URL, tag, anchor text, attribute) for every link of a page, in page order.

    The attribute is "" for a tag's usual one (a href, img src ...) and names the others
    (srcset, background, poster, style, css for a <style> block ...).  A ``<base href>`` that
    does not parse is ignored, as browsers do, and said in ``problems``; ``fragments`` gets the
    absolute form of same-document ``#name`` links.  ``source``: the bytes the tree was parsed
    from, when at hand (a page without the rarer links is read faster)."""
    base = page_url
    rare = source is None or may_have_rare_links(source)
    # Without the rarer links, images, sources, objects and videos carry their usual one only.
    plain = PLAIN_TAGS if rare else PLAIN_TAGS | {"img", "source", "object", "video"}
    for el in (LINK_XPATH_ALL if rare else LINK_XPATH)(tree):
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in plain:
            if tag == "link":
                rel = (el.get("rel") or "").lower().split()
                if rel and all(r in SKIPPED_LINK_RELS for r in rel):
                    continue
            raw = (el.get(LINK_ATTRS[tag]) or "").strip()
            if raw:
                if raw[0] == "#":
                    if fragments is not None and len(raw) > 1:
                        fragments.append(join(base, raw))
                elif tag == "a" or tag == "area":
                    text = el.text if len(el) == 0 else el.text_content()   # most anchors are plain text
                    anchor = " ".join(text.split()) if text else ""
                    anchor = anchor or el.get("title") or el.get("alt") or ""
                    yield join(base, raw), tag, anchor[:120], ""
                elif tag == "img":
                    yield join(base, raw), tag, (el.get("alt") or el.get("title") or "")[:120], ""
                else:
                    yield join(base, raw), tag, "", ""
            if rare:
                style = el.get("style")
                if style and "url(" in style.lower():
                    for url in css_urls(style):
                        yield join(base, url), tag, "", "style"
            continue
        if tag == "base":
            href = (el.get("href") or "").strip()
            if href:
                try:
                    joined = urljoin(page_url, href)
                    parts = urlsplit(joined)
                    parts.port         # noqa: B018 - raises for a port that is not one
                except ValueError as exc:
                    if problems is not None:
                        problems.append(f"<base href> 无法解析，按页面地址解析相对链接：{href[:100]} ({exc})")
                    continue
                base = joined
            continue
        if tag == "meta":
            if (el.get("http-equiv") or "").lower() == "refresh":
                m = REFRESH_RE.search(el.get("content") or "")
                if m:
                    target = m.group(1).strip()
                    try:
                        urlsplit(urljoin(base, target)).port    # noqa: B018 - raises for what is no URL
                    except ValueError as exc:
                        # The browser stays on the page: a fault of the page, not a link.
                        if problems is not None:
                            problems.append(f"<meta refresh> 的跳转地址无法解析：{target[:100]} ({exc})")
                        continue
                    yield join(base, target), "meta", "", ""
            continue
        if tag == "style":
            for url in css_urls(el.text or ""):
                yield join(base, url), "style", "", "css"
            continue
        if tag == "applet":
            # codebase is the folder code and archive are read from, not a file to fetch.
            codebase = (el.get("codebase") or "").strip()
            where = join(base, codebase) if codebase else base
            for name in ("code", "archive"):
                for part in (el.get(name) or "").split(","):
                    part = part.strip()
                    if part:
                        yield join(where, part), tag, "", name
        else:
            attr = LINK_ATTRS.get(tag)
            if attr and not (tag == "input" and (el.get("type") or "").strip().lower() != "image"):
                raw = (el.get(attr) or "").strip()
                if raw and raw[0] != "#":
                    anchor = (el.get("alt") or el.get("title") or "")[:120] if tag in ("img", "input") else ""
                    yield join(base, raw), tag, anchor, "" if tag != "input" else "src"
            for extra in EXTRA_ATTRS.get(tag, ()):
                raw = (el.get(extra) or "").strip()
                if not raw:
                    continue
                if extra == "srcset":
                    for url in srcset_urls(raw):
                        yield join(base, url), tag, "", extra
                elif raw[0] != "#" and not (extra == "codebase" and raw.endswith("/")):
                    # An object's codebase is a file (the plugin's .cab), or a folder: not fetched.
                    yield join(base, raw), tag, "", extra
        style = el.get("style")
        if style and "url(" in style.lower():
            for url in css_urls(style):
                yield join(base, url), tag, "", "style"


ANCHOR_XPATH = etree.XPath("//@id|//a/@name")
SCRIPT_TEXT_XPATH = etree.XPath("//script/text()")


def anchor_names(tree: lxml.html.HtmlElement | None, wanted: set[str]) -> list[str]:
    """The names a #fragment can point to on this page (id of any element, name of an <a>).
    A wanted name that only a script of the page mentions counts as present: the script may
    well make it (precision first)."""
    if tree is None:
        return []
    names = {str(v) for v in ANCHOR_XPATH(tree)}
    missing = [w for w in wanted if w not in names and unquote(w) not in names]
    if missing:
        scripts = " ".join(SCRIPT_TEXT_XPATH(tree))
        names.update(w for w in missing if w in scripts or unquote(w) in scripts)
    return sorted(names)


def css_urls(css: str) -> list[str]:
    """The URLs a piece of CSS refers to (url(...) and @import), as written; data: URIs and
    empty ones left out."""
    if "/*" in css:
        css = CSS_COMMENT_RE.sub(" ", css)
    urls = []
    for m in CSS_URL_RE.finditer(css):
        url = next((g for g in m.groups() if g is not None), "").strip()
        if url and not url.lower().startswith("data:") and url[0] != "#":
            urls.append(url)
    return urls


def srcset_urls(value: str) -> list[str]:
    """Each candidate URL of a srcset ("a.jpg 1x, b.jpg 2x"), after the HTML standard's parser:
    a URL runs to the next whitespace, a trailing comma ends a candidate, descriptors end at
    a comma."""
    urls = []
    i, n = 0, len(value)
    while i < n:
        while i < n and (value[i].isspace() or value[i] == ","):
            i += 1
        start = i
        while i < n and not value[i].isspace():
            i += 1
        url = value[start:i]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            depth = 0
            while i < n and (value[i] != "," or depth):
                depth += value[i] == "("
                depth -= value[i] == ")" and depth > 0
                i += 1
        if url:
            urls.append(url)
    return urls


def join(base: str, raw: str) -> str:
    """urljoin, with the common cases (absolute and root-relative links) done without parsing."""
    if raw.startswith(("http://", "https://")):
        return raw
    if raw.startswith("/") and not raw.startswith("//"):
        end = base.find("/", base.find("//") + 2)
        return (base if end < 0 else base[:end]) + raw
    try:
        return urljoin(base, raw)
    except ValueError:
        return raw


def title_of(tree: lxml.html.HtmlElement) -> str:
    el = tree.find(".//title")
    return SPACE_RE.sub(" ", el.text_content()).strip() if el is not None else ""


def fallback_text(tree: lxml.html.HtmlElement) -> str:
    body = tree.find("body")
    if body is None:
        return ""
    for bad in body.xpath(".//script|.//style|.//noscript"):
        bad.drop_tree()
    return SPACE_RE.sub(" ", body.text_content()).strip()


def snapshot(tree: lxml.html.HtmlElement, *, url: str, final_url: str, status: int, depth: int,
             links: list[LinkRef], rendered: bool, encoding: str, content_type: str,
             referer: str | None, fetched_at: str, facts: bool = True,
             today: date | None = None, html_text: str | None = None,
             title: str | None = None) -> PageSnapshot:
    """The page's snapshot; ``facts=False`` keeps only what the link check needs.  ``title``:
    the page's title when the caller has read it already."""
    snap = PageSnapshot(url=url, final_url=final_url, status=status, depth=depth, links=links,
                        rendered=rendered, encoding=encoding, content_type=content_type,
                        referer=referer, fetched_at=fetched_at)
    if not facts:
        snap.title = title_of(tree) if title is None else title
    elif _pagefacts is not None:
        facts = _pagefacts.extract(tree, final_url, html_text=html_text, today=today)
        for name in PageSnapshot.__dataclass_fields__:
            if hasattr(facts, name) and name not in ("url", "links"):
                setattr(snap, name, getattr(facts, name))
    else:
        snap.title = title_of(tree)
        snap.text = fallback_text(tree)
    return snap


def needs_render(tree: lxml.html.HtmlElement, *, homepage: str | None = None) -> bool:
    """An empty list container that a script fills, or, on the ``homepage`` (its URL), no menu
    but scripts that may write it: the page must be rendered to be judged."""
    if homepage and _pagefacts is not None and _pagefacts.menu_written_by_script(tree, homepage):
        return True
    if _pagefacts is not None and hasattr(_pagefacts, "needs_render"):
        return bool(_pagefacts.needs_render(tree))
    if not tree.xpath("//script"):
        return False
    for el in tree.xpath("//ul|//ol|//tbody|//div[@id or @class]"):
        ident = ((el.get("id") or "") + " " + (el.get("class") or "")).lower()
        if ("list" in ident or "news" in ident) and len(el) == 0 and not (el.text or "").strip():
            return True
    return False
