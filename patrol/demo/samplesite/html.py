"""HTML of the sample site's pages, in the layout most district government sites share:
header, menu bar, breadcrumb (当前位置), side bar of sibling columns, list or article, footer.

Internal links are always root-relative paths written one way only ("/xwzx/zwyw/", never
"/xwzx/zwyw/index.html"), so each page has exactly one URL a crawler can know it by.
"""
from __future__ import annotations

import json
from html import escape

# Tokens the server replaces in every HTML response: the ports are only known when serving,
# and a session id changes with every page view (a crawler trap).
PORT_TOKEN = "__PORT__"
EXT_PORT_TOKEN = "__EXT_PORT__"
SID_TOKEN = "__SID__"

EXT_BASE = f"http://127.0.0.1:{EXT_PORT_TOKEN}/"


def e(text: str) -> str:
    return escape(text, quote=True)


def document(*, title: str, body: str, charset: str | None = "utf-8", head: str = "",
             raw_title: bool = False) -> str:
    """A whole page.  ``raw_title`` writes the title unescaped (the page whose title text
    contains markup, which every report must escape)."""
    meta = f'<meta charset="{charset}">\n' if charset else ""
    title_html = title if raw_title else e(title)
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n" + meta
        + '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        + f"<title>{title_html}</title>\n{head}"
        + '<link rel="stylesheet" href="/css/main.css">\n'
        + '<script src="/js/main.js"></script>\n'
        + "</head>\n<body>\n" + body + "\n</body>\n</html>\n"
    )


def header(site_name: str, home: str = "/", logo: str = "/images/logo.png") -> str:
    return (f'<div class="header"><a href="{e(home)}"><img src="{e(logo)}" alt="{e(site_name)}"></a>'
            f'<span class="site-name">{e(site_name)}</span></div>\n')


def menu(items: list[tuple[str, str]]) -> str:
    lis = "".join(f'<li><a href="{e(url)}">{e(name)}</a></li>' for name, url in items)
    return f'<div class="nav" id="nav"><ul class="menu">{lis}</ul></div>\n'


def breadcrumb(trail: list[tuple[str, str | None]]) -> str:
    """当前位置：首页 > 政务公开 > 通知公告 — the last entry is usually not a link."""
    parts = []
    for name, url in trail:
        parts.append(f'<a href="{e(url)}">{e(name)}</a>' if url else f"<span>{e(name)}</span>")
    return f'<div class="breadcrumb">当前位置：{" &gt; ".join(parts)}</div>\n'


def sidebar(title: str, items: list[tuple[str, str]], current: str = "") -> str:
    on = ' class="on"'
    lis = "".join(
        f'<li{on if url == current else ""}><a href="{e(url)}">{e(name)}</a></li>'
        for name, url in items)
    return f'<div class="side"><h3>{e(title)}</h3><ul class="side-menu">{lis}</ul></div>\n'


def footer(site_name: str, office: str, icp: str, extra_links: list[tuple[str, str]] = (),  # type: ignore[assignment]
           identity: str = "") -> str:
    """``identity``: HTML of the site's identity items (网站标识码, 公安备案, 开办者标识 ...)."""
    links = " | ".join(f'<a href="{e(url)}">{e(name)}</a>' for name, url in extra_links)
    return (f'<div class="footer"><p>{links}</p><p>主办：{e(office)}　{e(icp)}</p>'
            f'{identity}<p>版权所有：{e(site_name)}</p></div>\n')


def list_items(rows: list[tuple[str, str, str | None]], *, ul_class: str = "list") -> str:
    """rows: (title, url, shown date or None)."""
    lis = []
    for title, url, shown in rows:
        date_html = f'<span class="date">{e(shown)}</span>' if shown else ""
        lis.append(f'<li><a href="{e(url)}" title="{e(title)}" target="_blank">{e(title)}</a>{date_html}</li>')
    return f'<ul class="{ul_class}">' + "".join(lis) + "</ul>\n"


def js_list(rows: list[dict[str, str]]) -> str:
    """An empty list container filled by an inline script from an inline JSON array:
    only a browser sees these links."""
    data = json.dumps(rows, ensure_ascii=False).replace("</", "<\\/")
    return (
        '<ul class="list" id="list"></ul>\n'
        "<script>\n"
        f"var listData = {data};\n"
        "(function () {\n"
        "  var ul = document.getElementById('list');\n"
        "  listData.forEach(function (it) {\n"
        "    var li = document.createElement('li');\n"
        "    var a = document.createElement('a');\n"
        "    a.href = it.url; a.textContent = it.title; a.title = it.title;\n"
        "    var s = document.createElement('span');\n"
        "    s.className = 'date'; s.textContent = it.date;\n"
        "    li.appendChild(a); li.appendChild(s); ul.appendChild(li);\n"
        "  });\n"
        "})();\n"
        "</script>\n"
    )


def pager(links: list[tuple[str, str]], total: int) -> str:
    inner = " ".join(f'<a href="{e(url)}">{e(name)}</a>' for name, url in links)
    return f'<div class="page">共{total}页 {inner}</div>\n'


def article(*, title: str, info: str, paragraphs: list[str], extra_html: str = "") -> str:
    ps = "".join(f"<p>{e(p)}</p>" for p in paragraphs)
    return (f'<div class="article"><h1 class="title">{e(title)}</h1>'
            f'<div class="info">{info}</div>'
            f'<div class="content" id="content">{ps}{extra_html}</div></div>\n')


def not_found_page(site_name: str) -> str:
    """The site's own not-found page: served with 404, and with 200 under /old/ (soft 404)."""
    body = (header(site_name)
            + '<div class="main error-page"><h1>抱歉，您访问的页面不存在</h1>'
              '<p>您访问的页面不存在或已被删除，请检查网址是否正确。</p>'
              '<p><a href="/">返回首页</a></p></div>\n')
    return document(title="页面不存在", body=body)


def calendar_page(site_name: str, month: str, prev_month: str, next_month: str, days: int) -> str:
    """An endless calendar: every month links the one before and after it (a crawler trap)."""
    cells = "".join(f"<td>{d}</td>" + ("</tr><tr>" if d % 7 == 0 else "") for d in range(1, days + 1))
    body = (header(site_name)
            + f'<div class="main calendar"><h1>政务日历 {e(month)}</h1>'
            f'<p><a href="/calendar/?month={e(prev_month)}">上个月</a> '
            f'<a href="/calendar/?month={e(next_month)}">下个月</a></p>'
            f'<table><tr>{cells}</tr></table><p><a href="/">返回首页</a></p></div>')
    return document(title=f"政务日历_{month}", body=body)


def plain_page(site_name: str, heading: str, text: str, links: list[tuple[str, str]] = ()) -> str:  # type: ignore[assignment]
    """A small page with no site chrome (service systems, trap targets, answers of routes)."""
    lis = "".join(f'<li><a href="{e(url)}">{e(name)}</a></li>' for name, url in links)
    body = (f'<div class="main"><h1>{e(heading)}</h1><p>{e(text)}</p>'
            f'<ul>{lis}</ul><p><a href="/">返回{e(site_name)}首页</a></p></div>')
    return document(title=f"{heading}_{site_name}", body=body)
