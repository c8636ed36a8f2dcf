"""Broken-link findings from a crawl: soft-404 recognition and one finding per (target, page)."""
from __future__ import annotations

from checks.links import check_site, looks_not_found, page_signature
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
