"""``patrol extract FILE|URL``: what patrol reads from one page, as the crawl reads it.

The page is decoded, parsed and turned into a ``PageSnapshot`` by the same functions the
crawler uses (``crawler.pages``), and the columns it names are found by
``checks.columns.discover`` on a one-page crawl.  Used by the command and by
``benchmarks/realpages_benchmark.py``.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from checks.columns import discover
from checks.model import LinkRef, PageSnapshot, SiteCrawl
from crawler import pages
from crawler.urls import skip_scheme


def cmd_extract(args: argparse.Namespace) -> int:
    """Print what patrol reads from one saved page or one URL."""
    try:
        today = date.fromisoformat(args.today) if args.today else date.today()
    except ValueError:
        print(f"patrol extract: --today must be YYYY-MM-DD, not {args.today!r}", file=sys.stderr)
        return 2
    target = args.target
    content_type = ""
    if target.startswith(("http://", "https://")):
        from patrol.netfetch import fetch
        result = fetch(target)
        if result.error_kind or result.status is None:
            print(f"patrol extract: {target}: {result.error_kind}: {result.error}", file=sys.stderr)
            return 1
        if result.status >= 400:
            print(f"patrol extract: {target}: HTTP {result.status}", file=sys.stderr)
            return 1
        body, url = result.body, args.url or result.final_url or target
        content_type = result.headers.get("content-type", "")
    else:
        path = Path(target)
        try:
            body = path.read_bytes()
        except OSError as exc:
            print(f"patrol extract: cannot read {target}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        url = args.url or saved_from(body) or path.resolve().as_uri()
    snap = read_page(body, url, today=today, content_type=content_type)
    if snap is None:
        print(f"patrol extract: {target}: no HTML to read", file=sys.stderr)
        return 1
    data = describe(snap)
    if args.format == "json":
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        print(_as_text(data))
    return 0


_SAVED_FROM = re.compile(rb"<!--\s*saved from url=\(\d+\)(https?://[^\s>]+?)\s*-->", re.IGNORECASE)


def saved_from(body: bytes) -> str | None:
    """The address a browser wrote into the page it saved (``<!-- saved from url=(0027)http://… -->``)."""
    m = _SAVED_FROM.search(body[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


def _as_text(data: dict[str, Any]) -> str:
    lines = [f"URL:       {data['url']}", f"标题 title: {data['title']}"]
    if data["page_title"] and data["page_title"] != data["title"]:
        lines.append(f"<title>:   {data['page_title']}")
    lines.append(f"发布日期:   {data['publish_date'] or '无'}"
                 + (f"  (from {data['date_source']})" if data["date_source"] else ""))
    lines.append(f"栏目 columns ({len(data['columns'])}):")
    lines += [f"  {c['name']}  {c['url']}" for c in data["columns"]]
    lines.append(f"列表条目 items ({len(data['items'])}), newest first:")
    lines += [f"  {i['date'] or '(无日期)':10}  {i['title']}  {i['url']}"
              + (f"  [{i['date_source']}]" if i["date_source"] and i["date_source"] != "list" else "")
              for i in data["items"]]
    labels = data.get("labels") or {}
    lines.append(f"网页标签 labels ({len(labels)}):" + "".join(f"  {k}={v}" for k, v in labels.items()))
    text = data["text"]
    lines.append(f"正文 text ({len(text)} characters):")
    lines.append(text if len(text) <= 2000 else text[:2000] + " …")
    return "\n".join(lines)


def read_page(body: bytes, url: str, *, today: date | None = None,
              content_type: str = "") -> PageSnapshot | None:
    """The snapshot of one page's bytes, or None when there is no HTML to parse."""
    text, encoding = pages.decode_html(body, content_type)
    tree = pages.parse_html(text)
    if tree is None:
        return None
    links: list[LinkRef] = []
    for raw, tag, anchor, attr in pages.iter_links(tree, url, source=body):
        if skip_scheme(raw):
            continue
        links.append(LinkRef(url=raw.split("#")[0], tag=tag, anchor=anchor, attr=attr))
    return pages.snapshot(tree, url=url, final_url=url, status=200, depth=0, links=links,
                          rendered=False, encoding=encoding, content_type=content_type,
                          referer=None, fetched_at=datetime.now(timezone.utc).isoformat(),
                          today=today, html_text=text)


_HOMEPAGE_PATH = re.compile(r"/(?:(?:index|default|main|home)\.(?:s?html?|jsp|php|aspx?))?", re.IGNORECASE)


def page_columns(snap: PageSnapshot) -> list[dict[str, str]]:
    """The columns one homepage or column page names: ``[{name, url}]``, in page order."""
    parts = urlsplit(snap.url)
    # A homepage stands for the site; any other page is one of its columns, the site's root
    # being the homepage (so a column page lists itself, named by its own menu entry).
    home = snap.url if _HOMEPAGE_PATH.fullmatch(parts.path or "/") else f"{parts.scheme}://{parts.netloc}/"
    crawl = SiteCrawl(name=parts.hostname or snap.url, url=home, pages=[snap], homepage_url=home)
    order = {}
    for i, ref in enumerate(list(snap.nav_links) + list(snap.more_links) + list(snap.dir_links) + list(snap.links)):
        order.setdefault(ref.url, i)
    found = [c for c in discover(crawl, uncrawled=True) if c.kind != "section"]
    found.sort(key=lambda c: order.get(c.url, len(order)))
    return [{"name": c.name, "url": c.url} for c in found]


def describe(snap: PageSnapshot) -> dict[str, Any]:
    """The JSON object ``patrol extract --format json`` prints."""
    items = sorted(snap.list_items, key=lambda i: i.date or "", reverse=True)
    return {
        "url": snap.url,
        "title": snap.headline or snap.title,
        "page_title": snap.title,
        "publish_date": snap.published,
        "date_source": snap.published_from or None,
        "text": snap.text,
        "links": [{"url": r.url, "tag": r.tag, "anchor": r.anchor} for r in snap.links],
        "items": [{"title": i.title, "url": i.url, "date": i.date, "date_source": i.date_source or None}
                  for i in items],
        "columns": page_columns(snap),
        "labels": dict(snap.meta),          # the 发展指引's <meta> labels (docs/opengov.md)
    }
