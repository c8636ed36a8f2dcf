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
    """scrapy-playwright, without holding the crawl's start for Playwright's driver, and with
    its browser tabs kept for the next page.

    scrapy-playwright starts Playwright (its Node driver) when the engine starts, and the
    engine waits for it: about 0.4 s before a rendering process fetched its first page, while
    the other shards of the site waited for the links it would route to them.  Here the
    driver starts beside the crawl, and the first page to render waits for it instead.

    scrapy-playwright opens a tab for each page and closes it after: each tab is a new
    renderer process for Chromium, about half of the browser's CPU per rendered page.  Here
    at most ``PLAYWRIGHT_MAX_PAGES_PER_CONTEXT`` pages render at once and a tab that rendered
    one is given the next (a navigation leaves nothing of the previous page behind but the
    context's cookies, which the tabs of a context share anyway); a tab whose render failed
    is closed."""

    _starting: asyncio.Future[Any] | None = None
    _closed = False
    _tabs: list[Any] | None = None                 # idle tabs, on Playwright's loop
    _tab_slots: asyncio.Semaphore | None = None

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

    async def _download_request(self, request: Request, spider: Any = None) -> Response:
        """On Playwright's loop: render with an idle tab when there is one, and keep the tab."""
        if self._tab_slots is None:
            self._tab_slots = asyncio.Semaphore(max(1, self.config.max_pages_per_context or 4))
            self._tabs = []
        tabs = self._tabs
        assert tabs is not None
        async with self._tab_slots:
            # With at most as many renders as the context may have tabs, every tab is either
            # rendering or idle here, so a new one is opened only when none is idle.
            while tabs and request.meta.get("playwright_page") is None:
                tab = tabs.pop()
                if not tab.is_closed():
                    request.meta["playwright_page"] = tab
            request.meta["playwright_include_page"] = True
            try:
                response = await super()._download_request(request, spider)
            except BaseException:
                tab = request.meta.pop("playwright_page", None)
                if tab is not None and not tab.is_closed():
                    with suppress(Exception):
                        await tab.close()
                raise
            tab = request.meta.pop("playwright_page", None)
            if tab is not None and not tab.is_closed():
                tabs.append(tab)
            return response

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
