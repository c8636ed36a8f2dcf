"""The sample site serves what its manifest promises: every broken link fails the way the
manifest says, every tricky link works, and nothing else is broken."""
from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest

from patrol.demo.samplesite import Manifest, build, serve
from patrol.demo.samplesite.content import PLANTED_ID_NUMBER, id_check_char

pytestmark = pytest.mark.integration

FAULT_KINDS = {"http_404", "http_500", "http_503", "timeout", "dns", "refused", "tls", "soft_404",
               "redirect_loop", "too_many_redirects", "invalid_url"}


class Fetcher:
    """Plain http.client requests, one keep-alive connection per host and port."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.conns: dict[tuple[str, int], http.client.HTTPConnection] = {}

    def request(self, url: str, method: str = "GET") -> tuple[int, http.client.HTTPMessage, bytes]:
        parts = urlsplit(url)
        key = (parts.hostname or "", parts.port or 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for attempt in range(2):
            conn = self.conns.get(key)
            if conn is None:
                conn = self.conns[key] = http.client.HTTPConnection(key[0], key[1], timeout=self.timeout)
            try:
                conn.request(method, path)
                resp = conn.getresponse()
                return resp.status, resp.headers, resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                del self.conns[key]
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def follow(self, url: str, limit: int = 30) -> tuple[int, list[str], bytes]:
        """GET with redirects followed by hand; returns (status, chain of URLs, body)."""
        chain = [url]
        for _ in range(limit):
            status, headers, body = self.request(chain[-1])
            if status in (301, 302, 303, 307, 308):
                nxt = urljoin(chain[-1], headers["Location"])
                if nxt in chain:
                    return status, chain + [nxt], body
                chain.append(nxt)
                continue
            return status, chain, body
        return status, chain, body

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()


@pytest.fixture
def fetcher():
    f = Fetcher()
    yield f
    f.close()


def page_links(url: str, body: bytes) -> list[str]:
    """Every href/src of a page, absolute; links with a scheme are kept as written."""
    doc = lxml.html.document_fromstring(body)
    out = []
    for _el, _attr, link, _pos in doc.iterlinks():
        if _attr not in ("href", "src"):
            continue
        out.append(link if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", link) else urljoin(url, link))
    return out


# ---------------------------------------------------------------------- the server
def test_server_answers_on_ipv4_and_ipv6_with_the_same_page(sample_site, fetcher):
    assert sample_site.base6 is not None
    assert sample_site.server.port6 == sample_site.port
    s4, h4, b4 = fetcher.request(sample_site.base)
    s6, _, b6 = fetcher.request(sample_site.base6)
    assert (s4, s6) == (200, 200)
    assert b4 == b6 and "清溪区人民政府" in b4.decode("utf-8")
    assert h4["Content-Type"] == "text/html; charset=utf-8"
    assert int(h4["Content-Length"]) == len(b4)


def test_external_site_also_answers_on_both_stacks(sample_site, fetcher):
    ext6 = sample_site.server.ext.url6
    assert fetcher.request(sample_site.ext)[0] == 200
    assert fetcher.request(ext6)[0] == 200
    assert fetcher.request(sample_site.ext + "missing.html")[0] == 404


def test_one_connection_serves_many_requests(sample_site):
    conn = http.client.HTTPConnection("127.0.0.1", sample_site.port, timeout=5)
    conn.request("GET", "/")
    conn.getresponse().read()
    sock = conn.sock
    for path in ("/xwzx/zwyw/", "/css/main.css", "/nothing-here", "/zwgk/"):
        conn.request("GET", path)
        conn.getresponse().read()
    assert conn.sock is sock, "keep-alive connection was closed"
    conn.close()


def test_head_answers_headers_without_a_body(sample_site):
    conn = http.client.HTTPConnection("127.0.0.1", sample_site.port, timeout=5)
    conn.request("GET", "/xwzx/zwyw/")
    get = conn.getresponse()
    get_body = get.read()
    conn.request("HEAD", "/xwzx/zwyw/")
    head = conn.getresponse()
    assert head.status == 200 and head.read() == b""
    assert int(head.headers["Content-Length"]) == len(get_body)
    conn.close()


def test_attachments_and_images_have_their_content_types(sample_site, fetcher):
    www = sample_site.root / "www"
    expected = {".pdf": "application/pdf", ".doc": "application/msword", ".xls": "application/vnd.ms-excel",
                ".zip": "application/zip", ".png": "image/png", ".css": "text/css; charset=utf-8"}
    seen = set()
    for path in sorted(www.rglob("*")):
        if path.suffix in expected and path.suffix not in seen:
            status, headers, body = fetcher.request(sample_site.url(path.relative_to(www).as_posix()))
            assert status == 200 and headers["Content-Type"] == expected[path.suffix]
            assert body == path.read_bytes()
            seen.add(path.suffix)
    assert seen == set(expected)


def test_server_writes_no_log_lines(sample_site, fetcher, capfd):
    for path in ("", "nothing", "api/error500", "loop/a"):
        fetcher.request(sample_site.url(path))
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_paths_outside_the_site_or_unreadable_are_refused(sample_site):
    conn = http.client.HTTPConnection("127.0.0.1", sample_site.port, timeout=5)
    for path, expected in (("/../manifest.json", 404), ("/%2e%2e/routes.json", 404),
                           ("/a%00b.html", 400), ("/" + "x" * 5000, 400)):
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == expected, path
    conn.close()


def test_serving_a_plain_folder_serves_its_files(tmp_path, fetcher):
    (tmp_path / "a.html").write_text("<p>hi</p>", encoding="utf-8")
    with serve(tmp_path, also_ipv6=False) as server:
        assert server.url6 is None and server.ext is None
        assert fetcher.request(server.url + "a.html")[2] == b"<p>hi</p>"
        assert fetcher.request(server.url + "b.html")[0] == 404


# ---------------------------------------------------------------------- dynamic behaviours
def test_redirect_loop_goes_round_between_two_urls(sample_site, fetcher):
    status, chain, _ = fetcher.follow(sample_site.url("loop/a"))
    assert status == 302
    assert chain == [sample_site.url(p) for p in ("loop/a", "loop/b", "loop/a")]


def test_redirect_chain_is_longer_than_ten_hops(sample_site, fetcher):
    status, chain, _ = fetcher.follow(sample_site.url("chain/0"))
    assert status == 200 and len(chain) - 1 > 10


def test_good_redirect_lands_on_the_homepage(sample_site, fetcher):
    status, headers, _ = fetcher.request(sample_site.url("redirect/old-home"))
    assert status == 301 and headers["Location"] == "/"


def test_429_first_then_200_after_retry_after(sample_site, fetcher):
    url = sample_site.url("api/busy/unique-for-this-test")
    status, headers, _ = fetcher.request(url)
    assert status == 429 and headers["Retry-After"] == "1"
    assert fetcher.request(url)[0] == 200
    sample_site.server.reset()
    assert fetcher.request(url)[0] == 429


def test_head_is_refused_but_get_answers(sample_site, fetcher):
    status, headers, _ = fetcher.request(sample_site.url("api/nohead"), "HEAD")
    assert status == 405 and "GET" in headers["Allow"]
    assert fetcher.request(sample_site.url("api/nohead"))[0] == 200


def test_missing_pages_under_old_answer_200_with_the_not_found_page(sample_site, fetcher):
    soft_status, _, soft_body = fetcher.request(sample_site.url("old/any/thing.html"))
    real_status, _, real_body = fetcher.request(sample_site.url("no/such/page.html"))
    assert soft_status == 200 and real_status == 404
    assert "您访问的页面不存在" in soft_body.decode("utf-8")
    assert soft_body == real_body
    status, _, body = fetcher.request(sample_site.url("special/removed.html"))
    assert status == 200 and "404 页面不存在" in body.decode("utf-8")


def test_slow_page_answers_only_after_its_delay(sample_site):
    conn = http.client.HTTPConnection("127.0.0.1", sample_site.port, timeout=1)
    conn.request("GET", "/slow/report.html")
    with pytest.raises(TimeoutError):
        conn.getresponse()
    conn.close()
    assert sample_site.manifest.timings["slow_delay_s"] > 1


def test_calendar_links_to_the_months_around_it_forever(sample_site, fetcher):
    url = sample_site.url("calendar/?month=2031-12")
    status, _, body = fetcher.request(url)
    links = page_links(url, body)
    assert status == 200
    assert sample_site.url("calendar/?month=2031-11") in links
    assert sample_site.url("calendar/?month=2032-01") in links


def test_session_ids_change_with_every_view_and_any_id_works(sample_site, fetcher):
    first = fetcher.request(sample_site.url("hdjl/"))[2].decode("utf-8")
    second = fetcher.request(sample_site.url("hdjl/"))[2].decode("utf-8")
    sid1 = re.search(r"zxzx\.html\?sid=(\w+)", first)[1]
    sid2 = re.search(r"zxzx\.html\?sid=(\w+)", second)[1]
    assert sid1 != sid2
    assert re.search(r"szxx\.html;jsessionid=\w+", first)
    assert fetcher.request(sample_site.url(f"hdjl/zxzx.html?sid={sid1}"))[0] == 200
    assert fetcher.request(sample_site.url("hdjl/szxx.html;jsessionid=XYZ"))[0] == 200


def test_gbk_page_is_declared_and_encoded_in_gbk(sample_site, fetcher):
    status, headers, body = fetcher.request(sample_site.url("gbk/notice.html"))
    assert status == 200 and headers["Content-Type"] == "text/html"
    assert b'<meta charset="gbk">' in body
    text = body.decode("gbk")
    assert "值班工作" in text
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_gb18030_page_declares_no_encoding_anywhere(sample_site, fetcher):
    status, headers, body = fetcher.request(sample_site.url("gb18030/page.html"))
    assert status == 200 and headers["Content-Type"] == "text/html"
    assert b"charset" not in body.lower()
    assert "地方志" in body.decode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    with pytest.raises(UnicodeDecodeError):
        body.decode("gbk")       # characters GBK does not have: only GB18030 reads it


def test_js_column_has_an_empty_list_and_its_links_only_in_the_script(sample_site, fetcher):
    col = sample_site.manifest.column("工作动态")
    assert col["js"] and col["verdict"] == "fresh"
    body = fetcher.request(col["url"])[2]
    doc = lxml.html.document_fromstring(body)
    (ul,) = doc.xpath('//ul[@id="list"]')
    assert len(ul) == 0 and not (ul.text or "").strip()
    script = ul.getnext()
    assert script.tag == "script"
    data = json.loads(re.search(r"var listData = (\[.*?\]);", script.text, re.DOTALL)[1])
    js_links = {sample_site.url(row["url"]) for row in data}
    expected = {x["url"] for x in sample_site.manifest.js_only_links if x["page"] == col["url"]}
    assert js_links == expected
    assert not js_links & set(page_links(col["url"], body))
    broken_js = js_links & set(sample_site.manifest.broken_urls())
    assert len(broken_js) == 1


# ---------------------------------------------------------------------- the manifest tells the truth
def test_manifest_has_every_fault_kind(sample_site):
    kinds = Counter(b["kind"] for b in sample_site.manifest.broken)
    assert set(kinds) == FAULT_KINDS
    # The footer's broken link is on every ordinary page: one check, many pages.
    footer = sample_site.url("wzdt/")
    assert kinds["http_404"] > 40
    assert sum(1 for b in sample_site.manifest.broken if b["url"] == footer) > 40


def test_every_broken_url_really_fails_as_the_manifest_says(sample_site, fetcher):
    for url, kind in sorted(sample_site.manifest.broken_urls().items()):
        parts = urlsplit(url) if "[" not in url or "]" in url else None
        if kind.startswith("http_"):
            status, _, _ = fetcher.follow(url)
            assert status == int(kind[5:]), url
        elif kind == "soft_404":
            status, _, body = fetcher.follow(url)
            assert status == 200 and "页面不存在" in body.decode("utf-8"), url
        elif kind == "redirect_loop":
            status, chain, _ = fetcher.follow(url)
            assert chain[-1] in chain[:-1], url
        elif kind == "too_many_redirects":
            status, chain, _ = fetcher.follow(url)
            assert len(chain) - 1 > 10 and len(set(chain)) == len(chain), url
        elif kind == "timeout":
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=1)
            conn.request("GET", parts.path)
            with pytest.raises(TimeoutError):
                conn.getresponse()
            conn.close()
        elif kind == "refused":
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((parts.hostname, parts.port), timeout=2).close()
        elif kind == "tls":
            ctx = ssl.create_default_context()
            with (socket.create_connection((parts.hostname, parts.port), timeout=2) as raw,
                  pytest.raises(ssl.SSLError)):
                ctx.wrap_socket(raw, server_hostname=parts.hostname)
        elif kind == "dns":
            # Never resolved here: .invalid is reserved (RFC 6761) and never exists.
            assert parts.hostname.endswith(".invalid"), url
        elif kind == "invalid_url":
            try:
                host = urlsplit(url).hostname or ""
            except ValueError:
                continue
            assert not re.fullmatch(r"[A-Za-z0-9.:-]+", host), url
        else:
            pytest.fail(f"unknown kind {kind} for {url}")


def test_every_not_broken_link_really_works(sample_site, fetcher):
    for entry in sample_site.manifest.not_broken:
        url = entry["url"]
        if url.startswith(("mailto:", "tel:", "javascript:")):
            continue
        if "api/busy/" in url:
            status, headers, _ = fetcher.request(url)
            if status == 429:
                assert headers["Retry-After"] == "1"
                status, headers, _ = fetcher.request(url)
        elif "api/nohead" in url:
            assert fetcher.request(url, "HEAD")[0] == 405
            status = fetcher.request(url)[0]
        else:
            status = fetcher.follow(url)[0]
        assert status == 200, url


def test_broken_pairs_are_exactly_the_broken_links_on_the_served_pages(sample_site, fetcher):
    m = sample_site.manifest
    broken = m.broken_urls()
    found, other_links = set(), set()
    for page in m.pages:
        status, _, body = fetcher.request(page)
        assert status == 200, page
        for link in page_links(page, body):
            if link in broken:
                found.add((page, link, broken[link]))
            else:
                other_links.add(link)
    for js in m.js_only_links:
        if js["url"] in broken:
            found.add((js["page"], js["url"], broken[js["url"]]))
    assert found == m.broken_pairs()
    # ... and every other link works.
    for link in sorted(other_links):
        if link.startswith(("mailto:", "tel:", "javascript:")):
            continue
        if "api/busy/" in link:
            continue            # 429 first: covered by the not_broken test
        assert fetcher.follow(link)[0] == 200, link


def test_pages_of_the_subsites_have_no_broken_links(sample_site, fetcher):
    broken = sample_site.manifest.broken_urls()
    for site_id in ("nav", "stale"):
        home = sample_site.manifest.site(site_id)["url"]
        status, _, body = fetcher.request(home)
        assert status == 200
        for link in page_links(home, body):
            assert link not in broken and fetcher.follow(link)[0] == 200


# ---------------------------------------------------------------------- freshness columns
def test_columns_cover_every_category_fresh_and_stale(sample_site):
    verdicts = {(c["category"], c["verdict"]) for c in sample_site.manifest.columns if c["site"] == "main"}
    for category in ("dynamic", "notice", "yearly"):
        assert {(category, "fresh"), (category, "stale")} <= verdicts
    assert ("none", "no_rule") in verdicts
    empties = [c for c in sample_site.manifest.columns if c["verdict"] == "empty"]
    assert len(empties) == 2 and sum(c["placeholder"] for c in empties) == 1


def test_newest_dates_are_relative_to_today_and_match_the_verdicts(sample_site):
    limits = {"dynamic": 14, "notice": 183, "yearly": 365}
    today = sample_site.today
    for col in sample_site.manifest.columns:
        if col["category"] not in limits or col["verdict"] == "empty":
            continue
        age = (today - date.fromisoformat(col["newest"])).days
        assert (age <= limits[col["category"]]) == (col["verdict"] == "fresh"), col["name"]
        # far enough from the limit that a day's difference never flips the verdict
        assert abs(age - limits[col["category"]]) > 3, col["name"]


@pytest.mark.parametrize("style, shown", [
    ("iso", "{d:%Y-%m-%d}"), ("slash", "{d:%Y/%m/%d}"), ("cn", "{d.year}年{d.month}月{d.day}日"),
    ("md", "[{d:%m-%d}]")])
def test_list_pages_show_the_newest_date_in_their_own_form(sample_site, fetcher, style, shown):
    col = next(c for c in sample_site.manifest.columns if c["list_style"] == style and c["site"] == "main")
    body = fetcher.request(col["url"])[2].decode("utf-8")
    newest = date.fromisoformat(col["newest"])
    doc = lxml.html.document_fromstring(body)
    first = doc.xpath('//ul[@class="list"]/li/span[@class="date"]')[0].text
    assert first == shown.format(d=newest)


@pytest.mark.parametrize("style, pattern", [
    ("url_t", r"/t(\d{4})(\d{2})(\d{2})_\d+\.html$"), ("url_ymd", r"/(\d{4})-(\d{2})/(\d{2})/"),
    ("url_month", r"/(\d{4})(\d{2})/()")])
def test_undated_lists_carry_dates_in_their_article_urls(sample_site, fetcher, style, pattern):
    col = next(c for c in sample_site.manifest.columns if c["list_style"] == style)
    body = fetcher.request(col["url"])[2]
    doc = lxml.html.document_fromstring(body)
    assert not doc.xpath('//ul[@class="list"]//span[@class="date"]')
    hrefs = doc.xpath('//ul[@class="list"]/li/a/@href')
    m = re.search(pattern, hrefs[0])
    newest = date.fromisoformat(col["newest"])
    assert (int(m[1]), int(m[2])) == (newest.year, newest.month)
    if m[3]:
        assert int(m[3]) == newest.day


@pytest.mark.parametrize("style, needle", [("meta", '<meta name="PubDate" content="{d}'),
                                           ("fabu", "发布时间：{d}")])
def test_undated_lists_carry_dates_in_their_articles(sample_site, fetcher, style, needle):
    col = next(c for c in sample_site.manifest.columns if c["list_style"] == style)
    doc = lxml.html.document_fromstring(fetcher.request(col["url"])[2])
    href = doc.xpath('//ul[@class="list"]/li/a/@href')[0]
    article = fetcher.request(urljoin(col["url"], href))[2].decode("utf-8")
    assert needle.format(d=col["newest"]) in article
    other = "发布时间" if style == "meta" else "PubDate"
    assert other not in article


def test_query_paginated_column_has_a_second_page(sample_site, fetcher):
    col = sample_site.manifest.column("通知公告")
    assert col["paging"] == "query" and col["pages"] >= 2
    first = fetcher.request(col["url"])[2]
    second_url = col["url"] + "?page=2"
    assert second_url in page_links(col["url"], first)
    second = fetcher.request(second_url)[2]
    assert second != first and "通知公告" in second.decode("utf-8")


def test_breadcrumb_and_more_links_are_present(sample_site, fetcher):
    body = fetcher.request(sample_site.url("zwgk/tzgg/"))[2].decode("utf-8")
    crumb = lxml.html.document_fromstring(body).xpath('//div[@class="breadcrumb"]')[0].text_content()
    assert crumb == "当前位置：首页 > 政务公开 > 通知公告"
    home = fetcher.request(sample_site.base)[2].decode("utf-8")
    assert '<a class="more" href="/zwgk/tzgg/">更多</a>' in home


def test_subsites_have_a_navigation_only_and_a_stale_homepage(sample_site, fetcher):
    nav, stale = sample_site.manifest.site("nav"), sample_site.manifest.site("stale")
    assert nav["homepage"] == "navigation" and nav["homepage_newest"] is None
    nav_doc = lxml.html.document_fromstring(fetcher.request(nav["url"])[2])
    assert not nav_doc.xpath('//span[@class="date"]')
    assert stale["homepage_verdict"] == "stale"
    assert (sample_site.today - date.fromisoformat(stale["homepage_newest"])).days > 14
    main = sample_site.manifest.site("main")
    assert main["homepage_verdict"] == "fresh"
    assert main["homepage_newest"] in fetcher.request(sample_site.base)[2].decode("utf-8")


# ---------------------------------------------------------------------- text plants
def test_planted_text_is_on_the_recorded_pages(sample_site, fetcher):
    text = sample_site.manifest.text
    assert {t["kind"] for t in text} == {"serious_typo", "typo", "outdated_name", "leader_title", "id_number"}
    for entry in text:
        body = fetcher.request(entry["page"])[2].decode("utf-8")
        assert entry["sentence"] in body and entry["wrong"] in body, entry
    outdated = {t["expect_finding"]: date.fromisoformat(t["published"])
                for t in text if t["kind"] == "outdated_name"}
    assert outdated[True] > date(2018, 3, 31) and outdated[False].year == 2017


def test_planted_id_number_has_a_valid_checksum(sample_site):
    (entry,) = [t for t in sample_site.manifest.text if t["kind"] == "id_number"]
    assert entry["wrong"] == PLANTED_ID_NUMBER and len(PLANTED_ID_NUMBER) == 18
    assert id_check_char(PLANTED_ID_NUMBER[:17]) == PLANTED_ID_NUMBER[17]
    # GB 11643's published example: 11010519491231002X
    assert id_check_char("11010519491231002") == "X"


def test_title_with_markup_is_text_in_the_title_and_escaped_in_the_body(sample_site, fetcher):
    (entry,) = sample_site.manifest.markup_titles
    body = fetcher.request(entry["page"])[2].decode("utf-8")
    doc = lxml.html.document_fromstring(body)
    assert doc.findtext(".//title").startswith("<script>alert(1)</script>")
    assert entry["title"] in doc.findtext(".//title")
    assert len(doc.xpath("//script")) == 1            # only the site's own script file
    assert doc.xpath('//h1[@class="title"]')[0].text == entry["title"]


# ---------------------------------------------------------------------- profiles
def test_build_is_deterministic(tmp_path):
    today = date(2026, 11, 20)
    a = build(tmp_path / "a", profile="test", today=today)
    b = build(tmp_path / "b", profile="test", today=today)
    assert a == b
    page = "www/xwzx/zwyw/index.html"
    assert (tmp_path / "a" / page).read_bytes() == (tmp_path / "b" / page).read_bytes()


def test_dates_move_with_today(tmp_path):
    a = build(tmp_path / "a", profile="test", today=date(2026, 11, 20))
    b = build(tmp_path / "b", profile="test", today=date(2027, 3, 2))
    shift = (date(2027, 3, 2) - date(2026, 11, 20)).days
    col_a, col_b = a.column("政务要闻"), b.column("政务要闻")
    assert date.fromisoformat(col_b["newest"]) - date.fromisoformat(col_a["newest"]) == timedelta(shift)
    assert [c["verdict"] for c in a.columns] == [c["verdict"] for c in b.columns]


def test_demo_profile_is_a_few_hundred_pages_with_every_fault(tmp_path):
    m = build(tmp_path / "demo", profile="demo", today=date(2026, 11, 20))
    assert 200 <= m.counts["pages"] <= 600
    assert {b["kind"] for b in m.broken} == FAULT_KINDS
    assert len(m.text) >= 5


def test_bench_profile_has_over_5000_pages_and_only_static_faults(tmp_path):
    root = tmp_path / "bench"
    m = build(root, profile="bench", today=date(2026, 11, 20))
    assert m.counts["pages"] >= 5000
    assert sum(1 for _ in (root / "www").rglob("*.html")) >= 5000
    assert 200 <= len(m.broken) <= 1000
    assert {b["kind"] for b in m.broken} == {"http_404", "soft_404"}
    # Static kinds only: missing files, a page that says 404, and one prefix answered with the
    # not-found page, which any web server can be told to do.
    routes = json.loads((root / "routes.json").read_text(encoding="utf-8"))
    assert routes["soft_404_prefixes"] == ["/old/"]
    for b in m.broken:
        path = b["url"].removeprefix("{base}")
        if b["kind"] == "http_404":
            assert not (root / "www" / path).exists()
        else:
            assert path.startswith("old/") or "404" in (root / "www" / path).read_text(encoding="utf-8")


@pytest.mark.parametrize("profile, pages", [("test", 300), ("demo", 1000)])
def test_min_pages_grows_the_site_to_at_least_that_many_pages(tmp_path, profile, pages):
    m = build(tmp_path / "s", profile=profile, today=date(2026, 11, 20), min_pages=pages)
    assert pages <= m.counts["pages"] <= pages * 1.1
    assert m.counts["pages"] == len(m.pages)
    assert sum(1 for _ in (tmp_path / "s" / "www" / "bmxx").rglob("*.html")) > 0


def test_unknown_profile_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown profile"):
        build(tmp_path, profile="huge", today=date(2026, 11, 20))


def test_build_refuses_a_folder_holding_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ValueError, match="not a sample-site build"):
        build(tmp_path, profile="test", today=date(2026, 11, 20))
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_rebuilding_replaces_the_previous_build(tmp_path):
    build(tmp_path, profile="demo", today=date(2026, 11, 20))
    m = build(tmp_path, profile="test", today=date(2026, 11, 20))
    html = sum(1 for _ in (tmp_path / "www").rglob("*.html"))
    assert html == m.counts["html_files"]


def test_saved_build_in_tests_site_is_current(tmp_path):
    # tests/site is the "test" profile built for 2026-11-20, for extraction tests without a
    # server; regenerate it after changing the generator (see tests/site/README.md).
    saved = Path(__file__).parent / "site"
    m = Manifest.load(saved)
    assert m.profile == "test" and m.today == "2026-11-20"
    fresh = build(tmp_path / "s", profile="test", today=date(2026, 11, 20))
    assert fresh == m
    files = {p.relative_to(saved): p.read_bytes() for p in (saved / "www").rglob("*") if p.is_file()}
    assert files == {p.relative_to(tmp_path / "s"): p.read_bytes()
                     for p in (tmp_path / "s" / "www").rglob("*") if p.is_file()}


def test_command_line_builds_a_site(tmp_path):
    out = subprocess.run([sys.executable, "-m", "patrol.demo.samplesite", "build", str(tmp_path / "s"),
                          "--profile", "test", "--today", "2026-11-20"],
                         check=False, capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "s" / "manifest.json").is_file()
    assert "pages" in out.stdout
