"""Scrapy's downloader with its per-host concurrency limit kept.

Scrapy 2.19's downloader starts each queued request as an asyncio task and counts it as
transferring only when that task first runs.  The loop that empties a host's queue checks
the count before any of the tasks it created has run, so every queued request is started at
once: with ``CONCURRENT_REQUESTS_PER_DOMAIN = 2`` a host saw sixteen requests in flight (see
tests/test_leancheck.py, the polite-crawl test).  Here a request is counted when its task is
created, in the same loop, so a host never has more than its limit in flight.
"""
from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from scrapy import Request
from scrapy.core.downloader import Downloader, Slot
from twisted.internet.defer import Deferred


class PoliteDownloader(Downloader):
    def _wait_for_download(self, slot: Slot, request: Request,
                           queue_dfd: Deferred[Any]) -> Coroutine[Any, Any, None]:
        # Called (not awaited) by _process_queue's loop while it checks free_transfer_slots();
        # _download adds the request again (a set) and removes it when the download ends.
        slot.transferring.add(request)
        return super()._wait_for_download(slot, request, queue_dfd)
