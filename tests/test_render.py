"""Rendering through scrapy-playwright (crawler/run.py, crawler/spiders/site.py): the settings
that route render requests to the browser, the render request itself, and crawls with real
headless Chromium against the sample site: a script-filled list is rendered, and a page whose
rendering fails is judged as served."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import lxml.html
import pytest
from scrapy.utils.misc import load_object

from crawler.run import settings_for
from common.browser import BrowserNotFound, launch_options
from common.config import Site
from patrol.crawling import site_job
from tests.routeserver import served

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
PLAYWRIGHT_HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"


@pytest.fixture(scope="module")
def browser() -> None:
    try:
        launch_options()
    except BrowserNotFound as exc:
        pytest.skip(str(exc))


def job_for(site: Site, today: str, out: Path, **crawl) -> dict:
    return {"sites": [site_job(site, ["links"], today)], "outputs": {site.name: str(out)},
            "crawl": {"fast": True, "timeout": 4, "retries": 1, "retry_backoff": 0.2,
                      "max_retry_after": 2, **crawl},
            "resolver": {"nameservers": [], "overrides": {}}}


def run_crawl(job: dict, tmp: Path) -> tuple[list[dict], list[dict], dict]:
    path = tmp / "job.json"
    path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "crawler.run", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    pages, links, site = [], [], {}
    (out,) = job["outputs"].values()
    for line in Path(out).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        {"page": pages, "link": links}.get(record["type"], []).append(record)
        if record["type"] == "site":
            site = record
    assert site.get("reason") == "finished", site
    return pages, links, site


def links_in(html: str) -> set[str]:
    return set(lxml.html.fromstring(html).xpath("//a/@href"))


# --- settings -------------------------------------------------------------------------------

ONE_HANDLER_SCRIPT = """
import os, sys
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from pydispatch import dispatcher
from scrapy import signals
from scrapy.core.downloader.handlers import DownloadHandlers
from scrapy.crawler import Crawler
from crawler.run import settings_for
from crawler.spiders.site import SiteSpider
lean = sys.argv[1] != "scrapy"
site = {"name": "s", "url": "http://www.qx.example/", "render": "never" if sys.argv[1] == "no-render" else "auto"}
settings = settings_for({"sites": [site], "crawl": {"fast": True, "lean_checks": lean},
                         "resolver": {"nameservers": [], "overrides": {}}})
crawler = Crawler(SiteSpider, settings)
crawler._apply_settings()
handlers = DownloadHandlers(crawler)
http, https = handlers._handlers["http"], handlers._handlers["https"]
starts = [r for r in dispatcher.getAllReceivers(crawler.signals.sender, signals.engine_started)
          if "_launch" in repr(r)]
print(type(http).__name__, http is https, len(starts))
sys.stdout.flush()
os._exit(0)
"""


@pytest.mark.parametrize("mode", ["lean", "scrapy", "no-render"])
def test_one_playwright_per_crawl_serves_http_and_https(browser, mode):
    """Scrapy builds a download handler for each scheme; patrol's are built once per crawl, so
    one Playwright driver (and at most one browser) starts, and one lean client serves both."""
    out = subprocess.run([sys.executable, "-c", ONE_HANDLER_SCRIPT, mode], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    name, same, starts = out.stdout.split()
    assert name == {"lean": "LeanPlaywrightHandler", "scrapy": "PlaywrightHandler",
                    "no-render": "LeanDownloadHandler"}[mode]
    assert same == "True" and starts == ("0" if mode == "no-render" else "1")


FAILED_START_SCRIPT = """
import asyncio, logging, os, sys
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from scrapy import Request
from scrapy.core.downloader.handlers import DownloadHandlers
from scrapy.crawler import Crawler
from crawler.run import settings_for
from crawler.spiders.site import SiteSpider
import scrapy_playwright.handler as sph

async def no_driver(self):
    raise RuntimeError("no Playwright driver here")
sph.ScrapyPlaywrightDownloadHandler._launch = no_driver
logging.basicConfig(level=logging.ERROR, stream=sys.stdout, format="LOG %(name)s %(message)s")
site = {"name": "s", "url": "http://www.qx.example/", "render": "auto"}
settings = settings_for({"sites": [site], "crawl": {"fast": True}, "resolver": {"nameservers": [], "overrides": {}}})
crawler = Crawler(SiteSpider, settings)
crawler._apply_settings()
handler = DownloadHandlers(crawler)._handlers["http"]

async def main():
    await handler._maybe_launch_in_thread()          # what the engine's start runs
    try:
        await handler.download_request(Request("http://www.qx.example/list/", meta={"playwright": True}))
        print("RENDERED")
    except Exception as exc:
        print("RENDER FAILED", exc)
    await handler.close()
    await handler.close()                            # once per scheme it serves
    print("CLOSED")

def done(result):
    if not isinstance(result, type(None)):
        print("ERROR", result)
    reactor.stop()
reactor.callWhenRunning(lambda: Deferred.fromFuture(asyncio.ensure_future(main())).addBoth(done))
reactor.run()
sys.stdout.flush()
os._exit(0)
"""


def test_playwright_that_cannot_start_fails_the_render_not_the_crawl(browser):
    """Playwright starts beside the crawl: when it cannot, the reason is logged once, a page to
    render fails with it (and is then judged as served), and closing still works, twice."""
    out = subprocess.run([sys.executable, "-c", FAILED_START_SCRIPT], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert lines == [("LOG crawler.render_handler Playwright could not start: "
                      "RuntimeError('no Playwright driver here')"),
                     "RENDER FAILED no Playwright driver here", "CLOSED"], out.stdout + out.stderr[-1000:]


def test_render_requests_go_to_the_scrapy_playwright_handler(browser):
    site = {"name": "s", "url": "http://www.qx.example/", "render": "auto"}
    settings = settings_for({"sites": [site], "crawl": {"render_timeout": 7},
                             "resolver": {"nameservers": [], "overrides": {"www.qx.example": ["127.0.0.1"]}}})
    assert settings.getbool("PATROL_RENDERING")
    # scrapy-playwright's handler, or its subclass that sends the other requests to the lean client
    handlers = settings.getdict("DOWNLOAD_HANDLERS")
    assert handlers["http"] == handlers["https"] == "crawler.render_handler.LeanPlaywrightHandler"
    assert issubclass(load_object(handlers["http"]), load_object(PLAYWRIGHT_HANDLER))
    # the browser's traffic is served by a loop of its own, not behind the crawl's callbacks
    assert settings.getbool("_PLAYWRIGHT_THREADED_LOOP")
    without_lean = settings_for({"sites": [site], "crawl": {"lean_checks": False},
                                 "resolver": {"nameservers": [], "overrides": {}}})
    plain = without_lean.getdict("DOWNLOAD_HANDLERS")
    assert plain["http"] == plain["https"] == "crawler.render_handler.PlaywrightHandler"
    assert issubclass(load_object(plain["http"]), load_object(PLAYWRIGHT_HANDLER))
    assert settings.getfloat("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT") == 7000
    options = settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS")
    assert options["headless"] is True
    # The browser resolves names as the rest of the run does.
    assert any(a.startswith("--host-resolver-rules=") and "www.qx.example" in a for a in options["args"])
    abort = settings.get("PLAYWRIGHT_ABORT_REQUEST")

    class Resource:
        def __init__(self, resource_type: str):
            self.resource_type = resource_type

    assert [t for t in ("document", "script", "xhr", "fetch", "image", "font", "media", "stylesheet")
            if abort(Resource(t))] == ["image", "font", "media", "stylesheet"]


def test_sites_that_never_render_do_without_playwright():
    site = {"name": "s", "url": "http://www.qx.example/", "render": "never"}
    settings = settings_for({"sites": [site], "crawl": {}, "resolver": {"nameservers": [], "overrides": {}}})
    assert not settings.getbool("PATROL_RENDERING")
    assert "playwright" not in json.dumps(settings.getdict("DOWNLOAD_HANDLERS")).lower()
    assert settings.getdict("DOWNLOAD_HANDLERS")["http"] == "crawler.handlers.LeanDownloadHandler"


def test_render_request_is_a_playwright_request_ahead_of_the_crawl(tmp_path):
    from scrapy.utils.test import get_crawler

    from crawler.spiders.site import PAGE, SiteSpider
    crawler = get_crawler(SiteSpider, {"PATROL_RENDERING": True})
    spider = SiteSpider.from_crawler(crawler, site={"name": "s", "url": "http://www.qx.example/"},
                                     output=str(tmp_path / "out.jsonl"))
    plain = spider._request("http://www.qx.example/a/", PAGE, depth=1, referer=None)
    render = spider._request("http://www.qx.example/a/", PAGE, depth=1, referer=None, render=True)
    assert not plain.meta.get("playwright")
    assert render.meta["playwright"] is True
    # Read once loaded and the page's own requests are handled, not after a network-idle timer.
    assert render.meta["playwright_page_goto_kwargs"] == {"wait_until": "load"}
    from crawler import render_wait
    assert render.meta["playwright_page_init_callback"] is render_wait.track_requests
    (method,) = render.meta["playwright_page_methods"]
    assert method.method is render_wait.settle and method.args == (20000.0,)
    assert render.priority > plain.priority


LATE_LISTS = {
    # Filled from an XHR answered after 300 ms (the server holds /data/*).
    "/xhr/": """var r = new XMLHttpRequest(); r.open('GET', '/data/xhr.json');
        r.onload = function () { fill(JSON.parse(r.responseText)); }; r.send();""",
    # fetch, then the body read, then the list written.
    "/fetch/": "fetch('/data/fetch.json').then(function (a) { return a.json(); }).then(fill);",
    # JSONP: a script added to the page calls back with the rows.
    "/jsonp/": """var s = document.createElement('script'); s.src = '/data/jsonp.js';
        document.body.appendChild(s);""",
    # A short timer after load.
    "/timer/": "setTimeout(function () { fill([{url: '/art/timer.html', title: '定时'}]); }, 40);",
}


def test_a_list_filled_late_is_read_after_its_own_requests(browser, tmp_path):
    """XHR, fetch, JSONP and a short timer: each rendered list is read once its requests are
    done; a page whose scripts never stop asking is a failed render, judged as served."""
    import time

    fill = ("function fill(rows) { var ul = document.getElementById('list'); rows.forEach(function (x) {"
            " var li = document.createElement('li'); var a = document.createElement('a'); a.href = x.url;"
            " a.textContent = x.title; li.appendChild(a); ul.appendChild(li); }); }")

    def page(script: str) -> str:
        return (f'<html><head><meta charset="utf-8"><title>列表</title></head><body><ul class="list" id="list"></ul>'
                f"<script>{fill}\n{script}</script></body></html>")

    files = {path: page(script) for path, script in LATE_LISTS.items()}
    files["/busy/"] = page("setInterval(function () { fetch('/data/ping.json'); }, 30);")
    files["/"] = "<html><head><title>首页</title></head><body>" + "".join(
        f'<a href="{p}">栏目{n}</a>' for n, p in enumerate(files)) + "</body></html>"
    data = {"/data/xhr.json": '[{"url": "/art/xhr.html", "title": "异步"}]',
            "/data/fetch.json": '[{"url": "/art/fetch.html", "title": "取数"}]',
            "/data/jsonp.js": "fill([{url: '/art/jsonp.html', title: '回调'}]);",
            "/data/ping.json": "{}"}

    def route(path: str) -> tuple[int, str, str]:
        if path in data:
            time.sleep(0.3 if path != "/data/ping.json" else 0)
            return 200, "application/json", data[path]
        return 200, "text/html; charset=utf-8", files.get(path, "<html><body>文章</body></html>")

    with served(route) as base:
        site = Site(name="清溪", url=base + "/", render="auto", max_depth=1, max_pages=20)
        pages, _links, site_record = run_crawl(
            job_for(site, "2026-11-22", tmp_path / "out.jsonl", render_timeout=2), tmp_path)
    by_url = {p["url"]: p for p in pages}
    for path in LATE_LISTS:
        rendered = by_url[base + path]
        assert rendered["rendered"] is True, path
        assert f"{base}/art/{path.strip('/')}.html" in {ref[0] for ref in rendered["links"]}, path
    assert by_url[base + "/busy/"]["rendered"] is False
    assert any(e.startswith(f"rendering failed for {base}/busy/") for e in site_record["errors"])


# --- crawls with the browser ------------------------------------------------------------------

@pytest.mark.parametrize("lean", [True, False], ids=["lean-client", "scrapy-http"])
def test_script_filled_list_is_rendered_and_its_links_checked(sample_site, browser, tmp_path, lean):
    """Through LeanPlaywrightHandler, and through PlaywrightHandler with Scrapy's own HTTP
    handler (``crawl.lean_checks: false``)."""
    url = sample_site.url("/xwzx/gzdt/")
    served = urllib.request.urlopen(url, timeout=10).read().decode("utf-8")
    site = Site(name="清溪", url=url, render="auto", max_depth=0, max_pages=5)
    pages, links, site_record = run_crawl(job_for(site, sample_site.today.isoformat(),
                                                  tmp_path / "out.jsonl", lean_checks=lean), tmp_path)
    (page,) = [p for p in pages if p["url"] == url]
    assert page["rendered"] is True
    served_links = {u for u in links_in(served) if not u.startswith(("javascript:", "#"))}
    on_page = {ref[0] for ref in page["links"]}
    assert len(on_page) > len(served_links)
    # The links the script filled in are checked like any other.
    assert on_page <= {link["url"] for link in links}
    assert site_record["stats"]["render_requests"] >= 1
    assert not [e for e in site_record["errors"] if "render" in e]


def test_page_whose_rendering_fails_is_judged_as_served(sample_site, browser, tmp_path):
    url = sample_site.url("/xwzx/gzdt/")
    site = Site(name="清溪", url=url, render="always", max_depth=0, max_pages=5)
    # A navigation timeout of a millisecond: the browser cannot load the page in time.
    pages, links, site_record = run_crawl(job_for(site, sample_site.today.isoformat(), tmp_path / "out.jsonl",
                                                  render_timeout=0.001), tmp_path)
    (page,) = [p for p in pages if p["url"] == url]
    assert page["rendered"] is False
    assert page["links"], "the links of the page as served are followed"
    assert any(e.startswith(f"rendering failed for {url}") for e in site_record["errors"])
    # A link's result may be written more than once; the last record is the result.
    assert [link for link in links if link["url"] == url][-1]["kind"] == "ok"


def test_homepage_whose_menu_a_script_writes_is_rendered(browser, tmp_path):
    """The served homepage has no menu, only the script that writes it (real district portals
    do this): render: auto renders it, and the menu's columns are read from the rendered page."""

    files = {
        "/": ('<html><head><meta charset="utf-8"><title>清溪区人民政府</title></head><body>'
              '<div id="top"><script src="/menu.js"></script></div>'
              '<ul><li><a href="/zwgk/tzgg/202611/t20261110_1.html">关于开展安全检查的通知全文</a>'
              '<span>2026-11-10</span></li></ul></body></html>', "text/html; charset=utf-8"),
        "/menu.js": ('document.write(\'<div class="nav"><a href="/zwgk/tzgg/">通知公告</a>'
                     '<a href="/zwdt/">政务动态</a></div>\');', "application/javascript"),
    }

    def route(path: str) -> tuple[int, str, str]:
        body, ctype = files.get(path, ("<html><body>x</body></html>", "text/html"))
        return 200, ctype, body

    with served(route) as base:
        url = base + "/"
        site = Site(name="清溪", url=url, render="auto", max_depth=0, max_pages=3)
        job = job_for(site, "2026-11-22", tmp_path / "out.jsonl")
        job["sites"] = [site_job(site, ["links", "freshness"], "2026-11-22")]
        pages, _links, _site = run_crawl(job, tmp_path)
    (home,) = [p for p in pages if p["url"] == url]
    assert home["rendered"] is True
    assert {ref[2] for ref in home["nav_links"]} == {"通知公告", "政务动态"}
