"""URL normalisation, the form a URL is requested in, scope and trap guards for the crawl.

Normalising is what lets the crawl fetch each URL once: the same target written with another
case, port, fragment, session id or parameter order is one URL.  It gives a link's identity
only.  The request sends the URL as the page wrote it (``request_form``): a server that needs
its query in the written order, or its session parameter, answers 404 to the normalised form,
and a working link would be reported broken.
"""
from __future__ import annotations

import ipaddress
import posixpath
import re
from collections import defaultdict
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from w3lib.url import safe_url_string

from checks.links import extension, is_attachment, is_resource  # noqa: F401

# Query parameters that carry a session, never a different page.
SESSION_PARAMS = frozenset({
    "jsessionid", "phpsessid", "sid", "sessionid", "session_id", "sessid", "aspsessionid",
    "cfid", "cftoken", "zoneid", "sess",
})
PATH_SESSION_RE = re.compile(r";(jsessionid|phpsessid|sid|sessionid)=[^/?#]*", re.IGNORECASE)

# Schemes a visitor's device hands to an app (phone, mail, map, chat): not links to check.
APP_SCHEMES = frozenset("""
tel sms smsto mms javascript data about blob weixin wechat callto skype whatsapp market intent
itms itms-apps itms-services alipay alipays taobao tmall mqq mqqwpa mqqapi tencent sinaweibo
baidumap iosamap androidamap geo maps webcal facetime facetime-audio chrome view-source
""".split())
# Schemes no mainstream browser opens any more (Chrome and Firefox dropped FTP in 2021), or
# that name a share on the editor's network: a link a visitor cannot follow.
UNSUPPORTED_SCHEMES = frozenset("ftp ftps sftp gopher telnet news nntp smb ed2k thunder".split())
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_DRIVE_RE = re.compile(r"^[a-zA-Z]:[\\/]")
_MAILBOX_RE = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\.]+(\.[^@\s<>()\[\],;:\"\\.]+)+$")
# Characters a browser percent-encodes when it requests a URL (besides non-ASCII).
_UNSAFE_RE = re.compile(r'[\s"<>`{}|\\^]')

_ASCII_PRINTABLE = "".join(chr(c) for c in range(33, 127))
# Longer URLs are fetched; their length is a warning (old browsers and some servers stop at it).
MAX_URL_LENGTH = 2048
# A site's links name few hosts: their IDNA form is computed once (it is a tenth of normalize).
_IDNA_CACHE: dict[str, str] = {}


class InvalidURL(ValueError):
    pass


def skip_scheme(raw: str) -> bool:
    """Links that are not checked at all (tel:, javascript:, a well-formed mailto: ...)."""
    return scheme_verdict(raw) == ("", "")


def scheme_verdict(raw: str) -> tuple[str, str] | None:
    """For a link that is not http(s): ``(kind, message)`` when it cannot work for the public
    (``local_file``, ``unsupported_scheme``, ``invalid_mailto``), ``("", "")`` when it is not
    checked at all (an app link: tel:, javascript:, a valid mailto: ...); None for http(s) and
    scheme-less links, which are fetched."""
    head = raw[:24].lstrip()
    if head[:7].lower() in ("http://", "https:/"):
        return None
    if _DRIVE_RE.match(head):
        return "local_file", "链接指向编辑者本机上的文件（盘符路径），公众无法打开"
    m = _SCHEME_RE.match(head)
    if m is None:
        return None
    scheme = m.group(1).lower()
    if scheme in ("http", "https"):
        return None
    if scheme == "file":
        return "local_file", "链接指向编辑者本机上的文件（file:），公众无法打开"
    if scheme == "mailto":
        return mailto_verdict(raw.strip())
    if scheme in APP_SCHEMES:
        return "", ""
    if scheme in UNSUPPORTED_SCHEMES:
        return "unsupported_scheme", f"链接使用 {scheme}: 协议，常用浏览器已不能打开"
    # Neither the web nor a known app (a mistyped "htp:", a private scheme): nothing opens it.
    return "unsupported_scheme", f"链接使用浏览器不支持的 {scheme}: 协议"


def mailto_verdict(raw: str) -> tuple[str, str]:
    """("invalid_mailto", message) when a mailto: link names an address that is not one."""
    target = raw[len("mailto:"):].split("?", 1)[0]
    try:
        target = unquote(target, errors="strict")
    except UnicodeDecodeError:
        return "invalid_mailto", "邮件链接的地址无法解码"
    addresses = [a.strip() for a in target.split(",")]
    if target.strip() and not all(_MAILBOX_RE.match(a) for a in addresses):
        bad = next(a for a in addresses if not _MAILBOX_RE.match(a))
        return "invalid_mailto", f"邮件链接的地址格式错误：{bad[:80]}"
    return "", ""


def request_form(url: str) -> str:
    """The URL as a browser requests it: the written URL without its fragment, with only the
    percent-encoding a browser adds (spaces, non-ASCII, a few unsafe characters; IDNA host).
    Query order, session parameters and escapes already there (even ``%FF``) are kept."""
    url = url.strip()
    cut = url.find("#")
    if cut >= 0:
        url = url[:cut]
    if url.isascii() and not _UNSAFE_RE.search(url):
        return url
    return safe_url_string(url, "utf-8")


def normalize(url: str) -> str:
    """Canonical form of an absolute http(s) URL, for identity only (fetch once, fingerprints);
    raises InvalidURL for what cannot be fetched."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(str(exc)) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidURL(f"unsupported scheme {scheme!r}")
    host = parts.hostname or ""
    if host not in _IDNA_CACHE and (not host or not _valid_host(host)):
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
    if not query.isascii():
        query = quote(query, safe=_ASCII_PRINTABLE)     # written unescaped: as UTF-8, as browsers
    # Read and written back byte for byte (Latin-1 maps each byte to one character): an escape
    # that is not UTF-8 (%FF, a GBK %D5%FE) stays itself instead of becoming U+FFFD.
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True, encoding="latin-1")
             if k.lower() not in SESSION_PARAMS]
    pairs.sort()
    return urlencode(pairs, quote_via=quote, safe="/:@!$'()*,;-._~", encoding="latin-1")


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


class UrlMarks:
    """Which of a few marks (met, result written ...) each URL has, keyed by the URL's hash.

    A crawl process meets every URL of its site; a set of the URLs themselves kept each one's
    string (about 130 bytes) for the whole crawl.  Here a URL costs its hash and a dict entry,
    about 70 bytes, whatever its length.  Python's string hash is 64 bits (SipHash), cached on
    the string: two URLs of one site sharing it is about as likely as one in 10**9 for a million
    URLs, and would only skip one of them.  The marks live and die with the process (the hash
    differs from one process to the next)."""

    __slots__ = ("_marks",)

    def __init__(self) -> None:
        self._marks: dict[int, int] = {}

    def view(self, bit: int) -> UrlMarkView:
        return UrlMarkView(self._marks, bit)


class UrlMarkView:
    """One mark of ``UrlMarks``, used as a set of URLs (``add``, ``in``)."""

    __slots__ = ("_marks", "_bit")

    def __init__(self, marks: dict[int, int], bit: int) -> None:
        self._marks = marks
        self._bit = bit

    def add(self, url: str) -> None:
        key = hash(url)
        self._marks[key] = self._marks.get(key, 0) | self._bit

    def __contains__(self, url: object) -> bool:
        return bool(self._marks.get(hash(url), 0) & self._bit)
