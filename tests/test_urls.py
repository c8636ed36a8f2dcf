"""URL normalisation and trap guards: one spelling per target, and endless spaces stay bounded."""
from __future__ import annotations

import pytest

from crawler.urls import InvalidURL, TrapGuard, normalize, skip_scheme


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
