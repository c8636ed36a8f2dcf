"""The site spider's handling of one page, without a crawl: a page whose handling fails is
recorded on that page and its links are still followed."""
from __future__ import annotations

import json
from types import SimpleNamespace

from scrapy.http import HtmlResponse

from crawler import pages
from crawler.spiders.site import PAGE, SiteSpider

PAGE_HTML = """<html><head><title>通知</title></head><body>
  <a href="/a.html">一</a><a href="/files/b.pdf">附件</a><a href="ftp://x.example.cn/c.zip">下载</a>
</body></html>""".encode()


def spider_for(tmp_path):
    spider = SiteSpider(site={"name": "站", "url": "http://x.example.cn/", "render": "never"},
                        output=str(tmp_path / "out.jsonl"))
    scheduled: list = []
    spider.crawler = SimpleNamespace(engine=SimpleNamespace(crawl=scheduled.append))
    spider.headers = {}
    spider.rendering = False
    spider.render_priority = 0
    spider.max_redirects = 10
    return spider, scheduled


def response_for(spider, url: str) -> HtmlResponse:
    request = spider._request(url, PAGE, depth=1, referer="http://x.example.cn/")
    return HtmlResponse(url, status=200, body=PAGE_HTML, request=request,
                        headers={"Content-Type": "text/html; charset=utf-8"})


def records(tmp_path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]


def test_a_page_whose_handling_fails_is_a_page_error_and_its_links_are_still_checked(tmp_path, monkeypatch):
    spider, scheduled = spider_for(tmp_path)

    def broken_snapshot(*args, **kwargs):
        raise RuntimeError("facts extraction bug")
    monkeypatch.setattr(pages, "snapshot", broken_snapshot)
    spider.parse(response_for(spider, "http://x.example.cn/n.html"))
    spider._out.flush()
    written = records(tmp_path)
    (page,) = [r for r in written if r["type"] == "page"]
    assert page["url"] == "http://x.example.cn/n.html"
    assert any("facts extraction bug" in e for e in page["errors"])
    assert [link[0] for link in page["links"]] == ["http://x.example.cn/a.html", "http://x.example.cn/files/b.pdf",
                                                  "ftp://x.example.cn/c.zip"]
    links = {r["url"]: r["kind"] for r in written if r["type"] == "link"}
    assert links == {"http://x.example.cn/n.html": "ok", "ftp://x.example.cn/c.zip": "unsupported_scheme"}
    assert {r.url for r in scheduled} >= {"http://x.example.cn/a.html", "http://x.example.cn/files/b.pdf"}
    assert spider.counts["page_errors"] == 1


def test_a_page_is_requested_as_written_and_known_by_its_normalised_url(tmp_path):
    spider, scheduled = spider_for(tmp_path)
    html = '<html><body><a href="/list.jsp;jsessionid=A1?b=2&amp;a=1">列表</a></body></html>'.encode()
    request = spider._request("http://x.example.cn/", PAGE, depth=0, referer=None)
    spider.parse(HtmlResponse("http://x.example.cn/", status=200, body=html, request=request,
                              headers={"Content-Type": "text/html"}))
    (req,) = [r for r in scheduled if "list.jsp" in r.url]
    assert req.url == "http://x.example.cn/list.jsp;jsessionid=A1?b=2&a=1"
    assert req.meta["origin"] == "http://x.example.cn/list.jsp?a=1&b=2"


def test_a_restarted_shard_takes_the_links_it_owns_from_the_other_shards_pages(tmp_path):
    """A shard started again after a crash reads the other shards' outputs (still being
    written) for the links it owns that it does not know yet: those they had sent the crashed
    process.  Links of other owners, known ones, a damaged line and a half-written last line
    add nothing."""
    from checks.model import LinkRef, PageSnapshot
    from crawler.shards import owner
    base = "http://x.example.cn/"
    urls = [f"{base}n{i}.html" for i in range(40)]
    mine = [u for u in urls if owner(u, 2) == 1]
    theirs = [u for u in urls if owner(u, 2) == 0]
    assert len(mine) > 3 and theirs
    known, cut = mine[0], mine[1]
    # Links recorded as written because they cannot be requested (by the shard that read the
    # page, with their kind): owned here too, never requested.
    unrequestable = [u for n in range(40) for u in (f"http://exa mple{n} .com/", f"file:///C:/{n}.doc",
                                                     f"ftp://x.example.cn/{n}", f"http://[::{n}")
                     if owner(u, 2) == 1]
    assert len(unrequestable) > 4

    def page_line(url: str, links: list[str]) -> bytes:
        snap = PageSnapshot(url=url, final_url=url, status=200, depth=1,
                            links=[LinkRef(url=u, tag="a") for u in links])
        return json.dumps({"type": "page", **snap.to_dict()}, ensure_ascii=False).encode() + b"\n"
    other = tmp_path / "crawl-0-0.jsonl"
    other.write_bytes(b'{"type":"start","format":1,"site":"\\u7ad9","shard":0,"shards":2}\n'
                      + page_line(theirs[0], [known] + mine[2:] + theirs + unrequestable) + b'{"type":"page","url":\xff\n'
                      + page_line(theirs[1], [cut])[:-20])
    spider = SiteSpider(site={"name": "站", "url": base, "render": "never", "shard": 1, "shards": 2},
                        output=str(tmp_path / "out.jsonl"))
    spider.headers, spider.rendering, spider.render_priority, spider.max_redirects = {}, False, 0, 10
    spider.seen.add(known)
    requests = list(spider._others_frontier([str(other)]))
    # (besides the request for the host's not-found page, which a new host gets)
    asked = [r.meta["origin"] for r in requests if "/patrol-missing-" not in r.url]
    assert sorted(asked) == sorted(mine[2:])
