"""Broken-link findings from a crawl: soft-404 recognition and one finding per (target, page)."""
from __future__ import annotations

from checks.links import check_site, kind_for_status, looks_not_found, page_signature
from checks.model import CheckContext, LinkRef, LinkResult, PageSnapshot, SiteCrawl


def test_not_found_title_or_short_not_found_page_is_recognised():
    assert looks_not_found("404 页面不存在", "")
    assert looks_not_found("清溪区人民政府", "抱歉，您访问的页面不存在！ 返回首页")


def test_long_article_mentioning_404_is_not_a_not_found_page():
    article = "关于网站 404 错误页面整改情况的通报。" + "各单位要高度重视网站建设。" * 80
    assert not looks_not_found("关于网站整改情况的通报", article)


def test_signature_ignores_digits_so_every_missing_path_matches():
    assert page_signature("出错了", "找不到 /a/123.html") == page_signature("出错了", "找不到 /a/456.html")
    assert page_signature("出错了", "x") != page_signature("首页", "x")


def test_one_finding_per_broken_target_and_page_homepage_first():
    home = PageSnapshot(url="http://x/", final_url="http://x/", status=200, depth=0,
                        links=[LinkRef("http://x/gone.html", "a", "旧闻"), LinkRef("http://x/ok.html", "a"),
                               LinkRef("http://x/gone.html", "a", "again")])
    inner = PageSnapshot(url="http://x/ok.html", final_url="http://x/ok.html", status=200, depth=1,
                         links=[LinkRef("http://x/gone.html", "a", "旧闻"), LinkRef("http://x/logo.png", "img")])
    crawl = SiteCrawl(name="站", url="http://x/", pages=[inner, home], homepage_url="http://x/", links={
        "http://x/gone.html": LinkResult("http://x/gone.html", kind="http_404", status=404),
        "http://x/ok.html": LinkResult("http://x/ok.html"),
        "http://x/logo.png": LinkResult("http://x/logo.png", kind="timeout", error="访问超时"),
    })
    out = check_site(crawl, CheckContext(site="站", department="zfb"))
    pairs = [(f.url, f.page) for f in out.findings]
    assert pairs == [("http://x/gone.html", "http://x/"), ("http://x/gone.html", "http://x/ok.html"),
                     ("http://x/logo.png", "http://x/ok.html")]
    first = out.findings[0]
    assert first.detail["homepage"] and first.detail["kind"] == "http_404" and first.detail["anchor"] == "旧闻"
    assert first.department == "zfb" and "404" in first.message
    assert out.findings[2].message.startswith("图片")
    assert out.facts["broken"] == 2 and out.facts["broken_by_kind"] == {"http_4xx": 1, "timeout": 1}


def _crawl(pages, links):
    return SiteCrawl(name="站", url="http://x/", pages=pages, homepage_url="http://x/",
                     links={r.url: r for r in links})


def test_rate_limited_links_are_listed_as_not_verified_not_broken():
    page = PageSnapshot(url="http://x/", final_url="http://x/", status=200, depth=0,
                        links=[LinkRef("http://y/busy", "a", "办事"), LinkRef("http://x/gone", "a")])
    crawl = _crawl([page], [LinkResult("http://y/busy", kind="rate_limited", status=429),
                            LinkResult("http://x/gone", kind="http_404", status=404)])
    out = check_site(crawl, CheckContext(site="站"))
    by_check = {f.check: f for f in out.findings}
    assert set(by_check) == {"broken_link", "link_unverified"}
    assert by_check["link_unverified"].severity == "info" and "未核实" in by_check["link_unverified"].message
    assert out.facts["broken"] == 1 and out.facts["rate_limited"] == 1


def test_rate_limited_kind_is_429_or_503_with_retry_after():
    assert kind_for_status(429) == "rate_limited"
    assert kind_for_status(503, "120") == "rate_limited"
    assert kind_for_status(503) == "http_503"
    assert kind_for_status(404, "1") == "http_404"
    assert not LinkResult("u", kind="rate_limited").broken and LinkResult("u", kind="http_429").broken


def test_missing_anchors_are_warnings_and_unread_targets_are_not_judged():
    home = PageSnapshot(url="http://x/", final_url="http://x/", status=200, depth=0, anchors=["top-news"],
                        links=[LinkRef("http://x/a.html", "a"), LinkRef("http://x/b.html", "a")],
                        fragments=[["http://x/", "top-news"], ["http://x/", "gone"], ["http://x/a.html", "s2"],
                                   ["http://x/a.html", "s3"], ["http://x/b.html", "any"]])
    a = PageSnapshot(url="http://x/a.html", final_url="http://x/a.html", status=200, depth=1, anchors=["s2"])
    b = PageSnapshot(url="http://x/b.html", final_url="http://x/b.html", status=200, depth=1)
    crawl = _crawl([home, a, b], [LinkResult("http://x/a.html"), LinkResult("http://x/b.html")])
    out = check_site(crawl, CheckContext(site="站"))
    missing = {(f.url, f.severity) for f in out.findings if f.check == "missing_anchor"}
    assert missing == {("http://x/#gone", "warning"), ("http://x/a.html#s3", "warning")}
    assert out.facts["missing_anchors"] == 2


def test_page_errors_and_long_urls_are_findings():
    long_url = "http://x/s?q=" + "a" * 2100
    page = PageSnapshot(url="http://x/", final_url="http://x/", status=200, depth=0,
                        links=[LinkRef(long_url, "a")], errors=["<base href> 无法解析"])
    out = check_site(_crawl([page], [LinkResult(long_url)]), CheckContext(site="站"))
    assert [(f.check, f.severity) for f in out.findings] == [("long_url", "warning"), ("page_error", "info")]
    assert out.facts["page_errors"] == 1 and out.facts["broken"] == 0


def test_unfetchable_links_and_where_links_sit_are_said_in_the_message():
    page = PageSnapshot(url="http://x/", final_url="http://x/", status=200, depth=0,
                        links=[LinkRef("file:///C:/a.doc", "a", "通知"),
                               LinkRef("http://x/bg.png", "td", "", "background"),
                               LinkRef("http://x/i.png", "style", "", "css")])
    crawl = _crawl([page], [LinkResult("file:///C:/a.doc", kind="local_file"),
                            LinkResult("http://x/bg.png", kind="http_404", status=404),
                            LinkResult("http://x/i.png", kind="http_404", status=404)])
    messages = {f.url: (f.message, f.detail.get("label")) for f in check_site(crawl, CheckContext(site="站")).findings}
    assert "本机文件" in messages["file:///C:/a.doc"][0]
    assert messages["http://x/bg.png"] == ("背景图片链接无法访问（404）", "背景图片")
    assert messages["http://x/i.png"] == ("样式表引用链接无法访问（404）", "样式表引用")


def test_link_attribute_survives_the_compact_form():
    page = PageSnapshot(url="http://x/", final_url="http://x/", status=200, depth=0,
                        links=[LinkRef("http://x/a", "a", "甲"), LinkRef("http://x/b.png", "td", "", "background")])
    again = PageSnapshot.from_dict(page.to_dict())
    assert again.links == page.links


def test_a_rate_limited_homepage_is_not_verified_not_unreachable():
    crawl = _crawl([], [LinkResult("http://x/", kind="rate_limited", status=429)])
    (finding,) = check_site(crawl, CheckContext(site="站")).findings
    assert (finding.check, finding.severity, finding.url) == ("link_unverified", "info", "http://x/")
    gone = check_site(_crawl([], [LinkResult("http://x/", kind="refused")]), CheckContext(site="站")).findings
    assert [f.check for f in gone] == ["site_unreachable"]
