"""Building PageSnapshots from HTML the way the crawler does: parse once, extract, copy."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urljoin

import lxml.html

from checks.model import LinkRef, ListItem, PageSnapshot
from checks.pagefacts import extract

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "html"
TODAY = date(2026, 11, 22)


def fixture_text(name: str) -> str:
    raw = (FIXTURES / name).read_bytes()
    return raw.decode("gbk" if "gbk" in name else "utf-8")


def snapshot(html: str, url: str, *, depth: int = 1, rendered: bool = False, status: int = 200,
             today: date = TODAY) -> PageSnapshot:
    tree = lxml.html.fromstring(html)
    facts = extract(tree, url, html_text=html, today=today)
    links = []
    for el, attr, link, _pos in tree.iterlinks():
        try:
            link = urljoin(url, link.strip())
        except ValueError:
            continue                       # the crawler reports these as invalid URLs
        if attr in ("href", "src") and link.startswith("http"):
            anchor = (el.text_content() if el.tag == "a" else el.get("alt") or "").strip()
            links.append(LinkRef(url=link.split("#")[0], tag=el.tag, anchor=anchor[:120]))
    return PageSnapshot(
        url=url, final_url=url, status=status, depth=depth, title=facts.title, text=facts.text,
        links=links, rendered=rendered, published=facts.published, breadcrumb=facts.breadcrumb,
        nav_links=facts.nav_links, list_items=facts.list_items, placeholder=facts.placeholder,
        blocks=facts.blocks, more_links=facts.more_links, pagination=facts.pagination,
        needs_render=facts.needs_render, dir_links=facts.dir_links, headline=facts.headline,
        published_from=facts.published_from)


def list_page(url: str, name: str, dates: list[str | None], *, nav: list[tuple[str, str]] = (),
              crumbs: tuple[str, ...] = ("首页",), placeholder: bool = False, depth: int = 1,
              article_ext: str = "html", url_dates: bool = True) -> str:
    """HTML of a column page whose entries carry the given dates (None: no date shown)."""
    menu = "".join(f'<li><a href="{u}">{n}</a></li>' for u, n in nav)
    items = []
    for i, d in enumerate(dates):
        compact = (d or "2026-01-01").replace("-", "")
        href = f"./{compact[:6]}/t{compact}_{i}.{article_ext}" if url_dates else f"./p/{i}.{article_ext}"
        shown = f"<span>{d}</span>" if d else ""
        items.append(f'<li><a href="{href}">{name}第{i + 1}条信息标题示例</a>{shown}</li>')
    body = "<li>暂无信息</li>" if placeholder else "".join(items)
    crumb = " &gt; ".join(list(crumbs) + [name])
    return (f'<html><head><meta charset="utf-8"><title>{name}_清溪区人民政府</title></head><body>'
            f'<div class="nav"><ul>{menu}</ul></div>'
            f'<div class="position">当前位置：{crumb}</div>'
            f'<ul class="list">{body}</ul></body></html>')


def item(title: str, url: str, day: str | None, source: str = "list") -> ListItem:
    return ListItem(title=title, url=url, date=day, date_source=source if day else "")
