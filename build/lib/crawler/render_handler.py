"""The download handlers of a crawl that renders: scrapy-playwright for the requests marked
``playwright`` and, in a fast crawl, the lean client (``crawler.handlers``) for the others.  A
module of its own so that crawl processes that never render do not import Playwright."""
from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from crawler.handlers import LeanDownloadHandler, one_per_crawl

logger = logging.getLogger(__name__)


class PlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright, without holding the crawl's start for Playwright's driver.

    scrapy-playwright starts Playwright (its Node driver) when the engine starts, and the
    engine waits for it: about 0.4 s before a rendering process fetched its first page, while
    the other shards of the site waited for the links it would route to them.  Here the
    driver starts beside the crawl, and the first page to render waits for it instead."""

    _starting: asyncio.Future[Any] | None = None
    _closed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PlaywrightHandler:  # type: ignore[override]
        # One per crawl: http and https would each start a Playwright driver and a browser.
        return one_per_crawl(cls, crawler)

    async def _maybe_launch_in_thread(self) -> None:
        self._starting = asyncio.ensure_future(self._maybe_future_from_coro(self._launch()))
        self._starting.add_done_callback(_log_failed_start)

    async def _started(self) -> None:
        if self._starting is not None:
            await asyncio.shield(self._starting)   # its failure fails the render, not the crawl

    async def download_request(self, request: Request) -> Response:  # type: ignore[override]
        if request.meta.get("playwright"):
            await self._started()
        return await super().download_request(request)

    async def close(self) -> None:  # type: ignore[override]
        if self._closed:                            # closed once for each scheme it serves
            return
        self._closed = True
        if self._starting is not None:
            with suppress(Exception):
                await self._starting                # closing a half-started Playwright fails
        await super().close()


def _log_failed_start(started: asyncio.Future[Any]) -> None:
    """Say why Playwright could not start, once, whether or not a page asks to be rendered
    (each render then fails with the same error, and the page is judged as served)."""
    if not started.cancelled() and started.exception() is not None:
        logger.error("Playwright could not start: %r", started.exception())


class LeanPlaywrightHandler(PlaywrightHandler):
    """scrapy-playwright for requests marked ``playwright``; the lean client for the rest."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.lean = LeanDownloadHandler(crawler)

    async def download_request(self, request: Request) -> Response:  # type: ignore[override]
        if request.meta.get("playwright"):
            await self._started()
            return await ScrapyPlaywrightDownloadHandler.download_request(self, request)
        return await self.lean.download_request(request)

    async def close(self) -> None:  # type: ignore[override]
        if not self._closed:
            await self.lean.close()
        await super().close()
