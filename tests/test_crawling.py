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
