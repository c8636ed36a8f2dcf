"""Crawl processes: how sites are spread over cores, and a site split between shard processes."""
from __future__ import annotations

from pathlib import Path

from checks.links import check_site
from checks.model import CheckContext
from patrol.config import Crawl, Site
from patrol.crawling import plan


def sites(n: int) -> list[Site]:
    return [Site(name=f"s{i}", url=f"http://s{i}.example/", max_pages=100 * (i + 1)) for i in range(n)]


def test_polite_crawls_put_whole_sites_on_each_core():
    workers = plan(sites(5), fast=False, cores=2)
    assert len(workers) == 2
    assert sorted(s.name for w in workers for s, _, _ in w.sites) == ["s0", "s1", "s2", "s3", "s4"]
    assert all(shards == 1 for w in workers for _, _, shards in w.sites)


def test_fast_crawl_of_fewer_sites_than_cores_splits_each_site():
    workers = plan(sites(2), fast=True, cores=5)
    shards_of = {}
    for w in workers:
        (site, shard, shards), = w.sites
        shards_of.setdefault(site.name, set()).add((shard, shards))
    assert shards_of == {"s0": {(0, 3), (1, 3), (2, 3)}, "s1": {(0, 2), (1, 2)}}


def test_polite_crawl_is_never_split_so_per_host_limits_hold():
    workers = plan(sites(1), fast=False, cores=4)
    assert len(workers) == 1 and workers[0].sites[0][2] == 1


def test_site_split_between_three_shards_finds_every_broken_link_once(sample_site, tmp_path: Path):
    from patrol.crawling import start_crawls
    sample_site.server.reset()
    site = Site(name="清溪", url=sample_site.base, render="auto")
    crawls = start_crawls([site], Crawl(fast=True, timeout=4, retries=1, retry_backoff=0.2, max_retry_after=2),
                          {"nameservers": [], "overrides": {}}, tmp_path, processes=3, checks=["links"])
    crawl = crawls.wait()["清溪"]
    # Every shard said its output was complete; the processes are then waited for apart.
    assert all(w.closed for w in crawls.workers)
    crawls.reap()
    assert all(w.proc.returncode == 0 for w in crawls.workers)
    assert not [e for e in crawl.errors if "partial" in e or "exited" in e], crawl.errors
    urls = [p.url for p in crawl.pages]
    assert len(urls) == len(set(urls)), "a page was crawled by two shards"
    found = {(f.page, f.url, f.detail["kind"]) for f in check_site(crawl, CheckContext(site="清溪")).findings}
    assert found == sample_site.manifest.broken_pairs()
    assert crawl.homepage_url == sample_site.base


# --- reading the crawl processes' outputs while they are written -------------------------------

def _line(record: dict) -> bytes:
    import json
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def _page(url: str, depth: int = 1) -> dict:
    from checks.model import LinkRef, PageSnapshot
    snap = PageSnapshot(url=url, final_url=url, status=200, depth=depth, title="标题",
                        links=[LinkRef(url=url + "a.pdf", tag="a", anchor="附件")])
    return {"type": "page", **snap.to_dict()}


SITE = Site(name="清溪", url="http://www.qx.example/")
DONE = {"type": "site", "name": "清溪", "url": SITE.url, "homepage_url": SITE.url, "errors": [],
        "stats": {"pages": 2}}


def test_output_read_while_written_takes_whole_lines_only(tmp_path: Path):
    from patrol.crawling import OutputReader
    out = tmp_path / "crawl-0-0.jsonl"
    reader = OutputReader([out], SITE)
    reader.feed()                                   # not written yet: nothing, no error
    first = _line(_page(SITE.url, 0))
    with open(out, "wb") as fh:
        fh.write(first[:40])
        fh.flush()
        reader.feed()
        assert reader.crawl.pages == []             # half a record is not read
        fh.write(first[40:] + _line(_page(SITE.url + "x/")))
        fh.flush()
        reader.feed()
        assert [p.url for p in reader.crawl.pages] == [SITE.url, SITE.url + "x/"]
        fh.write(_line({"type": "link", "url": SITE.url + "x/a.pdf", "kind": "http_404", "status": 404}))
        fh.write(_line(DONE))
    crawl = reader.result()
    assert crawl.errors == []
    assert crawl.links[SITE.url + "x/a.pdf"].kind == "http_404"
    assert crawl.pages[0].links[0].anchor == "附件"


def test_a_link_written_again_at_the_end_replaces_its_first_result(tmp_path: Path):
    # A shard writes each link's result when it has it, and again at the end when the page
    # turns out to be the host's not-found page: the later record wins, counted once.
    from patrol.crawling import load_crawl
    out = tmp_path / "crawl-0-0.jsonl"
    page = SITE.url + "x/"
    out.write_bytes(_line(_page(SITE.url, 0))
                    + _line({"type": "link", "url": page, "kind": "ok", "status": 200})
                    + _line({"type": "link", "url": SITE.url + "x/a.pdf", "kind": "ok", "status": 200})
                    + _line({"type": "link", "url": page, "kind": "soft_404", "status": 200,
                             "error": "与该站点“页面不存在”页面相同"})
                    + _line(DONE))
    crawl = load_crawl([out], SITE)
    assert len(crawl.links) == 2
    assert crawl.links[page].kind == "soft_404" and crawl.links[SITE.url + "x/a.pdf"].kind == "ok"


def test_damaged_or_missing_outputs_keep_what_was_written_and_say_so(tmp_path: Path):
    from patrol.crawling import load_crawl
    truncated = tmp_path / "crawl-0-0.jsonl"
    truncated.write_bytes(_line(_page(SITE.url, 0)) + _line(_page(SITE.url + "y/"))[:-30])
    garbled = tmp_path / "crawl-1-0.jsonl"
    garbled.write_bytes(_line(_page(SITE.url + "z/")) + b"\xff\xfe not json\n" + _line(_page(SITE.url + "w/")))
    missing = tmp_path / "crawl-2-0.jsonl"
    crawl = load_crawl([truncated, garbled, missing], SITE)
    assert [p.url for p in crawl.pages] == [SITE.url, SITE.url + "z/"]
    assert crawl.errors.count("the crawl output ends early (crawl interrupted)") == 2
    assert "a crawl process wrote nothing (it did not start)" in crawl.errors
    assert "the crawl did not finish; results are partial" in crawl.errors
