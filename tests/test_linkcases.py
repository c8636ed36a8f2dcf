"""End to end: every kind of link a page really has, requested as written, judged once.

A local site (127.0.0.1) plants one case per page: a broken <base>, an unparsable meta refresh,
links in every attribute and in CSS, links no visitor can follow (file:, ftp:, a bad mailto:),
#fragment links, a server that only answers its query as written and with its session
parameter, and servers that keep answering 429 or 503 with Retry-After.  `patrol check`
runs as users run it; the expected findings are listed here in full, so anything missed or
reported besides them fails.
"""
from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
CRAWL_CONFIG = "crawl: {timeout: 4, retries: 1, retry_backoff: 0.1, max_retry_after: 1}\n"
POLITE_CONFIG = "crawl: {timeout: 4, retries: 1, retry_backoff: 0.1, max_retry_after: 1, delay: 0, per_host: 8}\n"
LONG_QUERY = "x=" + "a" * 2100

PAGES = {
    "/": """<html><head><title>首页</title></head><body>
        <a href="/broken-base.html">基准地址错误</a><a href="/refresh.html">刷新</a>
        <a href="/query.html">查询</a><a href="/extract.html">资源</a><a href="/schemes.html">协议</a>
        <a href="/anchors.html">锚点</a><a href="/limited.html">限流</a><a href="/written.html">写法</a></body></html>""",
    # Written otherwise than their identity: an empty query, parameters out of order with a
    # session id, a fragment.  Findings name them so.
    "/written.html": """<html><head><title>写法</title></head><body>
        <a href="/gone-written.html?#part">空查询</a>
        <a href="/gone-q.html?b=2&amp;a=1&amp;sid=9#x">参数</a>
        <a href="/target.html?#gone-anchor">空查询的锚点</a></body></html>""",
    "/broken-base.html": """<html><head><title>基准</title><base href="http://[broken/"></head><body>
        <a href="gone.html">已删除</a><a href="ok.html">正常</a></body></html>""",
    "/refresh.html": """<html><head><title>刷新</title>
        <meta http-equiv="refresh" content="30; url=http://[broken/x"></head><body>
        <a href="/gone2.html">已删除</a></body></html>""",
    "/query.html": f"""<html><head><title>查询</title></head><body>
        <a href="/search?b=2&amp;a=1">按写法排序的查询</a>
        <a href="/app.jsp;jsessionid=ABC123?id=7">会话路径</a>
        <a href="/s.do?sid=9f&amp;id=3">会话参数</a>
        <a href="/enc?q=%FF">原样转义</a>
        <a href="/新闻 动态.html">中文路径</a>
        <a href="/long?{LONG_QUERY}">很长的地址</a>
        <img src="/img/ok.png?v=2&amp;a=1"></body></html>""",
    "/extract.html": """<html manifest="/missing.appcache"><head><title>资源</title>
        <link rel="stylesheet" href="/css/site.css"><link rel="stylesheet" href="/css/site.css?v=2">
        <style>
          .banner { background: url("/img/missing-block.png") }
          @import "/css/missing-import.css";
          @font-face { font-family: x; src: url('/font/missing.woff2') format('woff2'), url(data:font/woff2;base64,AA) }
          /* url(/img/commented-out.png) */
        </style></head>
        <body background="/img/missing-body-bg.png">
        <div style="background-image:url(/img/missing-inline.png)">x</div>
        <img src="/img/ok.png" srcset="/img/ok.png 1x, /img/missing-2x.png 2x">
        <picture><source srcset="/img/missing-source.webp" type="image/webp"><img src="/img/ok.png"></picture>
        <table background="/img/missing-table-bg.png"><tr><td background="/img/missing-td-bg.png">x</td></tr></table>
        <video src="/media/ok.mp4" poster="/img/missing-poster.jpg">
          <track src="/media/missing.vtt" kind="subtitles"></video>
        <form action="/ok.html"><input type="image" src="/img/missing-button.png">
          <input type="text" src="/img/not-a-link.png">
          <button formaction="/missing-submit.html">提交</button>
          <input type="submit" formaction="/missing-submit2.html"></form>
        <object data="/flash/missing.swf" codebase="/cab/missing.cab"></object>
        <applet code="Missing.class" archive="/applets/missing.jar" codebase="/applets/"></applet>
        </body></html>""",
    "/schemes.html": r"""<html><head><title>协议</title></head><body>
        <a href="file:///C:/Users/editor/Desktop/通知.doc">本机文件</a>
        <a href="C:\公文\2026\附件.doc">盘符路径</a>
        <a href="ftp://ftp.example.gov.cn/pub/a.zip">FTP 下载</a>
        <a href="mailto:zwgk@">坏邮箱</a>
        <a href="mailto:zwgk@example.gov.cn?subject=咨询">好邮箱</a>
        <a href="tel:0571-12345678">电话</a><a href="javascript:void(0)">脚本</a>
        <a href="http://[broken/x.html">坏地址</a><a href="http://www.exa mple.gov.cn/">主机名有空格</a>
        </body></html>""",
    "/anchors.html": """<html><head><title>锚点</title></head><body>
        <a href="#present">在</a><a href="#absent">不在</a><a href="#top">顶部</a><a href="#">空</a>
        <a href="#made-by-script">脚本生成</a>
        <a href="/target.html#there">目标在</a><a href="/target.html#nothere">目标不在</a>
        <a href="/target.html#named">名字锚点</a>
        <h2 id="present">x</h2>
        <script>document.body.insertAdjacentHTML('beforeend', '<div id="made-by-script"></div>')</script>
        </body></html>""",
    "/target.html": """<html><head><title>目标</title></head><body>
        <h2 id="there">在这里</h2><a name="named">旧式锚点</a></body></html>""",
    "/limited.html": """<html><head><title>限流</title></head><body>
        <a href="/busy.html">总是 429</a><a href="/busy503.pdf">503 加 Retry-After</a>
        <a href="/down.html">503 无 Retry-After</a></body></html>""",
    "/ok.html": "<html><head><title>正常</title></head><body>ok</body></html>",
}
# Stylesheets with every url() form; /css/site.css imports /css/more.css.
SHEETS = {
    "/css/site.css": """@charset "utf-8";
        @import url("more.css");
        .a { background: url(../img/ok.png) }
        .b { background-image: url( '../img/missing-sheet-bg.png' ) }
        @font-face { font-family: f; src: url("/font/missing-sheet.woff") format("woff"), url(data:font/woff;base64,AA) }
        /* .c { background: url(../img/commented.png) } */""",
    "/css/more.css": ".d { background: url(/img/missing-imported.gif) } .e { cursor: url(/img/ok.png), auto }",
}
RESOURCES = {"/img/ok.png", "/media/ok.mp4", "/img/ok.png?v=2&a=1"}
# Answered 200 only when asked exactly so (the path and query bytes of the request line).
AS_WRITTEN = {
    "/search?b=2&a=1", "/app.jsp;jsessionid=ABC123?id=7", "/s.do?sid=9f&id=3", "/enc?q=%FF",
    "/%E6%96%B0%E9%97%BB%20%E5%8A%A8%E6%80%81.html", f"/long?{LONG_QUERY}",
}


class Site:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[tuple[str, str]] = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, body_wanted: bool) -> None:
                site.requests.append((self.command, self.path))
                status, headers, body = site.answer(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body_wanted:
                    self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False)

            def log_message(self, *args: object) -> None:
                pass

        server_class = http.server.ThreadingHTTPServer
        if ":" in host:
            server_class = type("Server6", (http.server.ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
        self.server = server_class((host, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://{'[' + host + ']' if ':' in host else host}:{self.server.server_address[1]}"

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        html = {"Content-Type": "text/html; charset=utf-8"}
        if path in PAGES:
            return 200, html, PAGES[path].encode("utf-8")
        if path in AS_WRITTEN:
            return 200, html, b"<html><head><title>ok</title></head><body>as written</body></html>"
        if path.split("?")[0] in SHEETS:
            return 200, {"Content-Type": "text/css"}, SHEETS[path.split("?")[0]].encode("utf-8")
        if path in RESOURCES:
            return 200, {"Content-Type": "application/octet-stream"}, b"x"
        if path == "/busy.html":
            return 429, {**html, "Retry-After": "1"}, b"<html><body>too many requests</body></html>"
        if path == "/busy503.pdf":
            return 503, {**html, "Retry-After": "1"}, b"<html><body>busy</body></html>"
        if path == "/down.html":
            return 503, html, b"<html><body>down</body></html>"
        return 404, html, b"<html><head><title>404</title></head><body>404 Not Found</body></html>"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def patrol_check(url: str, out: Path, config: str, *extra: str) -> dict:
    config_path = out.parent / (out.name + ".yaml")
    config_path.write_text(config, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "patrol.cli", "check", url, "--out", str(out), "--quiet",
         "--checks", "links", "--config", str(config_path), *extra],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    findings["stdout"] = proc.stdout
    findings["report"] = (out / "report.html").read_text(encoding="utf-8")
    findings["out"] = out
    return findings


@pytest.fixture(scope="module")
def site():
    served = Site()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def fast_check(site, tmp_path_factory):
    out = tmp_path_factory.mktemp("linkcases") / "out"
    return patrol_check(site.base + "/", out, CRAWL_CONFIG, "--fast")


def of(findings: dict, check: str) -> set[tuple]:
    return {(f["page"], f["url"], f["detail"].get("kind", f["detail"].get("fragment")))
            for f in findings["findings"] if f["check"] == check}


def expected_broken(base: str) -> set[tuple[str, str, str]]:
    extract = [
        "/img/missing-block.png", "/css/missing-import.css", "/font/missing.woff2", "/img/missing-body-bg.png",
        "/img/missing-inline.png", "/img/missing-2x.png", "/img/missing-source.webp", "/img/missing-table-bg.png",
        "/img/missing-td-bg.png", "/img/missing-poster.jpg", "/media/missing.vtt", "/img/missing-button.png",
        "/missing-submit.html", "/missing-submit2.html", "/flash/missing.swf", "/cab/missing.cab",
        "/applets/Missing.class", "/applets/missing.jar", "/missing.appcache",
    ]
    return {
        (f"{base}/broken-base.html", f"{base}/gone.html", "http_404"),
        (f"{base}/refresh.html", f"{base}/gone2.html", "http_404"),
        (f"{base}/schemes.html", "file:///C:/Users/editor/Desktop/通知.doc", "local_file"),
        (f"{base}/schemes.html", "C:\\公文\\2026\\附件.doc", "local_file"),
        (f"{base}/schemes.html", "ftp://ftp.example.gov.cn/pub/a.zip", "unsupported_scheme"),
        (f"{base}/schemes.html", "mailto:zwgk@", "invalid_mailto"),
        (f"{base}/schemes.html", "http://[broken/x.html", "invalid_url"),
        (f"{base}/schemes.html", "http://www.exa mple.gov.cn/", "invalid_url"),
        (f"{base}/limited.html", f"{base}/down.html", "http_503"),
        (f"{base}/written.html", f"{base}/gone-written.html?", "http_404"),
        (f"{base}/written.html", f"{base}/gone-q.html?b=2&a=1&sid=9", "http_404"),
    } | {(f"{base}/extract.html", base + path, "http_404") for path in extract} | {
        (f"{base}/css/{sheet}", f"{base}{path}", "http_404")
        for sheet in ("site.css", "site.css?v=2") for path in ("/img/missing-sheet-bg.png", "/font/missing-sheet.woff")
    } | {(f"{base}/css/more.css", f"{base}/img/missing-imported.gif", "http_404")}


def test_exactly_the_broken_links_of_every_kind_are_reported(fast_check, site):
    found = of(fast_check, "broken_link")
    expected = expected_broken(site.base)
    assert found - expected == set(), "reported links that are not broken"
    assert expected - found == set(), "missed broken links"
    # Nothing else: each of the other findings is pinned down by its own test below.
    assert {f["check"] for f in fast_check["findings"]} == {
        "broken_link", "page_error", "long_url", "link_unverified", "missing_anchor"}
    assert sum(f["check"] != "broken_link" for f in fast_check["findings"]) == 2 + 1 + 2 + 3


def test_links_are_requested_as_the_page_wrote_them(fast_check, site):
    """Query order, ;jsessionid, sid and %FF kept: the server answers 404 to anything else."""
    asked = {path for _, path in site.requests}
    assert AS_WRITTEN <= asked
    reported = {f["url"] for f in fast_check["findings"] if f["check"] == "broken_link"}
    assert not any("/search" in u or "jsessionid" in u or "/s.do" in u or "/enc" in u or "/long" in u
                   for u in reported)


def test_findings_and_report_name_a_link_as_the_page_wrote_it(fast_check, site):
    """Normalisation gives the identity only: findings, the report and the rectification list
    show the link as written; the identity is kept beside it and the fingerprint uses it."""
    from checks.model import Finding
    from store import Store
    from reports.rectification import items_by_department, xlsx_bytes

    written = {f["url"]: f for f in fast_check["findings"]
               if f["page"] == f"{site.base}/written.html" and f["check"] == "broken_link"}
    assert set(written) == {f"{site.base}/gone-written.html?", f"{site.base}/gone-q.html?b=2&a=1&sid=9"}
    assert written[f"{site.base}/gone-q.html?b=2&a=1&sid=9"]["detail"]["identity"] == f"{site.base}/gone-q.html?a=1&b=2"
    assert written[f"{site.base}/gone-written.html?"]["detail"]["identity"] == f"{site.base}/gone-written.html"
    assert ("GET", "/gone-q.html?b=2&a=1&sid=9") in site.requests
    report = fast_check["report"]
    assert "gone-q.html?b=2&amp;a=1&amp;sid=9" in report and "gone-q.html?a=1" not in report
    # The fingerprint follows the identity: the same link written another way next time is
    # the same problem.
    f = Finding.from_dict(written[f"{site.base}/gone-q.html?b=2&a=1&sid=9"])
    again = Finding.from_dict({**f.to_dict(), "url": f"{site.base}/gone-q.html?a=1&b=2&sid=7"})
    assert f.fingerprint == again.fingerprint == written[f.url]["fingerprint"]
    store = Store(f"sqlite:///{fast_check['out'] / 'patrol.db'}")
    run_id = store.runs()[-1].id
    items = [i for rows in items_by_department(store, run_id).values() for i in rows]
    urls = {i.url for i in items if i.check == "broken_link"}
    assert {f"{site.base}/gone-written.html?", f.url} <= urls and f"{site.base}/gone-q.html?a=1&b=2" not in urls
    assert any(f"目标：{f.url}" in i.description for i in items)
    # Not verified is not broken: rate-limited links are not on the list sent to departments.
    assert not [i for i in items if i.check == "link_unverified" or "busy" in i.url]
    import io

    import openpyxl
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes("整改清单", items)))
    cells = {str(c.value) for row in book.active.iter_rows() for c in row if c.value}
    assert any(f.url in c for c in cells) and not any("gone-q.html?a=1" in c for c in cells)


def test_a_url_longer_than_2048_characters_is_fetched_and_only_warned_about(fast_check, site):
    (warning,) = [f for f in fast_check["findings"] if f["check"] == "long_url"]
    assert warning["severity"] == "warning" and warning["page"] == f"{site.base}/query.html"
    assert warning["detail"]["length"] > 2048
    assert ("GET", f"/long?{LONG_QUERY}") in site.requests


def test_a_broken_base_or_refresh_is_a_page_error_and_the_pages_links_are_still_checked(fast_check, site):
    errors = sorted((f["page"], f["severity"], f["message"]) for f in fast_check["findings"] if f["check"] == "page_error")
    assert [(page, severity) for page, severity, _ in errors] == [
        (f"{site.base}/broken-base.html", "info"), (f"{site.base}/refresh.html", "info")]
    assert all("http://[broken/" in message for _, _, message in errors)
    assert ("GET", "/ok.html") in site.requests
    summary = fast_check["sites"][0]
    assert summary["pages"] >= len(PAGES)
    assert "2 page errors" in fast_check["stdout"]


def test_rate_limited_links_are_not_verified_never_broken(fast_check, site):
    unverified = {(f["url"], f["detail"]["kind"], f["severity"]) for f in fast_check["findings"]
                  if f["check"] == "link_unverified"}
    assert unverified == {(f"{site.base}/busy.html", "rate_limited", "info"),
                          (f"{site.base}/busy503.pdf", "rate_limited", "info")}
    assert all("未核实" in f["message"] for f in fast_check["findings"] if f["check"] == "link_unverified")
    # Retried, and a refused HEAD is not asked again with GET: 429 says nothing about HEAD.
    assert site.requests.count(("GET", "/busy.html")) == 2
    assert ("GET", "/busy503.pdf") not in site.requests
    assert "2 not verified" in fast_check["stdout"]
    assert "链接未核实" in fast_check["report"] and "busy.html" in fast_check["report"]


def test_links_to_missing_anchors_are_warnings(fast_check, site):
    missing = {(f["page"], f["url"], f["severity"]) for f in fast_check["findings"] if f["check"] == "missing_anchor"}
    page = f"{site.base}/anchors.html"
    assert missing == {(page, f"{page}#absent", "warning"),
                       (page, f"{site.base}/target.html#nothere", "warning"),
                       # Named as the page wrote it; its identity kept beside.
                       (f"{site.base}/written.html", f"{site.base}/target.html?#gone-anchor", "warning")}
    (written,) = [f for f in fast_check["findings"] if f["check"] == "missing_anchor" and "written" in f["page"]]
    assert written["detail"]["identity"] == f"{site.base}/target.html#gone-anchor"


def test_broken_links_say_where_they_sit(fast_check, site):
    labels = {f["url"].rsplit("/", 1)[-1]: (f["detail"]["tag"], f["detail"].get("attr", ""), f["message"])
              for f in fast_check["findings"] if f["check"] == "broken_link" and "/extract.html" in f["page"]}
    assert labels["missing-body-bg.png"][:2] == ("body", "background")
    assert labels["missing-body-bg.png"][2].startswith("背景图片")
    assert labels["missing-import.css"][:2] == ("style", "css")
    assert labels["missing-import.css"][2].startswith("样式表引用")
    assert labels["missing-2x.png"][:2] == ("img", "srcset")
    assert labels["missing-poster.jpg"][:2] == ("video", "poster")
    assert labels["missing-inline.png"][:2] == ("div", "style")


def test_each_stylesheet_is_read_once_and_its_links_checked(fast_check, site):
    reads = [r for r in site.requests if r[1].startswith("/css/site.css")]
    assert sorted(reads) == [("GET", "/css/site.css"), ("GET", "/css/site.css?v=2")]
    assert site.requests.count(("GET", "/css/more.css")) == 1
    (finding,) = [f for f in fast_check["findings"] if f["url"].endswith("missing-sheet-bg.png")
                  and f["page"].endswith("site.css")]
    assert finding["detail"]["via"] == f"{site.base}/extract.html"
    assert finding["message"].startswith("样式表引用")


def test_polite_crawl_requests_as_written_too(site, tmp_path):
    """Without --fast every link goes through Scrapy's downloader: the same requests."""
    site.requests.clear()
    findings = patrol_check(site.base + "/", tmp_path / "out", POLITE_CONFIG)
    assert AS_WRITTEN <= {path for _, path in site.requests}
    assert of(findings, "broken_link") == expected_broken(site.base)


def test_links_are_requested_as_written_over_ipv6(tmp_path):
    try:
        site6 = Site("::1")
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    try:
        findings = patrol_check(site6.base + "/query.html", tmp_path / "out", CRAWL_CONFIG, "--fast")
    finally:
        site6.stop()
    assert AS_WRITTEN <= {path for _, path in site6.requests}
    assert of(findings, "broken_link") == set()
