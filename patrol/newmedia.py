"""Government new-media accounts: loading their posts and inspecting them beside the websites.

Posts come from one of three places, whichever the account's configuration names:

- ``feed``: RSS, Atom (parsed by feedparser) or JSON Feed (parsed here), by http(s) URL
  through ``patrol.netfetch`` and the run's resolver, or from a local path / file:// URL;
- ``page``: a public account page rendered with headless Chromium, one post per element
  matching ``item_selector``;
- ``export``: a CSV (UTF-8, UTF-8 with BOM, GBK/GB18030 or UTF-16) or XLSX export of posts.

Whatever goes wrong (the account vanished, the feed is not XML, a date is nonsense) ends up
in ``AccountPosts.status`` and ``errors``; nothing here raises for bad input.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from checks.model import CheckContext, CheckOutput, LinkKind, LinkResult, SiteCrawl
from checks.newmedia import CHINA_TZ, Post, check_account, load_rules, parse_post_date, repost_source
from crawler.linkpolicy import get_after_head, kind_for_status
from common.config import Config, NewMedia

log = logging.getLogger(__name__)

GONE_STATUSES = (404, 410)


@dataclass
class AccountPosts:
    """What loading one account's posts produced."""

    account: str
    source: str                                  # the feed / page / export it came from
    posts: list[Post] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    status: str = "ok"                           # ok | empty | unreachable | invalid


# --- loading -------------------------------------------------------------------------------

def load_posts(account: NewMedia, *, resolver: Any = None, timeout: float = 20.0, today: date) -> AccountPosts:
    """Load the posts of one account from its feed, page and/or export (all that are set)."""
    tz = _zone(account.timezone)
    now = _now_on(today, tz)
    parts: list[AccountPosts] = []
    try:
        if account.feed:
            parts.append(load_feed(account.feed, resolver=resolver, timeout=timeout, now=now, tz=tz,
                                   name=account.name))
        if account.page:
            parts.append(load_page(account, resolver=resolver, timeout=timeout, now=now, tz=tz))
        if account.export:
            parts.append(load_export(account.export, resolver=resolver, timeout=timeout, now=now, tz=tz,
                                     name=account.name))
    except Exception as exc:  # a loader bug must fail this account, not the whole run
        log.exception("loading posts of %s failed", account.name)
        parts.append(AccountPosts(account.name, account.feed or account.page or account.export or "",
                                  errors=[f"读取失败：{type(exc).__name__}: {exc}"], status="invalid"))
    return _merge(account.name, parts)


def _merge(name: str, parts: list[AccountPosts]) -> AccountPosts:
    if len(parts) == 1:
        parts[0].account = name
        return parts[0]
    merged = AccountPosts(name, parts[0].source if parts else "")
    seen: set[str] = set()
    for part in parts:
        merged.errors.extend(part.errors)
        for post in part.posts:
            if post.key() not in seen:
                seen.add(post.key())
                merged.posts.append(post)
    statuses = {p.status for p in parts}
    if merged.posts:
        merged.status = "ok"
    elif "empty" in statuses or "ok" in statuses:
        merged.status = "empty"
    elif "invalid" in statuses:
        merged.status = "invalid"
    else:
        merged.status = "unreachable"
    return merged


def _zone(name: str | None) -> tzinfo:
    if not name or name == "Asia/Shanghai":
        return CHINA_TZ
    try:
        from zoneinfo import ZoneInfo
        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - validated in config; a bad name falls back to China time
        return CHINA_TZ


def _now_on(today: date, tz: tzinfo) -> datetime:
    """"Now" for relative dates ("3天前"): the real time when checking today, else noon of ``today``."""
    now = datetime.now(tz)
    return now if now.date() == today else datetime.combine(today, time(12), tz)


def _read_source(location: str, *, resolver: Any, timeout: float, what: str) -> tuple[bytes | None, str, list[str], str]:
    """Bytes of a URL or local file: (body, content type, errors, status if failed)."""
    scheme = urlsplit(location).scheme.lower()
    if scheme in ("http", "https"):
        from patrol.netfetch import fetch
        result = fetch(location, resolver=resolver, timeout=timeout,
                       headers={"Accept": "application/rss+xml, application/atom+xml, application/feed+json, "
                                          "application/json, application/xml, text/xml, text/csv, */*"})
        if result.error_kind:
            return None, "", [f"{what}无法访问（{result.error_kind}）：{result.error}"], "unreachable"
        if result.status in GONE_STATUSES:
            return None, "", [f"{what}返回 HTTP {result.status}：账号可能已注销、迁移或停用（{location}）"], "unreachable"
        if result.status is None or result.status >= 400:
            return None, "", [f"{what}返回 HTTP {result.status}（{location}）"], "unreachable"
        return result.body, result.headers.get("content-type", ""), [], ""
    path = Path(unquote(urlsplit(location).path)) if scheme == "file" else Path(location)
    try:
        return path.read_bytes(), "", [], ""
    except FileNotFoundError:
        return None, "", [f"{what}文件不存在：{path}"], "unreachable"
    except OSError as exc:
        return None, "", [f"{what}无法读取：{path}：{exc.strerror or exc}"], "unreachable"


# --- feeds ---------------------------------------------------------------------------------

def load_feed(location: str, *, resolver: Any = None, timeout: float = 20.0, now: datetime,
              tz: tzinfo = CHINA_TZ, name: str = "") -> AccountPosts:
    out = AccountPosts(name, location)
    body, ctype, errors, failed = _read_source(location, resolver=resolver, timeout=timeout, what="订阅源")
    if body is None:
        out.errors, out.status = errors, failed
        return out
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"{" or "json" in ctype.lower():
        posts, errors, status = _parse_json_feed(body, location, now, tz)
    else:
        posts, errors, status = _parse_xml_feed(body, location, now, tz, ctype)
    out.posts, out.errors, out.status = posts, errors, status
    return out


def _parse_xml_feed(body: bytes, base: str, now: datetime, tz: tzinfo,
                    ctype: str = "") -> tuple[list[Post], list[str], str]:
    import feedparser
    from feedparser.exceptions import CharacterEncodingOverride, NonXMLContentType

    headers = {"content-type": ctype or "application/xml"}
    if urlsplit(base).scheme in ("http", "https"):
        headers["content-location"] = base       # relative links in the feed resolve against it
    # Bytes, never str: feedparser treats a str as a URL or file name to open.
    parsed = feedparser.parse(body, response_headers=headers)
    errors: list[str] = []
    problem = parsed.get("bozo_exception")
    # A server's wrong content type or charset label is harmless when the XML itself parses.
    if isinstance(problem, (CharacterEncodingOverride, NonXMLContentType)):
        problem = None
    entries = parsed.get("entries") or []
    if not entries and (problem or not parsed.get("version")):
        reason = str(problem or "不是 RSS、Atom 或 JSON Feed")
        return [], [f"订阅源无法解析：{reason}"], "invalid"
    if problem:
        # Recovered by the lenient parser: usable, but the owner should fix it.
        errors.append(f"订阅源格式有误（已尽量读取）：{problem}")
    posts = []
    for entry in entries:
        html = ""
        if entry.get("content"):
            html = entry.content[0].get("value", "")
        html = html or entry.get("summary", "") or entry.get("description", "")
        url = entry.get("link", "") or ""
        text, links = _html_text(html, url or base)
        raw = entry.get("published") or entry.get("updated") or entry.get("created") or ""
        when = parse_post_date(raw, now=now, tz=tz) if raw else None
        if when is None:
            parsed_tuple = entry.get("published_parsed") or entry.get("updated_parsed")
            if parsed_tuple:
                when = datetime(*parsed_tuple[:6], tzinfo=UTC)
        title = _strip_html(entry.get("title", "")) or _clip(text, 40)
        if not (title or url or text):
            continue        # debris the lenient parser made of a broken element
        if when is None:
            errors.append(f"文章“{_clip(title, 30)}”的发布时间无法识别：{raw!r}" if raw
                          else f"文章“{_clip(title, 30)}”没有发布时间")
        source = ""
        src = entry.get("source")
        if isinstance(src, dict):
            source = str(src.get("title") or src.get("value") or "")
        posts.append(Post(title=title, date=when, url=url, text=text, source=source, origin="feed",
                          links=[link for link in links if link != url], raw_date=str(raw)))
    if not posts and problem:
        return [], [f"订阅源无法解析：{problem}"], "invalid"
    return posts, errors, "ok" if posts else "empty"


def _parse_json_feed(body: bytes, base: str, now: datetime, tz: tzinfo) -> tuple[list[Post], list[str], str]:
    """JSON Feed 1.0/1.1 (jsonfeed.org); feedparser does not read it."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [], [f"JSON Feed 无法解析：{exc}"], "invalid"
    if not isinstance(data, dict) or not isinstance(data.get("items", []), list) or \
            "jsonfeed.org" not in str(data.get("version", "")):
        return [], ["JSON 内容不是 JSON Feed（缺少 version: https://jsonfeed.org/version/1.1 或 items）"], "invalid"
    feed_base = str(data.get("feed_url") or data.get("home_page_url") or base)
    posts, errors = [], []
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            errors.append(f"JSON Feed 条目不是对象：{_clip(str(item), 40)}")
            continue
        url = urljoin(feed_base, str(item.get("url") or "")) if item.get("url") else ""
        html = str(item.get("content_html") or "")
        text, links = _html_text(html, url or feed_base) if html else (str(item.get("content_text") or ""), [])
        text = text or str(item.get("summary") or "")
        external = str(item.get("external_url") or "")
        if external:
            links.insert(0, urljoin(feed_base, external))
        raw = item.get("date_published") or item.get("date_modified") or ""
        when = parse_post_date(raw, now=now, tz=tz) if raw else None
        title = _strip_html(str(item.get("title") or "")) or _clip(text, 40)
        if when is None:
            errors.append(f"文章“{_clip(title, 30)}”的发布时间无法识别：{raw!r}" if raw
                          else f"文章“{_clip(title, 30)}”没有发布时间")
        source = item.get("_source") or ""
        if isinstance(source, dict):
            source = source.get("name") or source.get("title") or ""
        posts.append(Post(title=title, date=when, url=url, text=text, source=str(source), origin="feed",
                          links=[link for link in dict.fromkeys(links) if link != url], raw_date=str(raw)))
    return posts, errors, "ok" if posts else "empty"


def _html_text(html: str, base: str) -> tuple[str, list[str]]:
    """Text and absolute links of an HTML fragment (feed content)."""
    if not html or "<" not in html:
        return " ".join((html or "").split()), []
    try:
        import lxml.html
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except Exception:  # noqa: BLE001 - lxml rejects some fragments (control characters, empty documents)
        return _strip_html(html), []
    links = []
    for href in root.xpath("//a/@href"):
        href = str(href).strip()
        if href and not href.startswith(("#", "javascript:", "mailto:", "tel:")):
            links.append(urljoin(base, href))
    return " ".join(root.text_content().split()), list(dict.fromkeys(links))


def _strip_html(text: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", text or "").split())


def _clip(text: str, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


# --- exports -------------------------------------------------------------------------------

def load_export(location: str, *, resolver: Any = None, timeout: float = 20.0, now: datetime,
                tz: tzinfo = CHINA_TZ, name: str = "") -> AccountPosts:
    out = AccountPosts(name, location)
    body, _ctype, errors, failed = _read_source(location, resolver=resolver, timeout=timeout, what="导出文件")
    if body is None:
        out.errors, out.status = errors, failed
        return out
    if body[:4] == b"PK\x03\x04" or location.lower().endswith((".xlsx", ".xlsm")):
        rows, error = _xlsx_rows(body)
    else:
        rows, error = _csv_rows(body)
    if error:
        out.errors, out.status = [error], "invalid"
        return out
    posts, errors, status = _posts_from_rows(rows, now, tz)
    out.posts, out.errors, out.status = posts, errors, status
    return out


def _csv_rows(body: bytes) -> tuple[list[list[Any]], str]:
    text = None
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encodings = ["utf-16"]            # Excel's "Unicode text" export
    else:
        encodings = ["utf-8-sig", "gb18030"]   # GB18030 reads GBK and GB2312 as well
    for encoding in encodings:
        try:
            text = body.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        return [], "导出文件编码无法识别（应为 UTF-8 或 GBK 编码的 CSV）"
    # The delimiter used most in the first lines (csv.Sniffer is thrown off by caption rows).
    head = text[:8192].splitlines()[:20]
    delimiter = max(",\t;", key=lambda d: sum(line.count(d) for line in head))
    try:
        return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)], ""
    except csv.Error as exc:
        return [], f"CSV 无法解析：{exc}"


def _xlsx_rows(body: bytes) -> tuple[list[list[Any]], str]:
    import openpyxl
    try:
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for damaged files
        return [], f"XLSX 文件无法打开：{type(exc).__name__}: {exc}"
    try:
        sheet = book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)], ""
    finally:
        book.close()


def _posts_from_rows(rows: list[list[Any]], now: datetime, tz: tzinfo) -> tuple[list[Post], list[str], str]:
    columns = load_rules().export_columns
    header_at, mapping = -1, {}
    for i, row in enumerate(rows[:10]):          # exports sometimes start with a caption row
        mapping = _map_header(row, columns)
        if "title" in mapping or "text" in mapping:
            header_at = i
            break
    if header_at < 0:
        first = [str(c) for c in (rows[0] if rows else []) if c not in (None, "")]
        message = (f"导出文件缺少标题或正文列（表头：{', '.join(first) or '空'}；"
                   f"可用列名：{', '.join(columns.get('title', [])[:4])} / {', '.join(columns.get('date', [])[:4])} …）")
        return [], [message], "invalid"
    errors = [] if "date" in mapping else ["导出文件没有发布时间列，无法判断更新情况"]
    posts = []
    for n, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        cells = {key: row[idx] if idx < len(row) else None for key, idx in mapping.items()}
        if all(v in (None, "") for v in cells.values()):
            continue
        text = _cell(cells.get("text"))
        title = _cell(cells.get("title")) or _clip(text, 40)
        raw = cells.get("date")
        when = parse_post_date(raw, now=now, tz=tz) if raw not in (None, "") else None
        if when is None and "date" in mapping:
            errors.append(f"第 {n} 行“{_clip(title, 30)}”的发布时间无法识别：{_cell(raw)!r}")
        posts.append(Post(title=title, date=when, url=_cell(cells.get("url")), text=text,
                          source=_cell(cells.get("source")), origin="export", raw_date=_cell(raw)))
    return posts, errors, "ok" if posts else "empty"


def _map_header(row: Iterable[Any], columns: dict[str, list[str]]) -> dict[str, int]:
    names = [re.sub(r"\s+", "", str(c or "")).lstrip("\ufeff").lower() for c in row]
    mapping: dict[str, int] = {}
    for key, aliases in columns.items():
        for idx, name in enumerate(names):
            if name and name in aliases:
                mapping[key] = idx
                break
    for key, aliases in columns.items():       # then "发布时间(北京时间)"-style headers
        if key in mapping:
            continue
        for idx, name in enumerate(names):
            if name and idx not in mapping.values() and any(name.startswith(a) for a in aliases if len(a) > 1):
                mapping[key] = idx
                break
    return mapping


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# --- pages ---------------------------------------------------------------------------------

_EXTRACT_JS = """
([itemSel, titleSel, dateSel, linkSel]) => {
  const dateRe = /\\d{4}\\s*[-\\/年.]\\s*\\d{1,2}\\s*[-\\/月.]\\s*\\d{1,2}\\s*日?(?:[\\sT]*\\d{1,2}[:：]\\d{2}(?::\\d{2})?(?:Z|[+-]\\d{2}:?\\d{2})?)?|\\d+\\s*(?:秒|分钟|小时|天|周|个月)前|(?:今天|昨天|前天)(?:\\s*\\d{1,2}[:：]\\d{2})?|刚刚|\\d{1,2}-\\d{1,2}(?:\\s+\\d{1,2}:\\d{2})?/;
  const pick = (el, sel) => sel ? el.querySelector(sel) : null;
  return Array.from(document.querySelectorAll(itemSel)).map(el => {
    const linkEl = pick(el, linkSel) || (el.matches('a[href]') ? el : el.querySelector('a[href]'));
    const titleEl = pick(el, titleSel) || linkEl;
    const dateEl = pick(el, dateSel) || el.querySelector('time');
    let date = '';
    if (dateEl) date = (dateEl.getAttribute('datetime') || dateEl.innerText || '').trim();
    if (!date) { const m = (el.innerText || '').match(dateRe); date = m ? m[0] : ''; }
    const links = Array.from(el.querySelectorAll('a[href]')).map(a => a.href);
    return {title: (titleEl ? titleEl.innerText : '').trim(), url: linkEl ? linkEl.href : '',
            date: date, text: (el.innerText || '').trim(), links: links};
  });
}
"""


def load_page(account: NewMedia, *, resolver: Any = None, timeout: float = 20.0, now: datetime,
              tz: tzinfo = CHINA_TZ) -> AccountPosts:
    """Render the account page in headless Chromium and read one post per ``item_selector``."""
    url = account.page or ""
    out = AccountPosts(account.name, url)
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        from common.browser import BrowserNotFound, launched
    except ImportError as exc:
        out.errors, out.status = [f"无法渲染页面：缺少 Playwright（{exc}）"], "invalid"
        return out
    ms = int(timeout * 1000)
    items: list[dict[str, Any]] = []
    try:
        # The full browser: platforms' pages check what runs them, and the headless shell
        # looks like no desktop browser (common/browser.py). It resolves names as the rest of
        # the run does (overrides, configured nameservers).
        with launched(shell=False, resolver=resolver, hosts=[urlsplit(url).hostname or ""]) as browser:
            page = browser.new_page()
            try:
                response = page.goto(url, wait_until="domcontentloaded", timeout=ms)
            except PlaywrightTimeout:
                out.errors, out.status = [f"账号页面 {timeout:g} 秒内未打开：{url}"], "unreachable"
                return out
            except PlaywrightError as exc:
                out.errors, out.status = [f"账号页面无法访问：{_first_line(exc)}"], "unreachable"
                return out
            if response is not None and response.status >= 400:
                gone = "：账号可能已注销、迁移或停用" if response.status in GONE_STATUSES else ""
                out.errors, out.status = [f"账号页面返回 HTTP {response.status}{gone}（{url}）"], "unreachable"
                return out
            try:
                page.wait_for_selector(account.item_selector or "body", timeout=ms)
            except PlaywrightTimeout:
                out.errors = [(f"页面上没有与 item_selector {account.item_selector!r} 匹配的内容"
                               f"（{timeout:g} 秒内）：账号无内容，或选择器已不适用")]
                out.status = "empty"
                return out
            try:
                page.wait_for_load_state("networkidle", timeout=min(ms, 5000))
            except PlaywrightTimeout:
                pass        # long-polling pages never go idle; the items are there already
            items = page.evaluate(_EXTRACT_JS, [account.item_selector, account.title_selector,
                                                account.date_selector, account.link_selector])
    except BrowserNotFound as exc:
        out.errors, out.status = [f"无法渲染页面：{exc}"], "invalid"
        return out
    except PlaywrightError as exc:
        out.errors, out.status = [f"无法渲染页面：{_first_line(exc)}"], "invalid"
        return out
    for item in items:
        raw = str(item.get("date") or "")
        when = parse_post_date(raw, now=now, tz=tz) if raw else None
        text = str(item.get("text") or "")
        title = str(item.get("title") or "") or _clip(text, 40)
        if when is None:
            out.errors.append(f"文章“{_clip(title, 30)}”的发布时间无法识别：{raw!r}" if raw
                              else f"文章“{_clip(title, 30)}”上找不到发布时间")
        post_url = str(item.get("url") or "")
        links = [str(link) for link in item.get("links") or [] if str(link) != post_url]
        out.posts.append(Post(title=title, date=when, url=post_url, text=text, origin="page",
                              links=list(dict.fromkeys(links)), raw_date=raw))
    out.status = "ok" if out.posts else "empty"
    return out


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# --- links in posts ------------------------------------------------------------------------

def check_links(urls: Iterable[str], *, resolver: Any = None, timeout: float = 15.0,
                workers: int = 8, internal_host: str = "") -> dict[str, LinkResult]:
    """Check each distinct http(s) URL once: HEAD, then GET when HEAD is refused or fails."""
    wanted = [u for u in dict.fromkeys(urls) if urlsplit(u).scheme in ("http", "https")]
    if not wanted:
        return {}
    from patrol.netfetch import fetch

    def one(url: str) -> LinkResult:
        head = fetch(url, resolver=resolver, method="HEAD", timeout=timeout)
        result, method = head, "HEAD"
        # The link check's rule (crawler.linkpolicy); platforms also let a HEAD time out, and
        # with no retries here that costs one GET, not a round of them.
        if (get_after_head(head.status, head.headers.get("retry-after"), head.error_kind)
                or head.error_kind == LinkKind.TIMEOUT.value):
            result, method = fetch(url, resolver=resolver, method="GET", timeout=timeout,
                                   max_body=65536), "GET"
        if result.error_kind:
            kind = result.error_kind if result.error_kind in {k.value for k in LinkKind} else "connection"
        elif result.status is not None:
            kind = kind_for_status(result.status, result.headers.get("retry-after"))
        else:
            kind = LinkKind.OK.value
        host = (urlsplit(url).hostname or "").lower()
        return LinkResult(url=url, kind=kind, status=result.status, method=method,
                          redirects=list(result.redirects), final_url=result.final_url or None,
                          content_type=result.headers.get("content-type", ""), elapsed_ms=result.elapsed_ms,
                          error=result.error, attempts=2 if method == "GET" else 1,
                          internal=bool(internal_host) and host == internal_host)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(wanted)))) as pool:
        return dict(zip(wanted, pool.map(one, wanted)))


# --- inspection ----------------------------------------------------------------------------

def inspect_accounts(cfg: Config, accounts: list[NewMedia] | None = None, *, today: date, store: Any = None,
                     resolver: Any = None, text_checker: Any = None,
                     link_workers: int = 8) -> list[tuple[SiteCrawl, CheckOutput]]:
    """Load, link-check and judge each account; one (SiteCrawl, CheckOutput) per account.

    With a ``store`` (``store.Store``), every post seen is remembered, so the year's
    running repost total survives feeds that only show their last 20 posts.
    """
    from common.thresholds import merged

    if resolver is None:
        from common.resolver import Resolver
        resolver = Resolver.from_config(cfg.resolver)
    timeout = float(cfg.crawl.timeout)
    results = []
    for account in (cfg.newmedia if accounts is None else accounts):
        loaded = load_posts(account, resolver=resolver, timeout=timeout, today=today)
        link_urls = [u for p in loaded.posts for u in [p.url, *p.links] if u]
        source_host = (urlsplit(loaded.source).hostname or "").lower()
        links = check_links(link_urls, resolver=resolver, timeout=timeout, workers=link_workers,
                            internal_host=source_host)
        year_posts = None
        if store is not None and hasattr(store, "save_newmedia_posts"):
            try:
                rules = load_rules()
                store.save_newmedia_posts(account.name, [_post_row(p, rules) for p in loaded.posts])
                year_posts = [_row_post(r) for r in store.newmedia_posts(account.name, since=date(today.year, 1, 1))]
            except Exception as exc:  # noqa: BLE001 - the store is a help for the yearly total, not a must
                log.warning("remembering posts of %s failed: %s", account.name, exc)
                loaded.errors.append(f"历史文章记录失败：{exc}")
        ctx = CheckContext(site=account.name, department=account.department, today=today.isoformat(),
                           thresholds=merged(cfg, account),  # type: ignore[arg-type]
                           leaders=[{"name": x.name, "title": x.title} for x in cfg.leaders])
        info = {"name": account.name, "platform": account.platform, "department": account.department,
                "url": loaded.source, "status": loaded.status, "errors": loaded.errors}
        output = check_account(info, loaded.posts, ctx, year_posts=year_posts, text_checker=text_checker,
                               link_results=links)
        crawl = SiteCrawl(name=account.name, url=loaded.source, department=account.department, links=links,
                          homepage_url=account.url or loaded.source, errors=list(loaded.errors),
                          stats={"kind": "newmedia", "platform": account.platform, "status": loaded.status,
                                 "posts": len(loaded.posts)})
        results.append((crawl, output))
    return results


def site_result(crawl: SiteCrawl, output: CheckOutput) -> dict[str, Any]:
    """The ``result`` argument of ``Store.save_site(..., kind="newmedia")`` for one account."""
    broken = sum(1 for r in crawl.links.values() if r.broken)
    status = output.facts.get("status", "ok")
    return {"status": "completed" if status in ("ok", "empty") else "failed", "pages": 0,
            "links": len(crawl.links), "broken": broken, "score": None, "veto": list(output.veto),
            "stats": {**crawl.stats, **output.facts}, "error": "; ".join(crawl.errors[:5])}


def _post_row(post: Post, rules: Any) -> dict[str, Any]:
    day = post.day()
    return {"key": post.key(), "url": post.url, "title": post.title[:300],
            "day": day.isoformat() if day else None, "repost": repost_source(post, rules) or "",
            "origin": post.origin}


def _row_post(row: Any) -> Post:
    day = getattr(row, "day", None)
    return Post(title=row.title, date=date.fromisoformat(day) if day else None, url=row.url,
                source=row.repost or "", origin=row.origin or "feed")
