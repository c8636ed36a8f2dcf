"""Checking and storing a site whose crawl stays on disk (``patrol/siteindex.py``), one page at
a time: the memory a run needs does not grow with the site (docs/scale.md).

The checks that work page by page from bounded summaries (``STREAMED_CHECKS``) see each page
as it is read back and written to the store; the others read the whole site together, so a
run that asks for one of them loads each site in memory when its turn comes (one site at a
time, never the whole run).
"""
from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from checks.links import SiteLinks
from checks.model import CheckContext, CheckOutput, Finding, PageSnapshot
from patrol.siteindex import StreamedCrawl

if TYPE_CHECKING:
    from store import SiteResult, Store

# Checks that need no more than one page at a time and what the index keeps of the others
# (the results of the URLs that are not ok, the anchors of a page): ``links`` reads the pages
# as they go by; ``availability`` reads the store's probes, no page.
STREAMED_CHECKS = frozenset({"links", "availability"})


def streamable(checks: list[str] | None) -> bool:
    """Whether a run with these checks (None: every check) checks its sites as they stream."""
    return checks is not None and set(checks) - {"newmedia"} <= STREAMED_CHECKS


def check_and_save(store: Store, run_id: int, crawl: StreamedCrawl, ctx: CheckContext,
                   checks: list[str], other_checks: Callable[[list[str]], CheckOutput],
                   summarise: Callable[[CheckOutput], dict[str, Any]]) -> tuple[CheckOutput, SiteResult]:
    """Check and store one site from its index in one pass over its pages (``streamable``
    checks only).  ``other_checks(names)`` runs the checks that need no page (as
    ``run_checks``); ``summarise(output)`` makes the site's stored summary."""
    index = crawl.index
    assert index is not None
    problem = index.problem_links()
    links = SiteLinks(crawl.name, crawl.url, crawl.homepage_url, ctx, problem.get, index.anchors) \
        if "links" in checks else None
    failed: list[BaseException] = []

    def see(page: PageSnapshot) -> None:
        if links is None or failed:
            return
        try:
            links.page(page)
        except Exception as exc:  # a check's bug must not lose the site's pages (as run_checks)
            failed.append(exc)

    def pages() -> Any:
        for page in index.pages():
            see(page)
            yield page
        for sheet in crawl.sheets:
            see(sheet)

    output = CheckOutput()

    def finish() -> tuple[list[Finding], dict[str, Any]]:
        if links is not None:
            if failed:
                crawl.errors.append(f"check links failed: {failed[0]!r}")
                output.facts["links"] = {"error": "".join(traceback.format_exception_only(failed[0])).strip()}
            else:
                out = links.finish(pages=index.page_count(), links=index.link_count(),
                                   rendered=index.rendered_count(), stats=crawl.stats, errors=crawl.errors)
                output.findings.extend(out.findings)
                output.facts["links"] = out.facts
                output.veto.extend(v for v in out.veto if v not in output.veto)
        rest = [name for name in checks if name != "links"]
        if rest:
            more = other_checks(rest)
            output.findings.extend(more.findings)
            output.facts.update(more.facts)
            output.veto.extend(v for v in more.veto if v not in output.veto)
        return output.findings, summarise(output)

    saved = store.save_site_streamed(run_id, crawl, pages(), index.links(), set(problem), finish)
    return output, saved


def save_interrupted(store: Store, run_id: int, crawl: StreamedCrawl, result: dict[str, Any]) -> None:
    """Store what an interrupted crawl recorded, unchecked (as ``save_site`` with no findings)."""
    index = crawl.index
    assert index is not None
    problem = set(index.problem_links())
    store.save_site_streamed(run_id, crawl, index.pages(), index.links(), problem, lambda: ([], result))
