"""The site spider: crawls one site and checks every link on it once.

Each distinct URL (its normalised identity) is fetched once per run, requested as the page
wrote it.  In-scope pages are fetched with GET and parsed once (their response is also their
link check); other links are checked with HEAD (GET when the server refuses HEAD) and their
bodies are not downloaded, except HTML, which is needed to recognise soft-404 pages, and style
sheets, whose url()s are links too.  Redirects are followed here, not by Scrapy, so the chain
is recorded and loops are told apart from long chains; what to ask and how to judge the answers
is ``crawler.linkpolicy``'s.  A page whose handling fails is written with its error and its
links are still checked.

Output is a JSON-lines file: a ``start`` record, one ``page`` record per crawled page as it is
parsed, one ``sheet`` record per style sheet read, one ``link`` record per checked URL, a
``probe`` record per host whose not-found page was asked for, and a final ``site`` record when
the crawl closes.  It is flushed and synced to disk every second: it is also the crawl's
journal.  A job with ``journal`` (the outputs of an interrupted attempt of the same run)
resumes the crawl: what they record is taken as done, and the links their pages carry that
were not checked yet are the crawl's frontier.  A shard started again after a crash also gets
``frontier``, the other shards' outputs: the links it owns on their pages join its frontier.
"""
from __future__ import annotations

import asyncio
import base64
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, StopDownload
from scrapy.http import Response
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from checks.links import checkable_fragment, looks_not_found, page_signature
from checks.model import LinkKind, LinkRef, LinkResult, PageSnapshot
from checks.pagefacts import is_later_page
from crawler import leancheck, linkpolicy, pages, scriptlists
from crawler.jsonlines import JOURNAL_FORMAT, dumps_line, journal_damage, loads
from crawler.leancheck import CSS_TYPE, HTML_TYPES, FetchFailed, LeanClient
from crawler.scriptlists import ScriptLists
from crawler.linkpolicy import get_after_head, kind_for_status, next_hop, resource_method, retry_after_matters
from crawler.shards import ShardLink, owner
from crawler.urls import InvalidURL, TrapGuard, UrlMarks, host_of, normalize, request_form, scheme_verdict

PAGE, LINK, PROBE = "page", "link", "probe404"
SYNC_EVERY_S = 1.0      # the output (the crawl's journal) is flushed and synced this often
# Raw links whose identity is remembered: the template's menus, written on every page, are
# met first and stay; the articles each page links once are not worth keeping on a large site.
NORMALIZED_CACHE = 20_000


class SiteSpider(scrapy.Spider):
    name = "site"

    def __init__(self, site: dict[str, Any], output: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.site = site
        self.output_path = output
        self.start_url = normalize(site["url"])
        self.scope = {host_of(self.start_url)} | {h.lower() for h in site.get("allowed_hosts", [])}
        # A site that lives under a path of a shared host (www.example.gov.cn/jyj/) is that path.
        start_path = urlsplit(self.start_url).path
        self.prefix = start_path.rsplit("/", 1)[0] + "/" if start_path.count("/") > 1 else ""
        self.start_host = host_of(self.start_url)
        self.shard = int(site.get("shard", 0))
        self.shards = max(1, int(site.get("shards", 1)))
        # Each shard crawls its share of the page budget.
        self.max_pages = -(-int(site.get("max_pages", 5000)) // self.shards)
        self.link: ShardLink | None = None
        self._progress_at = 0.0
        self.max_depth = int(site.get("max_depth", 8))
        self.render = site.get("render", "auto")
        self.check_external = bool(site.get("check_external", True))
        self.extract_facts = bool(site.get("facts", True))
        self.today = date.fromisoformat(site["today"]) if site.get("today") else date.today()
        # raw absolute URL -> (normalised, request form when it differs; None: not checked)
        self._normalized: dict[str, tuple[str, str] | None] = {}
        # normalised URL -> the form it is requested in (as the page wrote it), when they differ
        self.written: dict[str, str] = {}
        # Crawled pages that some link names a #fragment of: their id/name values are kept.
        self.fragment_targets: dict[str, set[str]] = {}
        self.pages_scheduled = 0
        self.pages_written = 0
        marks = UrlMarks()
        self.seen = marks.view(1)                     # URLs already scheduled or resolved
        # URLs whose result is recorded; the results themselves only of the pages that may yet
        # turn out a host's not-found page (a 200 HTML page with a signature), judged at the
        # end: a result object for every URL held a crawl of 100,000 pages' memory.
        self.recorded = marks.view(2)
        self.results: dict[str, LinkResult] = {}
        self.signatures: dict[str, tuple[str, str]] = {}   # url -> (host, signature) of 200 HTML
        self.not_found: dict[str, str | None] = {}    # host -> signature of its not-found page
        self.probed_hosts: set[str] = set()
        self.homepage_final = self.start_url
        self.traps = TrapGuard()
        self.errors: list[str] = []
        self.started = time.monotonic()
        self._out = None
        self._syncer: LoopingCall | None = None
        # Counted here and published to the stats collector at close (and for progress):
        # inc_value on every response costs more than the counting.
        self.counts: dict[str, int] = {"requests": 0, "responses": 0, "links_checked": 0, "broken": 0,
                                       "pages": 0, "render_requests": 0, "page_errors": 0,
                                       "rate_limited": 0, "data_requests": 0}
        # Script-written lists learnt from renders, read from the page's data once trusted.
        self.script_lists = ScriptLists()
        self.broken_kinds: dict[str, int] = {}
        # Links that are only checked go through the lean client (crawler/leancheck.py) when
        # the crawl is fast; polite crawls check every link through Scrapy's downloader.
        self.lean: LeanClient | None = None
        # Lean checks in flight: work outside Scrapy's engine that keeps it open.
        self.lean_inflight = 0
        self.replayed = 0                               # pages taken from an earlier attempt
        self.replayed_sheets: list[PageSnapshot] = []   # stylesheets read by an earlier attempt

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SiteSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_redirects = crawler.settings.getint("PATROL_MAX_REDIRECTS", 10)
        # What DefaultHeadersMiddleware and UserAgentMiddleware would add, once for all requests.
        spider.headers = {**crawler.settings.getdict("DEFAULT_REQUEST_HEADERS"),
                          "User-Agent": crawler.settings.get("USER_AGENT")}
        spider.rendering = crawler.settings.getbool("PATROL_RENDERING", False)
        spider.render_priority = crawler.settings.getint("PATROL_RENDER_PRIORITY", 100)
        spider.render_timeout_ms = crawler.settings.getfloat("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", 20000)
        if spider.render != "never" and not spider.rendering and spider.shard == 0:
            reason = crawler.settings.get("PATROL_RENDERING_ERROR") or "rendering is off"
            spider.errors.append(f"JavaScript pages were not rendered: {reason}")
        crawler.signals.connect(spider._headers_received, signal=signals.headers_received)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        if crawler.settings.getbool("PATROL_LEAN_CHECKS", False):
            spider.lean = leancheck.from_settings(crawler.settings)
        return spider

    # --- scheduling --------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self._out is None:
            self._out = _open_output(self.output_path)
        # Synced every second whether or not the crawl writes meanwhile (a slow page holds
        # nothing back), and once more when it closes.
        self._syncer = LoopingCall(self._sync)
        self._syncer.start(SYNC_EVERY_S, now=False)
        self._write({"type": "start", "format": JOURNAL_FORMAT, "site": self.site["name"], "shard": self.shard,
                     "shards": self.shards})
        # What an earlier attempt recorded is loaded before anything else runs, so that a link
        # routed here by another shard is already known.
        replayed = self._load_journal(self.site["journal"]) if self.site.get("journal") else None
        self.seen.add(self.start_url)
        if self.shards > 1:
            link = ShardLink(self.shard, self.shards, self._routed, self._finish, self._is_idle,
                             before_send=self._flush_output)
            try:
                await link.open()
            except (OSError, ValueError, AttributeError) as exc:
                # No conversation with the parent: end now (the parent sees this process end)
                # rather than wait for a "finish" that cannot arrive.
                self.errors.append(f"shard {self.shard}: no link to the parent ({exc!r})")
                self._finish()
                return
            self.link = link
        if replayed is not None:
            for request in self._resume(replayed):
                yield request
            for request in self._others_frontier(self.site.get("frontier") or []):
                yield request
            if self.link is not None:
                self.link.flush()
            return
        if self.link is not None and not self.link.owns(self.start_url):
            return
        self.pages_scheduled = 1
        try:
            written = request_form(self.site["url"])
        except ValueError:
            written = self.start_url
        yield self._request(written, PAGE, depth=0, referer=None, origin=self.start_url)
        probe = self._probe_request(host_of(self.start_url), self.start_url)
        if probe is not None:
            yield probe

    # --- resuming from the journal of an interrupted attempt --------------------------------

    def _load_journal(self, files: list[dict[str, Any]]) -> list[PageSnapshot]:
        """Take what earlier attempts recorded: their pages (returned, in crawl order), link
        results, page signatures and not-found pages.  A page whose result was recorded but not
        its page record (stopped between the two, or waiting for the browser) is not taken: it
        is fetched again."""
        pages: dict[str, PageSnapshot] = {}
        links: dict[str, tuple[dict[str, Any], LinkResult]] = {}
        sheets: list[PageSnapshot] = []
        for entry in files:
            mine = None
            if self.shards > 1 and int(entry.get("shards", 1)) != self.shards:
                mine = self._owned
            name = os.path.basename(entry["path"])
            for n, record in _journal_records(entry["path"]):
                try:
                    if not isinstance(record, dict):
                        raise TypeError("not a record")
                    kind = record.pop("type", None)
                    if kind == "probe":
                        host = record.get("host")
                        if host:
                            self.probed_hosts.add(host)
                            self.not_found[host] = record.get("signature")
                        continue
                    url = record.get("url")
                    if not isinstance(url, str) or (mine is not None and not mine(url)):
                        continue
                    if kind == "page":
                        pages[url] = PageSnapshot.from_dict(record)
                    elif kind == "sheet":
                        sheets.append(PageSnapshot.from_dict(record))
                    elif kind == "link":
                        links[url] = (record, LinkResult.from_dict(record))
                except (TypeError, AttributeError, KeyError, ValueError):
                    record = None
                if record is None:          # a damaged line: skipped, the journal read on
                    self.errors.append(journal_damage(name, n))
        for url, (record, result) in links.items():
            if record.get("page") and url not in pages:
                continue
            self.recorded.add(url)
            self.seen.add(url)
            sig = record.get("sig")
            if sig:
                self.signatures[url] = (sig[0], sig[1])
                self.results[url] = result
            self.counts["links_checked"] += 1
            if not result.ok:
                self.counts["broken"] += 1
                self.broken_kinds[result.kind] = self.broken_kinds.get(result.kind, 0) + 1
        ordered = sorted(pages.values(), key=lambda p: p.depth)
        for page in ordered:
            self.seen.add(page.url)
            final = _safe_normalize(page.final_url) if page.final_url else None
            if final:
                self.seen.add(final)
            self.traps.allow(page.url)
            self.pages_scheduled += 1
            self.pages_written += 1
            self.counts["pages"] += 1
            if page.depth == 0 and page.url == self.start_url and final:
                self.homepage_final = final
        self.replayed = len(ordered)
        # Stylesheets read before: their url()s are followed again like a page's links (those
        # checked already are known); the sheets themselves are not fetched again.
        self.replayed_sheets = sheets
        return ordered

    def _owned(self, url: str) -> bool:
        return owner(url, self.shards) == self.shard

    def _others_frontier(self, paths: list[str]) -> Iterator[scrapy.Request]:
        """A shard started again after a crash: the links it owns on the pages the other
        shards have recorded, not known here yet.  The other shards had sent them to the
        crashed process and do not send them again.  (Their outputs are being written: whole
        lines only; a damaged one is theirs to report.)"""
        if self.shards < 2:
            return
        for path in paths:
            for _, record in _journal_records(path):
                if not isinstance(record, dict) or record.get("type") not in ("page", "sheet"):
                    continue
                try:
                    page = PageSnapshot.from_dict({k: v for k, v in record.items() if k != "type"})
                except (TypeError, AttributeError, KeyError, ValueError):
                    continue
                # Links that cannot be requested (invalid, file:, ftp: ...) were recorded, with
                # their kind, by the shard that read the page: not requested here.
                owned = [ref for ref in page.links if ref.url not in self.seen and self._owned(ref.url)
                         and _requestable(ref.url)]
                if owned:
                    yield from self._follow(owned, page.depth, page.url)

    def _resume(self, pages: list[PageSnapshot]) -> Iterator[scrapy.Request]:
        """The frontier: the start page if it was not crawled, then every link of the pages
        crawled that is not known yet, as the crawl would have followed it."""
        start_done = self.start_url in self.recorded or any(p.url == self.start_url for p in pages)
        if not start_done and (self.link is None or self.link.owns(self.start_url)):
            self.pages_scheduled += 1
            yield self._request(self.start_url, PAGE, depth=0, referer=None)
        # Hosts whose not-found page was not learnt yet: asked again, or their soft-404 pages
        # would go unnoticed.
        samples = {host: url for url, (host, _) in self.signatures.items()}
        if not start_done:
            samples.setdefault(self.start_host, self.start_url)
        for host in sorted(samples.keys() - self.probed_hosts):
            probe = self._probe_request(host, samples[host])
            if probe is not None:
                yield probe
        for page in [*pages, *self.replayed_sheets]:
            yield from self._follow(page.links, page.depth, page.url)

    # --- shards: links another process owns go to it through the parent -------------------

    def _routed(self, message: dict[str, Any]) -> bool:
        """Schedule a link that another shard found and this one owns."""
        url = message["url"]
        if message.get("render"):
            body = base64.b64decode(message["body"])
            if self.rendering and self._read_not_rendered(body, message["ctype"], url):
                # A page of a template whose list is read from its data: judged here as served.
                req = self._request(url, PAGE, depth=message["depth"], referer=message.get("referer"),
                                    origin=message["origin"], chain=message.get("chain"))
                self.parse(scrapy.http.HtmlResponse(url, status=200, body=body, request=req,
                                                    headers={b"Content-Type": message["ctype"].encode("latin-1")}))
                return True
            req = self._request(url, PAGE, depth=message["depth"], referer=message.get("referer"),
                                origin=message["origin"], render=self.rendering, chain=message.get("chain"))
            if self.rendering:
                self.counts["render_requests"] += 1
                req.meta["unrendered"] = (body, message["ctype"].encode("latin-1"))
            else:
                req.meta["render_failed"] = True
            self.crawler.engine.crawl(req)
            return True
        if message.get("fragments"):
            self.fragment_targets.setdefault(url, set()).update(message["fragments"])
        if url in self.seen:
            return False
        self.seen.add(url)
        if message.get("written"):
            self.written.setdefault(url, message["written"])
        requests = list(self._schedule(url, message.get("depth", 1), message.get("referer")))
        for request in requests:
            self.crawler.engine.crawl(request)
        return bool(requests)

    def _finish(self) -> None:
        asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="finished"))

    def _is_idle(self) -> bool:
        return self.lean_inflight == 0 and self.crawler.engine.spider_is_idle()

    def _idle(self, spider: scrapy.Spider) -> None:
        if spider is not self:
            return
        if self.lean_inflight:
            # Checks in flight outside Scrapy: the last one to finish wakes the engine.
            raise DontCloseSpider
        if self.link is not None and self.link.idle():
            raise DontCloseSpider

    def _report_progress(self) -> None:
        now = time.monotonic()
        if self.link is not None and now - self._progress_at >= 1.0:
            self._progress_at = now
            counts = self.counts
            self.link.send({"progress": [counts["pages"], counts["links_checked"], counts["broken"]]})

    def _request(self, url: str, role: str, *, depth: int, referer: str | None,
                 method: str = "GET", chain: list[str] | None = None, origin: str | None = None,
                 render: bool = False) -> scrapy.Request:
        meta: dict[str, Any] = {
            "role": role, "depth": depth, "referer_url": referer, "origin": origin or url,
            "chain": chain or [], "dont_redirect": True, "handle_httpstatus_all": True,
            "t0": time.monotonic(),
        }
        priority = 0
        if render:
            # Rendered by scrapy-playwright (crawler.run sets its download handler).
            # Read once loaded and once the requests its scripts made are handled
            # (crawler.render_wait), not after Playwright's fixed half second of network idle.
            from scrapy_playwright.page import PageMethod

            from crawler import render_wait
            meta["playwright"] = True
            meta["playwright_page_goto_kwargs"] = {"wait_until": "load"}
            meta["playwright_page_init_callback"] = render_wait.track_requests
            meta["playwright_page_methods"] = [PageMethod(render_wait.settle, self.render_timeout_ms)]
            # Ahead of the queue: the links a script fills in are the rest of the crawl.
            priority = self.render_priority
        headers = self.headers
        if referer:
            headers = {**headers, "Referer": referer}
        self.counts["requests"] += 1
        return scrapy.Request(url, method=method, meta=meta, headers=headers, dont_filter=True,
                              priority=priority, callback=self.parse, errback=self.on_error)

    def _probe_request(self, host: str, sample_url: str) -> scrapy.Request | None:
        """Ask the host for a page that cannot exist, to learn what its not-found page looks like."""
        if host in self.probed_hosts:
            return None
        self.probed_hosts.add(host)
        parts = urlsplit(sample_url)
        missing = f"{parts.scheme}://{parts.netloc}/patrol-missing-{secrets.token_hex(6)}.html"
        return self._request(missing, PROBE, depth=0, referer=None)

    def _follow(self, links: list[LinkRef], depth: int, page_url: str) -> Iterator[scrapy.Request]:
        for ref in links:
            url = ref.url
            if url in self.seen:
                continue
            self.seen.add(url)
            # A column's later list pages are one level, however long the 下一页 chain.
            next_depth = depth if is_later_page(url) else depth + 1
            if self.link is not None and not self.link.owns(url):
                self.link.send_url(url, next_depth, page_url, self.written.get(url),
                                   self.fragment_targets.get(url))
                continue
            yield from self._schedule(url, next_depth, page_url)
        if self.link is not None:
            self.link.flush(now=False)

    def _schedule(self, url: str, depth: int, referer: str | None) -> Iterator[scrapy.Request]:
        """The request(s) that check a new URL: crawl it as a page, or only check it."""
        host = host_of(url)
        internal = self._in_scope(url, host)
        if not internal and not self.check_external:
            return
        wire = self.written.pop(url, url)       # requested as the page wrote it
        method = resource_method(url)
        if method is not None:
            # Only checked; a stylesheet is read (GET, once as every URL): its url()s are links.
            if self.lean is not None:
                self._check_lean(url, referer, method, wire, method == "GET")
            else:
                yield self._request(wire, LINK, depth=depth, referer=referer, method=method, origin=url)
            return
        if (internal and depth <= self.max_depth and self.pages_scheduled < self.max_pages
                and self.traps.allow(url)):
            self.pages_scheduled += 1
            yield self._request(wire, PAGE, depth=depth, referer=referer, origin=url)
        elif self.lean is not None:
            self._check_lean(url, referer, "GET", wire)
        else:
            yield self._request(wire, LINK, depth=depth, referer=referer, origin=url)
        probe = self._probe_request(host, url)
        if probe is not None:
            yield probe

    def _in_scope(self, url: str, host: str | None = None) -> bool:
        host = host or host_of(url)
        if host not in self.scope:
            return False
        if self.prefix and host == self.start_host:
            return urlsplit(url).path.startswith(self.prefix)
        return True

    # --- downloads ---------------------------------------------------------------------------

    def _headers_received(self, headers: Any, body_length: int, request: scrapy.Request,
                          spider: scrapy.Spider) -> None:
        """Stop a download once its headers show it is not an HTML page we need to read."""
        if spider is not self or request.method == "HEAD" or "patrol_data" in request.meta:
            return
        ctype = (headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        if ctype and not ctype.startswith(HTML_TYPES) and not ctype.startswith(CSS_TYPE):
            raise StopDownload(fail=False)

    # Callbacks schedule their requests themselves and return nothing: Scrapy's processing of
    # callback output (an async generator chain and worker tasks per response) cost more CPU
    # than the rest of a page's handling.
    def parse(self, response: Response) -> None:
        crawl = self.crawler.engine.crawl
        try:
            requests = list(self._handle(response))
        except Exception as exc:  # noqa: BLE001 - one page's failure is recorded on it, never lost
            requests = self._page_failed(response, exc)
        for request in requests:
            crawl(request)

    def on_error(self, failure: Failure) -> None:
        crawl = self.crawler.engine.crawl
        try:
            requests = list(self._on_error(failure))
        except Exception as exc:  # noqa: BLE001
            meta = failure.request.meta
            self.errors.append(f"handling the failure of {failure.request.url} failed: {exc!r}"[:300])
            if meta.get("origin") and meta["origin"] not in self.recorded:
                self._record(LinkResult(url=meta["origin"], kind=LinkKind.CONNECTION.value,
                                        error=repr(exc)[:200], method=failure.request.method,
                                        internal=self._in_scope(meta["origin"])))
            requests = []
        for request in requests:
            crawl(request)

    def _page_failed(self, response: Response, exc: Exception) -> list[scrapy.Request]:
        """A page whose handling raised: the page is written with a ``page_error`` saying why,
        its answer is its link's result, and its links are still extracted and checked when
        the tree can be had (the per-page facts, the likeliest to fail, are left out)."""
        meta = response.meta
        origin = meta.get("origin", response.url)
        message = f"{type(exc).__name__}: {exc}"[:300]
        self.logger.error("handling %s failed", response.url, exc_info=exc)
        if origin not in self.recorded:
            try:
                self._record(self._result(response))
            except Exception:  # noqa: BLE001 - a response that cannot even be described
                self._record(LinkResult(url=origin, kind=LinkKind.OK.value, status=response.status,
                                        method=response.request.method, internal=self._in_scope(origin)))
        if meta.get("role") != PAGE or response.request.method != "GET" or response.status != 200:
            # Not a page: the crawl's errors say it (there is no page to carry a finding).
            self.counts["page_errors"] += 1
            self.errors.append(f"handling {response.url} failed: {message}"[:300])
            return []
        links: list[LinkRef] = []
        fragments: list[tuple[str, str, str]] = []
        problems = [f"页面处理出错：{message}"]
        tree = None
        try:
            ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
            tree = pages.parse_html(pages.decode_html(response.body, ctype)[0])
            if tree is not None:
                links, fragments = self._links(tree, response.url, problems, response.body)
        except Exception as again:  # noqa: BLE001
            problems.append(f"链接提取出错：{type(again).__name__}: {again}"[:300])
        snap = PageSnapshot(url=origin, final_url=_trail(origin, meta.get("chain") or [], response.url)["final_url"],
                            status=response.status, depth=meta.get("depth", 0), links=links,
                            referer=meta.get("referer_url"), fetched_at=_now())
        try:
            self._finish_page(snap, tree, problems, fragments)
        except Exception as again:  # noqa: BLE001 - the page record without its anchors
            self.errors.append(f"writing {response.url} failed: {again!r}"[:300])
        return list(self._follow(links, meta.get("depth", 0), origin))

    def _handle(self, response: Response) -> Iterator[scrapy.Request]:
        meta = response.meta
        role, origin = meta["role"], meta["origin"]
        self.counts["responses"] += 1
        if 300 <= response.status < 400 and response.headers.get(b"Location"):
            yield from self._redirect(response)
            return
        if role == PROBE:
            self._learn_not_found(response)
            return
        if response.request.method == "HEAD" and get_after_head(response.status, _retry_after(response)):
            yield self._request(response.url, role, depth=meta["depth"], referer=meta["referer_url"],
                                chain=meta["chain"], origin=origin)
            return
        result = self._result(response)
        tree, encoding, title = None, "", None
        if response.request.method == "GET":
            if result.content_type.startswith(CSS_TYPE):
                self._record_final(result, response.url, meta["chain"])
                if response.status == 200:
                    yield from self._sheet(origin, response.url, response.body, result.content_type,
                                           meta["referer_url"], meta["depth"])
                return
            tree, encoding, title = self._judge_html(result, response.body, response.url)
        page = role == PAGE and tree is not None and result.ok and self._in_scope(response.url)
        needs = page and self._needs_render(meta, tree)
        if needs and not self.rendering and self.link is not None and self.shard != 0:
            # One browser for the whole site: shard 0 renders the page and records its result,
            # so the URL has one result (not one from each shard, the parent keeping whichever
            # it happened to read last).
            self._render_elsewhere(response)
            return
        self._record_final(result, response.url, meta["chain"], page=page)
        if page:
            yield from self._page(response, tree, encoding, title, needs)

    def _needs_render(self, meta: dict[str, Any], tree: Any) -> bool:
        return (not meta.get("playwright") and self.render != "never" and not meta.get("render_failed")
                and (self.render == "always" or pages.needs_render(tree, homepage=self._homepage_of(meta))))

    @staticmethod
    def _homepage_of(meta: dict[str, Any]) -> str | None:
        """The start page's URL when this response is it (its menus name the columns)."""
        return meta.get("origin") if meta.get("depth") == 0 else None

    def _render_elsewhere(self, response: Response) -> None:
        meta = response.meta
        assert self.link is not None
        self.link.send({"render": True, "url": response.url, "origin": meta["origin"], "depth": meta["depth"],
                        "referer": meta["referer_url"], "chain": meta["chain"],
                        "body": base64.b64encode(response.body).decode("ascii"),
                        "ctype": (response.headers.get(b"Content-Type") or b"text/html").decode("latin-1")})

    def _judge_html(self, result: LinkResult, body: bytes, url: str) -> tuple[Any, str, str | None]:
        """Parse an HTML answer; a 200 page that says "not found" is a soft-404, and the text of
        the others is remembered to compare with the host's not-found page at the end.
        Returns the tree, the encoding and the title when it was read (200 pages)."""
        ctype = result.content_type
        if not (ctype.startswith(HTML_TYPES) and body):
            return None, "", None
        text, encoding = pages.decode_html(body, ctype)
        tree = pages.parse_html(text)
        title = None
        if tree is not None and result.status == 200:
            title = pages.title_of(tree)
            body_text = _quick_text(tree)
            if looks_not_found(title, body_text):
                result.kind = LinkKind.SOFT_404.value
                result.error = f"页面提示不存在：{title[:60]}"
            else:
                # Compared with the not-found page of the host the link names, wherever its
                # redirects led (as the probe of that host was).  A host whose not-found page
                # answers 404 has no 200 page to be mistaken for it: its pages need no signature
                # (its probe is answered before most of its pages).
                host = sys.intern(host_of(result.url))     # one string per host, not per page
                if host not in self.not_found or self.not_found[host] is not None:
                    self.signatures[result.url] = (host, page_signature(title, body_text))
        return tree, encoding, title

    def _record_final(self, result: LinkResult, final_url: str, chain: list[str], page: bool = False) -> None:
        self._record(result, page=page)
        if not chain:
            return
        final = _safe_normalize(final_url)
        if final and final != result.url and final in self.seen and final not in self.recorded:
            # The redirect's target is a URL of its own: it was fetched, so it is checked too.
            self._record(LinkResult(**{**result.to_dict(), "url": final, "redirects": [],
                                       "internal": self._in_scope(final)}))

    # --- links checked outside Scrapy ----------------------------------------------------------

    def _check_lean(self, url: str, referer: str | None, method: str, wire: str | None = None,
                    sheet: bool = False) -> None:
        self.lean_inflight += 1
        asyncio.ensure_future(self._lean(url, referer, method, wire or url, sheet))

    async def _lean(self, origin: str, referer: str | None, method: str, wire: str, sheet: bool = False) -> None:
        """Check one link with the lean client, as ``parse``/``_redirect``/``on_error`` would.
        ``origin`` is the link's identity, ``wire`` the form it is requested in; a ``sheet``
        (stylesheet) is read and its links are checked too."""
        assert self.lean is not None
        t0 = time.monotonic()
        chain: list[str] = []          # as the Scrapy path's meta["chain"]: origin first
        url = wire
        internal = self._in_scope(origin)
        try:
            while True:
                try:
                    answer = await self.lean.fetch(url, method, referer=referer, read_body=method == "GET",
                                                   read_css=sheet)
                except FetchFailed as exc:
                    if method == "HEAD" and get_after_head(failure=exc.kind):
                        method = "GET"
                        continue
                    self._record(LinkResult(
                        url=origin, kind=exc.kind, error=exc.message, method=method,
                        **_trail(origin, chain, url),
                        attempts=exc.attempts, elapsed_ms=int((time.monotonic() - t0) * 1000),
                        internal=internal))
                    return
                self.counts["responses"] += 1
                location = answer.header("location")
                if 300 <= answer.status < 400 and location:
                    chain = chain + [url]
                    hop = next_hop(url, location, chain, self.max_redirects)
                    if hop.kind:
                        result = self._lean_result(origin, answer, chain, t0, internal)
                        result.kind, result.error = hop.kind, hop.message
                        self._record(result)
                        return
                    url = hop.url
                    continue
                if method == "HEAD" and get_after_head(answer.status, answer.header("retry-after")):
                    method = "GET"
                    continue
                result = self._lean_result(origin, answer, chain, t0, internal)
                if result.content_type.startswith(CSS_TYPE):
                    self._record_final(result, answer.url, chain)
                    if answer.status == 200 and answer.body:
                        crawl = self.crawler.engine.crawl
                        for request in self._sheet(origin, answer.url, answer.body, result.content_type,
                                                   referer, 1):
                            crawl(request)
                    return
                if method == "GET":
                    self._judge_html(result, answer.body, answer.url)
                self._record_final(result, answer.url, chain)
                return
        except Exception as exc:  # noqa: BLE001 - a bug here must not leave the crawl waiting for ever
            self.errors.append(f"checking {origin} failed: {exc!r}"[:300])
            self._record(LinkResult(url=origin, kind=LinkKind.CONNECTION.value, error=repr(exc)[:200],
                                    method=method, internal=internal))
        finally:
            self.lean_inflight -= 1
            if self.lean_inflight == 0:
                self._wake_engine()

    def _lean_result(self, origin: str, answer: Any, chain: list[str], t0: float,
                     internal: bool) -> LinkResult:
        return LinkResult(
            url=origin, kind=kind_for_status(answer.status, answer.header("retry-after")),
            status=answer.status, method=answer.method,
            **_trail(origin, chain, answer.url),
            content_type=sys.intern(answer.header("content-type").lower()),
            elapsed_ms=int((time.monotonic() - t0) * 1000), attempts=answer.attempts, internal=internal)

    def _wake_engine(self) -> None:
        """Let the engine see it may be idle now, instead of at its next 5-second heartbeat."""
        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    def _page(self, response: Response, tree: Any, encoding: str,
              title: str | None = None, needs_render: bool | None = None) -> Iterator[scrapy.Request]:
        meta = response.meta
        if needs_render is None:
            needs_render = self._needs_render(meta, tree)
        if needs_render and self.rendering:
            shape = self.script_lists.trusted_shape(tree, response.url) if self.render == "auto" else None
            read = self.script_lists.write(tree, shape, shape.records) if shape and shape.records else None
            if read is not None:
                # Its template's list is read from the page's data (learnt from earlier renders).
                yield from self._judged(response, read, encoding, title)
            elif shape is not None and shape.data_url:
                yield self._data_request(shape.data_url, self._page_with_data, response=response, tree=tree,
                                         encoding=encoding, title=title, shape=shape)
            else:
                yield self._render_request(response)
            return
        yield from self._judged(response, tree, encoding, title)

    def _render_request(self, response: Response) -> scrapy.Request:
        meta = response.meta
        self.counts["render_requests"] += 1
        req = self._request(response.url, PAGE, depth=meta["depth"], referer=meta["referer_url"],
                            origin=meta["origin"], render=True, chain=meta["chain"])
        req.meta["unrendered"] = (response.body, response.headers.get(b"Content-Type"))
        return req

    def _judged(self, response: Response, tree: Any, encoding: str,
                title: str | None = None) -> Iterator[scrapy.Request]:
        """The page as it is (served, rendered, or with its list read from its data): its
        snapshot written, its links followed."""
        meta = response.meta
        origin, depth = meta["origin"], meta["depth"]
        rendered = bool(meta.get("playwright"))
        if depth == 0:
            self.homepage_final = _safe_normalize(response.url) or self.start_url
        problems: list[str] = []
        links, fragments = self._links(tree, response.url, problems, response.body)
        snap = pages.snapshot(
            tree, url=origin, final_url=_trail(origin, meta["chain"], response.url)["final_url"],
            status=response.status, depth=depth, links=links, rendered=rendered, encoding=encoding,
            content_type=(response.headers.get(b"Content-Type") or b"").decode("latin-1"),
            referer=meta["referer_url"], fetched_at=_now(), facts=self.extract_facts, today=self.today,
            title=title)
        learning = None
        if rendered and "unrendered" in meta and self.render == "auto":
            learning = self._learn_list(meta, response.url, snap)
        self._finish_page(snap, tree, problems, fragments)
        yield from self._follow(links, depth, origin)
        if learning is not None:
            yield learning

    # --- lists a script writes from data: learnt from renders (crawler/scriptlists.py) --------

    def _learn_list(self, meta: dict[str, Any], url: str, rendered: PageSnapshot) -> scrapy.Request | None:
        """Compare a rendered page with the same page as served, its list written in from its
        own data: whether its template can be read without render.  When the data is at a URL
        its script asks, the request for it (the comparison is made with the answer)."""
        body, ctype = meta["unrendered"]
        try:
            tree = pages.parse_html(pages.decode_html(body, (ctype or b"").decode("latin-1"))[0])
            shape = scriptlists.shape_of(tree, url) if tree is not None else None
            if shape is None or not self.script_lists.undecided(shape.key):
                return None
            if shape.data_url:
                return self._data_request(shape.data_url, self._learn_from_data, rendered=rendered, tree=tree,
                                          shape=shape, url=url)
            assert shape.records is not None
            self.script_lists.learn(shape.key, self._agrees(rendered, tree, shape, shape.records, url))
        except Exception as exc:  # noqa: BLE001 - nothing learnt: the template's pages are rendered
            self.logger.debug("comparing the rendered %s with its data failed: %r", url, exc)
        return None

    def _agrees(self, rendered: PageSnapshot, tree: Any, shape: scriptlists.Shape,
                records: list[scriptlists.Record], url: str) -> bool:
        page = scriptlists.written(tree, shape, records)
        links, _ = self._links(page, url, [], None)
        snap = pages.snapshot(page, url=rendered.url, final_url=rendered.final_url, status=rendered.status,
                              depth=rendered.depth, links=links, rendered=False, encoding=rendered.encoding,
                              content_type=rendered.content_type, referer=rendered.referer,
                              fetched_at=rendered.fetched_at, facts=self.extract_facts, today=self.today)
        return scriptlists.same_page(rendered, snap)

    def _data_request(self, data_url: str, callback: Any, **held: Any) -> scrapy.Request:
        """A request for the data a page's script asks for (not a link of the page: no result
        is recorded for it)."""
        self.counts["data_requests"] += 1
        return scrapy.Request(data_url, callback=callback, errback=callback, dont_filter=True,
                              priority=self.render_priority, headers=self.headers,
                              meta={"patrol_data": held, "download_timeout": self.render_timeout_ms / 1000})

    @staticmethod
    def _data_answer(answer: Response | Failure) -> tuple[dict[str, Any], list[scriptlists.Record] | None]:
        """What a data request held, and the records of its answer (None: it failed, or they
        are not records)."""
        if isinstance(answer, Failure):
            return answer.request.meta["patrol_data"], None
        try:
            records = scriptlists.records_in(answer.body) if answer.status == 200 else None
        except Exception:  # noqa: BLE001 - an answer that cannot be read (nested too deep ...)
            records = None
        return answer.meta["patrol_data"], records

    def _learn_from_data(self, answer: Response | Failure) -> None:
        held, records = self._data_answer(answer)
        shape: scriptlists.Shape = held["shape"]
        try:
            agree = records is not None and self._agrees(held["rendered"], held["tree"], shape, records, held["url"])
        except Exception as exc:  # noqa: BLE001 - a disagreement: the template's pages are rendered
            self.logger.debug("comparing %s with its data failed: %r", held["url"], exc)
            agree = False
        self.script_lists.learn(shape.key, agree)

    def _page_with_data(self, answer: Response | Failure) -> Iterator[scrapy.Request]:
        """A page of a trusted template whose data is at a URL: judged with its list written in
        from the answer, or rendered when the answer is not what its template gave."""
        held, records = self._data_answer(answer)
        response: Response = held["response"]
        try:
            read = self.script_lists.write(held["tree"], held["shape"], records) if records else None
        except Exception:  # noqa: BLE001 - rendered instead
            read = None
        if read is None:
            yield self._render_request(response)
            return
        try:
            yield from self._judged(response, read, held["encoding"], held["title"])
        except Exception as exc:  # noqa: BLE001 - one page's failure is recorded on it, never lost
            yield from self._page_failed(response, exc)

    def _read_not_rendered(self, body: bytes, ctype: str, url: str) -> bool:
        """Whether a page sent here to be rendered is of a template read from its data."""
        if self.render != "auto" or not self.script_lists.any_trusted:
            return False
        tree = pages.parse_html(pages.decode_html(body, ctype)[0])
        return tree is not None and self.script_lists.trusted(self.script_lists.key(tree, url))

    def _sheet(self, origin: str, url: str, body: bytes, ctype: str, referer: str | None,
               depth: int) -> Iterator[scrapy.Request]:
        """A stylesheet's url()s and @imports: written as a ``sheet`` record (the stylesheet is
        where they are fixed; ``referer`` the page that first used it) and checked."""
        try:
            text = body.decode(pages.declared_encoding(ctype, b"") or "utf-8", "replace")
            links: list[LinkRef] = []
            seen_here: set[str] = set()
            for raw in pages.css_urls(text):
                found = self._identify(pages.join(url, raw))
                if found is not None and found[0] not in seen_here:
                    seen_here.add(found[0])
                    links.append(LinkRef(url=found[0], tag="css", anchor="", written=found[1]))
        except Exception as exc:  # noqa: BLE001 - a stylesheet that cannot be read is said, not lost
            self.errors.append(f"reading the stylesheet {url} failed: {exc!r}"[:300])
            return
        snap = PageSnapshot(url=origin, final_url=_safe_normalize(url) or url, status=200, depth=depth,
                            links=links, content_type=ctype, referer=referer, fetched_at=_now())
        self._write({"type": "sheet", **snap.to_dict()})
        yield from self._follow(links, depth, origin)

    def _finish_page(self, snap: PageSnapshot, tree: Any, problems: list[str],
                     fragments: list[tuple[str, str, str]]) -> None:
        """Add what the link check found on the page (problems, #fragment links, the page's
        own anchors when a link names one) and write it."""
        if problems:
            snap.errors.extend(problems)
            self.counts["page_errors"] += len(problems)
        if fragments:
            # [target, fragment] and, when the page wrote the target otherwise, that form.
            snap.fragments = [[url, fragment, written] if written else [url, fragment]
                              for url, fragment, written in fragments]
        wanted = self.fragment_targets.get(snap.url)
        if wanted is not None:
            snap.anchors = pages.anchor_names(tree, wanted)
        self._write({"type": "page", **snap.to_dict()})
        self.pages_written += 1
        self.counts["pages"] += 1
        self._report_progress()

    def _links(self, tree: Any, page_url: str, problems: list[str] | None = None,
               source: bytes | None = None) -> tuple[list[LinkRef], list[tuple[str, str]]]:
        """The page's links (normalised, once per target and tag) and its links to a named
        place of a page, as (target, fragment).  ``source``: the bytes the tree was parsed from."""
        refs: list[LinkRef] = []
        fragments: list[tuple[str, str, str]] = []
        seen_here: set[tuple[str, str]] = set()
        same_page: list[str] = []
        normalized = self._normalized
        for raw, tag, anchor, attr in pages.iter_links(tree, page_url, problems, same_page, source):
            known = normalized.get(raw, ())
            if known == ():
                known = self._identify(raw)
                if len(normalized) < NORMALIZED_CACHE:
                    normalized[raw] = known
            if known is None:
                continue
            url = known[0]
            if "#" in raw:
                self._fragment(url, raw, fragments, known[1])
            if (url, tag) in seen_here:
                continue
            seen_here.add((url, tag))
            refs.append(LinkRef(url, tag, anchor, attr, known[1]))
        for raw in same_page:
            known = normalized.get(raw)
            url = known[0] if known else _safe_normalize(raw)
            if url:
                self._fragment(url, raw, fragments, known[1] if known else "")
        return refs, fragments

    def _identify(self, raw: str) -> tuple[str, str] | None:
        """A raw link's identity (its normalised URL, or the raw text for a link that cannot
        work, recorded now with its kind) and the form the page wrote it in, which it is
        requested in and reported as ("" when it is the identity); None for links that are not
        checked (tel: ...)."""
        if not raw.startswith(("http://", "https://")):
            verdict = scheme_verdict(raw)
            if verdict is not None:
                kind, message = verdict
                if not kind:
                    return None
                self._record(LinkResult(url=raw, kind=kind, error=message, internal=False, method=""))
                self.seen.add(raw)
                return raw, ""
        try:
            url = normalize(raw)
        except InvalidURL as exc:
            self._record(LinkResult(url=raw, kind=LinkKind.INVALID_URL.value, error=str(exc),
                                    internal=False, method=""))
            self.seen.add(raw)
            return raw, ""
        wire = request_form(raw)
        if wire == url:
            return url, ""
        if url not in self.seen:
            self.written.setdefault(url, wire)
        return url, wire

    def _fragment(self, url: str, raw: str, fragments: list[tuple[str, str, str]], written: str = "") -> None:
        fragment = raw.partition("#")[2]
        if checkable_fragment(fragment):
            fragments.append((url, fragment, written))
            self.fragment_targets.setdefault(url, set()).add(fragment)

    def _redirect(self, response: Response) -> Iterator[scrapy.Request]:
        meta = response.meta
        location = response.headers[b"Location"].decode("latin-1")
        chain = meta["chain"] + [response.url]
        origin = meta["origin"]
        hop = next_hop(response.url, location, chain, self.max_redirects)
        if hop.kind:
            if meta["role"] != PROBE or hop.kind == LinkKind.INVALID_URL.value:
                self._record(self._result(response, hop.kind, hop.message, chain=chain))
            return
        written = hop.url
        role = meta["role"]
        if role == PAGE:
            target = _safe_normalize(written) or written
            if (not self._in_scope(target) or target in self.seen
                    or (self.link is not None and not self.link.owns(target))):
                # Off-site, or a page crawled on its own: only check where the redirect ends.
                role = LINK
            else:
                self.seen.add(target)
        method = response.request.method
        yield self._request(written, role, depth=meta["depth"], referer=meta["referer_url"],
                            method=method, chain=chain, origin=origin)

    def _on_error(self, failure: Failure) -> Iterator[scrapy.Request]:
        request = failure.request
        meta = request.meta
        kind, message = classify_failure(failure)
        if meta["role"] == PROBE:
            return
        if meta.get("playwright") and "unrendered" in meta:
            # Rendering failed: judge the page as served, and say so.
            self.errors.append(f"rendering failed for {request.url}: {message}"[:400])
            body, ctype = meta["unrendered"]
            response = scrapy.http.HtmlResponse(request.url, status=200, body=body,
                                                headers={b"Content-Type": ctype or b"text/html"},
                                                request=request.replace(meta={**meta, "playwright": False}))
            tree = pages.parse_html(pages.decode_html(body, (ctype or b"").decode("latin-1"))[0])
            if tree is not None:
                yield from self._page_unrendered(response, tree)
            return
        if request.method == "HEAD" and get_after_head(failure=kind):
            yield self._request(request.url, meta["role"], depth=meta["depth"],
                                referer=meta["referer_url"], chain=meta["chain"], origin=meta["origin"])
            return
        self._record(LinkResult(
            url=meta["origin"], kind=kind, error=message, method=request.method,
            **_trail(meta["origin"], meta["chain"], request.url), attempts=meta.get("patrol_attempt", 1),
            elapsed_ms=int((time.monotonic() - meta["t0"]) * 1000),
            internal=self._in_scope(meta["origin"])))

    def _page_unrendered(self, response: Response, tree: Any) -> Iterator[scrapy.Request]:
        meta = response.meta
        problems: list[str] = []
        links, fragments = self._links(tree, response.url, problems, response.body)
        final_url = _trail(meta["origin"], meta["chain"], response.url)["final_url"]
        snap = pages.snapshot(tree, url=meta["origin"], final_url=final_url, status=200, depth=meta["depth"],
                              links=links, rendered=False, encoding="", content_type="text/html",
                              referer=meta["referer_url"], fetched_at=_now(),
                              facts=self.extract_facts, today=self.today)
        self._finish_page(snap, tree, problems, fragments)
        yield from self._follow(links, meta["depth"], meta["origin"])

    # --- results -----------------------------------------------------------------------------

    def _result(self, response: Response, kind: str | None = None, error: str = "",
                chain: list[str] | None = None) -> LinkResult:
        meta = response.meta
        chain = meta["chain"] if chain is None else chain
        return LinkResult(
            url=meta["origin"], status=response.status,
            kind=kind or kind_for_status(response.status, _retry_after(response)),
            method=response.request.method, **_trail(meta["origin"], chain, response.url),
            content_type=sys.intern((response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()),
            elapsed_ms=int((time.monotonic() - meta["t0"]) * 1000), error=error,
            attempts=meta.get("patrol_attempt", 1), internal=self._in_scope(meta["origin"]))

    def _record(self, result: LinkResult, page: bool = False) -> None:
        """Keep a URL's final result and write it now: the parent reads it while the crawl runs
        rather than after.  A result changed later (a soft-404 found at the end) is written
        again, and the later record wins."""
        self.recorded.add(result.url)
        if result.url in self.signatures:
            self.results[result.url] = result
        else:
            self.results.pop(result.url, None)
        self._write_link(result, page)
        counts = self.counts
        counts["links_checked"] += 1
        if result.broken:
            counts["broken"] += 1
            self.broken_kinds[result.kind] = self.broken_kinds.get(result.kind, 0) + 1
        elif not result.ok:
            counts["rate_limited"] += 1

    def _learn_not_found(self, response: Response) -> None:
        host = host_of(response.meta["origin"])      # the host asked, wherever it redirected
        ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        if response.status != 200 or not ctype.startswith(HTML_TYPES):
            self.not_found.setdefault(host, None)
        else:
            text, _ = pages.decode_html(response.body, ctype)
            tree = pages.parse_html(text)
            if tree is not None:
                self.not_found[host] = page_signature(pages.title_of(tree), _quick_text(tree))
        if host in self.not_found:
            self._write({"type": "probe", "host": host, "signature": self.not_found[host]})

    def _closed(self, spider: scrapy.Spider, reason: str) -> None:
        if spider is not self:
            return
        home = {self.start_url, self.homepage_final}
        for url, (host, signature) in self.signatures.items():
            result = self.results.get(url)
            if (result is None or not result.ok or url in home
                    or (result.final_url and result.final_url != url
                        and _safe_normalize(result.final_url) in home)):
                continue
            if self.not_found.get(host) and self.not_found[host] == signature:
                result.kind = LinkKind.SOFT_404.value
                result.error = "与该站点“页面不存在”页面相同"
                self.counts["broken"] += 1
                self.broken_kinds[result.kind] = self.broken_kinds.get(result.kind, 0) + 1
                self._write_link(result)            # written again: this record wins
        if self.lean is not None:
            self.lean.close()
            self.counts["requests"] += self.lean.requests
        self._publish_stats()
        stats = self.crawler.stats.get_stats()
        self._write({
            "type": "site", "name": self.site["name"], "url": self.start_url, "shard": self.shard,
            "owns_start": self.link is None or self.link.owns(self.start_url),
            "homepage_url": self.homepage_final, "errors": self.errors, "reason": reason,
            "stats": {
                "duration_s": round(time.monotonic() - self.started, 2),
                "requests": stats.get("patrol/requests", 0),
                "retries": stats.get("patrol/retries", 0),
                "pages": self.pages_written,
                "render_requests": self.counts["render_requests"],
                # Pages whose script-written list was read from their own data, not rendered.
                "lists_read": self.script_lists.read,
                # Requests for the data of such lists, where their scripts ask a URL for it.
                "data_requests": self.counts["data_requests"],
                "trapped_paths": dict(sorted(self.traps.trapped.items())[:50]),
                "max_pages_reached": self.pages_scheduled >= self.max_pages,
            },
        })
        if self._syncer is not None and self._syncer.running:
            self._syncer.stop()
        self._sync()
        self._out.close()
        if self.link is not None:
            # Everything is written: the parent may read it while this process shuts down
            # (closing the browser, the reactor) rather than after.
            self.link.send({"closed": True})

    def _publish_stats(self) -> None:
        stats = self.crawler.stats
        for name, value in self.counts.items():
            stats.set_value(f"patrol/{name}", value)
        for kind, value in self.broken_kinds.items():
            stats.set_value(f"patrol/broken_link/{kind}", value)
        lean_retries = self.lean.retried if self.lean is not None else 0
        if lean_retries:
            stats.inc_value("patrol/retries", lean_retries)

    def _write(self, record: dict[str, Any]) -> None:
        if self._out is None:
            self._out = _open_output(self.output_path)
        elif self._out.closed:          # a check that ends after the output was completed
            return
        self._out.write(dumps_line(record))

    def _flush_output(self) -> None:
        """The records written so far, out of this process's buffer (not synced to disk)."""
        if self._out is not None and not self._out.closed:
            try:
                self._out.flush()
            except (OSError, ValueError):
                pass

    def _sync(self) -> None:
        if self._out is not None:
            _sync_output(self._out)

    def _write_link(self, result: LinkResult, page: bool = False) -> None:
        # By hand rather than to_dict(): dataclasses.asdict deep-copies every value.
        record: dict[str, Any] = {"type": "link"}
        for name in _LINK_FIELDS:
            record[name] = getattr(result, name)
        # For a resume: a page's record follows (it is fetched again if it is missing), and
        # the signature compared with its host's not-found page at the end.
        if page:
            record["page"] = True
        sig = self.signatures.get(result.url)
        if sig is not None:
            record["sig"] = sig
        self._write(record)


def _journal_records(path: str) -> Iterator[tuple[int, Any]]:
    """The records of an earlier attempt's output with their line numbers: whole lines only
    (the last may be cut by the stop).  A line that is not JSON comes as None."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return
    lines = data.split(b"\n")
    if not data.endswith(b"\n"):
        lines.pop()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield n, loads(line)
        except ValueError:
            yield n, None


def _quick_text(tree: Any, limit: int = 5000) -> str:
    """The body's text with whitespace folded, cut at ``limit`` characters."""
    body = tree.find("body")
    if body is None:
        return ""
    # Joining every text node and folding once is done in C: the same result as folding node
    # by node, at a fraction of the cost.
    return " ".join(" ".join(body.itertext()).split())[:limit]


def _retry_after(response: Response) -> bytes | None:
    return response.headers.get(b"Retry-After") if retry_after_matters(response.status) else None


def _trail(origin: str, chain: list[str], last: str) -> dict[str, Any]:
    """``redirects`` and ``final_url`` of a result, as identities (normalised): the requests
    were sent as written, session parameters and all, and are told apart by what they name.
    Without redirects the final URL is the link itself."""
    if not chain:
        return {"redirects": [], "final_url": origin}
    redirects = [_safe_normalize(u) or u for u in chain[1:] + [last]]
    return {"redirects": redirects, "final_url": redirects[-1]}


def _requestable(url: str) -> bool:
    """Whether a link's identity is an http(s) URL to request (not one recorded as it was
    written because it cannot be: an invalid URL, file:, ftp:, mailto: ...)."""
    return url.startswith(("http://", "https://")) and _safe_normalize(url) == url


def _safe_normalize(url: str) -> str | None:
    try:
        return normalize(url)
    except InvalidURL:
        return None


_LINK_FIELDS = tuple(LinkResult.__dataclass_fields__)
# Every output file a spider of this process opened: a forked crawl process leaves with
# os._exit, so it flushes and closes them itself (``close_outputs``) if a spider did not.
_OUTPUTS: list[Any] = []


def _open_output(path: str) -> Any:
    fh = open(path, "wb")     # noqa: SIM115 - closed in _closed or close_outputs
    _OUTPUTS.append(fh)
    return fh


def _sync_output(fh: Any) -> None:
    """Flush and sync an output (the crawl's journal) to disk."""
    if fh.closed:
        return
    try:
        fh.flush()
        os.fsync(fh.fileno())
    except (OSError, ValueError):
        pass


def close_outputs() -> None:
    for fh in _OUTPUTS:
        _sync_output(fh)
        try:
            fh.close()
        except (OSError, ValueError):
            pass


_CLOCK: tuple[int, str] = (0, "")


def _now() -> str:
    """The time, to the second, formatted once a second (a crawl fetches hundreds a second)."""
    global _CLOCK
    second = int(time.time())
    clock = _CLOCK                      # one read, one write: the pair never comes apart
    if second != clock[0]:
        clock = _CLOCK = (second, datetime.fromtimestamp(second, UTC).isoformat(timespec="seconds"))
    return clock[1]


def classify_failure(failure: Failure) -> tuple[str, str]:
    """The kind and a readable message for a download that produced no response, by the link
    policy's one classifier (``crawler.linkpolicy.classify_failure``)."""
    failed = linkpolicy.classify_failure(failure.value)
    return failed.kind.value, failed.message
