"""IPv6 support of one site, measured the way national monitoring does (the network part).

``measure(crawl, resolver)`` gathers facts; ``checks.ipv6.check_site`` judges them.  The
facts are plain JSON-able data (stored with the run, so a report can be re-rendered without
measuring again):

1. the AAAA record of the site's host;
2. the homepage fetched over IPv6 (connecting to the AAAA address with the site's Host header
   and TLS SNI), several times to give a success rate, and once over IPv4;
3. status, title and size of both homepages, for the consistency judgement;
4. the second- and third-level URL set: every distinct URL one click (links of the depth-0
   page) and two clicks (links of depth-1 pages) from the homepage, on any host, resources
   included; each fetched over IPv6 once (HEAD, then GET when HEAD is refused).

Reuse of the crawl: a URL the crawl found broken over IPv4 (``crawl.links[url]`` not ok) is
a broken link, reported by the link check; it is left out of the IPv6 rate (counted as
``skipped_broken``) because it says nothing about IPv6.  A host without AAAA is not fetched
at all: each of its URLs fails as ``no_aaaa``.  When an IPv6 fetch gets an HTTP error and the
crawl did not check that URL, it is fetched once over IPv4 to tell a broken link (skipped)
from an IPv6-only failure (``different_content``).

Failure causes (closed set): ``no_aaaa`` (the URL's host, or a host it redirects to, has no
AAAA record), ``unreachable`` (AAAA present, but no HTTP answer over IPv6: refused, timeout,
TLS, reset), ``different_content`` (an HTTP answer over IPv6 that is an error where IPv4
answers fine).
"""
from __future__ import annotations

import concurrent.futures
import datetime
import re
import socket
import threading
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

from checks.links import rate_limited
from checks.model import LinkKind, SiteCrawl
from common.decoding import decode_html
from crawler.linkpolicy import get_after_head
from patrol.netfetch import FetchResult, fetch
from common.resolver import ResolveError, Resolver, ip_literal, normalise_host, valid_hostname

CAUSES = ("no_aaaa", "unreachable", "different_content")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def measure(crawl: SiteCrawl, resolver: Resolver, *, timeout: float = 10.0, concurrency: int = 16,
            per_host: int = 4, homepage_attempts: int = 3, max_urls: int = 20000) -> dict[str, Any]:
    """The IPv6 facts of one crawled site (``ctx.facts["ipv6"]`` for ``checks.ipv6``)."""
    start_url = crawl.url
    host = _host(start_url, "")
    started = datetime.datetime.now(datetime.UTC)

    aaaa, aaaa_error = _aaaa(resolver, host)
    runner = _Runner(resolver, timeout, concurrency, per_host)
    try:
        homepage = _homepage(runner, start_url, homepage_attempts)
        levels, referrers = link_levels(crawl)
        facts_links, failures = _links(runner, crawl, levels, referrers, homepage, max_urls)
    finally:
        runner.close()

    return {
        "measured": True,
        "host": host,
        "url": start_url,
        "aaaa": aaaa,
        "aaaa_error": aaaa_error,
        "homepage": homepage,
        "links": facts_links,
        "hosts": _group_by_host(failures, runner),
        "failures": failures,
        "measured_at": started.isoformat(timespec="seconds"),
        "elapsed_ms": int((datetime.datetime.now(datetime.UTC) - started).total_seconds() * 1000),
    }


def link_levels(crawl: SiteCrawl) -> tuple[dict[str, int], dict[str, str]]:
    """Every distinct http(s) URL one (level 2) and two (level 3) clicks from the homepage,
    with the first page that links to it."""
    levels: dict[str, int] = {}
    referrers: dict[str, str] = {}
    pages = sorted((p for p in crawl.pages if p.depth in (0, 1)), key=lambda p: (p.depth, p.url))
    for page in pages:
        level = page.depth + 2
        for link in page.links:
            url = link.url.split("#", 1)[0]
            if not url.lower().startswith(("http://", "https://")):
                continue
            if url not in levels or level < levels[url]:
                levels[url] = level
                referrers[url] = page.url
    return levels, referrers


def _host(url: str, default: str = "") -> str:
    """The URL's host, normalised; ``default`` for URLs too malformed to have one (those are
    the link check's business: they stay in the set and come out as broken, not as IPv6)."""
    try:
        return normalise_host(urlsplit(url).hostname or default)
    except ValueError:
        return default


def _aaaa(resolver: Resolver, host: str) -> tuple[list[str], str]:
    try:
        return resolver.aaaa(host), ""
    except ResolveError as exc:
        return [], exc.message


class _Runner:
    """Fetches in a thread pool with a per-host cap (polite to one host, fast across many)."""

    def __init__(self, resolver: Resolver, timeout: float, concurrency: int, per_host: int) -> None:
        self.resolver = resolver
        self.timeout = timeout
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, concurrency),
                                                          thread_name_prefix="patrol-ipv6")
        self.per_host = max(1, per_host)
        self._slots: dict[str, threading.Semaphore] = defaultdict(lambda: threading.Semaphore(self.per_host))
        self._lock = threading.Lock()
        self.aaaa_cache: dict[str, tuple[list[str], str]] = {}

    def host_aaaa(self, host: str) -> tuple[list[str], str]:
        with self._lock:
            if host in self.aaaa_cache:
                return self.aaaa_cache[host]
        result = _aaaa(self.resolver, host)
        with self._lock:
            self.aaaa_cache[host] = result
        return result

    def fetch(self, url: str, family: int, method: str = "GET") -> FetchResult:
        host = _host(url, "")
        with self._lock:
            slot = self._slots[host]
        with slot:
            return fetch(url, resolver=self.resolver, family=family, method=method, timeout=self.timeout)

    def submit(self, fn: Any, *args: Any) -> concurrent.futures.Future:
        return self.pool.submit(fn, *args)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def _homepage(runner: _Runner, url: str, attempts: int) -> dict[str, Any]:
    v6_futures = [runner.submit(runner.fetch, url, socket.AF_INET6) for _ in range(max(1, attempts))]
    v4_future = runner.submit(runner.fetch, url, socket.AF_INET)
    v6_results = [f.result() for f in v6_futures]
    v4 = v4_future.result()
    answered = [r for r in v6_results if r.error_kind is None]
    ok = [r for r in answered if r.status is not None and r.status < 400]
    # Describe the best IPv6 answer: a success when there was one, else the last failure.
    best = ok[0] if ok else (answered[0] if answered else v6_results[-1])
    return {
        "v6": _describe(best, with_body=True),
        "v4": _describe(v4, with_body=True),
        "v6_attempts": len(v6_results),
        "v6_successes": len(ok),
        "v6_success_rate": len(ok) / len(v6_results),
    }


def _describe(result: FetchResult, with_body: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "status": result.status,
        "error_kind": result.error_kind,
        "error": result.error,
        "address": result.address,
        "final_url": result.final_url,
        "elapsed_ms": result.elapsed_ms,
    }
    if with_body:
        out["title"] = page_title(result.body, result.headers.get("content-type", ""))
        out["size"] = len(result.body)
    return out


def page_title(body: bytes, content_type: str = "") -> str:
    """The <title> text, decoded by the one HTML decoder (GB pages are common), spaces folded."""
    text, _ = decode_html(body[:200_000], content_type)
    match = _TITLE.search(text)
    return " ".join(match.group(1).split()) if match else ""


def _links(runner: _Runner, crawl: SiteCrawl, levels: dict[str, int], referrers: dict[str, str],
           homepage: dict[str, Any], max_urls: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    urls = sorted(levels, key=lambda u: (levels[u], u))
    over_limit = max(0, len(urls) - max_urls)
    urls = urls[:max_urls]
    skipped_broken: list[str] = []
    to_check: list[str] = []
    for url in urls:
        known = crawl.links.get(url)
        if known is not None and not known.ok:
            skipped_broken.append(url)
        else:
            to_check.append(url)

    # The homepage was just fetched over IPv6: a link back to it is not fetched again.
    reuse = {u: _outcome_from_homepage(u, homepage) for u in {crawl.url, homepage["v6"]["final_url"]}
             if u in levels}
    futures = {url: runner.submit(_check_url, runner, url, crawl) for url in to_check if url not in reuse}
    outcomes = {url: f.result() for url, f in futures.items()}
    outcomes.update({u: o for u, o in reuse.items() if u in to_check})

    failures: list[dict[str, Any]] = []
    counted = {2: [0, 0], 3: [0, 0]}          # level -> [checked, supported]
    for url in to_check:
        outcome = outcomes[url]
        if outcome.get("skip"):
            skipped_broken.append(url)
            continue
        level = levels[url]
        counted[level][0] += 1
        if outcome["cause"] is None:
            counted[level][1] += 1
            continue
        failures.append({"url": url, "level": level, "page": referrers.get(url),
                         **{k: outcome[k] for k in ("host", "cause", "status", "error_kind", "error",
                                                    "method")}})
    failures.sort(key=lambda f: (f["host"], f["level"], f["url"]))
    checked = counted[2][0] + counted[3][0]
    supported = counted[2][1] + counted[3][1]
    facts = {
        "level2": counted[2][0], "level2_supported": counted[2][1],
        "level3": counted[3][0], "level3_supported": counted[3][1],
        "checked": checked, "supported": supported, "failed": checked - supported,
        "rate": (supported / checked) if checked else None,
        "skipped_broken": len(skipped_broken),
        "not_checked_over_limit": over_limit,
        "fetches_v6": sum(o.get("fetches_v6", 0) for o in outcomes.values()),
        "fetches_v4": sum(o.get("fetches_v4", 0) for o in outcomes.values()),
    }
    return facts, failures


def _outcome_from_homepage(url: str, homepage: dict[str, Any]) -> dict[str, Any]:
    v6, v4 = homepage["v6"], homepage["v4"]
    out = _outcome(_host(url, ""), "GET")
    out.update(status=v6["status"], error_kind=v6["error_kind"], error=v6["error"])
    v4_ok = v4["error_kind"] is None and v4["status"] is not None and v4["status"] < 400
    out.update(_judge(out["host"], v6["status"], v6["error_kind"], v6["error"], v6["final_url"],
                      lambda: v4_ok))
    return out


def _check_url(runner: _Runner, url: str, crawl: SiteCrawl) -> dict[str, Any]:
    """Outcome for one URL: cause None when it loads over IPv6; ``skip`` when it is broken
    over IPv4 as well (a broken link, not an IPv6 problem)."""
    host = _host(url, "")
    out = _outcome(host, "")
    if not valid_hostname(host):
        out["skip"] = True   # a malformed URL: a broken link whatever the IP family
        return out
    aaaa, aaaa_error = runner.host_aaaa(host)
    if not aaaa:
        if ip_literal(host) is not None:
            aaaa_error = f"the link uses the IPv4 address {host}, which IPv6 visitors cannot reach"
        out.update(cause="no_aaaa", error_kind="dns", error=aaaa_error or f"{host} has no AAAA record")
        return out
    result = runner.fetch(url, socket.AF_INET6, "HEAD")
    out.update(fetches_v6=1, method="HEAD")
    # The link check's rule (crawler.linkpolicy); a TLS failure of a HEAD is also asked again,
    # as some servers' TLS front ends mishandle HEAD.
    if (get_after_head(result.status, result.headers.get("retry-after"), result.error_kind)
            or result.error_kind == LinkKind.TLS.value):
        result = runner.fetch(url, socket.AF_INET6, "GET")
        out.update(fetches_v6=2, method="GET")
    out.update(status=result.status, error_kind=result.error_kind, error=result.error)
    if result.error_kind is None and rate_limited(result.status or 0, result.headers.get("retry-after")):
        # Asked to come back later: nothing is known about IPv6 support, as for a broken link.
        out["skip"] = True
        return out

    def v4_ok() -> bool:
        known = crawl.links.get(url)
        if known is not None:
            return known.ok
        out["fetches_v4"] += 1
        return runner.fetch(url, socket.AF_INET, "GET").ok

    out.update(_judge(host, result.status, result.error_kind, result.error, result.final_url, v4_ok))
    return out


def _outcome(host: str, method: str) -> dict[str, Any]:
    return {"host": host, "cause": None, "status": None, "error_kind": None, "error": "",
            "method": method, "fetches_v6": 0, "fetches_v4": 0}


def _judge(host: str, status: int | None, error_kind: str | None, error: str, final_url: str,
           v4_ok: Any) -> dict[str, Any]:
    """The cause of an IPv6 fetch's failure (nothing when it loaded)."""
    if error_kind is None and status is not None and status < 400:
        return {}
    if error_kind == "dns":
        # The URL's host, or a host a redirect led to, has no AAAA: that host is the one to fix.
        return {"cause": "no_aaaa", "host": _host(final_url, host)}
    if error_kind is None or error_kind in ("redirect_loop", "too_many_redirects", "invalid_url"):
        # An HTTP answer (or redirect trouble) over IPv6: only an IPv6 problem if IPv4 is fine.
        if not v4_ok():
            return {"skip": True}
        return {"cause": "different_content",
                "error": error or f"HTTP {status} over IPv6, but the page loads over IPv4"}
    return {"cause": "unreachable"}


def _group_by_host(failures: list[dict[str, Any]], runner: _Runner) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for failure in failures:
        groups[(failure["host"], failure["cause"])].append(failure)
    hosts = []
    for (host, cause), items in groups.items():
        aaaa = runner.aaaa_cache.get(host, ([], ""))[0]
        hosts.append({
            "host": host, "cause": cause, "count": len(items), "aaaa": aaaa,
            "levels": sorted({f["level"] for f in items}),
            "error": items[0]["error"],
            "urls": [f["url"] for f in items[:20]],
            "pages": sorted({f["page"] for f in items if f.get("page")})[:20],
        })
    hosts.sort(key=lambda h: (-h["count"], h["host"], h["cause"]))
    return hosts
