"""The one name resolver of a run: crawler, link check, IPv6 check and probes all ask it.

Order of answers for a host name:

1. a literal IP address answers for itself;
2. ``resolver.overrides`` (like curl's ``--resolve``) win over everything else;
3. ``localhost`` and names under it are loopback (RFC 6761 §6.3);
4. names under the reserved ``.invalid`` TLD are NXDOMAIN without any query (RFC 6761 §6.4),
   so tests and examples can name a host that certainly does not exist;
5. otherwise the configured ``nameservers`` are queried with dnspython (UDP, falling back to
   TCP for truncated answers), or, with none configured, the system resolver (getaddrinfo).

Answers, empty answers and failures are cached per ``Resolver`` instance: one instance lives
for one run, so a host that appears on a thousand pages is looked up once.
"""
from __future__ import annotations

import ipaddress
import re
import socket
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from common.config import Resolver as ResolverConfig

FAMILIES = (socket.AF_INET, socket.AF_INET6)
_RDTYPE = {socket.AF_INET: "A", socket.AF_INET6: "AAAA"}
# getaddrinfo's "the name exists but has no address of this family" (glibc: EAI_NODATA,
# EAI_ADDRFAMILY); not every platform defines them.
_EAI_NO_DATA = {getattr(socket, n) for n in ("EAI_NODATA", "EAI_ADDRFAMILY") if hasattr(socket, n)}


class ResolveError(Exception):
    """A name could not be turned into addresses.

    ``kind`` is always ``dns`` (the link-check vocabulary); ``reason`` says which DNS
    outcome it was: ``nxdomain``, ``no_address`` (the name exists but has no record of the
    wanted family), ``timeout``, ``servfail`` or ``error``.
    """

    def __init__(self, message: str, kind: str = "dns", reason: str = "error", host: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.reason = reason
        self.host = host


def parse_nameserver(spec: str) -> tuple[str, int]:
    """``"10.0.0.1"``, ``"10.0.0.1:5353"``, ``"::1"``, ``"[::1]:5353"`` -> (address, port)."""
    text = spec.strip()
    host, port = text, 53
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError(f"nameserver {spec!r}: missing ']'")
        host, rest = text[1:end], text[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"nameserver {spec!r}: expected ':port' after ']'")
            port = _port(rest[1:], spec)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = _port(port_text, spec)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"nameserver {spec!r}: not an IP address (give the server's address, "
                         "optionally with :port)") from None
    return host, port


def _port(text: str, spec: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"nameserver {spec!r}: bad port {text!r}")
    return int(text)


def normalise_host(host: str) -> str:
    """Lower case, no trailing dot, no IPv6 brackets; IDN labels become their A-label form."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name and not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            pass  # left as is: the lookup fails with a clear NXDOMAIN/error instead of a crash
    return name


def ip_literal(host: str) -> str | None:
    """The canonical address when ``host`` is an IP literal, else None."""
    try:
        return str(ipaddress.ip_address(normalise_host(host).split("%")[0]))
    except ValueError:
        return None


_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def valid_hostname(host: str) -> bool:
    """Whether ``host`` (normalised) can be a DNS name or is an IP literal; malformed names
    (spaces, empty labels) are never sent to a nameserver."""
    if ip_literal(host) is not None:
        return True
    return 0 < len(host) <= 253 and all(_LABEL.match(label) for label in host.split("."))


def family_of(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


class Resolver:
    """A/AAAA lookups with overrides and a per-instance cache; safe to share between threads."""

    def __init__(self, nameservers: Iterable[str] = (), overrides: Mapping[str, Iterable[str]] | None = None,
                 timeout: float = 5.0) -> None:
        self.nameservers = [parse_nameserver(s) for s in nameservers]
        self.overrides: dict[str, list[str]] = {}
        for host, addresses in (overrides or {}).items():
            if isinstance(addresses, str):
                addresses = [addresses]
            canon = []
            for addr in addresses:
                lit = ip_literal(str(addr))
                if lit is None:
                    raise ValueError(f"resolver override for {host!r}: {addr!r} is not an IP address")
                canon.append(lit)
            self.overrides[normalise_host(host)] = canon
        self.timeout = float(timeout)
        self.queries = 0        # lookups that went to a nameserver or getaddrinfo (for tests/stats)
        self._cache: dict[tuple[str, int], list[str] | ResolveError] = {}
        self._inflight: dict[tuple[str, int], threading.Event] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, cfg: ResolverConfig | None) -> Resolver:
        if cfg is None:
            return cls()
        return cls(nameservers=cfg.nameservers, overrides=cfg.overrides, timeout=cfg.timeout)

    def to_settings(self) -> dict[str, object]:
        """The ``PATROL_RESOLVER`` Scrapy setting that rebuilds an equivalent resolver."""
        return {
            "nameservers": [f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in self.nameservers],
            "overrides": {h: list(a) for h, a in self.overrides.items()},
            "timeout": self.timeout,
        }

    def host_resolver_rules(self, hosts: Iterable[str]) -> str:
        """Chromium's ``--host-resolver-rules`` value mapping ``hosts`` to our answers.

        A browser that renders pages resolves names itself; these rules make it reach the same
        addresses as the rest of the run (overrides, configured nameservers).  Hosts that do
        not resolve are left out, so the browser fails on them as the crawler does.
        """
        rules = []
        for host in dict.fromkeys(normalise_host(h) for h in hosts):
            if not host or ip_literal(host) is not None:
                continue
            try:
                address = self.resolve(host)[0]
            except ResolveError:
                continue
            rules.append(f"MAP {host} {'[' + address + ']' if ':' in address else address}")
        return ", ".join(rules)

    # --- public lookups ------------------------------------------------------------------

    def a(self, host: str) -> list[str]:
        """IPv4 addresses; [] when the name does not exist or has none.  Raises only when no
        answer could be had (timeout, server failure)."""
        return self._family(host, socket.AF_INET)

    def aaaa(self, host: str) -> list[str]:
        """IPv6 addresses; [] when the name does not exist or has none."""
        return self._family(host, socket.AF_INET6)

    def resolve(self, host: str, family: int | None = None) -> list[str]:
        """Addresses of ``host`` (IPv4 first when ``family`` is None); never empty.

        Raises ResolveError when there is no address of the wanted family.
        """
        name = normalise_host(host)
        if not name:
            raise ResolveError("empty host name", reason="error", host=host)
        families = FAMILIES if family is None else (family,)
        addresses: list[str] = []
        first_error: ResolveError | None = None
        nxdomain = False
        for fam in families:
            result = self._lookup(name, fam)
            if isinstance(result, ResolveError):
                if result.reason == "nxdomain":
                    nxdomain = True
                elif first_error is None:
                    first_error = result
                continue
            addresses.extend(result)
        if addresses:
            return addresses
        if first_error is not None:
            raise first_error
        what = {socket.AF_INET: "IPv4 (A) address",
                socket.AF_INET6: "IPv6 (AAAA) address"}.get(family or 0, "address")
        if nxdomain:
            raise ResolveError(f"{name}: no such domain (NXDOMAIN)", reason="nxdomain", host=name)
        raise ResolveError(f"{name}: has no {what}", reason="no_address", host=name)

    def peek(self, host: str, family: int) -> list[str] | ResolveError | None:
        """The answer when it is known without I/O (local rule or cache), else None."""
        name = normalise_host(host)
        local = self._local(name, family)
        if local is not None:
            return local
        with self._lock:
            return self._cache.get((name, family))

    # --- internals -----------------------------------------------------------------------

    def _family(self, host: str, family: int) -> list[str]:
        result = self._lookup(normalise_host(host), family)
        if isinstance(result, ResolveError):
            if result.reason in ("nxdomain", "no_address"):
                return []
            raise result
        return list(result)

    def _local(self, name: str, family: int) -> list[str] | ResolveError | None:
        literal = ip_literal(name)
        if literal is not None:
            return [literal] if family_of(literal) == family else []
        if name in self.overrides:
            return [a for a in self.overrides[name] if family_of(a) == family]
        if name == "localhost" or name.endswith(".localhost"):
            return ["127.0.0.1"] if family == socket.AF_INET else ["::1"]
        if name == "invalid" or name.endswith(".invalid"):
            return ResolveError(f"{name}: no such domain (.invalid is reserved, RFC 6761)",
                                reason="nxdomain", host=name)
        return None

    def _lookup(self, name: str, family: int) -> list[str] | ResolveError:
        if not name:
            return ResolveError("empty host name", reason="nxdomain", host=name)
        local = self._local(name, family)
        if local is None and not valid_hostname(name):
            return ResolveError(f"{name!r} is not a valid host name", reason="nxdomain", host=name)
        if local is not None:
            return local
        key = (name, family)
        # One query per key even when many threads ask at once: latecomers wait for the first.
        while True:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
                event = self._inflight.get(key)
                if event is None:
                    event = self._inflight[key] = threading.Event()
                    break
            event.wait()
        result: list[str] | ResolveError = ResolveError(f"{name}: lookup interrupted", host=name)
        try:
            result = self._query(name, family)
        except Exception as exc:  # noqa: BLE001 - any resolver failure is a dns finding, not a crash
            result = ResolveError(f"{name}: lookup failed: {exc}", reason="error", host=name)
        finally:
            # Even when interrupted, release the threads waiting for this answer.
            with self._lock:
                self._cache[key] = result
                del self._inflight[key]
            event.set()
        return result

    def _query(self, name: str, family: int) -> list[str] | ResolveError:
        with self._lock:
            self.queries += 1
        if self.nameservers:
            return self._query_dns(name, family)
        return self._query_system(name, family)

    def _query_dns(self, name: str, family: int) -> list[str] | ResolveError:
        # dnspython only where nameservers are configured: its import is 25 ms of every
        # process's start (the parent's and each crawl process's).
        import dns.exception
        import dns.nameserver
        import dns.rdatatype
        import dns.resolver
        res = dns.resolver.Resolver(configure=False)
        res.nameservers = [dns.nameserver.Do53Nameserver(h, p) for h, p in self.nameservers]
        res.lifetime = self.timeout
        res.timeout = min(self.timeout, 2.0)   # per try; several tries fit in the lifetime
        res.cache = None                        # this class caches, per run
        rdtype = _RDTYPE[family]
        try:
            answer = res.resolve(name, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return ResolveError(f"{name}: no such domain (NXDOMAIN)", reason="nxdomain", host=name)
        except dns.exception.Timeout:
            return ResolveError(f"{name}: DNS query for {rdtype} timed out after {self.timeout:g} s",
                                reason="timeout", host=name)
        except dns.resolver.NoNameservers as exc:
            return ResolveError(f"{name}: no nameserver answered {rdtype} ({exc})",
                                reason="servfail", host=name)
        except (dns.exception.DNSException, OSError) as exc:
            return ResolveError(f"{name}: DNS query for {rdtype} failed: {exc}", reason="error", host=name)
        want = dns.rdatatype.from_text(rdtype)
        return _unique(rr.address for rrset in answer.response.answer if rrset.rdtype == want
                       for rr in rrset)

    def _query_system(self, name: str, family: int) -> list[str] | ResolveError:
        # getaddrinfo has no timeout of its own; run it in a daemon thread and stop waiting at
        # ours (a daemon, so a hung lookup never holds up the end of the process).
        box: dict[str, object] = {}

        def work() -> None:
            try:
                box["infos"] = socket.getaddrinfo(name, None, family, socket.SOCK_STREAM)
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
                box["error"] = exc

        thread = threading.Thread(target=work, name="patrol-getaddrinfo", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            return ResolveError(f"{name}: system resolver timed out after {self.timeout:g} s",
                                reason="timeout", host=name)
        try:
            if "error" in box:
                raise box["error"]  # type: ignore[misc]
            infos = box["infos"]
        except socket.gaierror as exc:
            if exc.errno == socket.EAI_NONAME:
                return ResolveError(f"{name}: no such domain", reason="nxdomain", host=name)
            if exc.errno in _EAI_NO_DATA:
                return []
            if exc.errno == socket.EAI_AGAIN:
                return ResolveError(f"{name}: temporary DNS failure ({exc.strerror})",
                                    reason="timeout", host=name)
            return ResolveError(f"{name}: {exc.strerror}", reason="error", host=name)
        except (UnicodeError, OSError) as exc:
            return ResolveError(f"{name}: {exc}", reason="error", host=name)
        return _unique(str(ipaddress.ip_address(info[4][0].split("%")[0])) for info in infos
                       if info[0] == family)


def _unique(addresses: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(addresses))

