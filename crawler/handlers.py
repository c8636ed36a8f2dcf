"""Scrapy download handlers for fast crawls: pages fetched by the lean HTTP/1.1 client.

In a fast crawl (``crawl.fast`` with ``crawl.lean_checks``) the pages still go through
Scrapy — its scheduler, downloader slots, downloader middlewares (cookies, compression,
retries with backoff) and the spider's callbacks — but the exchange itself is made by
``crawler.leancheck.LeanClient`` on the crawl's asyncio loop instead of Twisted's HTTP client,
whose per-response machinery cost about a third of the crawl's CPU.  The handler keeps what
the spider relies on: bodies are read only for HTML, CSS or untyped answers (as the spider's
``headers_received`` rule stops the others), failures raise the exceptions the spider
classifies (``timeout``, ``dns``, ``refused``, ``tls``, ``connection``) and carry the lean
client's own verdict, so a polite crawl and a fast one judge a failure alike, names are resolved by
the run's resolver, and every response header is kept (several ``Set-Cookie`` included).
Requests through a proxy, or with a body, go to Scrapy's own HTTP handler.

``crawler.render_handler.LeanPlaywrightHandler`` does the same beside scrapy-playwright: requests
marked for rendering go to the browser, the others to the lean client.
"""
from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
)
from scrapy.http import Headers, HtmlResponse, Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.misc import build_from_crawler

from checks.model import LinkKind
from crawler.leancheck import HTML_TYPES, FetchFailed, LeanClient, Unanswered, resolver_of

MAX_PAGE_BYTES = 16 * 1024 * 1024


def one_per_crawl(cls: type[Any], crawler: Crawler) -> Any:
    """The crawl's one handler of class ``cls``: Scrapy builds a handler for each scheme it is
    named for (http and https), at the engine's start for one that is not lazy; one client (and
    one browser, for rendering) serves both.  Its ``close`` is then called once per scheme."""
    key = f"_patrol_handler_{cls.__module__}.{cls.__qualname__}"
    handler = crawler.__dict__.get(key)
    if handler is None:
        handler = crawler.__dict__[key] = cls(crawler)
    return handler


class LeanDownloadHandler:
    """HTTP and HTTPS through ``LeanClient``; see the module docstring."""

    lazy = False
    _closed = False

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT", 20.0)
        self.client = LeanClient(
            resolver_of(settings), user_agent=settings.get("USER_AGENT"), timeout=self.timeout,
            retries=0, max_body=min(settings.getint("DOWNLOAD_MAXSIZE", MAX_PAGE_BYTES), MAX_PAGE_BYTES))
        self._fallback: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeanDownloadHandler:
        return one_per_crawl(cls, crawler)

    async def download_request(self, request: Request) -> Response:
        if request.body or request.method not in ("GET", "HEAD") or request.meta.get("proxy"):
            return await self._scrapy_handler().download_request(request)
        headers = [(name.decode("latin-1"), value.decode("latin-1"))
                   for name, values in request.headers.items() for value in values]
        timeout = float(request.meta.get("download_timeout") or self.timeout)
        try:
            answer = await self.client.exchange(request.url, request.method, headers, timeout,
                                                any_body="patrol_data" in request.meta)
        except (FetchFailed, Unanswered) as exc:
            raise _scrapy_error(exc.kind, exc.message) from None
        body = answer.body
        if answer.headers.get("content-type", "").lower().startswith(HTML_TYPES):
            cls: type[Response] = HtmlResponse
        else:
            cls = responsetypes.from_args(headers=Headers(answer.raw_headers), url=request.url, body=body)
        flags = None
        if not answer.complete and request.method == "GET":
            flags = ["download_stopped"]
        # The response builds its Headers from the (name, value) pairs once, every value kept.
        return cls(url=request.url, status=answer.status, headers=answer.raw_headers, body=body,
                   flags=flags, request=request, protocol="HTTP/1.1")

    def _scrapy_handler(self) -> Any:
        if self._fallback is None:
            from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
            self._fallback = build_from_crawler(HTTP11DownloadHandler, self.crawler)
        return self._fallback

    async def close(self) -> None:
        if self._closed:                # closed once for each scheme it serves
            return
        self._closed = True
        self.client.close()
        if self._fallback is not None:
            await self._fallback.close()


def _scrapy_error(kind: str, message: str) -> Exception:
    """The exception Scrapy's own handlers raise for a failure of this kind (what retries and
    other middlewares recognise), carrying the kind and message as ``link_kind`` and
    ``link_message`` for the spider's classifier."""
    exc: Exception
    if kind == LinkKind.DNS.value:
        exc = CannotResolveHostError(message)
    elif kind == LinkKind.REFUSED.value:
        exc = DownloadConnectionRefusedError(message)
    elif kind == LinkKind.TIMEOUT.value:
        exc = DownloadTimeoutError(message)
    elif kind == LinkKind.TLS.value:
        exc = DownloadFailedError(f"SSL: {message}")
    elif kind == LinkKind.INVALID_URL.value:
        exc = ValueError(message)
    else:
        exc = DownloadFailedError(message)
    exc.link_kind = kind            # type: ignore[attr-defined]
    exc.link_message = message      # type: ignore[attr-defined]
    return exc
