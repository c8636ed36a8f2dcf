"""A lean HTTP/1.1 client for checking links that need no crawling.

Attachments, images, style sheets and scripts, and links to other sites, are a third of a
site's URLs.  They are only checked (does the target answer?), never parsed for links, so they
do not need Scrapy's scheduler, middlewares and per-request machinery, which cost about a
millisecond of CPU per URL.  This client runs on the crawl's own asyncio event loop (Scrapy's
asyncio reactor) and keeps every promise of the link check:

* one exchange per call: HEAD, or GET that reads the headers and, only when asked (an HTML
  page whose text decides soft-404, a style sheet whose url()s are links), the body up to a
  size cap; the caller follows redirects and falls back from HEAD to GET, by the rules of
  ``crawler.linkpolicy``, as the spider does for Scrapy responses;
* retries with exponential backoff on timeouts, broken connections, 5xx and 429, honouring
  ``Retry-After`` (seconds or an HTTP date) up to a maximum, the wait spent outside the host's
  slot (the same rules as ``crawler.middlewares.RetryBackoffMiddleware``);
* failures in the link check's closed set of kinds: ``timeout``, ``dns``, ``refused``, ``tls``,
  ``connection`` (HTTP statuses are answers, not failures), given by the link policy's one
  classifier (``crawler.linkpolicy.classify_failure``), which also says which are retried;
* names resolved through the run's ``common.resolver.Resolver`` (IPv4 and IPv6, overrides,
  RFC 6761 names), TLS with SNI and, like Scrapy's default context, no certificate check
  (a self-signed certificate is not a broken link; a failed handshake is);
* politeness: at most ``per_host`` requests in flight per host, ``delay`` seconds between
  request starts to one host, at most ``total`` in flight overall, an honest User-Agent;
* kept-alive connections per host, so a check costs a request, not a TCP handshake.
"""
from __future__ import annotations

import asyncio
import os
import random
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from checks.model import LinkKind
from crawler.linkpolicy import RETRY_STATUSES, classify_failure, retry_delay
from common.resolver import ResolveError, Resolver

ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HEADER_LIMIT = 1 << 17          # status line plus headers; more is a broken server
IDLE_PER_HOST = 32              # kept-alive connections remembered per host
DRAIN_LIMIT = 1 << 16           # an unwanted body this short is read past to keep the connection
DRAIN_WAIT_S = 0.2              # ... when it arrives this soon
HTML_TYPES = ("text/html", "application/xhtml")
CSS_TYPE = "text/css"
# Which answers' bodies are read: none, a 200 HTML page (link checks that may meet a soft-404
# page), any HTML, CSS or untyped answer (pages and stylesheets fetched for Scrapy), or a 200
# stylesheet or HTML page (a stylesheet checked by the lean client: its url()s are links), or
# any answer (the data a page's script asks for its list).
BODY_NONE, BODY_HTML_200, BODY_HTML, BODY_CSS_200, BODY_ANY = 0, 1, 2, 3, 4


class FetchFailed(Exception):
    """No HTTP answer: ``kind`` is one of the link check's failure kinds."""

    def __init__(self, kind: str, message: str, attempts: int = 1):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.attempts = attempts


class Unanswered(Exception):
    """A failure worth another attempt (timeout, dropped connection)."""

    def __init__(self, kind: str, message: str, stale: bool = False):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.stale = stale          # a kept-alive connection the server had already closed


@dataclass
class Fetched:
    """One HTTP answer."""

    url: str
    method: str
    status: int
    headers: dict[str, str]          # lower-case names; the last value of a repeated header
    body: bytes = b""
    attempts: int = 1
    raw_headers: list[tuple[str, str]] = field(default_factory=list)   # as sent, in order
    complete: bool = True            # False: the body was not read, or was cut at max_body

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


@dataclass
class _Host:
    slots: asyncio.Semaphore
    next_start: float = 0.0
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = field(default_factory=list)
    addresses: list[str] | None = None


class LeanClient:
    """Checks URLs with HEAD/GET on the running event loop; see the module docstring."""

    def __init__(self, resolver: Resolver, *, user_agent: str, timeout: float = 20.0,
                 per_host: int = 4, total: int = 16, delay: float = 0.0, jitter: float = 0.0,
                 retries: int = 2, backoff: float = 1.0, max_retry_after: float = 60.0,
                 max_body: int = 2 * 1024 * 1024):
        self.resolver = resolver
        self.user_agent = user_agent
        self.timeout = timeout
        self.per_host = max(1, per_host)
        self.delay = max(0.0, delay)
        self.jitter = max(0.0, min(jitter, 1.0))
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.max_body = max_body
        self.requests = 0            # exchanges started (every attempt)
        self.retried = 0             # attempts after the first
        self._total = asyncio.Semaphore(max(1, total))
        self._hosts: dict[str, _Host] = {}
        self._tls: ssl.SSLContext | None = None     # made for the first https URL

    def _tls_context(self) -> ssl.SSLContext:
        """TLS without certificate verification (a link is checked for an answer; certificates
        are judged elsewhere).  Made when first needed: a context that loads the system's CA
        store costs 20 ms, and most crawls of a local or plain-HTTP site never use one."""
        if self._tls is None:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            tls.check_hostname = False
            tls.verify_mode = ssl.CERT_NONE
            if os.environ.get("SSLKEYLOGFILE"):     # as ssl.create_default_context honours it
                tls.keylog_filename = os.environ["SSLKEYLOGFILE"]
            self._tls = tls
        return self._tls

    async def fetch(self, url: str, method: str = "HEAD", *, referer: str | None = None,
                    read_body: bool = False, read_css: bool = False) -> Fetched:
        """One exchange with retries.  ``read_body``: for a GET answered 200 with HTML, read the
        body (up to ``max_body``); ``read_css``: the same for a stylesheet (or HTML).  Raises
        FetchFailed when no answer could be had."""
        body = BODY_CSS_200 if read_css else BODY_HTML_200 if read_body else BODY_NONE
        attempt = 1
        while True:
            status, retry_after = None, ""
            try:
                answer = await self._attempt(url, method, referer, body)
            except Unanswered as exc:
                if attempt > self.retries:
                    raise FetchFailed(exc.kind, exc.message, attempt) from None
            except FetchFailed as exc:
                exc.attempts = attempt
                raise
            else:
                answer.attempts = attempt
                if answer.status not in RETRY_STATUSES or attempt > self.retries:
                    return answer
                status, retry_after = answer.status, answer.header("retry-after")
            delay = retry_delay(attempt, self.backoff, status, retry_after, self.max_retry_after)
            attempt += 1
            self.retried += 1
            if delay > 0:
                await asyncio.sleep(delay)

    def close(self) -> None:
        """Close the kept-alive connections."""
        for host in self._hosts.values():
            for _, writer in host.idle:
                writer.close()
            host.idle.clear()

    # --- one attempt ---------------------------------------------------------------------

    async def _attempt(self, url: str, method: str, referer: str | None, body: int) -> Fetched:
        host, scheme, hostname, port, netloc, target = self._target(url)
        head = [f"{method} {target} HTTP/1.1", f"Host: {netloc}", f"User-Agent: {self.user_agent}",
                f"Accept: {ACCEPT}", "Accept-Language: en", "Accept-Encoding: identity"]
        if referer:
            head.append(f"Referer: {referer}")
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "replace")
        async with self._total, host.slots:
            await self._polite(host)
            self.requests += 1
            return await self._send(host, scheme, hostname, port, url, method, request, body, self.timeout)

    async def exchange(self, url: str, method: str, headers: list[tuple[str, str]],
                       timeout: float, any_body: bool = False) -> Fetched:
        """One exchange with the given request headers, and nothing else: no retries, no
        per-host slots or delay (the caller, Scrapy's downloader, applies those).  The body is
        read when the answer is HTML or untyped (``any_body``: of any type), whatever its status;
        ``Fetched.complete`` is
        False when it was not read (another type) or was cut at ``max_body``.  Raises
        FetchFailed, or Unanswered for a timeout or a dropped connection."""
        host, scheme, hostname, port, netloc, target = self._target(url)
        head = [f"{method} {target} HTTP/1.1"]
        if not any(name.lower() == "host" for name, _ in headers):
            head.append(f"Host: {netloc}")
        head.extend(f"{name}: {value}" for name, value in headers)
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "replace")
        self.requests += 1
        return await self._send(host, scheme, hostname, port, url, method, request,
                                BODY_ANY if any_body else BODY_HTML, timeout)

    def _target(self, url: str) -> tuple[_Host, str, str, int, str, str]:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            hostname = parts.hostname or ""
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError as exc:
            raise _failure(exc) from None
        if scheme not in ("http", "https") or not hostname:
            raise FetchFailed(LinkKind.INVALID_URL.value, f"cannot fetch {url[:100]}")
        key = f"{scheme}://{hostname}:{port}"
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(asyncio.Semaphore(self.per_host))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return host, scheme, hostname, port, parts.netloc, target

    async def _send(self, host: _Host, scheme: str, hostname: str, port: int, url: str, method: str,
                    request: bytes, body: int, timeout: float) -> Fetched:
        try:
            async with asyncio.timeout(timeout):
                for _ in range(2):
                    conn = host.idle.pop() if host.idle else None
                    try:
                        if conn is None:
                            conn = await self._connect(host, scheme, hostname, port)
                            reused = False
                        else:
                            reused = True
                        return await self._exchange(conn, host, url, method, request, body, reused)
                    except Unanswered as exc:
                        if not exc.stale:
                            raise
                        # The server closed a kept-alive connection: ask again on a new one.
                raise Unanswered(LinkKind.CONNECTION.value, "连接中断：server closed the connection")
        except TimeoutError as exc:
            raise _failure(exc) from None

    async def _polite(self, host: _Host) -> None:
        if self.delay <= 0:
            return
        now = time.monotonic()
        start = max(now, host.next_start)
        spread = self.delay * self.jitter
        host.next_start = start + self.delay + (random.uniform(-spread, spread) if spread else 0.0)
        if start > now:
            await asyncio.sleep(start - now)

    async def _connect(self, host: _Host, scheme: str, hostname: str,
                       port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        addresses = host.addresses if host.addresses is not None else await self._resolve(hostname)
        host.addresses = addresses
        tls = self._tls_context() if scheme == "https" else None
        refused: OSError | None = None
        for address in addresses:
            try:
                return await asyncio.open_connection(
                    address, port, ssl=tls, server_hostname=hostname if tls else None,
                    limit=HEADER_LIMIT)
            except ConnectionRefusedError as exc:
                refused = exc           # another address may answer
            except (ssl.SSLError, ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
                raise _failure(exc, handshake=tls is not None) from None
            except OSError as exc:
                if refused is None and address == addresses[-1]:
                    raise _failure(exc) from None
        if refused is not None:
            raise _failure(refused)
        raise _failure(ConnectionError("连接失败"))

    async def _resolve(self, hostname: str) -> list[str]:
        known = [self.resolver.peek(hostname, family) for family in (socket.AF_INET, socket.AF_INET6)]
        try:
            if all(k is not None for k in known):
                addresses = [a for k in known if isinstance(k, list) for a in k]
                if not addresses:
                    error = next((k for k in known if isinstance(k, ResolveError)), None)
                    raise error or ResolveError(f"{hostname}: has no address", reason="no_address")
                return addresses
            loop = asyncio.get_running_loop()
            # Queries to a nameserver block: they run in the loop's thread pool.
            return await loop.run_in_executor(None, self.resolver.resolve, hostname)
        except ResolveError as exc:
            raise _failure(exc) from exc

    async def _exchange(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], host: _Host,
                        url: str, method: str, request: bytes, body: int, reused: bool) -> Fetched:
        reader, writer = conn
        keep = False
        try:
            try:
                writer.write(request)
                await writer.drain()
                status, version, headers, raw = await self._read_head(reader)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError) as exc:
                # A kept-alive connection the server had closed is asked again on a new one.
                raise _failure(exc, stale=reused and isinstance(exc, (EOFError, ConnectionError))) from None
            answer = Fetched(url=url, method=method, status=status, headers=headers, raw_headers=raw)
            no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
            closing = (headers.get("connection", "").lower() == "close"
                       or (version == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive"))
            if no_body:
                keep = not closing
                return answer
            ctype = headers.get("content-type", "").lower()
            html = ctype.startswith(HTML_TYPES)
            if ((body == BODY_HTML_200 and status == 200 and html) or body == BODY_ANY
                    or (body == BODY_HTML and (html or not ctype or ctype.startswith(CSS_TYPE)))
                    or (body == BODY_CSS_200 and status == 200 and (html or ctype.startswith(CSS_TYPE)))):
                try:
                    answer.body, complete = await self._read_body(reader, headers)
                except (asyncio.IncompleteReadError, ConnectionError, ValueError, ssl.SSLError) as exc:
                    if body in (BODY_HTML, BODY_ANY):
                        # A page cut short (or its chunks garbled: the ValueError) is not a
                        # page: like Scrapy's data-loss error, a broken connection, worth
                        # another attempt.
                        raise Unanswered(LinkKind.CONNECTION.value,
                                         f"连接中断：响应不完整（{exc.__class__.__name__}）") from None
                    answer.body, complete = b"", False
                # A body that ended with the connection leaves nothing to keep alive.
                framed = (headers.get("content-length", "").isdigit()
                          or "chunked" in headers.get("transfer-encoding", "").lower())
                keep = complete and framed and not closing
                answer.complete = complete
            else:
                answer.complete = False
                # A short body left unread would cost the connection (a page's broken links
                # are mostly 404 pages): read past it when it is already on its way.
                length = headers.get("content-length", "")
                if (not closing and length.isdigit() and int(length) <= DRAIN_LIMIT
                        and "transfer-encoding" not in headers):    # chunks win over a length
                    try:
                        async with asyncio.timeout(DRAIN_WAIT_S):
                            await reader.readexactly(int(length))
                        keep = True
                    except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError):
                        pass
            return answer
        finally:
            if keep and len(host.idle) < IDLE_PER_HOST:
                host.idle.append(conn)
            else:
                writer.close()

    async def _read_head(self, reader: asyncio.StreamReader
                         ) -> tuple[int, str, dict[str, str], list[tuple[str, str]]]:
        while True:
            raw = await reader.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status_line = lines[0].split(" ", 2)
            if len(status_line) < 2 or not status_line[0].startswith("HTTP/") or not status_line[1].isdigit():
                raise ConnectionError("not an HTTP answer")
            status = int(status_line[1])
            headers: dict[str, str] = {}
            raw: list[tuple[str, str]] = []
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    name, value = name.strip(), value.strip()
                    headers[name.lower()] = value
                    raw.append((name, value))
            if status == 100 or 102 <= status < 200:
                continue            # interim answers: the real one follows
            return status, status_line[0], headers, raw

    async def _read_body(self, reader: asyncio.StreamReader, headers: dict[str, str]) -> tuple[bytes, bool]:
        """The body up to ``max_body``; True when it was read to its end."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                line = await reader.readuntil(b"\r\n")
                length = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if length == 0:
                    await reader.readuntil(b"\r\n")     # no trailers are sent to us in practice
                    return b"".join(chunks), True
                if size + length > self.max_body:
                    chunks.append(await reader.readexactly(self.max_body - size))
                    return b"".join(chunks), False
                chunks.append(await reader.readexactly(length))
                size += length
                await reader.readexactly(2)
        length_text = headers.get("content-length", "")
        if length_text.isdigit():
            length = int(length_text)
            if length > self.max_body:
                return await reader.readexactly(self.max_body), False
            return await reader.readexactly(length), True
        # Neither a length nor chunks: the body ends when the server closes the connection.
        parts: list[bytes] = []
        size = 0
        while size < self.max_body:
            part = await reader.read(self.max_body - size)
            if not part:
                return b"".join(parts), True
            parts.append(part)
            size += len(part)
        return b"".join(parts), False


def _failure(exc: BaseException, *, handshake: bool = False, stale: bool = False) -> Exception:
    """The link policy's verdict on ``exc``: Unanswered when it is worth another attempt,
    FetchFailed when not."""
    failed = classify_failure(exc, handshake=handshake)
    if failed.retry:
        return Unanswered(failed.kind.value, failed.message, stale=stale)
    return FetchFailed(failed.kind.value, failed.message)


def resolver_of(settings: Any) -> Resolver:
    """The run's resolver from the crawl's ``PATROL_RESOLVER`` setting (a dict or its JSON)."""
    from crawler.dns import resolver_from_settings
    raw = settings.get("PATROL_RESOLVER")
    if isinstance(raw, str):
        import json
        raw = json.loads(raw)
    return resolver_from_settings(raw)


def from_settings(settings: Any) -> LeanClient:
    """A client configured like the crawl's Scrapy downloader (Scrapy ``Settings``)."""
    return LeanClient(
        resolver_of(settings), user_agent=settings.get("USER_AGENT"),
        timeout=settings.getfloat("DOWNLOAD_TIMEOUT", 20.0),
        per_host=settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 4),
        total=settings.getint("PATROL_LEAN_CONCURRENCY") or settings.getint("CONCURRENT_REQUESTS", 16),
        delay=settings.getfloat("DOWNLOAD_DELAY", 0.0),
        jitter=settings.getfloat("DOWNLOAD_DELAY_JITTER", 0.0),
        retries=settings.getint("PATROL_RETRIES", 2),
        backoff=settings.getfloat("PATROL_RETRY_BACKOFF", 1.0),
        max_retry_after=settings.getfloat("PATROL_MAX_RETRY_AFTER", 60.0),
        max_body=min(settings.getint("DOWNLOAD_MAXSIZE", 32 * 1024 * 1024), 4 * 1024 * 1024))
