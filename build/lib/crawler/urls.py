"""URL normalisation, scope and trap guards for the crawl.

Normalising before anything else is what lets the crawl fetch each URL once: the same target
written with another case, port, fragment, session id or parameter order is one URL.
"""
from __future__ import annotations

import ipaddress
import posixpath
import re
from collections import defaultdict
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from checks.links import extension, is_attachment, is_resource  # noqa: F401

# Query parameters that carry a session, never a different page.
SESSION_PARAMS = frozenset({
    "jsessionid", "phpsessid", "sid", "sessionid", "session_id", "sessid", "aspsessionid",
    "cfid", "cftoken", "zoneid", "sess",
})
PATH_SESSION_RE = re.compile(r";(jsessionid|phpsessid|sid|sessionid)=[^/?#]*", re.IGNORECASE)

UNFETCHED_SCHEMES = ("mailto:", "tel:", "javascript:", "data:", "sms:", "about:", "file:", "ftp:",
                     "weixin:", "callto:", "blob:")

MAX_URL_LENGTH = 2048
# A site's links name few hosts: their IDNA form is computed once (it is a tenth of normalize).
_IDNA_CACHE: dict[str, str] = {}


class InvalidURL(ValueError):
    pass


def skip_scheme(raw: str) -> bool:
    """Links that are not fetched at all (mailto:, tel:, javascript: ...)."""
    head = raw[:12].strip().lower()
    return head.startswith(UNFETCHED_SCHEMES)


def normalize(url: str) -> str:
    """Canonical form of an absolute http(s) URL; raises InvalidURL for what cannot be fetched."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL("URL longer than 2048 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(str(exc)) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidURL(f"unsupported scheme {scheme!r}")
    host = parts.hostname or ""
    if not host or not _valid_host(host):
        raise InvalidURL(f"invalid host {parts.netloc!r}")
    if ":" in host:
        host_part = f"[{host}]"
    else:
        host_part = _IDNA_CACHE.get(host, "")
        if not host_part:
            try:
                host_part = host.encode("idna").decode("ascii").lower()
            except UnicodeError:
                raise InvalidURL(f"invalid host {host!r}") from None
            if len(_IDNA_CACHE) < 10_000:
                _IDNA_CACHE[host] = host_part
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host_part += f":{port}"
    path = PATH_SESSION_RE.sub("", parts.path) or "/"
    path = _clean_path(path)
    query = _clean_query(parts.query)
    return urlunsplit((scheme, host_part, path, query, ""))


def _valid_host(host: str) -> bool:
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
            return True
        except ValueError:
            return False
    if any(c.isspace() for c in host) or host.startswith(".") or ".." in host:
        return False
    return all(c.isalnum() or c in "-._" or ord(c) > 127 for c in host)


def _clean_path(path: str) -> str:
    if "/." in path:
        trailing = path.endswith("/")
        path = posixpath.normpath(path)
        if path == ".":
            path = "/"
        if trailing and not path.endswith("/"):
            path += "/"
        if path.startswith("//"):
            path = "/" + path.lstrip("/")
    # Encode what must be encoded (spaces, non-ASCII); keep escapes already there.
    return quote(path, safe="/%:@!$&'()*+,;=-._~")


def _clean_query(query: str) -> str:
    if not query:
        return ""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
             if k.lower() not in SESSION_PARAMS]
    pairs.sort()
    return urlencode(pairs, quote_via=quote, safe="/:@!$'()*,;-._~")


def host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


class TrapGuard:
    """Stops the crawl from following endless URL spaces while the links are still checked.

    A path whose query strings keep changing (calendars, filters, sort permutations) is followed
    for at most ``max_variants`` distinct queries; paths that repeat a segment many times
    (``/a/b/a/b/a/b``) are not followed at all.
    """

    def __init__(self, max_variants: int = 30, max_repeats: int = 3):
        self.max_variants = max_variants
        self.max_repeats = max_repeats
        self._variants: dict[str, int] = defaultdict(int)
        self.trapped: dict[str, int] = defaultdict(int)   # path -> refused follows

    def allow(self, url: str) -> bool:
        parts = urlsplit(url)
        segments = [s for s in parts.path.split("/") if s]
        if segments and max(segments.count(s) for s in set(segments)) > self.max_repeats:
            self.trapped[parts.path] += 1
            return False
        if parts.query:
            key = parts.netloc + parts.path
            if self._variants[key] >= self.max_variants:
                self.trapped[key] += 1
                return False
            self._variants[key] += 1
        return True
