"""patrol/newmedia.py: loading posts from feeds, pages and exports, and inspecting accounts.

The sample accounts (patrol/demo/samplemedia) are served on 127.0.0.1 by a local http.server; the
page account is rendered by real headless Chromium.  Nothing leaves the machine: the only
names resolved are loopback literals and the reserved .invalid domain.
"""
from __future__ import annotations

import json
import socket
from datetime import date, datetime, timedelta, timezone

import pytest

from checks.newmedia import Post
from common.config import ConfigError, NewMedia, config_from_dict
from patrol.newmedia import check_links, inspect_accounts, load_posts, site_result
from common.resolver import Resolver
from patrol.demo.samplemedia import build, serve
from store import Store

pytestmark = pytest.mark.integration

TODAY = date(2026, 11, 22)
CHINA = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("samplemedia")
    server, base = serve(root)
    manifest = build(root, TODAY, base, department="zfb")
    yield root, base, manifest
    server.shutdown()
    server.server_close()


def config(manifest_accounts, **extra):
    return config_from_dict({"departments": [{"id": "zfb", "name": "区政府办公室"}],
                             "newmedia": manifest_accounts, **extra})


@pytest.fixture(scope="module")
def inspected(sample):
    """Every sample account inspected once (Chromium starts once for the page account)."""
    _root, _base, manifest = sample
    cfg = config(manifest["accounts"])
    results = inspect_accounts(cfg, today=TODAY)
    return {crawl.name: (crawl, out) for crawl, out in results}


# --- the sample accounts: every verdict and count ----------------------------------------

def names(manifest):
    return [a["name"] for a in manifest["accounts"]]


SAMPLE_NAMES = ["清溪发布", "清溪卫健", "清溪融媒", "清溪空壳号", "清溪测试号", "清溪坏源", "清溪旧号",
                "清溪文旅", "清溪农业", "清溪教育", "清溪街道"]


def test_sample_has_every_kind_of_account(sample):
    _root, _base, manifest = sample
    assert names(manifest) == SAMPLE_NAMES
    kinds = {("feed" if "feed" in a else "page" if "page" in a else "export") for a in manifest["accounts"]}
    assert kinds == {"feed", "page", "export"}
    assert (_root / "manifest.json").exists()


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sample_account_verdicts_match_manifest(sample, inspected, name):
    _root, _base, manifest = sample
    expect = manifest["expected"][name]
    crawl, out = inspected[name]
    facts = out.facts
    assert facts["status"] == expect["status"], crawl.errors
    assert facts["posts"] == expect["posts"]
    if "latest" in expect:
        assert facts["latest_post"] == expect["latest"]
        assert facts["days_since"] == expect["days_since"]
    stale = [f.severity for f in out.findings if f.check == "newmedia_stale"]
    assert stale == ([expect["stale"]] if expect["stale"] else [])
    assert ("newmedia_stale" in out.veto) is (expect["stale"] == "veto")
    assert bool([f for f in out.findings if f.check == "newmedia_empty"]) is expect["empty"]
    assert bool([f for f in out.findings if f.check == "newmedia_unreachable"]) is expect["unreachable"]
    assert facts["broken_links"] == expect["broken_links"]
    if "reposts_year" in expect:
        assert facts["reposts_year"] == expect["reposts_year"]
        assert facts["reposts_total"] == expect["reposts_total"]
        behind = [f for f in out.findings if f.check == "newmedia_reposts"]
        assert bool(behind) is expect["reposts_behind"]
    if "undated" in expect:
        assert facts["undated_posts"] == expect["undated"]
    assert all(f.site == name and f.department == "zfb" for f in out.findings)
    assert crawl.name == name and crawl.department == "zfb" and crawl.pages == []


def test_active_account_latest_post_is_dated_in_china_time(inspected):
    # The newest RSS item is 23:30 at UTC-5 the day before yesterday: yesterday in China.
    _crawl, out = inspected["清溪发布"]
    assert out.facts["latest_post"] == (TODAY - timedelta(days=1)).isoformat()


def test_active_account_broken_attachment_is_found_on_its_post(sample, inspected):
    _root, base, manifest = sample
    crawl, out = inspected["清溪发布"]
    broken = [f for f in out.findings if f.check == "broken_link"]
    assert [f.url for f in broken] == [manifest["expected"]["清溪发布"]["broken_url"]]
    assert broken[0].detail["kind"] == "http_404" and broken[0].page.startswith(base + "posts/active-0")
    assert crawl.links[broken[0].url].status == 404
    # Every post link was checked once and the rest are fine.
    assert len(crawl.links) == 14 and sum(1 for r in crawl.links.values() if r.ok) == 13


def test_repost_heavy_account_counts_each_source(inspected):
    _crawl, out = inspected["清溪融媒"]
    by_source = out.facts["reposts_by_source"]
    assert sum(by_source.values()) == out.facts["reposts_year"]
    assert set(by_source) == {"人民日报", "新华社", "央视新闻", "中国政府网", "学习强国"}
    assert out.facts["reposts_on_track"] is True


def test_stale_account_reports_the_unreadable_date(inspected):
    crawl, out = inspected["清溪卫健"]
    assert any("明天上午" in e for e in crawl.errors)
    assert out.veto == ["newmedia_stale"]


def test_vanished_account_is_unreachable_with_http_status(inspected):
    crawl, out = inspected["清溪旧号"]
    (finding,) = out.findings
    assert finding.check == "newmedia_unreachable" and "404" in finding.message
    assert crawl.errors and "注销" in crawl.errors[0]


def test_invalid_feed_is_invalid_not_empty(inspected):
    crawl, out = inspected["清溪坏源"]
    assert out.facts["status"] == "invalid"
    assert [f.check for f in out.findings] == ["newmedia_unreachable"]
    assert "无法解析" in crawl.errors[0]


def test_js_page_posts_are_read_after_the_script_fills_them(sample, inspected):
    _root, base, _manifest = sample
    crawl, out = inspected["清溪街道"]
    assert out.facts["posts"] == 3 and out.facts["latest_post"] == (TODAY - timedelta(days=1)).isoformat()
    assert set(crawl.links) == {f"{base}posts/page-{k}.html" for k in range(3)}
    assert out.facts["posts_per_month"] == {"2026-11": 3}


def test_posts_per_month_of_active_account(inspected):
    _crawl, out = inspected["清溪发布"]
    per_month = out.facts["posts_per_month"]
    assert sum(per_month.values()) == 12 and list(per_month)[-1] == "2026-11"


def test_site_result_is_ready_for_the_store(inspected):
    crawl, out = inspected["清溪发布"]
    result = site_result(crawl, out)
    assert result["status"] == "completed" and result["links"] == 14 and result["broken"] == 1
    assert result["stats"]["kind"] == "newmedia" and result["stats"]["reposts_year"] == 3
    json.dumps(result, ensure_ascii=False)
    gone = site_result(*inspected["清溪旧号"])
    assert gone["status"] == "failed" and "404" in gone["error"]


def test_inspection_saves_through_the_store(tmp_path, inspected):
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    run = store.start_run("2026-11")
    for crawl, out in inspected.values():
        store.save_site(run.id, crawl, out.findings, site_result(crawl, out), kind="newmedia")
    store.finish_run(run.id)
    rows = store.site_results(run.id)
    assert len(rows) == len(SAMPLE_NAMES) and {site.kind for _r, site in rows} == {"newmedia"}
    assert any(f.check == "newmedia_stale" for f in store.findings(run.id))


# --- loading: feeds ----------------------------------------------------------------------

def load(tmp_path, name: str, body: bytes | str, **account) -> object:
    path = tmp_path / name
    path.write_bytes(body.encode("utf-8") if isinstance(body, str) else body)
    key = "export" if name.endswith((".csv", ".xlsx")) else "feed"
    return load_posts(NewMedia(name="测试账号", **{key: str(path)}, **account), today=TODAY)


def test_feed_from_local_path_and_file_url(sample):
    root, _base, _manifest = sample
    by_path = load_posts(NewMedia(name="a", feed=str(root / "feeds/active.rss")), today=TODAY)
    by_url = load_posts(NewMedia(name="a", feed=(root / "feeds/active.rss").as_uri()), today=TODAY)
    assert by_path.status == by_url.status == "ok"
    assert [p.title for p in by_path.posts] == [p.title for p in by_url.posts] and len(by_path.posts) == 12
    assert all(p.origin == "feed" for p in by_path.posts)


def test_rss_source_element_becomes_post_source(sample):
    root, _base, _manifest = sample
    loaded = load_posts(NewMedia(name="a", feed=str(root / "feeds/active.rss")), today=TODAY)
    assert [p.source for p in loaded.posts if p.source] == ["新华社"]


def test_atom_entry_at_new_york_night_is_next_day(tmp_path):
    atom = ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
            '<id>x</id><updated>2026-11-08T23:30:00-05:00</updated>'
            '<entry><title>夜间发布</title><id>e1</id><link href="https://mp.example.cn/1"/>'
            '<published>2026-11-08T23:30:00-05:00</published><updated>2026-11-08T23:30:00-05:00</updated>'
            '<summary>内容</summary></entry></feed>')
    loaded = load(tmp_path, "ny.atom", atom)
    (p,) = loaded.posts
    assert p.day() == date(2026, 11, 9) and p.date.utcoffset() == timedelta(hours=-5)


def test_rss_date_without_zone_is_china_time(tmp_path):
    rss = ('<rss version="2.0"><channel><title>t</title><item><title>晚间</title><link>https://m.example.cn/1</link>'
           '<pubDate>2026-11-08 23:30:00</pubDate></item></channel></rss>')
    (p,) = load(tmp_path, "naive.rss", rss).posts
    assert p.day() == date(2026, 11, 8)


def test_feed_item_without_any_date_is_kept_undated_with_error(tmp_path):
    rss = ('<rss version="2.0"><channel><title>t</title><item><title>无日期文章</title>'
           '<link>https://m.example.cn/1</link></item></channel></rss>')
    loaded = load(tmp_path, "nodate.rss", rss)
    assert loaded.status == "ok" and loaded.posts[0].date is None
    assert "没有发布时间" in loaded.errors[0]


def test_feed_links_in_content_are_absolute(tmp_path):
    rss = ('<rss version="2.0"><channel><title>t</title><link>https://m.example.cn/</link><item><title>a</title>'
           '<link>https://m.example.cn/p/1</link><pubDate>Sun, 08 Nov 2026 10:00:00 +0800</pubDate>'
           '<description>&lt;p&gt;见&lt;a href="https://m.example.cn/files/a.pdf"&gt;附件&lt;/a&gt;'
           '&lt;a href="mailto:x@example.cn"&gt;信箱&lt;/a&gt;&lt;/p&gt;</description></item></channel></rss>')
    (p,) = load(tmp_path, "links.rss", rss).posts
    assert p.links == ["https://m.example.cn/files/a.pdf"] and p.text == "见附件信箱"


@pytest.mark.parametrize("body, words", [
    (b"", "无法解析"),
    (b"<html><body><h1>\xe8\xb4\xa6\xe5\x8f\xb7\xe5\xb7\xb2\xe6\xb3\xa8\xe9\x94\x80</h1></body></html>", "无法解析"),
    (b"<rss><channel><title>broken</chanel>", "无法解析"),
    (b"<rss><channel><item><title>broken</item>", "无法解析"),
    (b"\x00\x01\x02binary", "无法解析"),
    (b'{"items": []}', "不是 JSON Feed"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "JSON Feed 无法解析"),
])
def test_bad_feeds_are_invalid_with_a_reason(tmp_path, body, words):
    loaded = load(tmp_path, "bad.xml", body)
    assert loaded.status == "invalid" and loaded.posts == []
    assert words in loaded.errors[0]


def test_malformed_feed_with_recoverable_items_is_read_with_an_error(tmp_path):
    body = ("<rss><channel><title>t</title><item><title>好文章</title><link>https://m.example.cn/1</link>"
            "<pubDate>Fri, 20 Nov 2026 09:00:00 +0800</pubDate></item><item><title>坏条目</item>")
    loaded = load(tmp_path, "bad.xml", body)
    assert loaded.status == "ok" and loaded.posts[0].title == "好文章"
    assert "格式有误" in loaded.errors[0]


def test_json_feed_with_bad_items_and_dates_keeps_the_good_ones(tmp_path):
    feed = {"version": "https://jsonfeed.org/version/1", "title": "t", "items": [
        "not an object",
        {"id": "1", "url": "/p/1", "title": "好文章", "content_text": "内容", "date_published": "2026-11-20T08:00:00+08:00"},
        {"id": "2", "url": "/p/2", "title": "坏日期", "content_text": "内容", "date_published": "yesterday-ish"},
    ], "home_page_url": "https://m.example.cn/"}
    loaded = load(tmp_path, "feed.json", json.dumps(feed, ensure_ascii=False))
    assert loaded.status == "ok" and [p.title for p in loaded.posts] == ["好文章", "坏日期"]
    assert loaded.posts[0].url == "https://m.example.cn/p/1"
    assert loaded.posts[1].date is None and len(loaded.errors) == 2


def test_empty_feed_is_empty(sample):
    root, _base, _manifest = sample
    loaded = load_posts(NewMedia(name="a", feed=str(root / "feeds/empty.rss")), today=TODAY)
    assert loaded.status == "empty" and loaded.posts == [] and loaded.errors == []


def test_missing_local_feed_is_unreachable(tmp_path):
    loaded = load_posts(NewMedia(name="a", feed=str(tmp_path / "nope.xml")), today=TODAY)
    assert loaded.status == "unreachable" and "不存在" in loaded.errors[0]


def test_feed_on_unknown_domain_is_unreachable_dns():
    loaded = load_posts(NewMedia(name="a", feed="http://vanished.invalid/feed.xml"), today=TODAY,
                        resolver=Resolver(), timeout=5)
    assert loaded.status == "unreachable" and "dns" in loaded.errors[0]


def test_feed_on_closed_port_is_unreachable_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]           # bound, never listening: connections are refused
        loaded = load_posts(NewMedia(name="a", feed=f"http://127.0.0.1:{port}/feed.xml"), today=TODAY, timeout=5)
    assert loaded.status == "unreachable" and "refused" in loaded.errors[0]


def test_feed_over_ipv6_loopback(sample):
    root, _base, _manifest = sample
    try:
        server, base6 = serve(root, host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback")
    try:
        loaded = load_posts(NewMedia(name="a", feed=base6 + "feeds/reposts.json"), today=TODAY)
    finally:
        server.shutdown()
        server.server_close()
    assert loaded.status == "ok" and len(loaded.posts) == 65


def test_feed_url_through_resolver_override(sample):
    _root, base, _manifest = sample
    port = base.rsplit(":", 1)[1].rstrip("/")
    resolver = Resolver(overrides={"media.qingxi.example.cn": ["127.0.0.1"]})
    loaded = load_posts(NewMedia(name="a", feed=f"http://media.qingxi.example.cn:{port}/feeds/stale.atom"),
                        today=TODAY, resolver=resolver)
    assert loaded.status == "ok" and len(loaded.posts) == 4


# --- loading: exports --------------------------------------------------------------------

CSV_ROWS = "标题,发布时间,链接,正文,来源\r\n清溪区开展消防演练,2026/11/20 09:30,https://m.example.cn/1,演练顺利完成。,\r\n" \
           "转发：国务院常务会议,2026-11-18,https://m.example.cn/2,会议内容。,新华社\r\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "utf-16"])
def test_csv_export_in_each_encoding(tmp_path, encoding):
    loaded = load(tmp_path, "posts.csv", CSV_ROWS.encode(encoding))
    assert loaded.status == "ok", loaded.errors
    assert [p.title for p in loaded.posts] == ["清溪区开展消防演练", "转发：国务院常务会议"]
    assert loaded.posts[0].day() == date(2026, 11, 20) and loaded.posts[1].source == "新华社"
    assert all(p.origin == "export" for p in loaded.posts)


def test_sample_exports_gbk_and_bom(sample):
    root, _base, _manifest = sample
    assert (root / "exports/douyin.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    raw = (root / "exports/nongye.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    loaded = load_posts(NewMedia(name="a", export=str(root / "exports/nongye.csv")), today=TODAY)
    assert loaded.status == "ok" and loaded.posts[0].title.startswith("通报河长制")


def test_tab_separated_export_with_caption_row_and_english_headers(tmp_path):
    body = "清溪发布 文章导出\n\ntitle\tdate\turl\ttext\n标题一\t2026-11-21\thttps://m.example.cn/1\t正文\n"
    loaded = load(tmp_path, "posts.csv", body)
    assert loaded.status == "ok" and loaded.posts[0].title == "标题一"


def test_export_without_title_column_is_invalid_naming_the_headers(tmp_path):
    loaded = load(tmp_path, "posts.csv", "编号,阅读量\n1,200\n")
    assert loaded.status == "invalid" and "编号" in loaded.errors[0] and "标题" in loaded.errors[0]


def test_export_with_only_header_is_empty(tmp_path):
    assert load(tmp_path, "posts.csv", "标题,日期\n").status == "empty"


def test_weibo_style_export_without_titles_uses_text(tmp_path):
    loaded = load(tmp_path, "weibo.csv", "微博正文,发布时间\n今天开展了政务公开日活动，欢迎市民参加。,2026-11-21 10:00\n")
    assert loaded.posts[0].title.startswith("今天开展了政务公开日活动")


def test_xlsx_export_with_datetime_cells(sample):
    root, _base, _manifest = sample
    loaded = load_posts(NewMedia(name="a", export=str(root / "exports/toutiao.xlsx")), today=TODAY)
    assert loaded.status == "ok" and len(loaded.posts) == 5
    assert loaded.posts[0].day() == TODAY - timedelta(days=3)
    assert loaded.posts[0].date.utcoffset() == timedelta(hours=8)
    assert loaded.posts[4].date is None and "待定" in loaded.errors[0]


def test_damaged_xlsx_is_invalid(tmp_path):
    loaded = load(tmp_path, "broken.xlsx", b"PK\x03\x04 this is not a workbook")
    assert loaded.status == "invalid" and "XLSX" in loaded.errors[0]


def test_missing_export_is_unreachable(tmp_path):
    loaded = load_posts(NewMedia(name="a", export=str(tmp_path / "none.xlsx")), today=TODAY)
    assert loaded.status == "unreachable"


# --- loading: pages ----------------------------------------------------------------------

def test_page_without_matching_items_is_empty_with_reason(sample):
    _root, base, _manifest = sample
    account = NewMedia(name="a", page=base + "account.html", item_selector=".no-such-item")
    loaded = load_posts(account, today=TODAY, timeout=3)
    assert loaded.status == "empty" and ".no-such-item" in loaded.errors[0]


def test_page_that_is_gone_is_unreachable(sample):
    _root, base, _manifest = sample
    loaded = load_posts(NewMedia(name="a", page=base + "gone.html", item_selector="li"), today=TODAY, timeout=5)
    assert loaded.status == "unreachable" and "404" in loaded.errors[0]


# --- links and the yearly total across runs ----------------------------------------------

def test_check_links_head_then_get_and_skips_non_http(sample):
    _root, base, _manifest = sample
    results = check_links([base + "posts/active-1.html", base + "posts/none.html", "mailto:a@example.cn",
                           base + "posts/active-1.html"], timeout=5)
    assert set(results) == {base + "posts/active-1.html", base + "posts/none.html"}
    assert results[base + "posts/active-1.html"].ok and results[base + "posts/active-1.html"].method == "HEAD"
    missing = results[base + "posts/none.html"]
    assert missing.kind == "http_404" and missing.method == "GET"


def test_store_keeps_the_yearly_repost_total_when_the_feed_shows_only_recent_posts(tmp_path, sample):
    _root, base, _manifest = sample
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")

    def feed(first: int, last: int) -> str:
        items = "".join(
            f"<item><title>转发{k}</title><link>{base}posts/reposts-{k}.html</link>"
            f"<pubDate>{(datetime(2026, 11, 20, 9, tzinfo=CHINA) - timedelta(days=k)).strftime('%a, %d %b %Y %H:%M:%S %z')}"
            f"</pubDate><source>人民日报</source></item>" for k in range(first, last))
        return f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'

    path = tmp_path / "feed.rss"
    cfg = config([{"name": "清溪融媒", "feed": str(path)}])
    path.write_text(feed(10, 30), encoding="utf-8")           # an earlier run saw 20 older reposts
    (first_run,) = inspect_accounts(cfg, today=TODAY - timedelta(days=10), store=store)
    assert first_run[1].facts["reposts_year"] == 20
    path.write_text(feed(0, 12), encoding="utf-8")            # now the feed shows the latest 12 only
    (_crawl, out) = inspect_accounts(cfg, today=TODAY, store=store)[0]
    assert out.facts["posts"] == 12 and out.facts["reposts_total"] == 12
    assert out.facts["reposts_year"] == 30                    # 0..29, the overlap counted once
    assert len(store.newmedia_posts("清溪融媒")) == 30


# --- configuration -----------------------------------------------------------------------

def test_config_accepts_account_fields_and_thresholds():
    cfg = config([{"name": "a", "page": "https://m.example.cn/", "item_selector": "li", "date_selector": ".t",
                   "timezone": "America/New_York", "thresholds": {"newmedia_stale": {"veto_days": 7}}}])
    assert cfg.newmedia[0].timezone == "America/New_York" and cfg.newmedia[0].date_selector == ".t"


@pytest.mark.parametrize("entry, words", [
    ({"name": "a"}, "give one of feed, page or export"),
    ({"name": "a", "page": "https://m.example.cn/"}, "item_selector"),
    ({"name": "a", "feed": "f.xml", "timezone": "Mars/Olympus"}, "timezone"),
    ({"name": "a", "feed": "f.xml", "thresholds": {"newmedia_stale": {"veto_dayz": 7}}}, "veto_dayz"),
    ({"name": "a", "feed": "f.xml", "department": "nope"}, "unknown department"),
])
def test_config_rejects_bad_accounts(entry, words):
    with pytest.raises(ConfigError, match=words):
        config([entry])


def test_account_thresholds_override_the_defaults(sample):
    root, _base, _manifest = sample
    cfg = config([{"name": "清溪农业", "export": str(root / "exports/nongye.csv"),
                   "thresholds": {"newmedia_stale": {"veto_days": 3, "warn_days": 2}}}])
    (_crawl, out), = inspect_accounts(cfg, today=TODAY)
    assert out.veto == ["newmedia_stale"] and out.facts["days_since"] == 4


def test_post_key_prefers_url():
    assert Post("t", url="https://m.example.cn/1").key() == "https://m.example.cn/1"
    assert Post("t", date=date(2026, 11, 1)).key() == "t|2026-11-01"


def test_sample_wording_error_is_flagged_by_the_shared_text_checks(sample):
    text = pytest.importorskip("checks.text")
    _root, _base, manifest = sample
    cfg = config(manifest["accounts"])
    wanted = manifest["expected"]["清溪发布"]["wording"]
    (_crawl, out), = inspect_accounts(cfg, [cfg.newmedia[0]], today=TODAY, text_checker=text.TextChecker([]))
    hits = [f for f in out.findings if f.check == wanted["check"] and f.detail.get("wrong") == wanted["wrong"]]
    assert [f.url for f in hits] == [wanted["post"]]
    assert hits[0].detail["field"] == "text" and hits[0].detail["suggestion"] == "自然资源局"
