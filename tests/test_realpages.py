"""Saved pages of real government sites (tests/fixtures/realpages/, labelled by reading them):
dates, headlines and article text as a person reads them."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from urllib.parse import urljoin

import pytest

from checks.columns import column_key
from checks.freshness import judge_homepage
from checks.model import CheckContext, SiteCrawl
from crawler.pages import decode_html, parse_html
from patrol.extract import read_page

PAGES = Path(__file__).resolve().parent / "fixtures" / "realpages"
ARTICLES = ["govcn-article", "govcn-article-2021", "wanzai-article-2015", "zjfgw-article", "cmse-article"]


def squeeze(text):
    return re.sub(r"[\s\u3000\u00a0]+", "", text or "")


def label(pid):
    return json.loads((PAGES / f"{pid}.json").read_text(encoding="utf-8"))


def read(pid, url, today):
    return read_page((PAGES / f"{pid}.html").read_bytes(), url, today=today)


def homepage_verdict(pid, today):
    url = f"http://{label(pid)['site_host']}/"
    snap = read(pid, url, today)
    crawl = SiteCrawl(name=pid, url=url, pages=[snap], homepage_url=url)
    return judge_homepage(crawl, {column_key(url): snap}, today, CheckContext(site=pid, today=today.isoformat()))


# --- articles ------------------------------------------------------------------------------

@pytest.mark.parametrize("pid", ARTICLES)
def test_article_headline_date_and_body_as_labelled(pid):
    want = label(pid)
    snap = read(pid, f"http://{want['site_host']}/a.html", date(2026, 12, 1))
    assert squeeze(snap.headline) == squeeze(want["title"])
    shown = snap.published if snap.published_from != "meta" else None
    assert shown == want["publish_date"]
    text = squeeze(snap.text)
    assert squeeze(want["body_start"]) in text and squeeze(want["body_end"]) in text


def test_content_after_a_stray_html_end_tag_stays_in_the_body():
    """gov.cn's included header closes its own </html> before the article."""
    raw = (PAGES / "govcn-article.html").read_bytes()
    assert raw.count(b"</html>") == 2
    tree = parse_html(decode_html(raw)[0])
    assert "53365.53" in tree.find("body").text_content()
    small = parse_html("<html><body><p>页头</p></body></html><div>正文内容在这里</div></html>")
    assert "正文内容在这里" in small.find("body").text_content()


def test_hidden_blocks_stay_out_of_the_main_text_but_their_links_count():
    snap = read("govcn-article-2021", "http://www.gov.cn/a.html", date(2026, 12, 1))
    # a hidden share-substr block repeats the summary ("王勇在河北张家口详细检查…")
    # which the body says once
    assert (PAGES / "govcn-article-2021.html").read_text(encoding="utf-8").count("张家口详细检查冬奥会") == 3   # meta, hidden, body
    assert snap.text.count("张家口详细检查冬奥会") == 1
    html = ('<html><body><h1>关于开展安全检查的通知</h1><div style="DISPLAY: none">隐藏的分享摘要文字</div>'
            '<p hidden>另一段隐藏文字</p><p>正文第一段。</p>'
            '<div style="display:none"><ul class="list"><li><a href="/a/202611/t20261110_1.html">'
            '隐藏标签页里的通知标题</a><span>11-10</span></li></ul></div></body></html>')
    snap = read_page(html.encode(), "http://www.qx.gov.cn/", today=date(2026, 11, 22))
    assert "隐藏" not in snap.text and "正文第一段" in snap.text
    assert [(i.title, i.date) for i in snap.list_items] == [("隐藏标签页里的通知标题", "2026-11-10")]


def test_a_visible_publish_date_beats_a_meta_that_is_the_generation_time():
    snap = read("wanzai-article-2015", "http://www.wanzai.gov.cn/a.html", date(2026, 12, 1))
    assert (snap.published, snap.published_from) == ("2017-05-15", "label")   # PubDate says 2022-04-24
    html = ('<html><head><meta name="PubDate" content="2026-11-20 10:00:43">'
            '<meta name="others" content="页面生成时间 2026-11-20 10:00:43">'
            '<title>通知_清溪区人民政府</title></head><body><h1>通知</h1><p>正文。</p></body></html>')
    snap = read_page(html.encode(), "http://www.qx.gov.cn/a.html", today=date(2026, 11, 22))
    assert snap.published is None
    kept = read_page(html.replace("页面生成时间 2026-11-20 10:00:43", "").encode(),
                     "http://www.qx.gov.cn/a.html", today=date(2026, 11, 22))
    assert (kept.published, kept.published_from) == ("2026-11-20", "meta")


def test_headline_from_h1_not_the_title_and_the_date_line_under_it():
    want = label("govcn-article-2021")
    snap = read("govcn-article-2021", "http://www.gov.cn/a.html", date(2026, 12, 1))
    assert snap.headline == want["title"]
    assert (snap.published, snap.published_from) == ("2021-08-01", "headline")


# --- yearless dates on homepages -------------------------------------------------------------

def test_a_2018_homepage_with_yearless_dates_is_stale_years_later():
    """bjgjj shows 03-15 without a year; t20180315_ in the URL says which year."""
    newest = label("bjgjj-home")["newest_item"]["date"]
    snap = read("bjgjj-home", "http://www.bjgjj.gov.cn/", date(2026, 3, 18))
    assert max(i.date for i in snap.list_items if i.date) == newest
    assert homepage_verdict("bjgjj-home", date(2018, 3, 18))["status"] == "fresh"
    later = homepage_verdict("bjgjj-home", date(2026, 3, 18))
    assert later["status"] == "stale" and later["latest"] == newest


def test_yearless_lists_take_the_year_of_the_pages_dated_lists():
    """bjchy's notices show [03-06]; its news lists show [2018-03-16]: no item is from 2026."""
    snap = read("bjchy-home", "http://www.bjchy.gov.cn/", date(2026, 3, 19))
    dated = [i for i in snap.list_items if i.date]
    assert any(i.date_source == "list_year_page" for i in dated)
    assert max(i.date for i in dated) == label("bjchy-home")["newest_item"]["date"]
    assert homepage_verdict("bjchy-home", date(2026, 3, 19))["status"] == "stale"


def test_a_date_inside_an_entry_sentence_is_not_its_list_date():
    """court.gov.cn: '开庭与庭审直播公告（3月19日开庭）' is the hearing day; the page shows no dates."""
    snap = read("court-home", "http://www.court.gov.cn/", date(2018, 3, 20))
    assert label("court-home")["newest_item"] is None
    assert not [i for i in snap.list_items if i.date_source.startswith("list")]


def test_another_sites_url_date_is_not_a_date_this_page_shows():
    """bjft's only dated link is a document of the city's platform (content_….shtml of
    2017-07-06) in its 信息公开 link block: the page shows no dated item."""
    html = ('<html><body><ul>'
            '<li><a href="http://zfxxgk.beijing.gov.cn/110000/zdbz/2017-07/06/content_ea57.shtml">依申请公开申请流程</a></li>'
            '<li><a href="http://xxgk.qx.gov.cn/2026-11/10/content_1.shtml">区政府常务会议研究部署安全生产</a></li>'
            '<li><a href="/zwgk/tzgg/202611/t20261112_2.html">关于开展冬季安全检查的通知</a></li>'
            '</ul></body></html>')
    snap = read_page(html.encode(), "http://www.qx.gov.cn/", today=date(2026, 11, 22))
    dates = {i.title: (i.date, i.date_source) for i in snap.list_items}
    assert dates["依申请公开申请流程"] == (None, "")                          # another site's
    assert dates["区政府常务会议研究部署安全生产"] == ("2026-11-10", "url")    # the site's own sub-site
    assert dates["关于开展冬季安全检查的通知"] == ("2026-11-12", "url")


def test_an_articles_own_publish_date_gives_the_year_of_its_related_list():
    html = ('<html><body><h1>关于开展冬季安全检查的通知</h1><p>发布日期：2018-03-20</p><p>正文内容。</p>'
            '<div class="related"><ul><li><a href="/a/1.html">关于做好防汛工作的通知全文</a><span>03-16</span></li>'
            '<li><a href="/a/2.html">关于开展春季植树活动的通知</a><span>03-02</span></li></ul></div></body></html>')
    snap = read_page(html.encode("utf-8"), "http://www.qx.gov.cn/a/3.html", today=date(2026, 3, 25))
    assert snap.published == "2018-03-20"
    assert [(i.date, i.date_source) for i in snap.list_items] == [("2018-03-16", "list_year_page"),
                                                                   ("2018-03-02", "list_year_page")]


# --- columns as a person reads them ----------------------------------------------------------

def columns_of(pid):
    from patrol.extract import page_columns
    url = f"http://{label(pid)['site_host']}/"
    return {column_key(c["url"]): c["name"] for c in page_columns(read(pid, url, date(2018, 6, 1)))}, url


def test_picture_buttons_and_banners_named_by_alt_are_columns_but_sub_site_platforms_are_not():
    cols, url = columns_of("court-home")
    for href, name in [("/hudong-gengduo-36.html", "院长信箱"), ("/susong.html", "诉讼文书样式"),
                       ("/shenpan-gengduo-77.html", "指导性案例"), ("/xuandiao.html", "最高人民法院2016年公开选调干部工作专栏"),
                       ("/gongzuobaogao.html", "2013-2017年最高人民法院工作报告回顾")]:
        assert cols[column_key(url.rstrip("/") + href)] == name
    # the bar of national query platforms on subdomains (image buttons too) is labelled not columns
    assert not [k for k in cols if any(h in k for h in ("shixin.", "zhixing.", "jxjs.", "rmfygg.", "jubao."))]
    # and nothing found that the label does not list, but one link (更多直播 → tingshen.court.gov.cn)
    wanted = {column_key(urljoin(url, c["href"].strip())) for c in label("court-home")["columns"]}
    assert [k for k in cols if k not in wanted] == ["http://tingshen.court.gov.cn/"]


def test_image_tabs_over_script_written_panes_and_the_citys_public_information_platform():
    cols, url = columns_of("bjft-home")
    for tab in ("FTXW/FTDT", "FTXW/TPXW", "FTXW/ZWXX", "XXGK/ZFGG", "XXGK/RSRM", "XXGK/GKZP"):
        key = column_key(f"{url}n_list.html?/{tab}/")
        assert key in cols and cols[key].endswith(f"?/{tab}/")       # no name in the HTML: the address
    assert not [k for k in cols if "gov.cn/pushinfo" in k or "weibo.com" in k]   # tabs of other sites
    platform = {n for k, n in cols.items() if k.startswith("http://zfxxgk.beijing.gov.cn/")}
    assert platform == {"政府信息公开指南", "依申请公开申请流程", "政府信息公开年报", "政府信息公开目录"}
    wanted = {column_key(urljoin(url, c["href"].strip())) for c in label("bjft-home")["columns"]}
    assert len(wanted & set(cols)) >= 25 and len(set(cols) - wanted) <= 1


def test_a_heading_over_a_list_its_script_writes_names_the_column():
    cols, _ = columns_of("bjchy-home")
    assert cols["http://zfxxgk.beijing.gov.cn/11E000/cyq_index.shtml"] == "政府信息公开专栏"


@pytest.mark.parametrize("pid", ["bgpc-home", "beidou-home", "bjda-home"])
def test_pages_labelled_before_patrol_read_them_give_their_labelled_columns_and_newest_date(pid):
    # benchmarks/realpages: a procurement centre's tabs and menu beside a ticker of notices; a
    # TRS portal with drop-down menus, yearless dates and picture banners; a bureau's portal of
    # plain tabs with one 更多 each and its 信息公开 on the city's platform (see its README)
    folder = Path(__file__).resolve().parent.parent / "benchmarks" / "realpages"
    want = json.loads((folder / f"{pid}.json").read_text(encoding="utf-8"))
    from patrol.extract import page_columns
    url = f"http://{want['site_host']}/"
    snap = read_page((folder / f"{pid}.html").read_bytes(), url, today=date(2018, 3, 25))
    got = {column_key(c["url"]): c["name"] for c in page_columns(snap)}
    wanted: dict[str, set[str]] = {}
    for c in want["columns"]:
        wanted.setdefault(column_key(urljoin(url, c["href"])), set()).add(c["name"])
    right = {k for k, name in got.items() if name in wanted.get(k, ())}
    # every labelled column found and named as labelled but at most two, and at most one more
    assert len(right) >= len(wanted) - 2 and len(set(got) - set(wanted)) <= 1
    assert max(i.date for i in snap.list_items if i.date) == want["newest_item"]["date"]
