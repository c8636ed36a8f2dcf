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
  (``checks.links.kind_for_status``); failures without an answer are the closed set of
  ``checks.model.LinkKind``.

Retries with backoff and Retry-After are the clients' (the same rules in
``crawler.middlewares.RetryBackoffMiddleware`` and ``crawler.leancheck.LeanClient``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from checks.links import RESOURCE_EXTENSIONS, extension, kind_for_status, rate_limited
from checks.model import LinkKind
from crawler.urls import InvalidURL, normalize, request_form

__all__ = ["Hop", "get_after_head", "kind_for_status", "next_hop", "resource_method", "retry_after_matters"]


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
