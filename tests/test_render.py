"""The browser on its own thread (crawler/render.py), with real headless Chromium against the
sample site: a script-filled list is filled, failures are RenderFailed, close ends the thread."""
from __future__ import annotations

import asyncio
import urllib.request

import lxml.html
import pytest

from crawler.render import Renderer, RenderFailed
from patrol.browser import BrowserNotFound, launch_options
from patrol.samplesite import free_port


@pytest.fixture(scope="module")
def options() -> dict:
    try:
        return launch_options()
    except BrowserNotFound as exc:
        pytest.skip(str(exc))


def links_in(html: str) -> int:
    return len(lxml.html.fromstring(html).xpath("//a[@href]"))


def test_script_filled_list_is_rendered_while_the_calling_loop_stays_free(sample_site, options):
    url = sample_site.url("/xwzx/gzdt/")
    served = urllib.request.urlopen(url, timeout=10).read().decode("utf-8")
    renderer = Renderer(options, timeout=15)

    async def scenario():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.ensure_future(ticker())
        try:
            return await renderer.render(url), ticks
        finally:
            task.cancel()

    try:
        (rendered, ticks) = asyncio.run(scenario())
    finally:
        renderer.close()
    assert rendered.status == 200 and rendered.url == url
    assert links_in(rendered.html) > links_in(served)
    # The browser's messages are handled on the renderer's thread: the caller's loop kept running.
    assert ticks > 5
    assert renderer._thread is None


def test_unreachable_page_is_a_render_failure(options):
    renderer = Renderer(options, timeout=10)
    try:
        with pytest.raises(RenderFailed):
            asyncio.run(renderer.render(f"http://127.0.0.1:{free_port()}/"))
    finally:
        renderer.close()


def test_browser_that_cannot_start_is_a_render_failure_not_a_crash():
    renderer = Renderer({"headless": True, "executable_path": "/nonexistent/chromium"}, timeout=5)
    try:
        with pytest.raises(RenderFailed, match="browser did not start"):
            asyncio.run(renderer.render("http://127.0.0.1:9/"))
    finally:
        renderer.close()
