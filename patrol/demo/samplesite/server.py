"""A threaded HTTP/1.1 server for the sample site, on 127.0.0.1 and ::1.

Static files come from the build's ``www/`` folder; ``routes.json`` adds what files cannot
express (redirect loops, slow pages, 429 then 200, HEAD refused, soft 404s, an endless
calendar).  HTML responses get their tokens replaced: the ports, known only now, and a fresh
session id on every view.
"""
from __future__ import annotations

import calendar
import json
import re
import secrets
import socket
import socketserver
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

from patrol.demo.samplesite import html as H

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".js": "application/javascript; charset=utf-8",
    ".json": "application/json", ".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg",
    ".ico": "image/x-icon", ".pdf": "application/pdf", ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel", ".zip": "application/zip", ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
}
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (another process may take it later)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class _SiteState:
    """What both listening sockets (IPv4 and IPv6) of one site share."""

    docroot: Path
    routes: dict[str, Any]
    ports: dict[str, str] = field(default_factory=dict)     # token -> value
    busy_seen: set[str] = field(default_factory=set)
    # (method, path with query, User-Agent, Sec-Fetch-Dest) -> how often it was asked for; a
    # browser says what it fetches for (document, script, iframe, empty for a script's request)
    requests: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    not_found: bytes = b""

    def __post_init__(self) -> None:
        page = self.docroot / self.routes.get("not_found", "404.html")
        self.not_found = page.read_bytes() if page.is_file() else (
            b"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>404</title></head>"
            b"<body><h1>404 Not Found</h1></body></html>")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"      # keep-alive
    server_version = "QingxiWeb/1.0"
    sys_version = ""
    timeout = 30                       # idle keep-alive connections give their thread back
    # Headers and body leave in two writes; without TCP_NODELAY the second waits for the
    # client's delayed ACK (~40 ms a response).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_POST(self) -> None:
        # The body is not read, so the connection cannot be reused.
        self.close_connection = True
        self._send(405, b"", "text/plain", {"Allow": "GET, HEAD", "Connection": "close"})

    # ------------------------------------------------------------------ responses
    def _send(self, code: int, body: bytes, ctype: str, headers: dict[str, str] | None = None,
              head: bool = False) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _html(self, code: int, doc: str | bytes, head: bool, headers: dict[str, str] | None = None,
              ctype: str = "text/html; charset=utf-8") -> None:
        body = doc.encode("utf-8") if isinstance(doc, str) else doc
        self._send(code, self._fill(body), ctype, headers, head)

    def _fill(self, body: bytes) -> bytes:
        state: _SiteState = self.server.state  # type: ignore[attr-defined]
        for token, value in state.ports.items():
            body = body.replace(token.encode(), value.encode())
        if H.SID_TOKEN.encode() in body:
            body = body.replace(H.SID_TOKEN.encode(), secrets.token_hex(6).encode())
        return body

    def _redirect(self, location: str, code: int, head: bool) -> None:
        self._send(code, b"", "text/html; charset=utf-8", {"Location": location}, head)

    # ------------------------------------------------------------------ dispatch
    def _serve(self, head: bool) -> None:
        state: _SiteState = self.server.state  # type: ignore[attr-defined]
        with state.lock:
            state.requests[("HEAD" if head else "GET", self.path, self.headers.get("User-Agent", ""),
                            self.headers.get("Sec-Fetch-Dest", ""))] += 1
        try:
            self._dispatch(head)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except (ValueError, OSError):
            # Paths no file can have (NUL bytes, names too long): a clear 400, not a dropped line.
            self._send(400, b"bad request", "text/plain; charset=utf-8", None, head)

    def _dispatch(self, head: bool) -> None:
        state: _SiteState = self.server.state  # type: ignore[attr-defined]
        routes = state.routes
        split = urlsplit(self.path)
        # Path parameters (";jsessionid=...") are dropped, as Java servers do.
        path = "/".join(seg.split(";")[0] for seg in unquote(split.path).split("/"))
        query = parse_qs(split.query)

        if path in routes.get("redirects", {}):
            target, code = routes["redirects"][path]
            return self._redirect(target, int(code), head)
        chain = routes.get("chain")
        if chain and path.startswith(chain["prefix"]):
            rest = path[len(chain["prefix"]):]
            step = int(rest) if rest.isdigit() else 0
            nxt = f"{chain['prefix']}{step + 1}" if step < int(chain["length"]) - 1 else chain["target"]
            return self._redirect(nxt, 302, head)
        if path in routes.get("status", {}):
            code = int(routes["status"][path])
            text = {500: "服务器内部错误", 503: "系统维护中，请稍后访问"}.get(code, "错误")
            # No Retry-After: a 503 that asks to come back later is rate limiting, not verified
            # (the link check's rate_limited); this one is a page that is down.
            return self._html(code, H.plain_page("清溪区人民政府", f"{code} {text}", text), head)
        if path in routes.get("slow", {}):
            # Wakes early when the server stops, so shutting down never waits for it.
            state.stopping.wait(float(routes["slow"][path]))
            return self._html(200, H.plain_page("清溪区人民政府", "统计年鉴", "数据加载完成。"), head)
        busy = routes.get("retry_after")
        if busy and path.startswith(busy["prefix"]):
            with state.lock:
                first = path not in state.busy_seen
                state.busy_seen.add(path)
            if first:
                return self._html(429, H.plain_page("清溪区人民政府", "访问过于频繁", "请稍后再试。"), head,
                                  {"Retry-After": str(busy["seconds"])})
            return self._html(200, H.plain_page("清溪区人民政府", "数据开放平台", "欢迎访问数据开放平台。"), head)
        if path in routes.get("no_head", []):
            if head:
                return self._send(405, b"", "text/html; charset=utf-8", {"Allow": "GET"}, head)
            return self._html(200, H.plain_page("清溪区人民政府", "网上办事大厅", "欢迎使用网上办事大厅。"), head)
        if any(path.startswith(p) for p in routes.get("soft_404_prefixes", [])):
            return self._html(200, state.not_found, head)
        if path == routes.get("calendar"):
            return self._html(200, _calendar(query, routes), head)
        paged = routes.get("query_pages", {})
        if path in paged and query.get("page", [""])[0].isdigit() and int(query["page"][0]) > 1:
            path = "/" + paged[path].format(page=int(query["page"][0]))
        return self._static(path, head, state)

    def _static(self, path: str, head: bool, state: _SiteState) -> None:
        root = state.docroot
        target = (root / path.lstrip("/")).resolve()
        if not target.is_relative_to(root):
            return self._html(404, state.not_found, head)
        if target.is_dir():
            if not path.endswith("/"):
                return self._redirect(path + "/", 301, head)
            target = target / "index.html"
        if not target.is_file():
            return self._html(404, state.not_found, head)
        body = target.read_bytes()
        ctype = CONTENT_TYPES.get(target.suffix.lower(), "application/octet-stream")
        if ctype.startswith("text/html"):
            if path in state.routes.get("no_charset", []):
                ctype = "text/html"
            return self._html(200, body, head, ctype=ctype)
        return self._send(200, body, ctype, None, head)


def _calendar(query: dict[str, list[str]], routes: dict[str, Any]) -> str:
    today = date.fromisoformat(routes.get("today") or date.today().isoformat())
    match = MONTH.match(query.get("month", [""])[0])
    year, month = (int(match[1]), int(match[2])) if match else (today.year, today.month)
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        year, month = today.year, today.month
    prev_y, prev_m = (year, month - 1) if month > 1 else (year - 1, 12)
    next_y, next_m = (year, month + 1) if month < 12 else (year + 1, 1)
    return H.calendar_page("清溪区人民政府", f"{year:04d}-{month:02d}", f"{prev_y:04d}-{prev_m:02d}",
                           f"{next_y:04d}-{next_m:02d}", calendar.monthrange(year, month)[1])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN (a DNS query); the sample site never
        # resolves names.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-response are normal for a crawler target: stay quiet.
        pass


class _Server6(_Server):
    address_family = socket.AF_INET6

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()


class SampleServer:
    """One site served on 127.0.0.1 and (when possible) ::1 with the same port.

    ``url``/``url6`` end in "/".  ``ext`` is the external site's server when the build has
    one (started and stopped together with this one)."""

    def __init__(self, docroot: Path, routes: dict[str, Any], *, host: str = "127.0.0.1", port: int = 0,
                 also_ipv6: bool = True, ext: SampleServer | None = None) -> None:
        self.state = _SiteState(Path(docroot).resolve(), routes)
        self.ext = ext
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self.host = host
        self.port6: int | None = None
        self._bind(host, port, also_ipv6)
        self.state.ports = {H.PORT_TOKEN: str(self.port)}
        if ext is not None:
            self.state.ports[H.EXT_PORT_TOKEN] = str(ext.port)
        for server in self._servers:
            server.state = self.state  # type: ignore[attr-defined]
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                      name=f"samplesite-{server.server_address[1]}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _bind(self, host: str, port: int, also_ipv6: bool) -> None:
        # With port 0 the IPv4 port is chosen first; if ::1 has that port taken, try again.
        for _ in range(5 if port == 0 else 1):
            v4 = _Server((host, port), _Handler)
            self.port = v4.server_address[1]
            if not also_ipv6:
                self._servers = [v4]
                return
            try:
                v6 = _Server6(("::1", self.port), _Handler)
            except OSError:
                v4.server_close()
                continue
            self._servers = [v4, v6]
            self.port6 = self.port
            return
        # Same port impossible (or no IPv6): IPv6 on any port, or none at all.
        v4 = _Server((host, port), _Handler)
        self.port = v4.server_address[1]
        self._servers = [v4]
        try:
            v6 = _Server6(("::1", 0), _Handler)
            self._servers.append(v6)
            self.port6 = v6.server_address[1]
        except OSError:
            self.port6 = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def url6(self) -> str | None:
        return f"http://[::1]:{self.port6}/" if self.port6 else None

    @property
    def routes(self) -> dict[str, Any]:
        """The live routes: tests may change e.g. ``routes["slow"]`` delays while serving."""
        return self.state.routes

    def reset(self) -> None:
        """Forget what was served (the 429 route answers 429 again) and the request counts."""
        with self.state.lock:
            self.state.busy_seen.clear()
            self.state.requests.clear()

    def requests(self) -> Counter[tuple[str, str, str, str]]:
        """How often each (method, path with query, User-Agent, Sec-Fetch-Dest) was asked for
        since the last ``reset``."""
        with self.state.lock:
            return Counter(self.state.requests)

    def stop(self) -> None:
        self.state.stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self.ext is not None:
            self.ext.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(root: Path, *, host: str = "127.0.0.1", port: int = 0, also_ipv6: bool = True,
          ext_port: int = 0) -> SampleServer:
    """Serve a build (the folder ``build`` wrote) or any folder of static files.

    For a build, the external site (``root/ext``) is served too, on ``ext_port``, and the main
    pages' links point at it; it is reachable as ``server.ext``."""
    root = Path(root)
    docroot, routes = root, {}
    if (root / "www").is_dir():
        docroot = root / "www"
        routes_file = root / "routes.json"
        if routes_file.is_file():
            routes = json.loads(routes_file.read_text(encoding="utf-8"))
    ext = None
    if (root / "ext").is_dir() and docroot != root:
        ext = SampleServer(root / "ext", {}, host=host, port=ext_port, also_ipv6=also_ipv6)
    try:
        return SampleServer(docroot, routes, host=host, port=port, also_ipv6=also_ipv6, ext=ext)
    except BaseException:
        if ext is not None:
            ext.stop()
        raise
