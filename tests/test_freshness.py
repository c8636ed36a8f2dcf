from __future__ import annotations

import json
import re
from collections import deque
from datetime import date, timedelta

import pytest
from freshness_helpers import TODAY, fixture_text, list_page, snapshot

from checks.columns import column_key
from checks.freshness import check_site
from checks.model import CheckContext, LinkRef, ListItem, PageSnapshot, SiteCrawl

S = "http://www.qx.gov.cn"


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def site(columns: list[tuple[str, str, list[str | None]]], *, home_items: list[str] | None = None,
         extra: list[PageSnapshot] = (), **page_kw) -> SiteCrawl:
    """A homepage whose menu links every column, and one list page per column."""
    menu = [(S + path, name) for path, name, _ in columns]
    lis = "".join(f'<li><a href="{u}">{n}</a></li>' for u, n in menu)
    news = "".join(f'<li><a href="/news/{i}.html">首页新闻标题示例第{i}条</a><span>{d}</span></li>'
                   for i, d in enumerate(home_items if home_items is not None else [ago(1)]))
    home = snapshot(f'<html><body><div class="nav"><ul>{lis}</ul></div><ul class="news">{news}</ul></body></html>',
                    S + "/", depth=0)
    pages = [home] + [snapshot(list_page("", name, dates, nav=menu, **page_kw), S + path)
                      for path, name, dates in columns] + list(extra)
    return SiteCrawl(name="清溪区人民政府", url=S + "/", pages=pages, homepage_url=S + "/", department="zfb")


def run(crawl: SiteCrawl, **ctx_kw) -> tuple:
    out = check_site(crawl, CheckContext(site=crawl.name, department="zfb", today=TODAY.isoformat(), **ctx_kw))
    rows = {r["name"]: r for r in out.facts["columns"]}
    return out, rows


@pytest.mark.parametrize("name, days, status", [
    ("工作动态", 14, "fresh"), ("工作动态", 15, "stale"),
    ("通知公告", 183, "fresh"), ("通知公告", 184, "stale"),
    ("规划计划", 365, "fresh"), ("规划计划", 366, "stale"),
    ("机构职能", 3000, "no_rule"),
])
def test_each_category_goes_stale_after_its_own_threshold(name, days, status):
    _, rows = run(site([("/c/", name, [ago(days), ago(days + 30)])]))
    assert rows[name]["status"] == status
    assert rows[name]["days"] == days and rows[name]["latest"] == ago(days)


def test_stale_column_finding_carries_category_date_days_and_threshold():
    out, _ = run(site([("/zwdt/bmdt/", "部门动态", [ago(33)])]))
    [f] = [f for f in out.findings if f.check == "column_stale"]
    assert f.severity == "error" and f.url == S + "/zwdt/bmdt/" and f.department == "zfb"
    assert f.detail == {"column": "部门动态", "category": "dynamic", "latest": ago(33), "days": 33,
                        "threshold": 14, "basis": "list"}
    assert "33 天未更新" in f.message


def test_columns_table_lists_every_column_for_audit():
    out, rows = run(site([("/a/", "工作动态", [ago(2)]), ("/b/", "机构职能", [ago(900)]),
                          ("/c/", "通知公告", [])]))
    assert [r["status"] for r in out.facts["columns"]] == ["empty", "fresh", "no_rule"]   # problems first
    row = rows["工作动态"]
    for key in ("url", "name", "category", "latest", "days", "threshold", "status", "basis", "found_by", "items"):
        assert key in row
    assert row["found_by"] == ["menu", "breadcrumb"] and row["items"] == 1
    assert out.facts["column_counts"] == {"empty": 1, "fresh": 1, "no_rule": 1}


def test_column_without_items_and_placeholder_only_column_are_empty():
    out, rows = run(site([("/a/", "工作动态", [])]))
    assert rows["工作动态"]["status"] == "empty"
    out, rows = run(site([("/a/", "工作动态", [])], placeholder=True))
    assert rows["工作动态"]["status"] == "empty" and "暂无信息" in rows["工作动态"]["note"]
    [f] = [f for f in out.findings if f.check == "column_empty"]
    assert f.detail == {"column": "工作动态", "category": "dynamic", "placeholder": True}


def _js_column(rendered_items: str | None) -> PageSnapshot:
    html = fixture_text("list_js.html")
    if rendered_items is not None:
        html = html.replace('<ul id="newsList" class="news-list"></ul>',
                            f'<ul id="newsList" class="news-list">{rendered_items}</ul>')
    return snapshot(html, S + "/zwdt/gzdt/", rendered=rendered_items is not None)


def test_column_with_only_js_list_is_not_empty():
    filled = f'<li><a href="/zwdt/gzdt/1.html">区政府召开常务会议研究部署工作</a><span>{ago(3)}</span></li>'
    crawl = site([])
    crawl.pages[0].nav_links.append(LinkRef(url=S + "/zwdt/gzdt/", tag="a", anchor="工作动态"))
    crawl.pages.append(_js_column(filled))
    _, rows = run(crawl)
    assert rows["工作动态"]["status"] == "fresh" and rows["工作动态"]["rendered"] is True


def test_script_list_that_was_not_rendered_is_not_judged_empty():
    crawl = site([])
    crawl.pages[0].nav_links.append(LinkRef(url=S + "/zwdt/gzdt/", tag="a", anchor="工作动态"))
    crawl.pages.append(_js_column(None))
    out, rows = run(crawl)
    assert rows["工作动态"]["status"] == "unknown" and "渲染" in rows["工作动态"]["note"]
    assert not [f for f in out.findings if f.check == "column_empty"]


def test_script_list_still_empty_after_rendering_is_empty():
    crawl = site([])
    crawl.pages[0].nav_links.append(LinkRef(url=S + "/zwdt/gzdt/", tag="a", anchor="工作动态"))
    crawl.pages.append(_js_column(""))
    _, rows = run(crawl)
    assert rows["工作动态"]["status"] == "empty"


def test_column_whose_list_sits_in_an_iframe_is_not_empty():
    frame = snapshot(list_page("", "通知公告", [ago(20)]), S + "/zwgk/tzgg/list.html")
    crawl = site([("/zwgk/tzgg/", "通知公告", [])], extra=[frame])
    column = crawl.pages[1]
    column.links.append(LinkRef(url=S + "/zwgk/tzgg/list.html", tag="iframe"))
    _, rows = run(crawl)
    assert rows["通知公告"]["status"] == "fresh" and rows["通知公告"]["latest"] == ago(20)


def test_newest_date_from_the_url_then_the_article_page():
    _, rows = run(site([("/a/", "工作动态", [None, None])]))          # dates only in t2026..._n.html URLs
    assert rows["工作动态"]["basis"] == "url"
    articles = [snapshot(f'<html><head><meta name="PubDate" content="{ago(5)} 10:00"></head><body>x</body></html>',
                         S + "/a/p/0.html", depth=2)]
    _, rows = run(site([("/a/", "工作动态", [None])], url_dates=False, extra=articles))
    assert (rows["工作动态"]["latest"], rows["工作动态"]["basis"]) == (ago(5), "article")


def test_column_whose_entries_have_no_date_anywhere_counts_as_not_updated():
    out, rows = run(site([("/a/", "工作动态", [None, None])], url_dates=False))
    assert rows["工作动态"]["status"] == "stale" and rows["工作动态"]["latest"] is None
    [f] = [f for f in out.findings if f.check == "column_stale"]
    assert f.detail["latest"] is None and "无发布日期" in f.message


def test_dates_after_the_check_date_are_ignored():
    _, rows = run(site([("/a/", "工作动态", [(TODAY + timedelta(days=400)).isoformat(), ago(30)])]))
    assert rows["工作动态"]["latest"] == ago(30) and rows["工作动态"]["status"] == "stale"
    assert "晚于检查日期" in rows["工作动态"]["note"]


def _stale(n_dynamic: int, n_yearly: int = 0, n_fresh: int = 2) -> SiteCrawl:
    cols = [(f"/d{i}/", f"动态{i}", [ago(40)]) for i in range(n_dynamic)]
    cols += [(f"/y{i}/", f"规划{i}", [ago(400)]) for i in range(n_yearly)]
    cols += [(f"/f{i}/", f"要闻{i}", [ago(1)]) for i in range(n_fresh)]
    return site(cols)


def _site_level(out, check):
    return [f for f in out.findings if f.check == check and f.detail.get("rule") == "count"]


def test_five_stale_news_or_notice_columns_fail_the_site():
    out, _ = run(_stale(5))
    assert out.veto == ["column_stale"]
    [f] = _site_level(out, "column_stale")
    assert f.severity == "veto" and f.detail["stale_dynamic_notice"] == 5 and f.url == S + "/"


def test_three_or_four_stale_columns_raise_an_early_warning():
    for n in (3, 4):
        out, _ = run(_stale(n))
        assert out.veto == []
        [f] = _site_level(out, "column_stale")
        assert f.severity == "warning" and f.detail["stale"] == n
    out, _ = run(_stale(2))
    assert _site_level(out, "column_stale") == [] and out.veto == []


def test_ten_columns_stale_for_long_fail_the_site_even_when_few_are_news():
    out, _ = run(_stale(2, n_yearly=8))
    assert out.veto == ["column_stale"]
    assert _site_level(out, "column_stale")[0].detail["stale"] == 10


def test_thresholds_come_from_the_context():
    out, rows = run(_stale(5), thresholds={"column_stale": {"dynamic_days": 60, "veto_count": 5}})
    assert rows["动态0"]["status"] == "fresh" and rows["动态0"]["threshold"] == 60 and out.veto == []
    out, _ = run(_stale(2), thresholds={"column_stale": {"veto_count": 2}})
    assert out.veto == ["column_stale"]


def test_empty_columns_warn_at_two_and_fail_at_five():
    def empties(n):
        return site([(f"/e{i}/", f"空栏目{i}", []) for i in range(n)] + [("/ok/", "要闻", [ago(1)])])
    out, _ = run(empties(1))
    assert _site_level(out, "column_empty") == [] and len([f for f in out.findings if f.check == "column_empty"]) == 1
    out, _ = run(empties(2))
    assert _site_level(out, "column_empty")[0].severity == "warning" and out.veto == []
    out, _ = run(empties(5))
    assert _site_level(out, "column_empty")[0].severity == "veto" and out.veto == ["column_empty"]


def test_site_rules_ignore_and_recategorise_columns():
    crawl = _stale(5)
    rules = [{"url": "/d0/", "ignore": True}, {"url": "/d1/", "category": "yearly"},
             {"url": "/d2/", "name": "机构概况", "category": "none"}]
    out, rows = run(crawl, columns=rules)
    assert rows["动态0"]["status"] == "ignored"
    assert rows["动态1"]["status"] == "fresh" and rows["动态1"]["threshold"] == 365
    assert rows["机构概况"]["status"] == "no_rule"
    assert out.veto == [] and len([f for f in out.findings if f.detail.get("column")]) == 2


def test_homepage_with_recent_items_is_fresh():
    out, _ = run(site([], home_items=[ago(3), ago(20)]))
    home = out.facts["homepage"]
    assert (home["status"], home["latest"], home["days"], home["basis"]) == ("fresh", ago(3), 3, "homepage")
    assert not [f for f in out.findings if f.check == "homepage_stale"]


def test_homepage_eleven_days_old_raises_a_warning():
    out, _ = run(site([], home_items=[ago(11)]))
    [f] = [f for f in out.findings if f.check == "homepage_stale"]
    assert f.severity == "warning" and out.veto == []


def test_homepage_not_updated_for_two_weeks_fails_the_site():
    out, _ = run(site([], home_items=[ago(15), ago(40)]))
    [f] = [f for f in out.findings if f.check == "homepage_stale"]
    assert f.severity == "veto" and f.detail["latest"] == ago(15) and f.detail["days"] == 15
    assert f.detail["threshold"] == 14
    assert out.veto == ["homepage_stale"]


def test_homepage_items_without_dates_count_as_not_updated():
    crawl = site([])
    crawl.pages[0] = snapshot('<html><body><ul class="news"><li><a href="/p/1.html">首页新闻标题示例第一条</a></li>'
                              '</ul></body></html>', S + "/", depth=0)
    out, _ = run(crawl)
    assert out.facts["homepage"]["status"] == "stale" and out.facts["homepage"]["latest"] is None
    assert out.veto == ["homepage_stale"]


def test_navigation_only_homepage_is_judged_by_second_level_pages():
    crawl = site([("/xwdt/", "新闻动态", [ago(4)]), ("/tzgg/", "通知公告", [ago(60)])])
    crawl.pages[0] = snapshot('<html><body><div class="portal"><a class="entry" href="/xwdt/">新闻动态</a>'
                              '<a class="entry" href="/tzgg/">通知公告</a></div></body></html>', S + "/", depth=0)
    out, _ = run(crawl)
    home = out.facts["homepage"]
    assert (home["status"], home["latest"], home["basis"]) == ("fresh", ago(4), "second_level")
    crawl.pages[1] = snapshot(list_page("", "新闻动态", [ago(30)]), S + "/xwdt/")
    out, _ = run(crawl)
    assert out.facts["homepage"]["status"] == "stale" and out.veto[-1] == "homepage_stale"


def test_homepage_not_crawled_gives_no_verdict():
    crawl = site([])
    crawl.pages[0].status = 503
    out, _ = run(crawl)
    assert out.facts["homepage"]["status"] == "unknown" and "homepage_stale" not in out.veto


# --- the sample site, from its files on disk ---------------------------------------------------

def _disk_pages(sample_site) -> dict[str, str]:
    """URL -> HTML of every page file, as the server would answer it."""
    root, base = sample_site.root, sample_site.base
    routes = json.loads((root / "routes.json").read_text(encoding="utf-8"))
    query = {}
    for col, pattern in routes.get("query_pages", {}).items():
        query[pattern] = col
    pages = {}
    for f in (root / "www").rglob("*.html"):
        rel = f.relative_to(root / "www").as_posix()
        url = base + (rel[: -len("index.html")] if rel == "index.html" or rel.endswith("/index.html") else rel)
        for pattern, col in query.items():
            m = re.fullmatch(re.escape(pattern).replace(r"\{page\}", r"(\d+)"), rel)
            if m:
                url = base + col.lstrip("/") + "?page=" + m.group(1)
        pages[url] = f.read_bytes().decode("utf-8", "replace")
    return pages


@pytest.fixture(scope="module")
def rendered(sample_site):
    """Pages whose lists a script fills, rendered by headless Chromium from the sample server."""
    import lxml.html
    from playwright.sync_api import sync_playwright

    from checks.pagefacts import needs_render
    from common.browser import launch_options

    pages = _disk_pages(sample_site)
    wanted = [u for u, html in pages.items() if needs_render(lxml.html.fromstring(html))]
    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**launch_options())
        try:
            page = browser.new_page()
            for url in wanted:
                page.goto(url, wait_until="load")
                out[url] = page.content()
        finally:
            browser.close()
    return pages, out


def test_sample_site_every_column_and_homepage_verdict(sample_site, rendered):
    pages, after_render = rendered
    manifest = sample_site.manifest
    today = date.fromisoformat(manifest.today)
    by_key = {column_key(u): u for u in pages}
    subsites = [s["url"] for s in manifest.sites if s["id"] != "main"]
    for info in manifest.sites:
        start = info["url"]
        seen: dict[str, PageSnapshot] = {}
        queue = deque([(start, 0)])
        while queue:                          # follow links as the crawler would, files only
            url, depth = queue.popleft()
            key = column_key(url)
            if key in seen or key not in by_key:
                continue
            real = by_key[key]
            if info["id"] == "main" and real.startswith(tuple(subsites)):
                continue
            html = after_render.get(real, pages[real])
            snap = snapshot(html, real, depth=depth, rendered=real in after_render, today=today)
            seen[key] = snap
            queue.extend((ref.url, depth + 1) for ref in snap.links
                         if ref.tag in ("a", "iframe") and ref.url.startswith(start))
        crawl = SiteCrawl(name=info["name"], url=start, pages=list(seen.values()), homepage_url=start)
        out = check_site(crawl, CheckContext(site=info["name"], today=manifest.today))
        got = {column_key(r["url"]): r for r in out.facts["columns"]}
        expected = [c for c in manifest.columns if c["site"] == info["id"]]
        assert expected
        for col in expected:
            row = got.get(column_key(col["url"]))
            assert row is not None, f"column {col['name']} not found"
            assert (row["name"], row["status"], row["category"]) == (col["name"], col["verdict"], col["category"])
            if col["date_source"] == "url_month":       # the URL shows the month only
                assert row["latest"][:7] == col["newest"][:7]
            else:
                assert row["latest"] == col["newest"], col["name"]
        # Nothing else found may raise a problem: sections and link pages are not columns.
        extra = [r for k, r in got.items() if k not in {column_key(c["url"]) for c in expected}]
        assert all(r["status"] in ("no_rule", "fresh") for r in extra), extra
        assert {column_key(s["url"]) for s in out.facts["sections"]} >= {
            column_key(s["url"]) for s in manifest.sections if info["id"] == "main"}
        home = out.facts["homepage"]
        assert home["status"] == info["homepage_verdict"]
        assert home["latest"] == (info.get("homepage_newest") or info.get("second_level_newest"))
        assert home["basis"] == ("second_level" if info["homepage"] == "navigation" else "homepage")


def test_box_of_other_news_on_a_column_page_does_not_make_it_fresh():
    crawl = site([("/zwgk/tzgg/", "通知公告", [ago(200)])])
    page = crawl.pages[1]
    page.list_items.append(ListItem(title="热点：区政府召开常务会议", url=S + "/xwzx/zwyw/202611/t1.html",
                                    date=ago(1), date_source="list"))
    out, rows = run(crawl)
    assert rows["通知公告"]["status"] == "stale" and rows["通知公告"]["latest"] == ago(200)
    assert [f.url for f in out.findings if f.check == "column_stale"] == [S + "/zwgk/tzgg/"]


def test_a_column_whose_yearless_dates_have_no_evidence_is_undated_not_this_year():
    """[03-16] with opaque article URLs and no other date on the page: the year cannot be
    read, so the column is not updated as far as anyone can tell, and says why."""
    from checks.freshness import YEARLESS_NOTE
    items = "".join(f'<li><a href="/zwgk/tzgg/{h}.html">关于第{i}批事项办理情况的公告</a><span>[03-1{i}]</span></li>'
                    for i, h in enumerate(["8a24fe83622bebd8", "8a24fe83622cfebd"]))
    base = "http://www.qx.gov.cn"
    home = snapshot(f'<html><body><div class="nav"><a href="/zwgk/tzgg/">通知公告</a></div></body></html>',
                    base + "/", depth=0, today=date(2026, 3, 20))
    column = snapshot(f'<html><body><ul class="list">{items}</ul></body></html>', base + "/zwgk/tzgg/",
                      today=date(2026, 3, 20))
    assert [i.date for i in column.list_items] == [None, None]
    crawl = SiteCrawl(name="清溪", url=base + "/", pages=[home, column], homepage_url=base + "/")
    out = check_site(crawl, CheckContext(site="清溪", today="2026-03-20"))
    (row,) = [r for r in out.facts["columns"] if r["name"] == "通知公告"]
    assert (row["status"], row["latest"], row["note"]) == ("stale", None, YEARLESS_NOTE)
