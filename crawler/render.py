"""Rendering pages whose lists a script fills, with headless Chromium on a thread of its own.

Playwright talks to the browser through messages handled by an asyncio event loop.  On the
crawl's own loop those messages wait behind the crawl's work: while the crawl is busy a page
took seconds to render, and the links it revealed were crawled at the very end.  Here the
browser has its own loop on its own thread; the crawl awaits the rendered HTML
(``await renderer.render(url)``) as it awaits any download.  The browser is launched when the
first page needs it, so a site without such pages never starts one.
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

# Rendering needs the document and its scripts and data, not images, fonts or media.
ABORTED_RESOURCES = frozenset({"image", "media", "font", "stylesheet"})


class RenderFailed(Exception):
    pass


@dataclass
class Rendered:
    url: str            # where the browser ended up
    status: int
    html: str           # the document after its scripts ran


class Renderer:
    """One browser for one crawl; ``render`` may be awaited from the crawl's event loop."""

    def __init__(self, launch_options: dict[str, Any], *, timeout: float = 20.0, user_agent: str = "",
                 max_pages: int = 4):
        self.launch_options = dict(launch_options)
        self.timeout_ms = max(1.0, timeout) * 1000
        self.user_agent = user_agent
        self.max_pages = max(1, max_pages)
        self.rendered = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._playwright: Any = None
        self._browser: Any = None
        self._context: Any = None
        self._launching: asyncio.Lock | None = None
        self._pages: asyncio.Semaphore | None = None

    async def render(self, url: str, referer: str | None = None) -> Rendered:
        """The page as the browser shows it; raises RenderFailed."""
        loop = self._start()
        future = asyncio.run_coroutine_threadsafe(self._render(url, referer), loop)
        return await asyncio.wrap_future(future)

    def close(self, timeout: float = 10.0) -> None:
        """Close the browser and stop the thread (blocks up to ``timeout`` seconds)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout)
        except Exception:  # noqa: BLE001, S110 - a browser that will not close must not keep the crawl open
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._loop = self._thread = None

    # --- on the render thread --------------------------------------------------------------

    def _start(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()
                loop.close()

            self._thread = threading.Thread(target=run, name="patrol-render", daemon=True)
            self._thread.start()
            ready.wait()
            self._loop = loop
        return self._loop

    async def _ensure_browser(self) -> None:
        if self._launching is None:
            self._launching = asyncio.Lock()
            self._pages = asyncio.Semaphore(self.max_pages)
        async with self._launching:
            if self._context is not None:
                return
            from playwright.async_api import async_playwright
            self._playwright = await async_playwright().start()
            self._browser = await self._playwright.chromium.launch(**self.launch_options)
            options = {"user_agent": self.user_agent} if self.user_agent else {}
            self._context = await self._browser.new_context(**options)
            await self._context.route("**/*", _route)

    async def _render(self, url: str, referer: str | None) -> Rendered:
        from playwright.async_api import Error as PlaywrightError
        try:
            await self._ensure_browser()
        except Exception as exc:  # noqa: BLE001 - any launch failure is reported the same way
            raise RenderFailed(f"browser did not start: {exc}"[:300]) from None
        assert self._pages is not None
        async with self._pages:
            page = await self._context.new_page()
            try:
                response = await page.goto(url, wait_until="networkidle", timeout=self.timeout_ms,
                                           referer=referer)
                html = await page.content()
                self.rendered += 1
                return Rendered(url=page.url, status=response.status if response is not None else 200,
                                html=html)
            except PlaywrightError as exc:
                raise RenderFailed(f"{exc.__class__.__name__}: {exc.message}"[:300]) from None
            finally:
                try:
                    await page.close()
                except PlaywrightError:
                    pass

    async def _shutdown(self) -> None:
        for step in (getattr(self._context, "close", None), getattr(self._browser, "close", None),
                     getattr(self._playwright, "stop", None)):
            if step is not None:
                try:
                    await step()
                except Exception:  # noqa: BLE001, S110 - closing what is left, best effort
                    pass
        self._context = self._browser = self._playwright = None


async def _route(route: Any) -> None:
    if route.request.resource_type in ABORTED_RESOURCES:
        await route.abort()
    else:
        await route.continue_()
