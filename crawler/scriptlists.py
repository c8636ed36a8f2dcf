"""Lists a script writes from data: learnt from renders, then read without one.

A page whose list container is empty and filled by its script is rendered (``render: auto``).
Many such pages share one template (a column's list pages): the same script writes the same
kind of rows from records that are either written into each page (``var listData =
[{"title": …, "url": …, "date": …}, …]``) or at an address the script asks
(``fetch('/api/list?col=3&page=2')``: a JSON array of records, or one inside an object).  For
such a page this module can write the rows itself: it finds the one empty list container and
the one array of records (each with a link and a title, maybe a date) in the page's own
scripts, or else the one data address written in them, whose answer the spider fetches.

Whether that gives what a visitor sees is learnt, never assumed.  Pages of a template are
rendered as before; for each, the spider compares what it reads from the rendered page (links,
list rows, text) with what it reads from the page with the rows written in.  After
``TRUST_AFTER`` pages agree, and none disagreed, the template's later pages are read without
the browser; one disagreement and the template's pages are always rendered.  A page that does
not have the template's shape (no records, not one empty list, two data addresses) is rendered,
and so is one whose data request fails or answers otherwise.

The template of a page: its empty list container (tag, id, class), its external scripts and
its inline scripts with their literals (strings, numbers, the data array) blanked, so pages
whose only difference is their data (or their data's address) share one.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from checks.model import PageSnapshot
from checks.pagefacts import lists_to_fill

TRUST_AFTER = 2          # rendered pages that must agree before a template is read without render
MAX_SCRIPT_CHARS = 500_000
MAX_RECORDS = 2_000

_ARRAY_START = re.compile(r"[=:(,]\s*\[")
_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_DATE = re.compile(r"^\s*(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}(?:\s*[-/.月]\s*\d{1,2}\s*日?)?(?:\s+[\d:]+)?\s*$")
_URL_KEYS = ("url", "href", "link", "linkurl", "docurl", "path", "src", "puburl", "docpuburl")
_TITLE_KEYS = ("title", "name", "text", "doctitle", "subject", "t")
_PATHLIKE = re.compile(r"^(?:https?://|/|\./|\.\./)|\.(?:s?html?|jsp|php|aspx?|pdf|docx?|xlsx?)(?:[?#]|$)",
                       re.IGNORECASE)
_WS = re.compile(r"\s+")
_MARKUP = re.compile(r"[<&]")
_URLISH = re.compile(r"^(?:https?://|/|\./|\.\./|[\w-]+[/.?])")
_TOKENS = re.compile(r"[/?&=._-]+")


@dataclass
class Record:
    url: str
    title: str
    date: str = ""


@dataclass
class Shape:
    """A page of a script-written list: its template, the path of its empty list container and
    where its records are: in the page (``records``) or at a URL its script asks (``data_url``,
    absolute; the records come with the answer)."""

    key: str
    where: tuple[int, ...]
    records: list[Record] | None = None
    data_url: str | None = None


@dataclass
class Template:
    agreed: int = 0
    disagreed: bool = False

    @property
    def trusted(self) -> bool:
        return self.agreed >= TRUST_AFTER and not self.disagreed


@dataclass
class ScriptLists:
    """What the crawl of one site has learnt about its script-written lists."""

    templates: dict[str, Template] = field(default_factory=dict)
    read: int = 0            # pages read from their own data instead of rendered (``write``)

    def key(self, tree: lxml.html.HtmlElement, url: str = "") -> str | None:
        """The page's template (see the module docstring); None when it has not the shape."""
        shape = shape_of(tree, url)
        return shape.key if shape else None

    def trusted(self, key: str | None) -> bool:
        template = self.templates.get(key) if key else None
        return template is not None and template.trusted

    def undecided(self, key: str | None) -> bool:
        if not key:
            return False
        template = self.templates.get(key)
        return template is None or (not template.disagreed and not template.trusted)

    def learn(self, key: str, agree: bool) -> None:
        template = self.templates.setdefault(key, Template())
        if agree:
            template.agreed += 1
        else:
            template.disagreed = True

    @property
    def any_trusted(self) -> bool:
        return any(t.trusted for t in self.templates.values())

    def trusted_shape(self, tree: lxml.html.HtmlElement, url: str = "") -> Shape | None:
        """The page's shape when its template is trusted (its list may be read, not rendered)."""
        if not self.any_trusted:
            return None
        shape = shape_of(tree, url)
        return shape if shape is not None and self.trusted(shape.key) else None

    def write(self, tree: lxml.html.HtmlElement, shape: Shape,
              records: list[Record]) -> lxml.html.HtmlElement | None:
        """The page with ``records`` written in, counted as read; None when a title holds markup."""
        if any(_MARKUP.search(r.title) for r in records):
            # A script may write such a title as markup (innerHTML) or as text: only the
            # browser shows which, whatever the pages learnt from did.
            return None
        self.read += 1
        return written(tree, shape, records)


def same_page(rendered: PageSnapshot, read: PageSnapshot) -> bool:
    """Whether the page read with its list written in shows what the rendered page shows: the
    same links, list rows and text (blanks aside)."""
    if {ref.url for ref in rendered.links} != {ref.url for ref in read.links}:
        return False
    rows = [(i.title, i.url, i.date) for i in rendered.list_items]
    if rows != [(i.title, i.url, i.date) for i in read.list_items]:
        return False
    return _WS.sub("", rendered.text) == _WS.sub("", read.text)


def template_and_written(tree: lxml.html.HtmlElement) -> tuple[str, lxml.html.HtmlElement] | None:
    """The page's template and the page with its list written in from the records in it (for
    learning); None when it has not that shape."""
    shape = shape_of(tree)
    if shape is None or shape.records is None:
        return None
    return shape.key, written(tree, shape, shape.records)


def records_in(text: str | bytes) -> list[Record] | None:
    """The records of a data URL's answer (JSON): an array of records, or the first such array
    one or two levels into an object ({"data": [...]}, {"result": {"list": [...]}})."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    found = _records(value)
    if found is not None:
        return found
    level = [value]
    for _ in range(2):
        deeper = []
        for item in level:
            if not isinstance(item, dict):
                continue
            for child in item.values():
                found = _records(child)
                if found is not None:
                    return found
                deeper.append(child)
        level = deeper
    return None


# --- the page's shape -----------------------------------------------------------------------

def shape_of(tree: lxml.html.HtmlElement, url: str = "") -> Shape | None:
    """The page's shape: one empty list container, and either one array of records in its
    scripts or (none there) one data URL written in them, resolved against ``url``."""
    containers = list(lists_to_fill(tree))
    if len(containers) != 1:
        return None
    container = containers[0]
    found: list[list[Record]] = []
    data_urls: list[str] = []
    blanked: list[str] = []
    sources: list[str] = []
    for script in tree.iter("script"):
        src = script.get("src")
        if src:
            sources.append(src.strip())
            continue
        kind = (script.get("type") or "").lower()
        if kind and "javascript" not in kind and "ecmascript" not in kind:
            continue
        text = script.text or ""
        if len(text) > MAX_SCRIPT_CHARS:
            return None
        arrays = list(_record_arrays(text))
        for _start, _end, records in arrays:
            found.append(records)
        rest = text
        for start, end, _ in reversed(arrays):
            rest = rest[:start] + "[]" + rest[end:]
        data_urls.extend(m.group(0)[1:-1] for m in _STRING.finditer(rest) if _data_url(m.group(0)[1:-1]))
        blanked.append(_NUMBER.sub("0", _STRING.sub('""', rest)))
    if len(found) > 1 or (found and not found[0]):
        return None
    data_url = None
    if not found:
        if len(data_urls) != 1 or not url:
            return None
        data_url = urljoin(url, data_urls[0].strip())
        if urlsplit(data_url).scheme not in ("http", "https"):
            return None
    where = _path(container)
    signature = json.dumps([container.tag, container.get("id") or "", container.get("class") or "",
                            sorted(sources), blanked, "url" if data_url else "records"], ensure_ascii=False)
    return Shape(key=hashlib.sha1(signature.encode("utf-8")).hexdigest(), where=where,
                 records=found[0] if found else None, data_url=data_url)


def _data_url(value: str) -> bool:
    """A string in a script that names where its list's data is: a .json file, or an address
    with json, api or data in its path or query (/api/list?col=3, list.jsp?type=json ...)."""
    value = value.strip()
    if not value or len(value) > 500 or any(c.isspace() for c in value) or not _URLISH.match(value):
        return False
    lowered = value.lower()
    return ".json" in lowered or any(t in ("json", "jsonp", "api", "data") for t in _TOKENS.split(lowered))


def _record_arrays(text: str):
    """(start, end, records) of each JSON array of records in a script."""
    decoder = json.JSONDecoder()
    at = 0
    while True:
        m = _ARRAY_START.search(text, at)
        if m is None:
            return
        start = m.end() - 1
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            at = m.end()
            continue
        records = _records(value)
        if records is not None:
            yield start, end, records
        at = end


def _records(value: Any) -> list[Record] | None:
    if not isinstance(value, list) or not value or len(value) > MAX_RECORDS:
        return None
    out: list[Record] = []
    for item in value:
        if not isinstance(item, dict):
            return None
        strings = {str(k).lower(): v.strip() for k, v in item.items() if isinstance(v, str)}
        url = next((strings[k] for k in _URL_KEYS if strings.get(k)), "")
        if not url:
            url = next((v for v in strings.values() if _PATHLIKE.search(v)), "")
        title = next((strings[k] for k in _TITLE_KEYS if strings.get(k)), "")
        date = next((v for v in strings.values() if _DATE.match(v)), "")
        if not url or not title:
            return None
        out.append(Record(url=url, title=title, date=date))
    return out


def _path(el: lxml.html.HtmlElement) -> tuple[int, ...]:
    steps: list[int] = []
    while el.getparent() is not None:
        parent = el.getparent()
        steps.append(list(parent).index(el))
        el = parent
    return tuple(reversed(steps))


def written(tree: lxml.html.HtmlElement, shape: Shape, records: list[Record]) -> lxml.html.HtmlElement:
    """A copy of the page with the records written into its empty list as rows."""
    root = copy.deepcopy(tree.getroottree().getroot())
    container = root
    for step in shape.where:
        container = container[step]
    tag = container.tag
    for record in records:
        if tag in ("table", "tbody"):
            row = lxml.html.Element("tr")
            cell = etree.SubElement(row, "td")
            link = etree.SubElement(cell, "a", href=record.url, title=record.title)
            link.text = record.title
            if record.date:
                etree.SubElement(row, "td").text = record.date
        else:
            row = lxml.html.Element("li" if tag in ("ul", "ol") else "div")
            link = etree.SubElement(row, "a", href=record.url, title=record.title)
            link.text = record.title
            if record.date:
                span = etree.SubElement(row, "span", {"class": "date"})
                span.text = record.date
        container.append(row)
    return root
