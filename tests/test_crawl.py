"""End to end through the CLI: `patrol check` on the sample site finds exactly its broken links.

The crawl runs as users run it (a `patrol` process, which crawls in a child process), against the
sample site served on 127.0.0.1 and on ::1; the manifest of planted faults is the expected answer.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent

CRAWL_CONFIG = """
crawl: {timeout: 4, retries: 1, retry_backoff: 0.2, max_retry_after: 2}
"""


def patrol_check(url: str, out: Path, tmp: Path, *extra: str) -> dict:
    config = tmp / "crawl.yaml"
    config.write_text(CRAWL_CONFIG, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "patrol.cli", "check", url, "--out", str(out), "--fast", "--quiet",
         "--checks", "links", "--config", str(config), *extra],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "findings.json").read_text(encoding="utf-8"))


def broken_pairs(findings: dict) -> set[tuple[str, str, str]]:
    return {(f["page"], f["url"], f["detail"]["kind"]) for f in findings["findings"]
            if f["check"] == "broken_link"}


@pytest.fixture(scope="module")
def ipv4_check(sample_site, tmp_path_factory):
    sample_site.server.reset()
    out = tmp_path_factory.mktemp("check4")
    return patrol_check(sample_site.base, out, out), out


def test_check_reports_exactly_the_planted_broken_links(ipv4_check, sample_site):
    findings, _ = ipv4_check
    expected = sample_site.manifest.broken_pairs()
    found = broken_pairs(findings)
    assert found - expected == set(), "reported links that are not broken"
    assert expected - found == set(), "missed broken links"


def test_every_failure_kind_is_found(ipv4_check):
    findings, _ = ipv4_check
    kinds = {f["detail"]["kind"] for f in findings["findings"]}
    for kind in ("http_404", "http_500", "http_503", "timeout", "dns", "refused", "tls", "soft_404",
                 "redirect_loop", "too_many_redirects", "invalid_url"):
        assert kind in kinds


def test_tricky_links_are_not_reported(ipv4_check, sample_site):
    findings, _ = ipv4_check
    reported = {f["url"] for f in findings["findings"]}
    for entry in sample_site.manifest.not_broken:
        assert entry["url"] not in reported, entry["why"]


def test_links_only_javascript_shows_are_checked(ipv4_check, sample_site):
    findings, out = ipv4_check
    with sqlite3.connect(out / "patrol.db") as db:
        checked = {row[0] for row in db.execute("select url from link")}
        rendered = {row[0] for row in db.execute("select url from page where rendered")}
    for entry in sample_site.manifest.js_only_links:
        assert entry["url"] in checked
        assert entry["page"] in rendered


def test_each_link_is_checked_once_and_attached_to_every_page(ipv4_check, sample_site):
    findings, out = ipv4_check
    with sqlite3.connect(out / "patrol.db") as db:
        urls = [row[0] for row in db.execute("select url from link")]
    assert len(urls) == len(set(urls))
    by_url: dict[str, set[str]] = {}
    for page, url, _ in sample_site.manifest.broken_pairs():
        by_url.setdefault(url, set()).add(page)
    shared = max(by_url, key=lambda u: len(by_url[u]))
    assert len(by_url[shared]) > 10
    assert {f["page"] for f in findings["findings"] if f["url"] == shared} == by_url[shared]


def test_homepage_links_come_first(ipv4_check, sample_site):
    findings, _ = ipv4_check
    flags = [f["detail"]["homepage"] for f in findings["findings"]]
    assert flags[0] is True
    assert flags == sorted(flags, reverse=True)
    assert all(f["page"] == sample_site.base for f in findings["findings"] if f["detail"]["homepage"])


def test_crawler_traps_stay_bounded(ipv4_check, sample_site):
    _, out = ipv4_check
    with sqlite3.connect(out / "patrol.db") as db:
        pages = [row[0] for row in db.execute("select url from page")]
    assert len(pages) == len(set(pages))
    calendar = [p for p in pages if "/calendar/" in p]
    assert 0 < len(calendar) <= 31
    assert not any("sid=" in p or "jsessionid" in p for p in pages)
    assert len(pages) <= sample_site.manifest.counts["pages"] + 40


def test_gbk_and_undeclared_gb18030_pages_are_read(ipv4_check, sample_site):
    _, out = ipv4_check
    with sqlite3.connect(out / "patrol.db") as db:
        titles = dict(db.execute("select url, title from page where url like '%gb%'").fetchall())
    assert titles, "the GBK pages were not crawled"
    for url, title in titles.items():
        assert "\ufffd" not in title and any("\u4e00" <= ch <= "\u9fff" for ch in title), (url, title)


def test_findings_json_has_the_architecture_format(ipv4_check, sample_site):
    findings, _ = ipv4_check
    assert set(findings) >= {"run", "sites", "findings"}
    assert findings["sites"][0]["url"].startswith(sample_site.base)
    for f in findings["findings"]:
        assert {"check", "severity", "site", "department", "url", "page", "message", "detail"} <= set(f)
        assert f["page"].startswith("http")
        assert f["url"].startswith(("http", "https")) or f["detail"]["kind"] == "invalid_url"


def test_check_over_ipv6_finds_the_same_faults(sample_site, tmp_path):
    if not sample_site.base6:
        pytest.skip("no IPv6 loopback on this machine")
    sample_site.server.reset()
    findings = patrol_check(sample_site.base6, tmp_path / "out", tmp_path)
    expected = sample_site.manifest_for(sample_site.base6).broken_pairs()
    assert broken_pairs(findings) == expected


def test_site_that_cannot_be_reached_is_a_finding_not_a_crash(tmp_path):
    findings = patrol_check("http://127.0.0.1:9/", tmp_path / "out", tmp_path)
    (finding,) = [f for f in findings["findings"] if f["check"] == "site_unreachable"]
    assert finding["detail"]["kind"] == "refused"
    assert finding["url"] == "http://127.0.0.1:9/"
    assert findings["sites"][0]["pages"] == 0


def _serve_html(answer):
    """A threaded HTTP server on 127.0.0.1: ``answer(host, path, port)`` gives each request's
    status, extra headers and HTML body."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, with_body: bool) -> None:
            host = (self.headers.get("Host") or "").split(":")[0]
            status, headers, body = answer(host, self.path, self.server.server_address[1])
            self.send_response(status)
            for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def do_GET(self):
            self._answer(True)

        def do_HEAD(self):
            self._answer(False)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


NOT_FOUND_TEMPLATE = ("<html><head><title>清溪区人民政府网站</title></head><body><h1>温馨提示</h1>"
                      "<p>您可以返回首页继续浏览</p></body></html>").encode()


def _template_site(missing_status: int):
    """A site whose missing pages get its not-found template with ``missing_status``: a page
    that says nothing about "not found", so only its likeness to the host's answer for a page
    that cannot exist tells it apart."""
    known = {
        "/": '<html><head><title>首页</title></head><body><a href="/news.html">要闻</a>'
             '<a href="/moved-away.html">旧通知</a><a href="/about.html">概况</a></body></html>',
        "/news.html": "<html><head><title>要闻</title></head><body><p>区政府召开常务会议。</p></body></html>",
        "/about.html": "<html><head><title>概况</title></head><body><p>清溪区位于东部。</p></body></html>",
    }

    def answer(host, path, port):
        page = known.get(path)
        return (200, {}, page.encode()) if page is not None else (missing_status, {}, NOT_FOUND_TEMPLATE)
    return _serve_html(answer)


@pytest.mark.parametrize("missing_status", [200, 404])
def test_a_page_that_is_the_hosts_not_found_page_is_a_soft_404(tmp_path, missing_status):
    server = _template_site(missing_status)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        findings = patrol_check(base, tmp_path / "out", tmp_path)
    finally:
        server.shutdown()
    broken = {(f["url"], f["detail"]["kind"]) for f in findings["findings"] if f["check"] == "broken_link"}
    kind = "soft_404" if missing_status == 200 else "http_404"
    assert broken == {(base + "moved-away.html", kind)}


def test_a_link_to_another_host_that_lands_on_its_not_found_page_is_a_soft_404(tmp_path):
    """old.qx.example sends every missing page to www's error page, which answers 200; www's own
    missing pages answer 404.  A link to a page old.qx.example no longer has is a soft-404 by
    its likeness to old.qx.example's not-found page, whichever host's probe is answered first."""
    def answer(host, path, port):
        if host == "old.qx.example":
            return 302, {"Location": f"http://www.qx.example:{port}/error.html"}, b""
        pages = {
            "/": f'<html><head><title>首页</title></head><body><a href="/news.html">要闻</a>'
                 f'<a href="http://old.qx.example:{port}/2015/notice.html">旧通知</a></body></html>',
            "/news.html": "<html><head><title>要闻</title></head><body><p>区政府召开会议。</p></body></html>",
        }
        if path == "/error.html":
            return 200, {}, NOT_FOUND_TEMPLATE
        page = pages.get(path)
        return (200, {}, page.encode()) if page is not None else (404, {}, b"<html><body>404</body></html>")

    server = _serve_html(answer)
    port = server.server_address[1]
    config = tmp_path / "hosts.yaml"
    config.write_text(CRAWL_CONFIG + "resolver:\n  overrides:\n"
                      "    www.qx.example: [127.0.0.1]\n    old.qx.example: [127.0.0.1]\n", encoding="utf-8")
    base = f"http://www.qx.example:{port}/"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "patrol.cli", "check", base, "--out", str(tmp_path / "out"), "--fast",
             "--quiet", "--checks", "links", "--config", str(config)],
            capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    finally:
        server.shutdown()
    assert proc.returncode == 0, proc.stderr
    findings = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    broken = {(f["url"], f["detail"]["kind"]) for f in findings["findings"] if f["check"] == "broken_link"}
    assert broken == {(f"http://old.qx.example:{port}/2015/notice.html", "soft_404")}
