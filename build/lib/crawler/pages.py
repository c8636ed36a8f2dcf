"""Turning an HTML response into text, an lxml tree, links and a PageSnapshot (parse once)."""
from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from datetime import date
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from checks.model import LinkRef, PageSnapshot

try:  # per-page facts for the freshness and text checks
    from checks import pagefacts as _pagefacts
except ImportError:  # pragma: no cover - only while that module is absent
    _pagefacts = None

META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-]+)""", re.IGNORECASE)
# Encodings that Chinese sites declare for what is really GB18030 text (its superset).
GB_FAMILY = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "ms936", "euc-cn", "hz-gb-2312", "gb_2312-80"}

LINK_ATTRS = {
    "a": "href", "area": "href", "link": "href", "img": "src", "script": "src", "iframe": "src",
    "frame": "src", "embed": "src", "source": "src", "object": "data", "video": "src", "audio": "src",
}
LINK_XPATH = etree.XPath(
    "//a[@href]|//area[@href]|//link[@href]|//img[@src]|//script[@src]|//iframe[@src]|//frame[@src]"
    "|//embed[@src]|//source[@src]|//object[@data]|//video[@src]|//audio[@src]"
    "|//meta[@http-equiv]|//base[@href]")
REFRESH_RE = re.compile(r"url\s*=\s*['\"]?([^'\";]+)", re.IGNORECASE)
# <link rel=...> values that are not fetched by browsers as resources.
SKIPPED_LINK_RELS = {"dns-prefetch", "preconnect", "canonical", "alternate", "search", "pingback",
                     "profile", "author", "license", "shortlink", "edituri", "wlwmanifest"}
SPACE_RE = re.compile(r"\s+")


def declared_encoding(content_type: str, body: bytes) -> str | None:
    """The encoding a response declares in its Content-Type header or a <meta> tag."""
    m = re.search(r"charset\s*=\s*['\"]?([\w\-]+)", content_type or "", re.IGNORECASE)
    name = m.group(1) if m else None
    if not name:
        mm = META_CHARSET_RE.search(body[:4096])
        name = mm.group(1).decode("ascii", "ignore") if mm else None
    if not name:
        return None
    name = name.lower()
    if name in GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str = "") -> tuple[str, str]:
    """Decode an HTML body: BOM, then the declared encoding, then sniff UTF-8 / GB18030."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            return body[len(bom):].decode(enc, "replace"), enc
    declared = declared_encoding(content_type, body)
    if declared:
        try:
            return body.decode(declared), declared
        except (UnicodeDecodeError, LookupError):
            pass  # a wrong declaration is common: sniff instead
    for enc in ("utf-8", "gb18030"):
        try:
            return body.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return body.decode(declared or "utf-8", "replace"), (declared or "utf-8") + "?"


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


def iter_links(tree: lxml.html.HtmlElement, page_url: str) -> Iterator[tuple[str, str, str]]:
    """(absolute raw URL, tag, anchor text) for every fetchable link of a page, in page order."""
    base = page_url
    for el in LINK_XPATH(tree):
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "base":
            href = (el.get("href") or "").strip()
            if href:
                base = urljoin(page_url, href)
            continue
        if tag == "meta":
            if (el.get("http-equiv") or "").lower() == "refresh":
                m = REFRESH_RE.search(el.get("content") or "")
                if m:
                    yield urljoin(base, m.group(1).strip()), "meta", ""
            continue
        if tag == "link":
            rel = (el.get("rel") or "").lower().split()
            if rel and all(r in SKIPPED_LINK_RELS for r in rel):
                continue
        raw = (el.get(LINK_ATTRS.get(tag, "href")) or "").strip()
        if not raw or raw.startswith("#"):
            continue
        anchor = ""
        if tag in ("a", "area"):
            text = el.text if len(el) == 0 else el.text_content()   # most anchors are plain text
            anchor = " ".join(text.split()) if text else ""
            anchor = anchor or el.get("title") or el.get("alt") or ""
        elif tag == "img":
            anchor = el.get("alt") or el.get("title") or ""
        yield join(base, raw), tag, anchor[:120]


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
