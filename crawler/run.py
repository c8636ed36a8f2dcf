"""Entry point of a crawl process: ``python -m crawler.run JOB.json``, or ``run_job(job)`` in a
process the parent forked after ``preload()`` (patrol/crawling.py).

One process runs the crawls of several sites at once in one reactor; the parent (patrol's
runner) starts as many processes as it wants cores used, and reads the JSON-lines files they
write.  A process never starts the reactor twice.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import Settings


def settings_for(job: dict[str, Any]) -> Settings:
    """Scrapy settings for a job: the polite defaults, adjusted by the ``crawl:`` config."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    crawl = job.get("crawl", {})
    settings.set("CONCURRENT_REQUESTS", crawl.get("concurrency", 16))
    settings.set("DOWNLOAD_TIMEOUT", crawl.get("timeout", 20))
    settings.set("PATROL_RETRIES", crawl.get("retries", 2))
    settings.set("PATROL_RETRY_BACKOFF", crawl.get("retry_backoff", 1.0))
    settings.set("PATROL_MAX_RETRY_AFTER", crawl.get("max_retry_after", 60.0))
    settings.set("PATROL_MAX_REDIRECTS", crawl.get("max_redirects", 10))
    settings.set("PATROL_PROGRESS", bool(job.get("progress")))
    # The lean client (crawler/leancheck.py) keeps its own per-host slots and delay: in a polite
    # crawl it and Scrapy's downloader would each apply per_host and delay, so a host could see
    # twice the limit.  It is used only when the crawl is fast (no per-host limit, no delay).
    settings.set("PATROL_LEAN_CHECKS", bool(crawl.get("fast")) and bool(crawl.get("lean_checks", True)))
    # Scrapy's downloader makes its exchanges with the lean client (crawler/handlers.py), in
    # polite crawls too: the downloader's slots still apply per_host and delay before it.
    lean_handler = bool(crawl.get("lean_checks", True))
    settings.set("PATROL_LEAN_HANDLER", lean_handler)
    if lean_handler:
        settings.set("DOWNLOAD_HANDLERS", {"http": "crawler.handlers.LeanDownloadHandler",
                                           "https": "crawler.handlers.LeanDownloadHandler"})
    if crawl.get("user_agent"):
        settings.set("USER_AGENT", crawl["user_agent"])
    if crawl.get("fast"):
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", crawl.get("concurrency", 16))
        settings.set("DOWNLOAD_DELAY", 0)
        settings.set("AUTOTHROTTLE_ENABLED", False)
        settings.set("DOWNLOAD_DELAY_JITTER", 0)
    else:
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", crawl.get("per_host", 4))
        settings.set("DOWNLOAD_DELAY", crawl.get("delay", 0.25))
        settings.set("AUTOTHROTTLE_ENABLED", crawl.get("autothrottle", True))
        settings.set("AUTOTHROTTLE_TARGET_CONCURRENCY", float(crawl.get("per_host", 4)))
    resolver = job.get("resolver")
    if resolver is not None:
        # The project's resolver even with no nameservers or overrides configured: the system's
        # answers, with its rules (RFC 6761 reserved names never leave the machine).
        settings.set("TWISTED_DNS_RESOLVER", "crawler.dns.PatrolResolver")
        settings.set("PATROL_RESOLVER", {"nameservers": [], "overrides": {}, **resolver})
    # Shards other than the first send pages to render to it: one browser per site.
    if any(site.get("render", "auto") != "never" and not site.get("shard") for site in job["sites"]):
        hosts = [urlsplit(site["url"]).hostname or "" for site in job["sites"]]
        hosts += [h for site in job["sites"] for h in site.get("allowed_hosts", [])]
        _enable_rendering(settings, crawl, resolver or {}, hosts)
    return settings


def _enable_rendering(settings: Settings, crawl: dict[str, Any], resolver: dict[str, Any],
                      hosts: list[str]) -> None:
    from common.browser import BrowserNotFound, launch_options
    try:
        # The browser resolves names itself: it gets the answers the rest of the run uses.
        options = launch_options(crawl.get("browser", ""), resolver=resolver or None, hosts=hosts)
    except BrowserNotFound as exc:
        settings.set("PATROL_RENDERING", False)
        settings.set("PATROL_RENDERING_ERROR", str(exc))
        return
    # Pages are rendered by scrapy-playwright: requests with meta["playwright"] go to the
    # browser, the others to the lean client (or Scrapy's own HTTP handler without it).
    settings.set("PATROL_RENDERING", True)
    handler = ("crawler.render_handler.LeanPlaywrightHandler" if settings.getbool("PATROL_LEAN_HANDLER")
               else "crawler.render_handler.PlaywrightHandler")
    settings.set("DOWNLOAD_HANDLERS", {"http": handler, "https": handler})
    settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", options)
    settings.set("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", float(crawl.get("render_timeout", 20)) * 1000)
    settings.set("PLAYWRIGHT_ABORT_REQUEST", _abort_heavy_resources)
    settings.set("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", 4)
    # Playwright's traffic on an event loop of its own thread (scrapy-playwright's threaded
    # mode, its private setting): on the crawl's loop every message of the browser, and every
    # request the page makes (PLAYWRIGHT_ABORT_REQUEST intercepts them), waited behind the
    # crawl's callbacks, and two list pages took 5.8 s to render instead of 1.4 s.  Check
    # the setting's name on scrapy-playwright upgrades.
    settings.set("_PLAYWRIGHT_THREADED_LOOP", True)


def _abort_heavy_resources(request: Any) -> bool:
    """Rendering needs the document and its scripts and data, not images, fonts or media."""
    return request.resource_type in ("image", "media", "font", "stylesheet")


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as fh:
        job = json.load(fh)
    from common.stopping import die_with_parent
    die_with_parent(int(job.get("parent") or 0))
    return run_job(job)


def preload() -> None:
    """Import what a crawl process runs, without installing the reactor: patrol's parent calls
    this before forking its crawl processes (patrol/crawling.py), so that they share one import
    of Scrapy, Twisted and lxml instead of each spending 0.3 s of CPU on its own."""
    import importlib

    from scrapy.crawler import AsyncCrawlerProcess  # noqa: F401
    from scrapy.utils.misc import load_object

    import crawler.settings as defaults
    import crawler.spiders.site  # noqa: F401
    for name in ("crawler.handlers", "crawler.middlewares", "crawler.extensions", "crawler.downloader",
                 "crawler.logformatter", "scrapy.core.engine", "scrapy.core.scheduler",
                 "scrapy.core.scraper", "scrapy.core.downloader", "scrapy.pqueues",
                 "scrapy.squeues", "scrapy.dupefilters", "scrapy.statscollectors",
                 "scrapy.resolver", "scrapy.core.downloader.handlers",
                 "scrapy.downloadermiddlewares.httpproxy", "scrapy.spiderloader",
                 "scrapy.addons", "scrapy.logformatter"):
        importlib.import_module(name)
    for setting in ("DOWNLOADER_MIDDLEWARES_BASE", "DOWNLOADER_MIDDLEWARES", "EXTENSIONS_BASE", "EXTENSIONS"):
        for path in getattr(defaults, setting):
            load_object(path)


def run_job(job: dict[str, Any]) -> int:
    """Run one job's crawls to the end in this process (its reactor is started once)."""
    from scrapy.crawler import AsyncCrawlerProcess

    from crawler.spiders.site import SiteSpider
    _hold_journal(job.get("journal_lock"))
    process = AsyncCrawlerProcess(settings_for(job))
    failures: list[BaseException] = []
    waiting = list(job["sites"])
    from common.limits import open_files_limit
    limit = open_files_limit()
    slots = site_slots(len(waiting), int(job.get("crawl", {}).get("concurrency", 16)), limit)
    if slots < len(waiting):
        print(f"patrol: {len(waiting)} sites in this crawl process, {slots} at a time "
              f"(limit of open files {limit})", file=sys.stderr)

    def start_next(_done: Any = None) -> None:
        # A site starts when another ends; none after a stop signal (their crawl is resumed).
        if waiting and not _ARMED:
            site = waiting.pop(0)
            task = process.crawl(SiteSpider, site=site, output=job["outputs"][site["name"]])
            task.add_done_callback(lambda t, name=site["name"]: _report(t, name, failures))
            task.add_done_callback(start_next)

    for _ in range(slots):
        start_next()
    # Start-up is done: freeze it and collect less often (a tenth of a crawl's CPU otherwise).
    from common.gcpolicy import tune_for_batch
    tune_for_batch()
    _watch_stop_signals()
    process.start()
    return 1 if failures else 0


# Open files a site's crawl may hold beyond its sockets (its output, the lean client's
# resolver and timers, the browser's pipes) and those of the process itself.
FILES_PER_SITE = 4
FILES_OF_PROCESS = 64


def site_slots(sites: int, concurrency: int, limit: int) -> int:
    """How many of a process's sites are crawled at once: every one (each at its own polite
    rate, none waiting for another), unless the files they could hold open together (a socket
    per request in flight, and a few more) would pass the process's limit; then as many as fit,
    the others starting as sites end."""
    per_site = max(1, concurrency) + FILES_PER_SITE
    return max(1, min(sites, (limit - FILES_OF_PROCESS) // per_site))


_HELD: list[int] = []


def _hold_journal(path: str | None) -> None:
    """Hold a shared lock on the run's journal for as long as this process lives: a resume of
    the run waits until no crawl process of an earlier attempt is writing to it."""
    if not path:
        return
    try:
        import fcntl
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_SH)
        _HELD.append(fd)
    except (OSError, ImportError):
        pass


# After a stop signal Scrapy closes the spiders (their last records are written) and the
# browser; a process still running this long after it leaves anyway (the parent kills what is
# left a little later).
STOP_GRACE_S = 4.5


def _watch_stop_signals() -> None:
    """Once the reactor runs and Scrapy has installed its handlers of SIGINT and SIGTERM (a
    graceful stop, then a forced one): SIGHUP is taken as SIGTERM, and the first of them arms a
    deadline after which the process writes what it holds and leaves."""
    from twisted.internet import reactor

    def wrap() -> None:
        term = signal.getsignal(signal.SIGTERM)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, partial(_on_stop, signal.getsignal(sig)))
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, partial(_on_stop, term))
    reactor.callWhenRunning(lambda: reactor.callLater(0, wrap))  # type: ignore[attr-defined]


_ARMED: list[threading.Timer] = []


def _on_stop(previous: Any, signum: int, frame: Any) -> None:
    if not _ARMED:
        timer = threading.Timer(STOP_GRACE_S, _leave_now, args=(signum,))
        timer.daemon = True
        _ARMED.append(timer)
        timer.start()
    if callable(previous):
        previous(signum, frame)


def _leave_now(signum: int) -> None:
    """Write what the spiders hold, kill the browser and its driver, leave."""
    try:
        from crawler.spiders.site import close_outputs
        close_outputs()
        from common.stopping import descendants, kill_all
        kill_all(descendants([os.getpid()]))
        sys.stderr.flush()
    finally:
        os._exit(128 + signum)


def _report(task: Any, name: str, failures: list[BaseException]) -> None:
    exc = None if task.cancelled() else task.exception()
    if exc is not None:
        failures.append(exc)
        print(f"patrol: crawl of {name} failed: {exc!r}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
