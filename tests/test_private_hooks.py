"""patrol relies on a few private parts of Scrapy and scrapy-playwright; pyproject.toml pins
the versions they were written against.  Each part is checked here, so that an upgrade that
changes one fails loudly in the tests instead of quietly in a crawl."""
import inspect

from scrapy.core.downloader import Downloader, Slot
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from crawler.downloader import PoliteDownloader
from crawler.render_handler import PlaywrightHandler
import pytest

pytestmark = pytest.mark.integration


def test_the_downloader_hook_polite_downloader_overrides():
    # crawler/downloader.py: PoliteDownloader._wait_for_download(slot, request, queue_dfd)
    # marks the request transferring before Scrapy's own code runs.
    params = list(inspect.signature(Downloader._wait_for_download).parameters)
    assert params[:4] == ["self", "slot", "request", "queue_dfd"], params
    assert PoliteDownloader._wait_for_download is not Downloader._wait_for_download
    slot = Slot(concurrency=1, delay=0, jitter=0)
    assert isinstance(slot.transferring, set)


def test_the_playwright_handler_hooks_the_render_handler_uses():
    # crawler/render_handler.py starts Playwright in the background through these.
    for name in ("_launch", "_maybe_future_from_coro"):
        assert callable(getattr(ScrapyPlaywrightDownloadHandler, name, None)), name
    assert inspect.iscoroutinefunction(ScrapyPlaywrightDownloadHandler._launch)
    assert issubclass(PlaywrightHandler, ScrapyPlaywrightDownloadHandler)
