"""The lean link-check client (crawler/leancheck.py): every failure kind, retries, Retry-After,
politeness, the project resolver, and a crawl that gives the same link results with and
without it.  Everything runs against the sample site and small servers on 127.0.0.1 / ::1."""
from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.leancheck import FetchFailed, LeanClient
from common.resolver import Resolver
from patrol.demo.samplesite import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
UA = "Mozilla/5.0 (compatible; patrol-test)"


def client(**kw) -> LeanClient:
    options = {"user_agent": UA, "timeout": 2.0, "per_host": 4, "total": 8, "retries": 1,
               "backoff": 0.05, "max_retry_after": 2.0}
    options.update(kw)
    resolver = options.pop("resolver", None) or Resolver()
    return LeanClient(resolver, **options)


def run(coro):
    return asyncio.run(coro)


async def fetch(c: LeanClient, url: str, method: str = "HEAD", **kw):
    try:
        return await c.fetch(url, method, **kw)
    finally:
        c.close()


async def failure(c: LeanClient, url: str, method: str = "HEAD") -> FetchFailed:
    with pytest.raises(FetchFailed) as info:
        await fetch(c, url, method)
    return info.value


# --- answers ------------------------------------------------------------------------------

def test_head_of_an_existing_file_is_200_without_a_body(sample_site):
    answer = run(fetch(client(), sample_site.base, "HEAD"))
    assert answer.status == 200 and answer.method == "HEAD" and answer.body == b""
    assert answer.header("content-type").startswith("text/html")


def test_missing_file_is_a_404_answer_not_a_failure(sample_site):
    answer = run(fetch(client(), sample_site.url("/no/such/file.pdf")))
    assert answer.status == 404 and answer.attempts == 1


def test_get_reads_the_body_of_an_html_page_only_when_asked(sample_site):
    read = run(fetch(client(), sample_site.base, "GET", read_body=True))
    assert read.status == 200 and b"<html" in read.body.lower()
    unread = run(fetch(client(), sample_site.base, "GET"))
    assert unread.status == 200 and unread.body == b""


def test_server_that_refuses_head_answers_get(sample_site):
    url = sample_site.url("/api/nohead")
    assert run(fetch(client(), url, "HEAD")).status == 405
    assert run(fetch(client(), url, "GET")).status == 200


def test_redirect_is_returned_with_its_location_for_the_caller_to_follow(sample_site):
    answer = run(fetch(client(), sample_site.url("/loop/a")))
    assert answer.status == 302 and answer.header("location").endswith("/loop/b")


def test_kept_alive_connection_serves_many_checks(sample_site):
    async def many():
        c = client(per_host=1)
        try:
            statuses = [(await c.fetch(sample_site.base, "HEAD")).status for _ in range(5)]
            return statuses, len(c._hosts[next(iter(c._hosts))].idle)
        finally:
            c.close()
    statuses, idle = run(many())
    assert statuses == [200] * 5 and idle == 1


# --- retries ------------------------------------------------------------------------------

def test_429_is_retried_after_the_time_retry_after_asks(sample_site):
    sample_site.server.reset()
    url = sample_site.url("/api/busy/lean-429")
    started = time.monotonic()
    answer = run(fetch(client(backoff=0.0), url, "GET"))
    waited = time.monotonic() - started
    assert answer.status == 200 and answer.attempts == 2
    assert waited >= 0.9, "Retry-After: 1 was not honoured (backoff is 0 here)"


def test_503_keeps_failing_after_the_configured_retries(sample_site):
    c = client(retries=2, max_retry_after=0.05)
    answer = run(fetch(c, sample_site.url("/api/maintenance"), "GET"))
    assert answer.status == 503 and answer.attempts == 3 and c.retried == 2


def test_slow_page_is_a_timeout_after_retries(sample_site):
    c = client(timeout=0.5, retries=1)
    exc = run(failure(c, sample_site.url("/slow/report.html"), "GET"))
    assert exc.kind == "timeout" and exc.attempts == 2


# --- failures -----------------------------------------------------------------------------

def test_unknown_host_is_a_dns_failure_without_retries():
    exc = run(failure(client(), "http://nohost.invalid/file.pdf"))
    assert exc.kind == "dns" and exc.attempts == 1


def test_closed_port_is_refused():
    exc = run(failure(client(), f"http://127.0.0.1:{free_port()}/a.pdf"))
    assert exc.kind == "refused"


def test_https_answers_whatever_the_certificate(tmp_path):
    """A link is checked for an answer: an untrusted certificate that names another host still
    answers (certificates are judged elsewhere), and a page's body is read over TLS."""
    from dnsserver import HttpServer, make_tls_files, page
    _, cert, key = make_tls_files(tmp_path, ["www.example.invalid"])
    with HttpServer({"/": page("安全首页")}, host="127.0.0.1", tls=(cert, key)) as server:
        c = client()
        answer = run(fetch(c, server.url("/"), "GET", read_body=True))
    assert server.url("/").startswith("https://")
    assert answer.status == 200 and "安全首页".encode() in answer.body


def test_https_to_a_plain_http_server_is_a_tls_failure(sample_site):
    exc = run(failure(client(), f"https://127.0.0.1:{sample_site.port}/"))
    assert exc.kind == "tls"


def test_server_that_answers_garbage_is_a_connection_failure():
    async def scenario():
        async def garbage(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
            await writer.drain()
            writer.close()
        server = await asyncio.start_server(garbage, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(FetchFailed) as info:
                await fetch(client(retries=1, backoff=0.0), f"http://127.0.0.1:{port}/x.doc")
            return info.value
        finally:
            server.close()
    exc = run(scenario())
    assert exc.kind == "connection" and exc.attempts == 2


def _one_connection_server(bodies: list[bytes], *, stall_after_head: bool = False):
    """A server that answers each request on a connection with the next body (a 404 page),
    counting the connections it accepts."""
    state = {"connections": 0}

    async def serve(reader, writer):
        state["connections"] += 1
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                body = bodies[min(state.setdefault("n", 0), len(bodies) - 1)]
                state["n"] += 1
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n"
                             b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
                await writer.drain()
                if stall_after_head:
                    await asyncio.sleep(3)
                writer.write(body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
    return serve, state


def _gets(serve, paths: list[str]):
    return _gets_with(serve, paths)


def _gets_with(serve, paths: list[str], **options):
    async def scenario():
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        c = client(per_host=1, **options)
        try:
            answers = []
            for path in paths:
                started = time.monotonic()
                answers.append((await c.fetch(f"http://127.0.0.1:{port}{path}", "GET"),
                                time.monotonic() - started))
            return answers
        finally:
            c.close()
            server.close()
    return run(scenario())


def test_a_short_unread_body_is_read_past_to_keep_the_connection():
    page = b"<html><body>404 page not found</body></html>"
    serve, state = _one_connection_server([page])
    answers = _gets(serve, ["/gone-1.html", "/gone-2.html", "/gone-3.html"])
    assert [a.status for a, _ in answers] == [404, 404, 404]
    assert all(a.body == b"" for a, _ in answers)
    assert state["connections"] == 1


def test_a_long_or_late_unread_body_closes_the_connection_instead():
    long_page = b"<html>" + b"x" * 200_000 + b"</html>"
    serve, state = _one_connection_server([long_page])
    answers = _gets(serve, ["/big-1.html", "/big-2.html"])
    assert [a.status for a, _ in answers] == [404, 404] and state["connections"] == 2
    # A body that does not follow its head: the answer is the head's, at once, not a timeout.
    serve, state = _one_connection_server([b"<html>late</html>"], stall_after_head=True)
    answers = _gets(serve, ["/late-1.html", "/late-2.html"])
    assert [a.status for a, _ in answers] == [404, 404] and state["connections"] == 2
    assert all(elapsed < 1.5 for _, elapsed in answers)


def test_a_chunked_body_is_never_read_past_by_its_content_length():
    """An answer with both Transfer-Encoding and Content-Length is framed by its chunks: read
    past by the length, the connection would go back to the pool in the middle of the body."""
    chunked = b"10\r\n<html>gone</html>\r\n0\r\n\r\n"
    requests = []

    async def serve(reader, writer):
        try:
            while True:
                requests.append(await reader.readuntil(b"\r\n\r\n"))
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n"
                             b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" + chunked)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    answers = _gets_with(serve, ["/a.html", "/b.html", "/c.html"], retries=0)
    assert [a.status for a, _ in answers] == [404, 404, 404]
    assert len(requests) == 3          # none asked again after a connection out of step


# --- resolver and politeness --------------------------------------------------------------

def test_names_are_resolved_through_the_project_resolver_over_ipv6(sample_site):
    if sample_site.base6 is None:
        pytest.skip("no IPv6 loopback")
    resolver = Resolver(overrides={"www.qingxi.invalid": ["::1"]})
    port = sample_site.base6.rsplit(":", 1)[1].rstrip("/")
    answer = run(fetch(client(resolver=resolver), f"http://www.qingxi.invalid:{port}/"))
    assert answer.status == 200


def test_per_host_limit_and_delay_are_kept():
    async def scenario():
        active = peak = 0
        starts: list[float] = []

        async def slow_ok(reader, writer):
            nonlocal active, peak
            try:
                while True:
                    await reader.readuntil(b"\r\n\r\n")
                    active += 1
                    peak = max(peak, active)
                    starts.append(time.monotonic())
                    await asyncio.sleep(0.05)
                    active -= 1
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        server = await asyncio.start_server(slow_ok, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        c = client(per_host=2, total=8)
        try:
            answers = await asyncio.gather(*[c.fetch(f"http://127.0.0.1:{port}/f{i}.pdf") for i in range(8)])
        finally:
            c.close()
            server.close()
        polite = client(per_host=4, delay=0.1)
        server = await asyncio.start_server(slow_ok, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        starts.clear()
        try:
            await asyncio.gather(*[polite.fetch(f"http://127.0.0.1:{port}/g{i}.pdf") for i in range(3)])
        finally:
            polite.close()
            server.close()
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        return [a.status for a in answers], peak, gaps

    statuses, peak, gaps = run(scenario())
    assert statuses == [200] * 8
    assert peak == 2
    assert len(gaps) == 2 and min(gaps) >= 0.09


# --- the crawl gives the same results with and without the lean client ----------------------

def crawl_links(sample_site, tmp: Path, lean: bool) -> dict[str, dict]:
    from common.config import Site
    from patrol.crawling import site_job
    sample_site.server.reset()
    site = Site(name="清溪", url=sample_site.base, render="never")
    out = tmp / f"crawl-{lean}.jsonl"
    job = {"sites": [site_job(site, ["links"], sample_site.today.isoformat())],
           "outputs": {"清溪": str(out)},
           "crawl": {"fast": True, "concurrency": 16, "timeout": 1.5, "retries": 1, "retry_backoff": 0.1,
                     "max_retry_after": 1.5, "lean_checks": lean},
           "resolver": {"nameservers": [], "overrides": {}}}
    job_path = tmp / f"job-{lean}.json"
    job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "crawler.run", str(job_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    links, site_record = {}, None
    for line in out.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["type"] == "link":
            links[record["url"]] = record
        elif record["type"] == "site":
            site_record = record
    assert site_record is not None and site_record["reason"] == "finished"
    return links


def test_crawl_with_lean_checks_gives_the_same_link_results(sample_site, tmp_path):
    lean = crawl_links(sample_site, tmp_path, True)
    scrapy_only = crawl_links(sample_site, tmp_path, False)
    assert lean.keys() == scrapy_only.keys()
    fields = ("kind", "status", "method", "redirects", "final_url", "attempts", "content_type", "internal")
    differ = {url: {f: (lean[url].get(f), scrapy_only[url].get(f)) for f in fields
                    if lean[url].get(f) != scrapy_only[url].get(f)}
              for url in lean}
    differ = {url: d for url, d in differ.items() if d}
    assert not differ
    kinds = {r["kind"] for r in lean.values()}
    assert {"http_404", "dns", "refused", "redirect_loop", "soft_404"} <= kinds


# --- pages through Scrapy with the lean client (crawler/handlers.py) --------------------------

def _handler_fetch(url: str, method: str = "GET", **meta):
    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from crawler.handlers import LeanDownloadHandler

    async def scenario():
        crawler = get_crawler(settings_dict={"DOWNLOAD_TIMEOUT": 1.5, "USER_AGENT": UA})
        handler = LeanDownloadHandler(crawler)
        try:
            return await handler.download_request(Request(url, method=method, meta=meta))
        finally:
            await handler.close()
    return run(scenario())


def _through_handler(serve, *paths: str) -> list:
    """Serve ``serve`` (an asyncio connection handler) on 127.0.0.1 and fetch each path through
    the handler; each result is the response, or the exception the handler raised."""
    def fetch(url: str):
        try:
            return _handler_fetch(url)
        except Exception as exc:   # noqa: BLE001 - the test looks at it
            return exc

    async def scenario():
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            loop = asyncio.get_running_loop()
            return [await loop.run_in_executor(None, fetch, f"http://127.0.0.1:{port}{path}")
                    for path in paths]
        finally:
            server.close()
    return run(scenario())


def test_handler_keeps_every_header_and_reads_html_bodies_at_any_status():
    async def serve(reader, writer):
        request = await reader.readuntil(b"\r\n\r\n")
        status = b"404 Not Found" if b"/missing" in request else b"200 OK"
        body = b"<html><head><title>x</title></head><body>ok</body></html>"
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html; charset=utf-8\r\n"
                     b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    ok, missing = _through_handler(serve, "/page", "/missing")
    assert ok.status == 200 and ok.headers.getlist(b"Set-Cookie") == [b"a=1", b"b=2"]
    assert ok.text.endswith("ok</body></html>") and ok.flags == []
    assert missing.status == 404 and b"<title>x</title>" in missing.body


def test_handler_reads_a_body_that_ends_when_the_connection_closes():
    """No Content-Length, no chunks (an HTTP/1.0-style answer): the body arrives in pieces."""
    async def serve(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body>")
        await writer.drain()
        for n in range(3):
            await asyncio.sleep(0.05)
            writer.write(f'<a href="/p{n}">p{n}</a>'.encode())
            await writer.drain()
        writer.write(b"</body></html>")
        await writer.drain()
        writer.close()

    [response] = _through_handler(serve, "/")
    assert response.status == 200 and response.body.endswith(b"</body></html>")
    assert response.css("a::attr(href)").getall() == ["/p0", "/p1", "/p2"]
    assert response.flags == []


def test_handler_page_cut_short_is_a_connection_failure():
    from scrapy.exceptions import DownloadFailedError
    from twisted.python.failure import Failure

    from crawler.spiders.site import classify_failure

    async def serve(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n<html>")
        await writer.drain()
        writer.close()

    [exc] = _through_handler(serve, "/")
    assert isinstance(exc, DownloadFailedError)
    assert classify_failure(Failure(exc))[0] == "connection"


def test_handler_does_not_read_bodies_that_are_not_pages():
    sent = []

    async def serve(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        body = b"%PDF-1.4 " + b"x" * 200_000
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        sent.append(len(body))
        try:
            writer.write(body)
            await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    [response] = _through_handler(serve, "/a/")
    assert sent and response.status == 200 and response.body == b""
    assert response.flags == ["download_stopped"]
    assert response.headers.get(b"Content-Type") == b"application/pdf"


def test_handler_failures_are_the_exceptions_the_spider_classifies(sample_site):
    from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadFailedError
    from twisted.python.failure import Failure

    from crawler.spiders.site import classify_failure
    closed = free_port()
    cases = {"http://no-such-host.invalid/": (CannotResolveHostError, "dns"),
             f"http://127.0.0.1:{closed}/": (DownloadConnectionRefusedError, "refused"),
             f"https://127.0.0.1:{sample_site.port}/": (DownloadFailedError, "tls")}
    for url, (error, kind) in cases.items():
        with pytest.raises(error) as info:
            _handler_fetch(url)
        assert classify_failure(Failure(info.value))[0] == kind, url
        # The lean client's own verdict, message included, is what the spider records.
        assert info.value.link_kind == kind and classify_failure(Failure(info.value))[1] == info.value.link_message


# --- the lean client only in fast crawls (polite crawls keep one per-host limit) -----------------

def test_lean_checks_are_used_only_when_the_crawl_is_fast():
    from dataclasses import asdict

    from crawler.run import settings_for
    from common.config import Crawl

    def lean(crawl: Crawl) -> bool:
        job = {"sites": [{"name": "s", "url": "http://www.qx.example/", "render": "never"}],
               "crawl": asdict(crawl), "resolver": {"nameservers": [], "overrides": {}}}
        return settings_for(job).getbool("PATROL_LEAN_CHECKS")

    assert Crawl().lean_checks is True
    assert lean(Crawl(fast=True)) is True
    assert lean(Crawl(fast=True, lean_checks=False)) is False
    assert lean(Crawl()) is False                       # polite: per_host and delay apply once
    assert lean(Crawl(fast=False, lean_checks=True)) is False


class _InFlight:
    """Requests a test server is answering: how many at once at most, and which paths."""

    def __init__(self) -> None:
        import threading
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.seen: list[str] = []


def _counting_server(state: _InFlight):
    """A site whose homepage links slow attachments and slow pages."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    home = ("<html><head><title>首页</title></head><body>"
            + "".join(f'<a href="/files/f{i}.pdf">附件{i}</a>' for i in range(8))
            + "".join(f'<a href="/news/n{i}.html">新闻{i}</a>' for i in range(8))
            + "</body></html>").encode("utf-8")
    page = "<html><head><title>新闻</title></head><body><p>正文内容</p></body></html>".encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _answer(self, with_body: bool) -> None:
            with state.lock:
                state.active += 1
                state.peak = max(state.peak, state.active)
                state.seen.append(self.path)
            try:
                if self.path != "/":
                    time.sleep(0.15)
                if self.path.endswith(".pdf"):
                    status, ctype, body = 200, "application/pdf", b"%PDF-1.4 test"
                elif self.path == "/" or self.path.startswith("/news/"):
                    status, ctype, body = 200, "text/html; charset=utf-8", home if self.path == "/" else page
                else:
                    status, ctype, body = 404, "text/html; charset=utf-8", b"<html><title>404</title></html>"
            finally:
                with state.lock:
                    state.active -= 1
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(True)

        def do_HEAD(self) -> None:
            self._answer(False)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_polite_crawl_keeps_per_host_limit_for_pages_and_attachments_together(tmp_path):
    from common.config import Site
    from patrol.crawling import site_job
    state = _InFlight()
    server = _counting_server(state)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        out = tmp_path / "polite.jsonl"
        job = {"sites": [site_job(Site(name="慢站", url=url, render="never", max_depth=1), ["links"],
                                  "2026-01-05")],
               "outputs": {"慢站": str(out)},
               "crawl": {"fast": False, "per_host": 2, "delay": 0, "autothrottle": False, "concurrency": 16,
                         "timeout": 5, "retries": 0, "lean_checks": True},
               "resolver": {"nameservers": [], "overrides": {}}}
        job_path = tmp_path / "job.json"
        job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "crawler.run", str(job_path)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=False)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, proc.stderr[-2000:]
    links = {r["url"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())
             if r["type"] == "link"}
    expected = {f"{url}files/f{i}.pdf" for i in range(8)} | {f"{url}news/n{i}.html" for i in range(8)}
    assert expected <= links.keys()
    assert all(links[u]["kind"] == "ok" for u in expected)
    # Attachments and pages share the host's two slots: never more than two requests at once.
    assert state.peak <= 2
    assert sum(1 for p in state.seen if p.endswith(".pdf")) >= 8
