"""Lists a script writes from data in the page (crawler/scriptlists.py): the page's template and
records, learning from renders, and a crawl with headless Chromium where one column's template
is learnt and read without the browser while another, whose script does not write what its data
says, is rendered every time."""
from __future__ import annotations

import json
import re

import pytest

from checks.model import LinkRef, ListItem, PageSnapshot
from common.config import Site
from crawler import pages, scriptlists
from tests.routeserver import served
from tests.test_render import browser, job_for, run_crawl  # noqa: F401 - the fixture

FILL = ("(function () { var ul = document.getElementById('list'); listData.forEach(function (it) {"
        " var li = document.createElement('li'); var a = document.createElement('a'); a.href = it.url;"
        " a.textContent = it.title; a.title = it.title; var s = document.createElement('span');"
        " s.className = 'date'; s.textContent = it.date; li.appendChild(a); li.appendChild(s);"
        " ul.appendChild(li); }); })();")
# Writes links of its own making (/show?id=...), not the data's url.
BY_ID = ("(function () { var ul = document.getElementById('list'); listData.forEach(function (it) {"
         " var li = document.createElement('li'); var a = document.createElement('a');"
         " a.href = '/show?id=' + it.id; a.textContent = it.title; li.appendChild(a); ul.appendChild(li); }); })();")


def list_page(rows: list[dict], script: str = FILL, pager: str = "") -> str:
    return ('<html><head><meta charset="utf-8"><title>部门动态</title><script src="/js/main.js"></script></head>'
            '<body><div class="nav"><a href="/">首页</a></div><ul class="list" id="list"></ul>'
            f'<div class="page">{pager}</div>'
            f"<script>var listData = {json.dumps(rows, ensure_ascii=False)};\n{script}</script></body></html>")


def rows(column: str, n: int, start: int = 0) -> list[dict]:
    return [{"title": f"关于{column}第{i}项工作的通知", "url": f"/{column}/t{i}.html",
             "date": f"2026-11-{10 + i % 9:02d}", "id": str(i)} for i in range(start, start + n)]


def tree_of(html: str):
    return pages.parse_html(html)


# --- the page's template and records ----------------------------------------------------------

def test_pages_of_one_template_share_its_key_whatever_their_data():
    one, two = tree_of(list_page(rows("a", 3))), tree_of(list_page(rows("b", 5, 7)))
    learnt = scriptlists.ScriptLists()
    assert learnt.key(one) is not None
    assert learnt.key(one) == learnt.key(two)
    assert learnt.key(tree_of(list_page(rows("a", 3), BY_ID))) != learnt.key(one)


@pytest.mark.parametrize("html", [
    list_page([]),                                                           # no records
    list_page([{"title": "无链接", "date": "2026-11-01"}]),                    # a record without a link
    list_page([{"url": "/a.html"}]),                                         # nor a title
    list_page(rows("a", 2)).replace("</ul>", '</ul><ul class="news"></ul>'),  # two empty lists
    list_page(rows("a", 2)).replace("</script>", "var more = [{\"title\": \"x\", \"url\": \"/x.html\"}];</script>"),
    list_page(rows("a", 2)).replace("var listData = ", "var listData = "
                                    "").replace('"title"', "title"),         # not JSON: left to the browser
], ids=["empty", "no-link", "no-title", "two-lists", "two-arrays", "not-json"])
def test_a_page_without_the_shape_has_no_template(html):
    assert scriptlists.ScriptLists().key(tree_of(html)) is None


def test_the_records_are_written_into_the_empty_list_as_rows():
    key, page = scriptlists.template_and_written(tree_of(list_page(rows("a", 2))))
    items = page.xpath("//ul[@id='list']/li")
    assert [(li.find("a").get("href"), li.find("a").text, li.find("span").text) for li in items] == [
        ("/a/t0.html", "关于a第0项工作的通知", "2026-11-10"), ("/a/t1.html", "关于a第1项工作的通知", "2026-11-11")]
    # The page itself is left as served.
    assert key and not tree_of(list_page(rows("a", 2))).xpath("//ul[@id='list']/li")


def fetch_page(data_url: str, script: str = "", pager: str = "") -> str:
    """A list page whose script asks ``data_url`` for its records ({"data": [...]})."""
    fill = script or ("fetch('%s').then(function (r) { return r.json(); }).then(function (d) {"
                      " var ul = document.getElementById('list'); d.data.forEach(function (it) {"
                      " var li = document.createElement('li'); var a = document.createElement('a');"
                      " a.href = it.url; a.textContent = it.title; li.appendChild(a);"
                      " var s = document.createElement('span'); s.textContent = it.date; li.appendChild(s);"
                      " ul.appendChild(li); }); });" % data_url)
    return ('<html><head><meta charset="utf-8"><title>通知公告</title></head>'
            '<body><div class="nav"><a href="/">首页</a></div><ul class="list" id="list"></ul>'
            f'<div class="page">{pager}</div><script>{fill}</script></body></html>')


def test_a_page_whose_script_asks_a_data_url_has_that_shape():
    shape = scriptlists.shape_of(tree_of(fetch_page("/c/data_2.json")), "http://x.cn/c/index_2.html")
    assert shape is not None and shape.records is None
    assert shape.data_url == "http://x.cn/c/data_2.json"
    other = scriptlists.shape_of(tree_of(fetch_page("/c/data_3.json")), "http://x.cn/c/index_3.html")
    assert other.key == shape.key
    # Without the page's address no URL can be resolved; two data URLs: which is the list's?
    assert scriptlists.shape_of(tree_of(fetch_page("/c/data_2.json"))) is None
    two = fetch_page("/c/data_2.json").replace("</script>", "var extra = '/api/other?x=1';</script>")
    assert scriptlists.shape_of(tree_of(two), "http://x.cn/c/") is None


@pytest.mark.parametrize("answer,count", [
    ('[{"title": "通知一", "url": "/a.html"}]', 1),
    ('{"code": 0, "data": [{"title": "通知一", "url": "/a.html"}, {"title": "通知二", "url": "/b.html"}]}', 2),
    ('{"result": {"total": 1, "list": [{"name": "通知一", "link": "/a.html", "pubDate": "2026-11-02"}]}}', 1),
    ('{"data": []}', None), ("not json", None), ('{"data": [{"id": 1}]}', None),
])
def test_the_records_of_a_data_answer(answer, count):
    records = scriptlists.records_in(answer)
    assert (len(records) if records is not None else None) == count


def reading(learnt: scriptlists.ScriptLists, tree):
    """The page with its list read from its records, as the spider reads it; None: rendered."""
    shape = learnt.trusted_shape(tree)
    return learnt.write(tree, shape, shape.records) if shape and shape.records else None


def test_a_template_is_read_only_after_two_renders_agree_and_never_after_one_disagrees():
    page = tree_of(list_page(rows("a", 2)))
    learnt = scriptlists.ScriptLists()
    key = learnt.key(page)
    assert reading(learnt, page) is None
    learnt.learn(key, True)
    assert reading(learnt, page) is None and learnt.undecided(key)
    learnt.learn(key, True)
    assert reading(learnt, page) is not None and learnt.read == 1 and not learnt.undecided(key)
    # A page whose records hold markup is rendered even so: the script may write it as HTML.
    marked = rows("a", 2)
    marked[1]["title"] = "关于<b>防汛</b>工作的通知"
    assert reading(learnt, tree_of(list_page(marked))) is None
    other = scriptlists.ScriptLists()
    other.learn(key, True)
    other.learn(key, False)
    other.learn(key, True)
    other.learn(key, True)
    assert reading(other, page) is None and not other.undecided(key)


def test_pages_agree_on_links_rows_and_text_only():
    def snap(links, items, text):
        return PageSnapshot(url="u", final_url="u", status=200, depth=1, text=text,
                            links=[LinkRef(u, "a", "") for u in links],
                            list_items=[ListItem(t, u, d, "list") for t, u, d in items])
    base = snap(["/a", "/b"], [("甲", "/a", "2026-11-01")], "甲 2026-11-01")
    assert scriptlists.same_page(base, snap(["/b", "/a"], [("甲", "/a", "2026-11-01")], "甲\n2026-11-01"))
    assert not scriptlists.same_page(base, snap(["/a"], [("甲", "/a", "2026-11-01")], "甲 2026-11-01"))
    assert not scriptlists.same_page(base, snap(["/a", "/b"], [("甲", "/a", "")], "甲 2026-11-01"))
    assert not scriptlists.same_page(base, snap(["/a", "/b"], [("甲", "/a", "2026-11-01")], "甲 乙 2026-11-01"))


# --- a crawl with the browser -----------------------------------------------------------------

GONE = {"/a/t5.html", "/a/t18.html", "/c/t9.html"}


@pytest.fixture(scope="module")
def two_columns():
    """Column "a": six list pages of one template, each linking the next (so they are met one
    after another), two of their articles gone.  Column "b": three pages whose script writes
    /show?id= links, not the data's url (which would all be broken)."""
    files: dict[str, str] = {"/js/main.js": "function addFavorite(){return false;}"}
    for column, script in (("a", FILL), ("b", BY_ID)):
        for n in range(6 if column == "a" else 3):
            nxt = f'<a href="/{column}/index_{n + 1}.html">下一页</a>' if n < (5 if column == "a" else 2) else ""
            files[f"/{column}/index_{n}.html"] = list_page(rows(column, 4, n * 4), script, nxt)
    # Column "c": its pages ask /c/data_N.json for their records; column "d" too, but its script
    # writes only the first two of the four it gets (the other two would be broken).
    first_two = ("fetch('/d/data_%d.json').then(function (r) { return r.json(); }).then(function (d) {"
                 " var ul = document.getElementById('list'); d.data.slice(0, 2).forEach(function (it) {"
                 " var li = document.createElement('li'); var a = document.createElement('a');"
                 " a.href = it.url; a.textContent = it.title; li.appendChild(a); ul.appendChild(li); }); });")
    for column in ("c", "d"):
        for n in range(6 if column == "c" else 3):
            nxt = f'<a href="/{column}/index_{n + 1}.html">下一页</a>' if n < (5 if column == "c" else 2) else ""
            script = first_two % n if column == "d" else ""
            files[f"/{column}/index_{n}.html"] = fetch_page(f"/{column}/data_{n}.json", script, nxt)
            files[f"/{column}/data_{n}.json"] = json.dumps({"code": 0, "data": rows(column, 4, n * 4)},
                                                           ensure_ascii=False)
    files["/"] = ('<html><head><meta charset="utf-8"><title>首页</title></head><body>'
                  '<a href="/a/index_0.html">部门动态</a><a href="/b/index_0.html">通知公告</a>'
                  '<a href="/c/index_0.html">政策文件</a><a href="/d/index_0.html">人事信息</a></body></html>')

    def route(path: str) -> tuple[int, str, str]:
        path = path.split("?")[0]
        ctype = ("application/javascript" if path.endswith(".js") else "application/json" if path.endswith(".json")
                 else "text/html; charset=utf-8")
        if path in files:
            return 200, ctype, files[path]
        if (path.startswith(("/a/t", "/c/t")) and path not in GONE) or path == "/show" or \
                re.fullmatch(r"/d/t\d+\.html", path) and int(path[4:-5]) % 4 < 2:
            return 200, ctype, "<html><head><title>文章</title></head><body>正文</body></html>"
        return 404, ctype, "<html><body>404</body></html>"

    with served(route) as base:
        yield base


@pytest.mark.usefixtures("browser")
def test_a_learnt_template_is_read_without_the_browser_and_a_misleading_one_is_always_rendered(two_columns, tmp_path):
    """Column "a": two pages rendered, the other four read from their data, every article link
    in them checked (two are gone).  Column "b" disagrees with its data: all its pages are
    rendered and no link of its data is reported."""
    base = two_columns
    site = Site(name="清溪", url=base + "/", render="auto", max_depth=10, max_pages=200)
    job = job_for(site, "2026-11-22", tmp_path / "out.jsonl")
    job["sites"][0]["facts"] = True
    found_pages, links, site_record = run_crawl(job, tmp_path)
    by_url = {p["url"]: p for p in found_pages}
    column_a = [by_url[f"{base}/a/index_{n}.html"] for n in range(6)]
    assert [p["rendered"] for p in column_a] == [True, True, False, False, False, False]
    assert all(p["rendered"] for url, p in by_url.items() if "/b/index_" in url or "/d/index_" in url)
    # Column "c": learnt from the answers of its data URL, asked beside the first renders (so a
    # third page may be rendered before the second answer is in); the rest read from the answers.
    column_c = [by_url[f"{base}/c/index_{n}.html"] for n in range(6)]
    rendered_c = sum(p["rendered"] for p in column_c)
    assert column_c[0]["rendered"] and column_c[1]["rendered"] and 2 <= rendered_c <= 4
    assert site_record["stats"]["lists_read"] == 4 + (6 - rendered_c)
    assert site_record["stats"]["render_requests"] == 2 + 3 + rendered_c + 3
    # Asked: for each rendered page of "c" while it was learnt (two at least), for each page read,
    # and once for "d" (its first answer disagreed).
    assert 2 + (6 - rendered_c) + 1 <= site_record["stats"]["data_requests"] <= 6 + 1
    assert [tuple(i[:3]) for i in column_c[5]["list_items"]] == [
        (r["title"], base + r["url"], r["date"]) for r in rows("c", 4, 20)]
    # A page read from its data carries its rows as the browser would have shown them.
    assert [tuple(i[:3]) for i in column_a[3]["list_items"]] == [
        (r["title"], base + r["url"], r["date"]) for r in rows("a", 4, 12)]
    broken = {link["url"] for link in links if link["kind"] != "ok"}
    assert broken == {base + path for path in GONE}
    checked = {link["url"] for link in links}
    assert {base + r["url"] for r in rows("a", 24) + rows("c", 24)} <= checked
    assert not {base + r["url"] for r in rows("b", 12)} & checked
    # Only what column "d"'s script writes is checked; its data's other records are not links.
    assert {base + r["url"] for r in rows("d", 12)} & checked == {base + f"/d/t{n}.html" for n in range(12) if n % 4 < 2}
    # The data URLs are no links of the pages.
    assert not {u for u in checked if u.endswith(".json")}


@pytest.mark.usefixtures("browser")
def test_pages_sent_by_another_shard_to_be_rendered_are_read_from_their_data_once_learnt(two_columns, tmp_path):
    """A site split between two crawl processes: the one that renders learns the template and
    reads the pages the other sends it as it would render them."""
    from common.config import Crawl
    from patrol.crawling import start_crawls
    base = two_columns
    site = Site(name="清溪", url=base + "/", render="auto", max_depth=10, max_pages=200)
    crawls = start_crawls([site], Crawl(fast=True, timeout=4, retries=1, retry_backoff=0.2, max_retry_after=2),
                          {"nameservers": [], "overrides": {}}, tmp_path, processes=2, checks=["links"])
    crawl = crawls.wait()["清溪"]
    crawls.reap()
    assert len(crawls.workers) == 2
    rendered = {p.url for p in crawl.pages if p.rendered}
    assert len([u for u in rendered if "/a/index_" in u]) == 2
    rendered_c = len([u for u in rendered if "/c/index_" in u])
    assert 2 <= rendered_c <= 4
    assert {f"{base}/{c}/index_{n}.html" for c in "bd" for n in range(3)} <= rendered
    assert crawl.stats["lists_read"] == 4 + (6 - rendered_c)
    assert {url for url, r in crawl.links.items() if r.broken} == {base + path for path in GONE}
    assert {base + r["url"] for r in rows("a", 24) + rows("c", 24)} <= set(crawl.links)
