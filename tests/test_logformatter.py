"""Scrapy's per-response log lines are skipped unless LOG_LEVEL shows them (crawler/logformatter.py)."""
from __future__ import annotations

import pytest
from scrapy import Request, Spider
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.logformatter import QuietLogFormatter


@pytest.mark.parametrize("level, shown", [("WARNING", False), ("INFO", False), ("info", False), (20, False),
                                          ("DEBUG", True), ("debug", True), (10, True), ("NOTSET", True)])
def test_crawled_lines_only_when_the_level_shows_them(level, shown):
    crawler = get_crawler(Spider, {"LOG_LEVEL": level})
    formatter = QuietLogFormatter.from_crawler(crawler)
    request = Request("http://127.0.0.1/a.html")
    response = Response("http://127.0.0.1/a.html", status=200, request=request)
    line = formatter.crawled(request, response, Spider("s"))
    item_line = formatter.scraped({"url": "x"}, response, Spider("s"))
    if shown:
        assert line is not None and "Crawled" in line["msg"]
        assert item_line is not None and "Scraped" in item_line["msg"]
    else:
        assert line is None and item_line is None


def test_the_crawl_settings_use_it():
    from crawler.run import settings_for
    assert settings_for({"sites": [], "crawl": {}}).get("LOG_FORMATTER") == "crawler.logformatter.QuietLogFormatter"
