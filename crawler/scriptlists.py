"""Lists a script writes from data in the page: learnt from renders, then read without one.

A page whose list container is empty and filled by its script is rendered (``render: auto``).
Many such pages share one template (a column's list pages): the same script writes the same
kind of rows from an array of records written into each page (``var listData = [{"title": …,
"url": …, "date": …}, …]``).  For such a page this module can write the rows itself: it finds
the one empty list container and the one array of records (each with a link and a title, maybe
a date) in the page's own scripts, and writes them into the container as list rows.

Whether that gives what a visitor sees is learnt, never assumed.  Pages of a template are
rendered as before; for each, the spider compares what it reads from the rendered page (links,
list rows, text) with what it reads from the page with the rows written in.  After
``TRUST_AFTER`` pages agree, and none disagreed, the template's later pages are read without
the browser; one disagreement and the template's pages are always rendered.  A page that does
not have the template's shape (no array of records, not one empty list) is rendered.

The template of a page: its empty list container (tag, id, class), its external scripts and
its inline scripts with their literals (strings, numbers, the data array) blanked, so pages
whose only difference is their data share one.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class Record:
    url: str
    title: str
    date: str = ""


Shape = tuple[str, list[Record], tuple[int, ...]]     # template key, records, container's path


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
    read: int = 0            # pages read from their own data instead of rendered

    def key(self, tree: lxml.html.HtmlElement) -> str | None:
        """The page's template (see the module docstring); None when it has not the shape."""
        shape = _shape(tree)
        return shape[0] if shape else None

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

    def reading(self, tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
        """The page with its list written in, when its template is trusted; else None (render)."""
        shape = _shape(tree)
        if shape is None or not self.trusted(shape[0]):
            return None
        if any(_MARKUP.search(r.title) for r in shape[1]):
            # A script may write such a title as markup (innerHTML) or as text: only the
            # browser shows which, whatever the pages learnt from did.
            return None
        self.read += 1
        return written(tree, shape)


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
    """The page's template and the page with its list written in (for learning)."""
    shape = _shape(tree)
    if shape is None:
        return None
    return shape[0], written(tree, shape)


# --- the page's shape -----------------------------------------------------------------------

def _shape(tree: lxml.html.HtmlElement) -> Shape | None:
    """(template key, the records, the path of the container to fill) or None."""
    containers = list(lists_to_fill(tree))
    if len(containers) != 1:
        return None
    container = containers[0]
    found: list[list[Record]] = []
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
        for start, end, records in arrays:
            found.append(records)
        rest = text
        for start, end, _ in reversed(arrays):
            rest = rest[:start] + "[]" + rest[end:]
        blanked.append(_NUMBER.sub("0", _STRING.sub('""', rest)))
    if len(found) != 1 or not found[0]:
        return None
    where = _path(container)
    signature = json.dumps([container.tag, container.get("id") or "", container.get("class") or "",
                            sorted(sources), blanked], ensure_ascii=False)
    return hashlib.sha1(signature.encode("utf-8")).hexdigest(), found[0], where


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


def written(tree: lxml.html.HtmlElement, shape: Shape) -> lxml.html.HtmlElement:
    """A copy of the page with the records written into its empty list as rows."""
    _, records, where = shape
    root = copy.deepcopy(tree.getroottree().getroot())
    container = root
    for step in where:
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
