"""URL normalisation and trap guards: one spelling per target, and endless spaces stay bounded."""
from __future__ import annotations

import pytest

from crawler.urls import InvalidURL, TrapGuard, normalize, request_form, scheme_verdict, skip_scheme


@pytest.mark.parametrize("raw, expected", [
    ("HTTP://Example.GOV.cn:80/a/./b/../c.html#top", "http://example.gov.cn/a/c.html"),
    ("https://www.example.gov.cn:443/", "https://www.example.gov.cn/"),
    ("http://x.gov.cn/list?page=2&col=5", "http://x.gov.cn/list?col=5&page=2"),
    ("http://x.gov.cn/list?col=5&page=2", "http://x.gov.cn/list?col=5&page=2"),
    ("http://x.gov.cn/a.jsp;jsessionid=0AF3B2?id=7", "http://x.gov.cn/a.jsp?id=7"),
    ("http://x.gov.cn/a.html?sid=8f1e&id=7", "http://x.gov.cn/a.html?id=7"),
    ("http://x.gov.cn", "http://x.gov.cn/"),
    ("http://[::1]:8080/新闻 动态.html", "http://[::1]:8080/%E6%96%B0%E9%97%BB%20%E5%8A%A8%E6%80%81.html"),
    ("http://x.gov.cn/a%20b.html", "http://x.gov.cn/a%20b.html"),
    ("http://x.gov.cn/s?q=%FF&b=%d5%fe", "http://x.gov.cn/s?b=%D5%FE&q=%FF"),
    ("http://x.gov.cn/s?q=政务 公开&a=%E6%94%BF", "http://x.gov.cn/s?a=%E6%94%BF&q=%E6%94%BF%E5%8A%A1%20%E5%85%AC%E5%BC%80"),
    ("http://x.gov.cn/s?q=a+b", "http://x.gov.cn/s?q=a%20b"),
])
def test_normalize_gives_one_spelling_per_target(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("raw", ["http://exa mple.com/", "http://[::1", "http://:80/", "gopher://x/",
                                 "http://x.gov.cn:99999/", "http://" + "a" * 3000 + ".cn/"])
def test_normalize_rejects_what_cannot_be_fetched(raw):
    with pytest.raises(InvalidURL):
        normalize(raw)


@pytest.mark.parametrize("raw", ["mailto:a@b.cn", "tel:12345", "javascript:void(0)", " JavaScript:go()",
                                 "data:image/png;base64,xx"])
def test_links_that_are_never_fetched(raw):
    assert skip_scheme(raw)


def test_trap_guard_bounds_query_variants_of_one_path():
    guard = TrapGuard(max_variants=5)
    allowed = [guard.allow(f"http://x/calendar/?month=2026-{m:02d}") for m in range(1, 13)]
    assert allowed.count(True) == 5
    assert guard.allow("http://x/other.html")
    assert guard.trapped["x/calendar/"] == 7


def test_trap_guard_refuses_repeating_path_segments():
    guard = TrapGuard(max_repeats=3)
    assert guard.allow("http://x/a/b/a/b/")
    assert not guard.allow("http://x/a/b/a/b/a/b/a/b/")


@pytest.mark.parametrize("raw, expected", [
    ("http://x.gov.cn/list?page=2&col=5", "http://x.gov.cn/list?page=2&col=5"),
    ("http://x.gov.cn/a.jsp;jsessionid=0AF3B2?id=7", "http://x.gov.cn/a.jsp;jsessionid=0AF3B2?id=7"),
    ("http://x.gov.cn/a.html?sid=8f1e&id=7#part", "http://x.gov.cn/a.html?sid=8f1e&id=7"),
    ("http://x.gov.cn/s?q=%FF", "http://x.gov.cn/s?q=%FF"),
    ("http://x.gov.cn/新闻 动态.html?q=政务", "http://x.gov.cn/%E6%96%B0%E9%97%BB%20%E5%8A%A8%E6%80%81.html?q=%E6%94%BF%E5%8A%A1"),
    ("http://例子.中国/a", "http://xn--fsqu00a.xn--fiqs8s/a"),
])
def test_request_form_is_the_url_as_written_with_only_a_browsers_encoding(raw, expected):
    assert request_form(raw) == expected


def test_a_long_url_is_still_a_url():
    url = "http://x.gov.cn/s?q=" + "a" * 3000
    assert normalize(url) == url


@pytest.mark.parametrize("raw, kind", [
    ("file:///C:/Users/a/Desktop/通知.doc", "local_file"),
    ("file://server/share/a.doc", "local_file"),
    ("D:\\公文\\附件.xls", "local_file"),
    ("ftp://ftp.x.gov.cn/a.zip", "unsupported_scheme"),
    ("htp://www.x.gov.cn/", "unsupported_scheme"),
    ("mailto:zwgk@", "invalid_mailto"),
    ("mailto:zwgk＠x.gov.cn", "invalid_mailto"),
    ("mailto:zw gk@x.gov.cn", "invalid_mailto"),
    ("mailto:zwgk@x.gov.cn", ""),
    ("mailto:a@x.gov.cn,b@y.gov.cn?subject=咨询", ""),
    ("mailto:?subject=分享", ""),
    ("tel:12345", ""),
    ("weixin://dl/chat", ""),
])
def test_links_that_cannot_work_for_the_public_have_their_kind(raw, kind):
    assert scheme_verdict(raw)[0] == kind


def test_http_and_relative_links_have_no_scheme_verdict():
    assert scheme_verdict("http://x.gov.cn/") is None
    assert scheme_verdict("HTTPS://x.gov.cn/") is None
    assert scheme_verdict("/a/b.html") is None
