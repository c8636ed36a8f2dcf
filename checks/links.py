"""Broken links: what counts as broken, soft-404 recognition, and the findings.

The crawler records one ``LinkResult`` per distinct URL; this module turns a site's results
and the pages that carry each link into ``broken_link`` findings.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from checks.model import (
    CheckContext,
    CheckOutput,
    Finding,
    LinkKind,
    LinkResult,
    PageSnapshot,
    SiteCrawl,
    kind_family,
)

# Phrases that a not-found page shows.  Matched on a page's title, or on its whole text when
# the page is short (a long article that merely mentions "404" is not a not-found page).
NOT_FOUND_TITLE_RE = re.compile(
    r"404|页面不存在|页面未找到|找不到(该|此|您要的)?页面|无法找到(该|此)?页面|访问的页面不存在|"
    r"not\s*found|page\s+not\s+found|error\s*404|页面已删除|页面走丢了|信息不存在|文章不存在",
    re.IGNORECASE)
NOT_FOUND_TEXT_RE = re.compile(
    r"您(所)?访问的页面不存在|页面不存在|页面未找到|找不到(该|此|您要的|您访问的)?页面|无法找到(该|此)?页面|"
    r"页面已被删除|页面走丢了|该信息不存在|该文章不存在|信息已删除|page\s+not\s+found|404\s*not\s*found",
    re.IGNORECASE)
SHORT_PAGE_CHARS = 600

# Extensions of things that are not HTML pages: checked with HEAD, never parsed.
RESOURCE_EXTENSIONS = frozenset("""
pdf doc docx xls xlsx ppt pptx wps et dps ofd zip rar 7z gz tar bz2 xz txt csv xml json rtf
jpg jpeg png gif bmp webp svg ico tif tiff mp3 mp4 avi wmv flv mov mkv webm wav ogg m4a
css js woff woff2 ttf eot otf apk exe msi dmg iso swf ceb caj
""".split())
ATTACHMENT_EXTENSIONS = frozenset("""
pdf doc docx xls xlsx ppt pptx wps et dps ofd zip rar 7z gz tar bz2 xz txt csv rtf ceb caj apk exe msi
""".split())

MESSAGES = {
    "timeout": "链接访问超时",
    "dns": "链接域名无法解析",
    "refused": "链接服务器拒绝连接",
    "tls": "链接安全连接（HTTPS 证书/握手）失败",
    "soft_404": "链接打开的是“页面不存在”提示页（软 404）",
    "redirect_loop": "链接重定向形成循环",
    "too_many_redirects": "链接重定向次数过多",
    "invalid_url": "链接地址格式错误",
    "connection": "链接连接中断",
    "local_file": "链接指向编辑者本机文件，公众无法打开",
    "unsupported_scheme": "链接使用浏览器不支持的协议，公众无法打开",
    "invalid_mailto": "邮件链接地址格式错误",
}
TAG_NOUNS = {"img": "图片", "script": "脚本", "link": "样式/资源", "iframe": "内嵌页面",
             "frame": "内嵌页面", "embed": "嵌入资源", "source": "媒体", "object": "嵌入资源",
             "track": "字幕文件", "applet": "Java 小程序", "style": "样式表引用", "css": "样式表引用"}
# Where the link sits when it is not the tag's usual attribute: the words of the report.
ATTR_NOUNS = {"background": "背景图片", "style": "样式中的图片", "srcset": "图片", "poster": "视频封面",
              "formaction": "表单提交地址", "manifest": "离线缓存清单", "codebase": "嵌入资源",
              "css": "样式表引用", "@import": "样式表引用", "src": "图片按钮"}
# Links longer than this are fetched, and reported as a warning (old browsers, proxies and
# some servers stop at it).
LONG_URL = 2048


def checkable_fragment(fragment: str) -> bool:
    """A #fragment that names a place on the page.  Left alone: empty and #top (browsers
    scroll to the top without a target), script routes (#/path, #!x), parameters for a viewer
    (#page=2) and text fragments (#:~:text=)."""
    return (0 < len(fragment) <= 200 and fragment.lower() != "top" and "=" not in fragment
            and not fragment.startswith(("/", "!", ":~:")))


def looks_not_found(title: str, text: str) -> bool:
    """True when a 200 page says it is a not-found page."""
    if title and NOT_FOUND_TITLE_RE.search(title):
        return True
    body = text.strip()
    return len(body) <= SHORT_PAGE_CHARS and bool(NOT_FOUND_TEXT_RE.search(body))


def page_signature(title: str, text: str) -> str:
    """A fingerprint of a page's template-level content, used to recognise a host's not-found page.

    Digits are dropped (dates, counters, the requested path's numbers) and the text folded, so
    every rendering of the same not-found page gives the same value."""
    folded = re.sub(r"[\d\s]+", "", (title + "|" + text[:2000]).lower())
    return hashlib.sha1(folded.encode("utf-8")).hexdigest()[:16]


def rate_limited(status: int, retry_after: str | bytes | None = None) -> bool:
    """429, or 503 with Retry-After: the server asks to come back later (rate limiting, a WAF),
    which says nothing about the link."""
    return status == 429 or (status == 503 and bool(retry_after))


def kind_for_status(status: int, retry_after: str | bytes | None = None) -> str:
    """The kind of a final HTTP answer (after the retries); ``ok`` for everything below 400.
    ``retry_after``: the answer's Retry-After header, if any."""
    if status >= 400:
        if rate_limited(status, retry_after):
            return LinkKind.RATE_LIMITED.value
        return f"http_{status}"
    return LinkKind.OK.value


def is_broken_kind(kind: str) -> bool:
    return kind != LinkKind.OK.value


def link_noun(tag: str, attr: str = "") -> str:
    """What a link is, in the report's words (背景图片, 样式表引用 ...); "" for a plain link."""
    return ATTR_NOUNS.get(attr) or TAG_NOUNS.get(tag, "")


def message_for(result: LinkResult, tag: str, attachment: bool, attr: str = "") -> str:
    noun = "附件" if attachment else link_noun(tag, attr)
    if result.kind.startswith("http_"):
        return f"{noun}链接无法访问（{result.status}）"
    return (noun + MESSAGES.get(result.kind, "链接无法访问")) if noun else MESSAGES.get(result.kind, "链接无法访问")


def extension(url: str) -> str:
    try:
        path = urlsplit(url).path
    except ValueError:   # an invalid URL has no meaningful extension
        return ""
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def is_resource(url: str) -> bool:
    return extension(url) in RESOURCE_EXTENSIONS


def is_attachment(url: str) -> bool:
    return extension(url) in ATTACHMENT_EXTENSIONS


def check_site(crawl: SiteCrawl, ctx: CheckContext) -> CheckOutput:
    """One ``broken_link`` finding for every (broken target, page that carries it) pair.

    Homepage pairs come first, so reports and rectification lists start with what a visitor
    sees first.  Besides: rate-limited links as not verified (``link_unverified``, info),
    missing #fragment targets (``missing_anchor``, warning), over-long URLs (``long_url``,
    warning) and what went wrong handling a page (``page_error``, info).  The work is
    ``SiteLinks``'s, which a crawl streamed from disk feeds one page at a time."""
    anchors = _anchors_by_url(crawl)
    check = SiteLinks(crawl.name, crawl.url, crawl.homepage_url, ctx, crawl.links.get, anchors.get)
    for page in [*crawl.pages, *crawl.sheets]:
        check.page(page)
    return check.finish(pages=len(crawl.pages), links=len(crawl.links),
                        rendered=sum(1 for p in crawl.pages if p.rendered), stats=crawl.stats,
                        errors=crawl.errors)


class SiteLinks:
    """The links check of one site, one page at a time (``page``), then ``finish``.

    ``lookup(url)`` gives the result of a checked URL (only results that are not ``ok``
    matter: a lookup that knows only those gives the same findings); ``anchors(url)`` the
    names a crawled page offers to #fragment links (None: not read).  Pages come in the
    crawl's order (depth, then URL), stylesheets last: the findings keep that order."""

    def __init__(self, name: str, url: str, homepage_url: str, ctx: CheckContext,
                 lookup: Callable[[str], LinkResult | None],
                 anchors: Callable[[str], set[str] | None]):
        self.name, self.ctx = name, ctx
        self.homepage = homepage_url or url
        self.home_urls = {url, self.homepage}
        self.lookup, self.anchors = lookup, anchors
        self.broken_targets: set[str] = set()
        self.unverified: set[str] = set()
        self.pairs: list[Finding] = []
        self.others: list[Finding] = []
        self.long_seen: set[str] = set()

    def page(self, page: PageSnapshot) -> None:
        crawl_name, ctx, others = self.name, self.ctx, self.others
        on_home = page.url in self.home_urls or page.final_url in self.home_urls
        sheet = page.content_type.startswith("text/css")
        seen_here: set[str] = set()
        for ref in page.links:
            # Findings name the link as the page wrote it; the identity is kept when it differs.
            shown = ref.written or ref.url
            if len(shown) > LONG_URL and ref.url not in self.long_seen:
                self.long_seen.add(ref.url)
                others.append(Finding(
                    check="long_url", severity="warning", site=crawl_name, department=ctx.department,
                    url=shown, page=page.url,
                    message=f"链接地址过长（{len(shown)} 个字符），部分浏览器或服务器可能无法打开",
                    detail={"length": len(shown), "tag": ref.tag,
                            **({"identity": ref.url} if ref.written else {})}))
            result = self.lookup(ref.url)
            if result is None or result.ok or ref.url in seen_here:
                continue
            seen_here.add(ref.url)
            detail = {
                "kind": result.kind, "status": result.status, "tag": ref.tag,
                "anchor": ref.anchor, "homepage": on_home, "internal": result.internal,
                "attachment": is_attachment(ref.url),
            }
            if ref.attr:
                detail["attr"] = ref.attr
            if ref.written:
                detail["identity"] = ref.url
            if sheet:
                # Fixed in the stylesheet; seen on the pages that use it, the first of them here.
                detail["stylesheet"] = page.url
                detail["via"] = page.referer
            noun = link_noun(ref.tag, ref.attr)
            if noun:
                detail["label"] = noun
            if result.redirects:
                detail["redirects"] = result.redirects
            if result.error:
                detail["error"] = result.error
            if not result.broken:
                self.unverified.add(ref.url)
                others.append(Finding(
                    check="link_unverified", severity="info", site=crawl_name, department=ctx.department,
                    url=shown, page=page.url, detail=detail,
                    message=f"{noun}链接未核实：目标服务器限制访问（{result.status}），重试后仍未正常响应"))
                continue
            self.broken_targets.add(ref.url)
            self.pairs.append(Finding(
                check="broken_link", severity="error", site=crawl_name, department=ctx.department,
                url=shown, page=page.url, detail=detail,
                message=message_for(result, ref.tag, detail["attachment"], ref.attr),
            ))
        others.extend(_missing_anchors(crawl_name, self.lookup, ctx, page, self.anchors))
        for error in page.errors:
            others.append(Finding(
                check="page_error", severity="info", site=crawl_name, department=ctx.department,
                url=page.url, page=page.url, message=f"页面未能完整检查：{error}"[:300],
                detail={"error": error}))

    def finish(self, *, pages: int, links: int, rendered: int, stats: dict[str, Any],
               errors: list[str]) -> CheckOutput:
        """The findings and facts, once every page was given (``pages``, ``links``: how many
        pages were crawled and distinct URLs checked; ``rendered``: pages rendered)."""
        out = CheckOutput()
        ctx, homepage, pairs, others = self.ctx, self.homepage, self.pairs, self.others
        pairs.sort(key=lambda f: (not f.detail["homepage"], f.page or "", f.url))
        out.findings = list(pairs) + others
        home_result = self.lookup(homepage)
        if not pages and home_result is not None and not home_result.ok and not home_result.broken:
            # The homepage would not answer (429): nothing was inspected, and nothing is known.
            out.findings.insert(0, Finding(
                check="link_unverified", severity="info", site=self.name, department=ctx.department,
                url=homepage, page=None, detail={"kind": home_result.kind, "status": home_result.status},
                message=f"巡检时网站首页限制访问（{home_result.status}），重试后仍未正常响应，本次未能核实"))
        elif not pages and home_result is not None and not home_result.ok:
            # Nothing could be crawled: the inspection's finding is the homepage itself.  (The
            # site_unreachable veto is judged from the week's probes; this is one observation.)
            out.findings.insert(0, Finding(
                check="site_unreachable", severity="error", site=self.name, department=ctx.department,
                url=homepage, page=None, message="巡检时网站首页无法访问：" + message_for(home_result, "a", False),
                detail={"kind": home_result.kind, "status": home_result.status, "basis": "crawl",
                        "error": home_result.error}))
        by_kind: Counter[str] = Counter()
        for url in self.broken_targets:
            found = self.lookup(url)
            assert found is not None
            by_kind[kind_family(found.kind)] += 1
        out.facts = {
            "homepage": homepage,
            "pages": pages,
            "links_checked": links,
            "broken": len(self.broken_targets),
            "broken_pairs": len(pairs),
            "broken_by_kind": dict(sorted(by_kind.items())),
            "homepage_broken": sum(1 for f in pairs if f.detail["homepage"]),
            "rate_limited": len(self.unverified),
            "missing_anchors": sum(1 for f in others if f.check == "missing_anchor"),
            "page_errors": sum(1 for f in others if f.check == "page_error"),
            "rendered_pages": rendered,
            **{k: v for k, v in stats.items()
               if k in ("duration_s", "trapped_paths", "requests", "lists_read", "data_requests")},
            "errors": errors,
        }
        return out


def _anchors_by_url(crawl: SiteCrawl) -> dict[str, set[str]]:
    """The names each crawled page offers to #fragment links, by its URL and final URL."""
    found: dict[str, set[str]] = {}
    for page in crawl.pages:
        if page.anchors is not None:
            names = set(page.anchors)
            found[page.url] = names
            found.setdefault(page.final_url, names)
    return found


def _missing_anchors(name: str, lookup: Callable[[str], LinkResult | None], ctx: CheckContext,
                     page: PageSnapshot, anchors: Callable[[str], set[str] | None]) -> list[Finding]:
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for entry in page.fragments:
        target, fragment = entry[0], entry[1]
        written = entry[2] if len(entry) > 2 else ""    # the target as the page wrote it
        names = anchors(target)
        if names is None or (target, fragment) in seen:
            continue
        seen.add((target, fragment))
        if fragment in names or unquote(fragment) in names:
            continue
        result = lookup(target)
        if result is not None and not result.ok:
            continue                    # the page itself is broken: that is the finding
        same = target in (page.url, page.final_url)
        out.append(Finding(
            check="missing_anchor", severity="warning", site=name, department=ctx.department,
            url=f"{written or target}#{fragment}", page=page.url,
            detail={"fragment": fragment, "target": target, "same_page": same,
                    **({"identity": f"{target}#{fragment}"} if written else {})},
            message=(f"页内锚点“#{fragment[:60]}”不存在" if same
                     else f"链接指向的页面中没有锚点“#{fragment[:60]}”")))
    return out
