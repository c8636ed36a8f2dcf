"""A crawl checked and stored from its on-disk index (patrol/siteindex.py, patrol/sitestream.py)
gives the same findings, pages, links and link uses as the same crawl held in memory."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from checks.model import CheckContext
from common.config import Crawl, Site
from patrol import sitestream
from patrol.crawling import OutputReader, start_crawls
from patrol.runner import run_checks
from patrol.siteindex import SiteIndex, StreamedCrawl
from store import Store

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def crawled(sample_site, tmp_path_factory):
    """One crawl of the sample site split between two processes: the site in memory, and the
    outputs it was read from."""
    sample_site.server.reset()
    work = tmp_path_factory.mktemp("streamed")
    site = Site(name="清溪", url=sample_site.base, render="auto")
    crawls = start_crawls([site], Crawl(fast=True, timeout=4, retries=1, retry_backoff=0.2, max_retry_after=2),
                          {"nameservers": [], "overrides": {}}, work, processes=2, checks=["links"])
    crawls.wait()
    crawls.reap()
    paths = [Path(w.outputs[site.name]) for w in crawls.workers]
    # Read in memory as the index reads them (file after file): two shards may each record a
    # URL (the start page), and the later record read is the one kept.
    return site, OutputReader(list(paths), site).result(), paths, work


def _rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


def test_streamed_site_gives_the_same_findings_pages_links_and_uses(crawled):
    site, crawl, paths, work = crawled
    assert len(crawl.pages) > 50 and any(not r.ok for r in crawl.links.values())
    ctx = CheckContext(site=site.name, department="办公室", today="2026-01-15")

    memory_db = work / "memory.db"
    memory = Store(f"sqlite:///{memory_db}")
    run = memory.start_run("2026-01")
    out = run_checks(crawl, ctx, ["links"])
    memory.save_site(run.id, crawl, out.findings, {"status": "completed", "pages": len(crawl.pages),
                                                   "links": len(crawl.links), "stats": out.facts})

    reader = OutputReader(list(paths), site, index=SiteIndex(work / "index.sqlite"))
    streamed = reader.result()
    assert isinstance(streamed, StreamedCrawl) and not streamed.pages and not streamed.links
    assert (streamed.page_count, streamed.link_count) == (len(crawl.pages), len(crawl.links))
    streamed_db = work / "streamed.db"
    store = Store(f"sqlite:///{streamed_db}")
    run2 = store.start_run("2026-01")
    got, _ = sitestream.check_and_save(
        store, run2.id, streamed, ctx, ["links"], other_checks=lambda names: run_checks(streamed, ctx, names),
        summarise=lambda o: {"status": "completed", "pages": streamed.page_count, "links": streamed.link_count,
                             "stats": o.facts})
    reader.index.close()
    assert not (work / "index.sqlite").exists()

    assert [f.to_dict() for f in got.findings] == [f.to_dict() for f in out.findings]
    assert got.facts == out.facts
    assert sum(f.check == "broken_link" for f in out.findings) > 20
    for sql in ("select check_, severity, url, page, message, detail, fingerprint from finding order by id",
                "select url, final_url, status, depth, title, rendered, published, data from page order by id",
                "select page, url, tag, anchor from linkuse order by id",
                "select pages, links, broken, stats from siteresult"):
        sql = sql.replace("check_", '"check"')
        assert _rows(streamed_db, sql) == _rows(memory_db, sql), sql
    link_sql = "select url, kind, status, final_url, redirects, elapsed_ms, error, internal from link"
    assert sorted(_rows(streamed_db, link_sql)) == sorted(_rows(memory_db, link_sql))
    assert _rows(streamed_db, "select count(*) from linkuse")[0][0] > 0


def test_index_loads_the_crawl_as_memory_holds_it(crawled):
    site, crawl, paths, work = crawled
    reader = OutputReader(list(paths), site, index=SiteIndex(work / "index-load.sqlite"))
    streamed = reader.result().load()
    try:
        assert [p.to_dict() for p in streamed.pages] == [p.to_dict() for p in crawl.pages]
        assert streamed.links == crawl.links
        assert reader.has_page(crawl.pages[0].url) and not reader.has_page(crawl.pages[0].url + "?nope")
    finally:
        reader.index.close()


def test_a_later_record_of_a_page_replaces_the_earlier_one(tmp_path: Path):
    site = Site(name="s", url="http://127.0.0.1:9/")
    first = tmp_path / "crawl-0-0.jsonl"
    first.write_text(
        '{"type":"page","url":"http://127.0.0.1:9/","final_url":"http://127.0.0.1:9/","status":200,'
        '"depth":0,"title":"old"}\n'
        '{"type":"link","url":"http://127.0.0.1:9/x","kind":"http_404","status":404}\n', encoding="utf-8")
    second = tmp_path / "crawl-1-0.jsonl"
    second.write_text(
        '{"type":"page","url":"http://127.0.0.1:9/","final_url":"http://127.0.0.1:9/","status":200,'
        '"depth":0,"title":"new"}\n'
        '{"type":"link","url":"http://127.0.0.1:9/x","kind":"ok","status":200}\n'
        '{"type":"site","reason":"finished"}\n', encoding="utf-8")
    memory = OutputReader([second], site, previous=[first]).result()
    reader = OutputReader([second], site, previous=[first], index=SiteIndex(tmp_path / "i.sqlite"))
    streamed = reader.result()
    try:
        assert [p.title for p in streamed.index.pages()] == [p.title for p in memory.pages] == ["new"]
        assert streamed.index.problem_links() == {}
        assert streamed.link_count == len(memory.links) == 1
        assert streamed.errors == memory.errors and streamed.failed == memory.failed
    finally:
        reader.index.close()


def test_each_site_is_handed_over_once_when_its_crawl_ends(sample_site, tmp_path: Path):
    """Three sites in one crawl process: the small ones are given to ``on_site`` once each, as
    soon as their outputs are complete, while the large one still crawls."""
    import os
    sample_site.server.reset()
    sites = [Site(name=f"s{n}", url=sample_site.base, max_pages=pages, render="never")
             for n, pages in enumerate((3, 3, 60))]
    crawls = start_crawls(sites, Crawl(fast=True, timeout=4, retries=1, retry_backoff=0.2, max_retry_after=2),
                          {"nameservers": [], "overrides": {}}, tmp_path, processes=1, checks=["links"],
                          streamed=True)
    handed: list[tuple[str, int, bool]] = []

    def on_site(name: str, crawl) -> None:
        running = crawls.workers[0].proc.poll() is None
        handed.append((name, crawl.page_count, running))
        crawls.release(name)
    try:
        results = crawls.wait(on_site=on_site)
    finally:
        crawls.reap()
    fds = os.listdir("/proc/self/fd")
    s2_pages = results["s2"].page_count if "s2" not in {name for name, _, _ in handed} else None
    crawls.close()
    names = [name for name, _, _ in handed]
    assert len(names) == len(set(names)) and {"s0", "s1"} <= set(names), handed
    assert any(running for _, _, running in handed), "handed over only once the process had ended"
    counts = {name: n for name, n, _ in handed}
    assert counts["s0"] == counts["s1"] == 3 and counts.get("s2", 60) > 3
    # A site that ends with its process is in the result, for the caller to take.
    assert set(results) == {"s0", "s1", "s2"}
    assert s2_pages is None or s2_pages > 3
    assert all(isinstance(results[s.name], StreamedCrawl) for s in sites)
    assert not [f for f in fds if "crawl-" in os.path.realpath(f"/proc/self/fd/{f}")], \
        "an output is held open"
    assert not list(tmp_path.glob("index-*.sqlite")), "a stored site's index is removed"


def test_a_run_of_many_sites_shows_sites_done_in_progress_and_queued(sample_site, tmp_path: Path, capsys):
    sample_site.server.reset()
    sites = [Site(name=f"m{n}", url=sample_site.base, max_pages=2, render="never") for n in range(6)]
    crawls = start_crawls(sites, Crawl(fast=True, timeout=4, retries=1, retry_backoff=0.2, max_retry_after=2),
                          {"nameservers": [], "overrides": {}}, tmp_path, processes=1, checks=["links"],
                          progress=True, streamed=True)
    assert crawls.summary and not crawls.progress
    assert crawls.sites_line().startswith("6 sites: 0 done, ")
    try:
        results = crawls.wait()
    finally:
        crawls.reap()
    pages = sum(r.page_count for r in results.values())
    crawls.close()
    last = capsys.readouterr().err.rstrip("\n").split("\r")[-1]
    assert last == f"6 sites: 6 done, 0 in progress, 0 queued; {pages} pages" and pages >= 6
