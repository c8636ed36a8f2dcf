"""How a link is checked: the one policy, whatever client makes the requests.

The crawl checks links with Scrapy's downloader (polite crawls) and with the lean client (fast
crawls); new media checks its posts' links with the blocking fetcher.  Each makes its own
exchanges; what to ask and how to judge the answers is decided here, once:

* method: HEAD for what is only checked (attachments, images, scripts), GET for pages, GET
  for stylesheets (their ``url()``s are links too);
* a HEAD answered 4xx/5xx, or dropped, is asked again with GET (servers refuse HEAD with
  405, 501, even 403/404) — except a rate-limited answer, which says nothing about HEAD;
* redirects are followed one hop at a time to the ``Location`` as written; the very same
  request again is a loop, more than ``max_redirects`` hops is too many, a ``Location`` that is
  not a URL is ``invalid_url``;
* the final answer's kind: ``ok`` below 400, ``rate_limited`` for 429 or 503 with
  Retry-After (not verified, never broken), ``http_NNN`` otherwise
  (``checks.links.kind_for_status``);
* a failure without an answer (an exception of whichever client: asyncio and the standard
  library for the lean client and the blocking fetcher, Twisted and Scrapy for the Scrapy
  downloader, Playwright's ``net::ERR_*`` for rendering) is given its kind by
  ``classify_failure``, the one classifier: ``dns``, ``refused``, ``timeout``, ``tls``,
  ``invalid_url`` or ``connection``, with a readable message and whether it is worth another
  attempt (timeouts and broken connections are; the others are not).

Retries: an answer in ``RETRY_STATUSES`` or a failure the classifier says is worth it is
asked again after ``retry_delay`` (the answer's Retry-After, capped, for 429 and 503; else
exponential backoff); ``crawler.middlewares.RetryBackoffMiddleware`` and
``crawler.leancheck.LeanClient`` make the attempts.
"""
from __future__ import annotations

import asyncio
import email.utils
import http.client
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from checks.links import RESOURCE_EXTENSIONS, extension, kind_for_status, rate_limited
from checks.model import LinkKind
from crawler.urls import InvalidURL, normalize, request_form

__all__ = ["RETRY_STATUSES", "Failed", "Hop", "classify_failure", "get_after_head", "kind_for_status",
           "next_hop", "resource_method", "retry_after_matters", "retry_after_seconds", "retry_delay"]

# Answers asked again (after a wait) before they are the link's verdict.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 522, 524})


def resource_method(url: str) -> str | None:
    """For a resource (an attachment, image, script, style sheet: never crawled as a page),
    the first request: HEAD, or GET for a style sheet (read for its links); None for others."""
    ext = extension(url)
    if ext not in RESOURCE_EXTENSIONS:
        return None
    return "GET" if ext == "css" else "HEAD"


def retry_after_matters(status: int) -> bool:
    """Whether an answer's Retry-After header changes its verdict (only a 503's does): a
    caller reads the header only then."""
    return status == 503


def get_after_head(status: int | None = None, retry_after: str | bytes | None = None,
                   failure: str | None = None) -> bool:
    """After a HEAD: ask again with GET?  ``status`` of its answer, or ``failure`` (a kind)
    when none came."""
    if failure is not None:
        return failure == LinkKind.CONNECTION.value
    return status is not None and status >= 400 and not rate_limited(status, retry_after)


@dataclass(frozen=True, slots=True)
class Hop:
    """Where a redirect leads: ``url``, the next request as written, and ``kind`` when the
    chain stops there instead."""

    url: str = ""
    kind: str = ""          # "" to follow; redirect_loop, too_many_redirects or invalid_url
    message: str = ""


def next_hop(current: str, location: str, chain: Sequence[str], max_redirects: int) -> Hop:
    """The redirect from ``current`` to ``location``; ``chain``: the URLs requested so far
    for this link, ``current`` last."""
    try:
        written = urljoin(current, location.strip())
        normalize(written)                  # raises for what cannot be fetched
        written = request_form(written)
    except (InvalidURL, ValueError) as exc:
        return Hop(kind=LinkKind.INVALID_URL.value, message=f"重定向地址无效：{location[:100]} ({exc})")
    # A loop is the very same request again; the same identity with another session
    # parameter (a server adding ;jsessionid=) is a step a browser takes too.
    if written in chain:
        return Hop(written, LinkKind.REDIRECT_LOOP.value, "重定向循环：" + " → ".join([*chain, written]))
    if len(chain) > max_redirects:
        return Hop(written, LinkKind.TOO_MANY_REDIRECTS.value, f"超过 {max_redirects} 次重定向")
    return Hop(written)


# --- failures without an answer -----------------------------------------------------------------

DNS_MESSAGE = "域名无法解析"
REFUSED_MESSAGE = "连接被拒绝"
TIMEOUT_MESSAGE = "访问超时"
TLS_MESSAGE = "HTTPS 握手失败"
# Kinds a client asks again for (the others would fail the same way).
RETRIED_KINDS = frozenset({LinkKind.TIMEOUT, LinkKind.CONNECTION})


@dataclass(frozen=True, slots=True)
class Failed:
    """The verdict on a request that got no HTTP answer."""

    kind: LinkKind
    message: str

    @property
    def retry(self) -> bool:
        """Worth another attempt: a timeout or a broken connection may not happen again."""
        return self.kind in RETRIED_KINDS


def classify_failure(exc: BaseException, *, handshake: bool = False, expired: bool = False) -> Failed:
    """The kind of a failure, whichever client met it.  ``handshake``: it happened during a
    TLS handshake (a reset there is the handshake failing); ``expired``: the exchange's
    deadline had passed (a watchdog closing the socket makes any error a timeout).  An
    exception that already carries a verdict (``link_kind``, ``link_message``: the lean
    client's failures passed through Scrapy) keeps it."""
    kind = getattr(exc, "link_kind", None)
    if kind:
        return Failed(LinkKind(kind), getattr(exc, "link_message", "") or str(exc))
    if expired:
        return Failed(LinkKind.TIMEOUT, TIMEOUT_MESSAGE)
    foreign = _foreign_names(exc)
    if foreign & {"DNSLookupError", "CannotResolveHostError"} or type(exc).__name__ == "ResolveError":
        detail = getattr(exc, "message", "") if type(exc).__name__ == "ResolveError" else ""
        return Failed(LinkKind.DNS, f"{DNS_MESSAGE}：{detail}"[:200] if detail else DNS_MESSAGE)
    if isinstance(exc, ConnectionRefusedError) or foreign & {"ConnectionRefusedError",
                                                             "DownloadConnectionRefusedError"}:
        return Failed(LinkKind.REFUSED, REFUSED_MESSAGE)
    if isinstance(exc, TimeoutError) or foreign & {"TimeoutError", "TCPTimedOutError", "DownloadTimeoutError"}:
        return Failed(LinkKind.TIMEOUT, TIMEOUT_MESSAGE)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Failed(LinkKind.TLS, f"HTTPS 证书问题：certificate {_reason(exc)}"[:200])
    if isinstance(exc, ssl.SSLError) or (handshake and isinstance(exc, (ConnectionError, EOFError))):
        return Failed(LinkKind.TLS, f"{TLS_MESSAGE}：{type(exc).__name__}: {_reason(exc)}"[:200])
    text = f"{type(exc).__name__}: {exc}"
    if foreign:
        # Twisted wraps the reasons of a failed download (ResponseFailed and the like).
        detail = " ".join(repr(getattr(r, "value", r)) for r in getattr(exc, "reasons", None) or [])
        cause = exc.__cause__ or exc.__context__
        if cause is not None:
            text += f" ({type(cause).__name__}: {cause})"
        if "SSL" in detail or "ssl" in detail or "SSL" in text or "certificate" in text.lower():
            return Failed(LinkKind.TLS, TLS_MESSAGE)
        if "TimeoutError" in text or "TimeoutError" in detail or "timed out" in detail.lower():
            return Failed(LinkKind.TIMEOUT, TIMEOUT_MESSAGE)
        if foreign & {"ConnectionLost", "ConnectionDone", "DownloadFailedError", "ResponseDataLossError",
                      "ResponseFailed", "ResponseNeverReceived"}:
            return Failed(LinkKind.CONNECTION, "连接中断：" + (detail or text)[:120])
    if isinstance(exc, http.client.HTTPException) and not isinstance(exc, ValueError):
        return Failed(LinkKind.CONNECTION, f"连接中断：{type(exc).__name__}: {_reason(exc)}"[:200])
    if isinstance(exc, ValueError) or "UnsupportedURLSchemeError" in foreign:   # cannot be put on the wire
        return Failed(LinkKind.INVALID_URL, str(exc)[:200] or "链接地址格式错误")
    if isinstance(exc, (OSError, EOFError, asyncio.LimitOverrunError)):
        return Failed(LinkKind.CONNECTION, f"连接中断：{type(exc).__name__}: {_reason(exc)}"[:200])
    # A browser's navigation error (Playwright): its net::ERR_ code says what happened.
    lowered = text.lower()
    if "err_name_not_resolved" in lowered:
        return Failed(LinkKind.DNS, DNS_MESSAGE)
    if "err_connection_refused" in lowered:
        return Failed(LinkKind.REFUSED, REFUSED_MESSAGE)
    if "timeout" in lowered or "err_timed_out" in lowered:
        return Failed(LinkKind.TIMEOUT, TIMEOUT_MESSAGE)
    if "err_ssl" in lowered or "err_cert" in lowered:
        return Failed(LinkKind.TLS, TLS_MESSAGE)
    return Failed(LinkKind.CONNECTION, text[:200])


def _foreign_names(exc: BaseException) -> set[str]:
    """The names of Twisted's and Scrapy's exception classes ``exc`` is an instance of (by
    name: the blocking fetcher's processes never import either)."""
    return {c.__name__ for c in type(exc).__mro__ if c.__module__.startswith(("twisted.", "scrapy."))}


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return exc.verify_message
    text = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
    return str(text) or type(exc).__name__


# --- retries --------------------------------------------------------------------------------------

def retry_delay(attempt: int, backoff: float, status: int | None = None, retry_after: str = "",
                cap: float = 60.0) -> float:
    """Seconds to wait before attempt ``attempt + 1``: a 429's or 503's Retry-After (seconds or
    an HTTP date) up to ``cap``, else ``backoff`` doubled at each attempt."""
    if status in (429, 503) and retry_after:
        wait = retry_after_seconds(retry_after, cap)
        if wait is not None:
            return wait
    return backoff * (2 ** (attempt - 1))


def retry_after_seconds(value: str, cap: float) -> float | None:
    """Seconds to wait from a Retry-After value (seconds or an HTTP date), at most ``cap``."""
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = parsed.timestamp() - time.time()
    return max(0.0, min(seconds, cap))
