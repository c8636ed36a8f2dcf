"""Loopback servers for the resolver, netfetch and IPv6 tests.

``DnsServer``: a tiny authoritative DNS server (dnslib) answering A/AAAA from a dict.
``HttpServer``: an HTTP(S) server on one loopback address serving canned routes.
``make_tls_files``: a test CA and a server certificate for given names.

    with DnsServer({"www.qingxi.test": ["127.0.0.1", "::1"]}) as dns:
        Resolver(nameservers=[dns.nameserver])

Names in ``records`` answer with their addresses (an empty list: the name exists with no
address records, NOERROR/NODATA); names in ``silent`` are never answered (to test timeouts);
every other name is NXDOMAIN.  ``queries`` records each (name, type) asked, so tests can
assert what was looked up and how often.
"""
from __future__ import annotations

import datetime
import ipaddress
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

from dnslib import AAAA, QTYPE, RCODE, RR, A, DNSRecord


class _Served:
    """A socketserver run on a daemon thread: ``start``/``stop``, or ``with``."""

    _server: socketserver.BaseServer
    _thread: threading.Thread

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class DnsServer(_Served):
    def __init__(self, records: Mapping[str, Iterable[str]], host: str = "127.0.0.1",
                 silent: Iterable[str] = (), ttl: int = 60) -> None:
        self.records = {k.lower().rstrip("."): list(v) for k, v in records.items()}
        self.silent = {s.lower().rstrip(".") for s in silent}
        self.ttl = ttl
        self.queries: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                reply = outer.answer(data)
                if reply is not None:
                    sock.sendto(reply, self.client_address)

        class Server(socketserver.ThreadingUDPServer):
            address_family = family
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server((host, 0), Handler)
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def nameserver(self) -> str:
        """The ``resolver.nameservers`` entry that reaches this server."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def count(self, name: str, qtype: str | None = None) -> int:
        name = name.lower().rstrip(".")
        with self._lock:
            return sum(1 for n, t in self.queries if n == name and (qtype is None or t == qtype))

    def answer(self, data: bytes) -> bytes | None:
        try:
            request = DNSRecord.parse(data)
        except Exception:  # noqa: BLE001 - garbage in: no answer, like a real server
            return None
        qname = str(request.q.qname).lower().rstrip(".")
        qtype = QTYPE[request.q.qtype]
        with self._lock:
            self.queries.append((qname, qtype))
        if qname in self.silent:
            return None
        reply = request.reply()
        if qname not in self.records:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply.pack()
        for address in self.records[qname]:
            if qtype == "A" and ":" not in address:
                reply.add_answer(RR(qname, QTYPE.A, rdata=A(address), ttl=self.ttl))
            elif qtype == "AAAA" and ":" in address:
                reply.add_answer(RR(qname, QTYPE.AAAA, rdata=AAAA(address), ttl=self.ttl))
        return reply.pack()



# --- HTTP ------------------------------------------------------------------------------------

@dataclass
class Route:
    """What a path answers: status, headers, body; ``hang`` never answers, ``trickle`` sends
    the body one byte per ``trickle`` seconds; ``head_status`` answers HEAD differently."""

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    trickle: float = 0.0
    head_status: int | None = None


def page(title: str, body: str = "", links: Iterable[str] = ()) -> Route:
    anchors = "".join(f'<a href="{u}">{u}</a>\n' for u in links)
    html = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p>{body}</p>{anchors}</body></html>")
    return Route(200, html, {"Content-Type": "text/html; charset=utf-8"})


class HttpServer(_Served):
    """Serves ``routes`` (path -> Route, or a callable(handler) -> Route) on one address.

    Unknown paths are 404.  ``requests`` records (method, path, Host header) per request;
    ``sni`` records the TLS server names clients sent.
    """

    def __init__(self, routes: Mapping[str, Route | Callable[..., Route]], host: str = "127.0.0.1",
                 port: int = 0, tls: tuple[str, str] | None = None) -> None:
        self.routes = dict(routes)
        self.requests: list[tuple[str, str, str]] = []
        self.sni: list[str | None] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        outer = self
        family = socket.AF_INET6 if ":" in host else socket.AF_INET

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self, method: str) -> None:
                path = self.path
                with outer._lock:
                    outer.requests.append((method, path, self.headers.get("Host", "")))
                route = outer.routes.get(path) or outer.routes.get(path.split("?")[0])
                if callable(route):
                    route = route(self)
                if route is None:
                    route = Route(404, "not found")
                if route.hang:
                    outer._stop.wait(30)
                    return
                status = route.head_status if method == "HEAD" and route.head_status else route.status
                body = route.body.encode("utf-8") if isinstance(route.body, str) else route.body
                self.send_response(status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if method == "HEAD":
                    return
                if route.trickle:
                    for i in range(len(body)):
                        if outer._stop.wait(route.trickle):
                            return
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                else:
                    self.wfile.write(body)
                self.close_connection = True

            def do_GET(self) -> None:
                self._serve("GET")

            def do_HEAD(self) -> None:
                self._serve("HEAD")

            def do_POST(self) -> None:
                self._serve("POST")

        class Server(ThreadingHTTPServer):
            address_family = family
            daemon_threads = True

        self._server = Server((host, port), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)

            def remember_sni(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
                with outer._lock:
                    outer.sni.append(name)

            context.sni_callback = remember_sni  # type: ignore[assignment]
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.host = host
        self.port = self._server.server_address[1]
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "/", host: str | None = None) -> str:
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{self.scheme}://{name}:{self.port}{path}"

    def count(self, path: str, method: str | None = None) -> int:
        with self._lock:
            return sum(1 for m, p, _ in self.requests if p == path and (method is None or m == method))

    def stop(self) -> None:
        self._stop.set()
        super().stop()


def free_port_on_both() -> int:
    """A port number free on 127.0.0.1 and on ::1, so one URL reaches a site over both."""
    for _ in range(50):
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
            s6.bind(("::1", 0))
            port = s6.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s4:
                try:
                    s4.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no port free on both loopback addresses")


def dual_stack(routes4: Mapping[str, Route | Callable[..., Route]],
               routes6: Mapping[str, Route | Callable[..., Route]] | None = None,
               tls: tuple[str, str] | None = None) -> tuple[HttpServer, HttpServer]:
    """Two servers on one port, on 127.0.0.1 and ::1 (routes6 defaults to the same routes)."""
    for _ in range(20):
        port = free_port_on_both()
        try:
            v4 = HttpServer(routes4, "127.0.0.1", port, tls)
        except OSError:
            continue
        try:
            v6 = HttpServer(routes6 if routes6 is not None else routes4, "::1", port, tls)
        except OSError:
            v4.stop()
            continue
        return v4.start(), v6.start()
    raise RuntimeError("could not bind one port on both loopback addresses")


# --- TLS -------------------------------------------------------------------------------------

def make_tls_files(directory: Path, names: Iterable[str]) -> tuple[str, str, str]:
    """(ca.pem, server-cert.pem, server-key.pem): a CA and a server certificate for ``names``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    day = datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "patrol test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - day).not_valid_after(now + 30 * day)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names = list(names)
    alt: list[x509.GeneralName] = []
    for n in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            alt.append(x509.DNSName(n))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - day).not_valid_after(now + 30 * day)
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(ca_path), str(cert_path), str(key_path)


def wait_until(predicate: Callable[[], bool], limit: float = 5.0) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
