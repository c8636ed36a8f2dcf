"""Scrapy's log lines for each response, only when they can be shown.

Scrapy logs every response at DEBUG ("Crawled (200) <GET ...>") and every dropped or scraped
item.  Its root handler filters by ``LOG_LEVEL``, but only after the record is formatted and
built: at WARNING, as patrol's crawls run, that was 2 % of a crawl process's CPU for lines
nobody sees.  When ``LOG_LEVEL`` is above DEBUG the formatter returns None for those lines,
which tells Scrapy to skip them; at DEBUG (or a level it cannot read) they are logged.
"""
from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.logformatter import LogFormatter


class QuietLogFormatter(LogFormatter):
    def __init__(self, debug: bool = True):
        super().__init__()
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QuietLogFormatter:
        level = crawler.settings.get("LOG_LEVEL", "DEBUG")
        numeric = level if isinstance(level, int) else logging.getLevelName(str(level).upper())
        return cls(debug=not isinstance(numeric, int) or numeric <= logging.DEBUG)

    def crawled(self, *args: Any, **kwargs: Any) -> Any:
        return super().crawled(*args, **kwargs) if self.debug else None

    def scraped(self, *args: Any, **kwargs: Any) -> Any:
        return super().scraped(*args, **kwargs) if self.debug else None
