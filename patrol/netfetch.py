"""A small blocking HTTP(S) fetcher for probes, the IPv6 check and new-media post links.

Not used by the Scrapy crawl.  It resolves through the run's ``Resolver``, connects to an
address of the wanted family (``family=socket.AF_INET6`` fetches over IPv6 only), and still
sends the site's name as Host header and TLS SNI, and checks the certificate against it, so
a site is judged as a visitor reaching it over that family would see it.

``fetch`` never raises for network problems: they come back as ``error_kind`` from the same
closed vocabulary as broken links (``checks.model.LinkKind``).  ``timeout`` bounds the whole
exchange, DNS to last body byte: a server that accepts and never answers, or trickles bytes,
is cut off at the deadline.
"""
from __future__ import annotations

import contextlib
import functools
import heapq
import http.client
import itertools
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from checks.model import LinkKind
from crawler.linkpolicy import Failed, classify_failure, next_hop
from common.resolver import ResolveError, Resolver, normalise_host, valid_hostname

DEFAULT_USER_AGENT = "Mozilla/5.0 (compatible; patrol/0.1; government website inspection)"
REDIRECT_CODES = (301, 302, 303, 307, 308)
# Characters left as they are when a path is put on the wire: reserved ones and '%' (already
# percent-encoded sequences stay as they are).
_PATH_SAFE = "/?&=+:;@!$'()*,~%#[]-._"


@dataclass
class FetchResult:
    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)    # lower-case names
    body: bytes = b""
    elapsed_ms: int = 0
    # None when an HTTP answer came; else timeout|dns|refused|tls|connection|invalid_url|
    # too_many_redirects|redirect_loop
    error_kind: str | None = None
    error: str = ""                 # human-readable
    address: str | None = None      # IP actually connected to (last hop)
    final_url: str = ""
    redirects: list[str] = field(default_factory=list)       # URLs after the first
    truncated: bool = False         # the body was cut at max_body

    @property
    def ok(self) -> bool:
        """An HTTP answer that is not an error status."""
        return self.error_kind is None and self.status is not None and self.status < 400


class _Deadline(Exception):
    pass


class _Watchdog:
    """One thread that closes sockets whose exchange outlived its deadline.

    Socket timeouts bound each read; only closing the socket bounds the sum of them.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._cancelled: set[int] = set()
        self._ids = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def schedule(self, when: float, action: Callable[[], None]) -> int:
        with self._cond:
            ident = next(self._ids)
            heapq.heappush(self._heap, (when, ident, action))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="patrol-netfetch-watchdog",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()
            return ident

    def cancel(self, ident: int) -> None:
        with self._cond:
            self._cancelled.add(ident)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                when, ident, action = self._heap[0]
                now = time.monotonic()
                if ident in self._cancelled:
                    heapq.heappop(self._heap)
                    self._cancelled.discard(ident)
                    continue
                if when > now:
                    self._cond.wait(when - now)
                    continue
                heapq.heappop(self._heap)
            with contextlib.suppress(Exception):   # the socket may be closed already
                action()


_WATCHDOG = _Watchdog()


class _Exchange:
    """State of one fetch: deadline and the connection to cut when it passes."""

    def __init__(self, timeout: float) -> None:
        self.start = time.monotonic()
        self.deadline = self.start + timeout
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.sock: socket.socket | None = None      # the socket to cut at the deadline
        self.expired = False
        self._lock = threading.Lock()
        self._watch = _WATCHDOG.schedule(self.deadline, self._expire)

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Deadline()
        return left

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sock = self.sock
        if sock is not None:
            try:
                # shutdown, not close: the reading thread owns the descriptor and must see
                # the end of the stream, not a reused file number.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except (OSError, ValueError):
                pass

    def attach(self, conn: http.client.HTTPConnection | None) -> None:
        with self._lock:
            self.conn = conn
            if conn is None:
                self.sock = None

    def set_sock(self, sock: socket.socket | None) -> None:
        with self._lock:
            self.sock = sock
        if self.expired and sock is not None:
            self._expire()

    def refresh_timeout(self) -> None:
        """Let the next socket operation wait at most until the deadline."""
        left = self.remaining()
        if self.sock is not None:
            self.sock.settimeout(left)

    def done(self) -> None:
        _WATCHDOG.cancel(self._watch)

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.start) * 1000)


def fetch(url: str, *, resolver: Resolver | None = None, family: int | None = None, method: str = "GET",
          timeout: float = 15.0, max_body: int = 2_000_000, follow_redirects: bool = True,
          max_redirects: int = 10, headers: Mapping[str, str] | None = None,
          user_agent: str | None = None, verify_tls: bool = True,
          ssl_context: ssl.SSLContext | None = None) -> FetchResult:
    """Fetch ``url`` (following redirects) and describe what happened; never raises for
    network problems.

    ``family``: socket.AF_INET6 / AF_INET to use only that IP family (None: IPv4 addresses
    first, then IPv6).  ``verify_tls=False`` accepts any certificate; ``ssl_context``
    replaces the default one (for a private CA).
    """
    if ssl_context is None:
        ssl_context = _default_context(verify_tls)
    resolver = resolver or Resolver()
    ex = _Exchange(timeout)
    result = FetchResult(url=url, final_url=url)
    current, verb = url, method.upper()
    try:
        while True:
            _one_request(current, verb, ex, result, resolver, family, max_body, headers or {},
                         user_agent or DEFAULT_USER_AGENT, ssl_context)
            result.final_url = current
            if result.error_kind or not follow_redirects or result.status not in REDIRECT_CODES:
                break
            location = result.headers.get("location", "").strip()
            if not location:
                break  # a 3xx without Location is the answer itself
            hop = next_hop(current, _header_text(location), [_loop_key(url), *result.redirects], max_redirects)
            if hop.kind == LinkKind.REDIRECT_LOOP.value:
                result.redirects.append(hop.url)
            if hop.kind:
                _fail(result, hop.kind, hop.message)
                break
            nxt = hop.url
            result.redirects.append(nxt)
            if result.status == 303 or (result.status in (301, 302) and verb == "POST"):
                verb = "GET"
            current = nxt
    finally:
        ex.done()
        result.elapsed_ms = ex.elapsed_ms()
    return result


@functools.lru_cache(maxsize=2)
def _default_context(verify: bool) -> ssl.SSLContext:
    # Loading the system CA store costs milliseconds; one shared context serves every fetch.
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _header_text(value: str) -> str:
    """http.client decodes headers as Latin-1; servers that send UTF-8 (Chinese paths in a
    Location) get their text back."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _loop_key(url: str) -> str:
    return url.split("#", 1)[0]


def _fail(result: FetchResult, kind: str, message: str) -> None:
    result.error_kind = kind
    result.error = message


def _failed(result: FetchResult, exc: BaseException, **how: bool) -> Failed:
    failed = classify_failure(exc, **how)
    _fail(result, failed.kind.value, failed.message)
    return failed


def _one_request(url: str, method: str, ex: _Exchange, result: FetchResult, resolver: Resolver,
                 family: int | None, max_body: int, extra_headers: Mapping[str, str], user_agent: str,
                 context: ssl.SSLContext) -> None:
    """One HTTP exchange; fills ``result`` (status, headers, body or the error)."""
    result.status, result.headers, result.body, result.truncated = None, {}, b"", False
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        return _fail(result, "invalid_url", f"invalid URL {url!r}: {exc}")
    if parts.scheme not in ("http", "https") or not host:
        return _fail(result, "invalid_url", f"not an http(s) URL: {url!r}")
    port = port or (443 if parts.scheme == "https" else 80)
    host = normalise_host(host)   # A-label form for Host, SNI and the certificate check
    if not valid_hostname(host):
        return _fail(result, "invalid_url", f"invalid host name {host!r} in {url!r}")
    # Raw non-ASCII or spaces in a page's href are sent percent-encoded, as browsers do.
    path = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=_PATH_SAFE)
    response: http.client.HTTPResponse | None = None
    connecting = False      # connect() is the TCP connection and, for https, the TLS handshake
    try:
        try:
            addresses = resolver.resolve(host, family)
        except ResolveError as exc:
            return _failed(result, exc)
        ex.remaining()
        conn = _connection(parts.scheme, host, port, ex, context)
        ex.attach(conn)
        last_error: OSError | None = None
        connecting = True
        for address in addresses:
            conn._patrol_address = address  # type: ignore[attr-defined]
            result.address = address
            conn.timeout = ex.remaining()
            try:
                conn.connect()
            except ssl.SSLError:
                raise   # TCP worked and TLS did not: other addresses would not do better
            except OSError as exc:
                conn.close()
                last_error = exc
                if ex.expired:
                    raise _Deadline() from None
                continue
            ex.set_sock(conn.sock)  # the TLS socket when HTTPS
            break
        else:
            assert last_error is not None
            raise last_error
        connecting = False
        ex.refresh_timeout()
        conn.putrequest(method, path, skip_accept_encoding=True)
        sent = {k.lower() for k in extra_headers}
        defaults = {"user-agent": user_agent, "accept": "*/*", "accept-encoding": "identity",
                    "connection": "close"}
        for name, value in defaults.items():
            if name not in sent:
                conn.putheader(name, value)
        for name, value in extra_headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        result.status = response.status
        result.headers = _headers(response)
        if method != "HEAD" and response.status not in (204, 304):
            chunks: list[bytes] = []
            size = 0
            while size < max_body:
                ex.refresh_timeout()
                chunk = response.read1(min(65536, max_body - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            result.body = b"".join(chunks)
            if size >= max_body:
                ex.refresh_timeout()
                result.truncated = bool(response.read1(1))
        if ex.expired:
            raise _Deadline()
    except _Deadline:
        _failed(result, TimeoutError("deadline"), expired=True)
        result.status = None
    except Exception as exc:  # noqa: BLE001 - a misbehaving server must give a result, not a crash
        # The link policy's one classifier; a socket the watchdog closed at the deadline is a
        # timeout whatever error it raised, and headers followed by a broken body an
        # incomplete answer.
        failed = _failed(result, exc, expired=ex.expired, handshake=connecting and parts.scheme == "https")
        if failed.kind in (LinkKind.TIMEOUT, LinkKind.TLS):
            result.status = None
    finally:
        conn_ = ex.conn
        ex.attach(None)
        if response is not None:
            response.close()
        if conn_ is not None:
            conn_.close()
    return None


def _headers(response: http.client.HTTPResponse) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in response.getheaders():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _connection(scheme: str, host: str, port: int, ex: _Exchange,
                context: ssl.SSLContext) -> http.client.HTTPConnection:
    """An http.client connection to ``host`` that dials the address chosen by ``fetch``.

    http.client puts ``host`` in the Host header and, for HTTPS, in SNI and the certificate
    check; only the socket's peer differs, so overriding ``_create_connection`` is enough.
    """
    if scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(host, port, timeout=ex.timeout,
                                                                       context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=ex.timeout)

    def create_connection(address: tuple[str, int], timeout: float | None = None,
                          source_address: tuple[str, int] | None = None) -> socket.socket:
        target = conn._patrol_address  # type: ignore[attr-defined]
        fam = socket.AF_INET6 if ":" in target else socket.AF_INET
        sock = socket.socket(fam, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            # Registered before connecting so the watchdog can cut a hanging connect too.
            ex.set_sock(sock)
            sock.connect((target, address[1]))
            return sock
        except BaseException:
            sock.close()
            raise

    conn._create_connection = create_connection  # type: ignore[method-assign]
    return conn
