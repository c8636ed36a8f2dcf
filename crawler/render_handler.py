"""The download handler of a fast crawl that renders: scrapy-playwright for the requests marked
``playwright``, the lean client (``crawler.handlers``) for the others.  A module of its own so
that crawl processes that never render do not import Playwright."""
from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from crawler.handlers import LeanDownloadHandler


class LeanPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright for requests marked ``playwright``; the lean client for the rest."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.lean = LeanDownloadHandler(crawler)

    async def download_request(self, request: Request) -> Response:  # type: ignore[override]
        if request.meta.get("playwright"):
            return await super().download_request(request)
        return await self.lean.download_request(request)

    async def close(self) -> None:  # type: ignore[override]
        await self.lean.close()
        await super().close()
