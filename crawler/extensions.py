"""Progress on a terminal: pages crawled, links checked, broken links, per crawl process."""
from __future__ import annotations

import sys
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task


class Progress:
    def __init__(self, crawler: Crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.loop: task.LoopingCall | None = None
        self.name = ""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        if not crawler.settings.getbool("PATROL_PROGRESS"):
            raise NotConfigured
        ext = cls(crawler, crawler.settings.getfloat("PATROL_PROGRESS_INTERVAL", 1.0))
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider: Any) -> None:
        self.name = getattr(spider, "site", {}).get("name", spider.name)
        self.loop = task.LoopingCall(self.show)
        self.loop.start(self.interval, now=False)

    def show(self, final: bool = False) -> None:
        stats = self.crawler.stats
        line = (f"{self.name}: {stats.get_value('patrol/pages', 0)} pages, "
                f"{stats.get_value('patrol/links_checked', 0)} links checked, "
                f"{stats.get_value('patrol/broken', 0)} broken")
        sys.stderr.write(("\r" + line + "   ") if not final else ("\r" + line + " — done\n"))
        sys.stderr.flush()

    def closed(self, spider: Any) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()
        self.show(final=True)
