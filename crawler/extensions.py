"""Progress on a terminal: pages crawled, links checked, broken links, for every site that a
crawl process is crawling, on one line."""
from __future__ import annotations

from typing import Any, ClassVar

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from common import progress


class Progress:
    # The crawls of one process share one line and one timer.
    _active: ClassVar[list["Progress"]] = []
    _loop: ClassVar[task.LoopingCall | None] = None

    def __init__(self, crawler: Crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.name = ""
        self.done = False

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
        Progress._active.append(self)
        if Progress._loop is None:
            Progress._loop = task.LoopingCall(Progress.show)
            Progress._loop.start(self.interval, now=False)

    def line(self) -> str:
        # The site spider counts in a plain dict while it runs (cheaper than the stats
        # collector per response) and publishes to the stats at close.
        counts = getattr(self.crawler.spider, "counts", None)
        if counts is None:
            stats = self.crawler.stats
            counts = {k: stats.get_value(f"patrol/{k}", 0) for k in ("pages", "links_checked", "broken")}
        return progress.site_part(self.name, counts["pages"], counts["links_checked"], counts["broken"],
                                  self.done)

    @staticmethod
    def show(final: bool = False) -> None:
        progress.show((p.line() for p in Progress._active), final)

    def closed(self, spider: Any) -> None:
        self.done = True
        if all(p.done for p in Progress._active):
            if Progress._loop is not None and Progress._loop.running:
                Progress._loop.stop()
            Progress.show(final=True)
