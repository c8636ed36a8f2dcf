"""Broken links: what counts as broken, soft-404 recognition, and the findings.

The crawler records one ``LinkResult`` per distinct URL; this module turns a site's results
and the pages that carry each link into ``broken_link`` findings.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from urllib.parse import urlsplit

from checks.model import CheckContext, CheckOutput, Finding, LinkKind, LinkResult, SiteCrawl, kind_family

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
}
TAG_NOUNS = {"img": "图片", "script": "脚本", "link": "样式/资源", "iframe": "内嵌页面",
             "frame": "内嵌页面", "embed": "嵌入资源", "source": "媒体", "object": "嵌入资源"}


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


def kind_for_status(status: int) -> str:
    """The kind of an HTTP answer; ``ok`` for everything below 400."""
    if status >= 400:
        return f"http_{status}"
    return LinkKind.OK.value


def is_broken_kind(kind: str) -> bool:
    return kind != LinkKind.OK.value


def message_for(result: LinkResult, tag: str, attachment: bool) -> str:
    noun = "附件" if attachment else TAG_NOUNS.get(tag, "")
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
    sees first."""
    out = CheckOutput()
    homepage = crawl.homepage_url or crawl.url
    home_urls = {crawl.url, homepage}
    by_kind: Counter[str] = Counter()
    broken_targets: set[str] = set()
    pairs: list[Finding] = []
    for page in crawl.pages:
        on_home = page.url in home_urls or page.final_url in home_urls
        seen_here: set[str] = set()
        for ref in page.links:
            result = crawl.links.get(ref.url)
            if result is None or result.ok or ref.url in seen_here:
                continue
            seen_here.add(ref.url)
            broken_targets.add(ref.url)
            detail = {
                "kind": result.kind, "status": result.status, "tag": ref.tag,
                "anchor": ref.anchor, "homepage": on_home, "internal": result.internal,
                "attachment": is_attachment(ref.url),
            }
            if result.redirects:
                detail["redirects"] = result.redirects
            if result.error:
                detail["error"] = result.error
            pairs.append(Finding(
                check="broken_link", severity="error", site=crawl.name, department=ctx.department,
                url=ref.url, page=page.url, detail=detail,
                message=message_for(result, ref.tag, detail["attachment"]),
            ))
    pairs.sort(key=lambda f: (not f.detail["homepage"], f.page or "", f.url))
    out.findings = list(pairs)
    home_result = crawl.links.get(homepage)
    if not crawl.pages and home_result is not None and not home_result.ok:
        # Nothing could be crawled: the inspection's finding is the homepage itself.  (The
        # site_unreachable veto is judged from the week's probes; this is one observation.)
        out.findings.insert(0, Finding(
            check="site_unreachable", severity="error", site=crawl.name, department=ctx.department,
            url=homepage, page=None, message="巡检时网站首页无法访问：" + message_for(home_result, "a", False),
            detail={"kind": home_result.kind, "status": home_result.status, "basis": "crawl",
                    "error": home_result.error}))
    for url in broken_targets:
        by_kind[kind_family(crawl.links[url].kind)] += 1
    out.facts = {
        "homepage": homepage,
        "pages": len(crawl.pages),
        "links_checked": len(crawl.links),
        "broken": len(broken_targets),
        "broken_pairs": len(pairs),
        "broken_by_kind": dict(sorted(by_kind.items())),
        "homepage_broken": sum(1 for f in pairs if f.detail["homepage"]),
        "rendered_pages": sum(1 for p in crawl.pages if p.rendered),
        **{k: v for k, v in crawl.stats.items() if k in ("duration_s", "trapped_paths", "requests")},
        "errors": crawl.errors,
    }
    return out

