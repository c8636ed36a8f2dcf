"""Downloader middlewares: retries with backoff that honour Retry-After (by the link policy's
rules, ``crawler.linkpolicy``: the lean client retries by the same ones)."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadFailedError, DownloadTimeoutError, NotConfigured, ResponseDataLossError
from scrapy.http import Response
from twisted.internet import error as net_error
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler.linkpolicy import RETRY_STATUSES, classify_failure, retry_delay

logger = logging.getLogger(__name__)

RETRY_EXCEPTIONS = (
    net_error.TimeoutError, net_error.TCPTimedOutError, net_error.ConnectionLost,
    net_error.ConnectionDone, ResponseFailed, ResponseNeverReceived, DownloadTimeoutError,
    DownloadFailedError, ResponseDataLossError,
)


class RetryBackoffMiddleware:
    """Retries timeouts, 5xx and 429 with exponential backoff (a failure is retried when the
    link policy's classifier says so: not a TLS handshake that failed).

    The wait happens after the download slot is released, so a slow host does not block the
    others.  ``Retry-After`` (seconds or an HTTP date) is honoured up to PATROL_MAX_RETRY_AFTER.
    """

    def __init__(self, retries: int, backoff: float, max_retry_after: float, stats: Any):
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryBackoffMiddleware:
        retries = crawler.settings.getint("PATROL_RETRIES", 2)
        if retries <= 0:
            raise NotConfigured
        return cls(retries, crawler.settings.getfloat("PATROL_RETRY_BACKOFF", 1.0),
                   crawler.settings.getfloat("PATROL_MAX_RETRY_AFTER", 60.0), crawler.stats)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in RETRY_STATUSES:
            return response
        raw = response.headers.get(b"Retry-After") if response.status in (429, 503) else None
        return await self._retry(request, response.status, raw.decode("latin-1") if raw else "",
                                 f"HTTP {response.status}") or response

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if not isinstance(exception, RETRY_EXCEPTIONS) or not classify_failure(exception).retry:
            return None
        return await self._retry(request, None, "", type(exception).__name__)

    async def _retry(self, request: Request, status: int | None, retry_after: str,
                     reason: str) -> Request | None:
        attempt = request.meta.get("patrol_attempt", 1)
        if attempt > self.retries:
            return None
        delay = retry_delay(attempt, self.backoff, status, retry_after, self.max_retry_after)
        self.stats.inc_value("patrol/retries")
        logger.debug("retrying %s (%s) in %.1fs", request.url, reason, delay)
        if delay > 0:
            await asyncio.sleep(delay)
        retry = request.replace(dont_filter=True)
        retry.meta["patrol_attempt"] = attempt + 1
        return retry


__all__ = ["RETRY_STATUSES", "RetryBackoffMiddleware"]
