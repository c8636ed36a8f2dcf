from datetime import date

import lxml.html
import pytest
from freshness_helpers import TODAY, fixture_text

from checks.pagefacts import extract, needs_render

SITE = "http://www.qx.gov.cn"


def facts_of(name: str, url: str, today: date = TODAY):
    html = fixture_text(name)
    return extract(lxml.html.fromstring(html), url, html_text=html, today=today)


@pytest.fixture(scope="module")
def home():
    return facts_of("home.html", SITE + "/")


def test_homepage_menu_links_include_dropdown_sub_columns(home):
    menu = {ref.anchor: ref.url for ref in home.nav_links}
    assert menu["政务动态"] == SITE + "/zwdt/"
    assert menu["清溪要闻"] == SITE + "/zwdt/qxyw/"       # from the dropdown under 政务动态
    assert menu["通知公告"] == SITE + "/zwgk/tzgg/index.html"
    assert "网站地图" not in menu and "联系我们" not in menu   # footer links are not menus


def test_more_links_are_named_by_their_block_heading(home):
    assert [(r.anchor, r.url) for r in home.more_links] == [
        ("清溪要闻", SITE + "/zwdt/qxyw/"), ("通知公告", SITE + "/zwgk/tzgg/")]


def test_homepage_list_items_carry_dates_in_each_form(home):
    dates = {i.title: i.date for i in home.list_items}
    assert dates == {
        "清溪区召开2026年第12次政府常务会议": "2026-11-18",     # 2026-11-18
        "区发展和改革局部署秋冬季安全生产工作": "2026-11-12",     # 2026/11/12
        "清溪区推进优化营商环境改革工作": "2026-11-05",           # 2026年11月05日
        "关于做好2026年度政务公开工作的通知": "2026-10-20",       # [10-20]
        "关于开展9月份安全生产大检查的通知": "2026-09-15",
    }
    sources = {i.title: i.date_source for i in home.list_items}
    # [10-20] and [09-15] show no year: it is read from their URLs (t20261020_880), not assumed
    assert sources.pop("关于做好2026年度政务公开工作的通知") == "list_year_url"
    assert sources.pop("关于开展9月份安全生产大检查的通知") == "list_year_url"
    assert set(sources.values()) == {"list"}
    assert all(i.url.startswith(SITE + "/") for i in home.list_items)


def test_short_undated_links_are_not_list_entries(home):
    titles = {i.title for i in home.list_items}
    assert not titles & {"办事指南", "公开指南", "在线咨询"}


def test_main_text_leaves_out_menus_and_footer_but_keeps_text_after_comments(home):
    assert "清溪区召开2026年第12次政府常务会议" in home.text
    assert "政务服务" not in home.text and "清ICP备" not in home.text
    assert "文字横幅" in home.text
    assert any("清ICP备20260001号" in b for b in home.blocks)
    assert any("互动交流" in b for b in home.blocks)
    assert home.title == "清溪区人民政府门户网站"
    assert home.breadcrumb == [] and home.published is None


def test_trs_list_with_short_dates_breadcrumb_and_script_pagination():
    facts = facts_of("list_trs.html", SITE + "/zwgk/tzgg/index.html")
    assert facts.breadcrumb == ["首页", "政务公开", "通知公告"]
    assert [i.date for i in facts.list_items] == ["2026-11-10", "2026-10-28", "2025-12-30"]
    assert facts.list_items[0].url == SITE + "/zwgk/tzgg/202611/t20261110_123.html"
    assert facts.pagination == [SITE + f"/zwgk/tzgg/index_{n}.html" for n in (1, 2, 3)]
    menu = {ref.anchor: ref.url for ref in facts.nav_links}
    assert menu["政策文件"] == SITE + "/zwgk/zcwj/"            # the left-hand sub-column menu
    assert not facts.placeholder and not facts.needs_render


def test_year_of_short_dates_comes_from_the_item_urls():
    facts = facts_of("list_trs.html", SITE + "/zwgk/tzgg/", today=date(2027, 1, 5))
    # [12-30] links t20251230_100.html: December 2025, although the check is in January 2027
    assert [i.date for i in facts.list_items] == ["2026-11-10", "2026-10-28", "2025-12-30"]
    assert {i.date_source for i in facts.list_items} == {"list_year_url"}


def test_table_rows_with_document_numbers_and_chinese_dates():
    facts = facts_of("list_table.html", SITE + "/zwgk/zcwj/index.html")
    assert [(i.title[:8], i.date) for i in facts.list_items] == [
        ("清溪区人民政府关", "2026-11-10"), ("清溪区人民政府办", "2026-06-30"), ("区自然资源局关于", "2025-12-01")]
    assert facts.list_items[2].url == SITE + "/zwgk/zcwj/content_4999.html"   # not the 下载 link
    assert facts.breadcrumb == ["首页", "政务公开", "政策文件"]
    assert facts.pagination == [SITE + f"/zwgk/zcwj/index.html?page={n}" for n in range(2, 7)]


def test_definition_list_dates_fall_back_to_the_article_url():
    facts = facts_of("list_dd.html", SITE + "/zwdt/bmdt/index.html")
    got = [(i.date, i.date_source) for i in facts.list_items]
    assert got == [("2026-11-16", "list"), ("2026-11-09", "url"), ("2026-10-01", "url_month"), (None, "")]
    assert facts.breadcrumb == ["首页", "政务动态", "部门动态"]
    assert facts.pagination == [SITE + f"/zwdt/bmdt/index_{n}.html" for n in range(1, 8)]


def test_placeholder_only_list_is_flagged():
    facts = facts_of("list_placeholder.html", SITE + "/zwgk/ghjh/")
    assert facts.placeholder is True
    assert facts.list_items == []
    assert facts.breadcrumb == ["首页", "政务公开", "规划计划"]


def test_placeholder_words_inside_an_article_sentence_are_not_a_placeholder():
    html = ("<html><body><div class='content'><p>据统计，目前暂无数据表明该项目对周边环境造成影响，"
            "有关部门将持续开展监测并及时向社会公开结果。</p></div></body></html>")
    assert extract(lxml.html.fromstring(html), SITE + "/a.html", today=TODAY).placeholder is False


def test_empty_list_filled_by_script_needs_rendering():
    html = fixture_text("list_js.html")
    tree = lxml.html.fromstring(html)
    assert needs_render(tree) is True
    facts = extract(tree, SITE + "/zwdt/gzdt/", today=TODAY)
    assert facts.needs_render is True and facts.list_items == [] and not facts.placeholder
    assert facts.breadcrumb == ["首页", "工作动态"]


def test_pages_with_content_or_without_scripts_need_no_rendering():
    assert needs_render(lxml.html.fromstring(fixture_text("list_trs.html"))) is False
    no_script = "<html><body><ul class='news-list'></ul></body></html>"
    assert needs_render(lxml.html.fromstring(no_script)) is False


def test_only_empty_list_containers_with_a_name_count_as_waiting_for_a_script():
    script = "<script src='/js/list.js'></script>"
    cases = {
        "<ul class='news-list'><!-- filled by list.js --></ul>": True,      # a comment is nothing
        "<div id='news-list'>\n   \t</div>": True,
        "<table class='grid'><tbody id='list-rows'></tbody></table>": True,  # the empty tbody
        "<ul class='news-list'><li></li></ul>": False,                     # an item, even empty
        "<ul class='news-list'>暂无信息</ul>": False,
        "<ul class='news-list'>&nbsp;</ul>": False,                        # XPath's whitespace only
        "<ul><!-- filled by list.js --></ul>": False,                       # no class or id
        "<span class='news-list'></span>": False,                           # not a container
    }
    for body, expected in cases.items():
        tree = lxml.html.fromstring(f"<html><head>{script}</head><body>{body}</body></html>")
        assert needs_render(tree) is expected, body


def test_rendered_list_is_read_like_a_served_one():
    html = fixture_text("list_js.html").replace(
        '<ul id="newsList" class="news-list"></ul>',
        '<ul id="newsList" class="news-list"><li><a href="/zwdt/gzdt/a1.html">区政府召开常务会议研究重点工作'
        '</a><span>2026-11-20</span></li></ul>')
    facts = extract(lxml.html.fromstring(html), SITE + "/zwdt/gzdt/", today=TODAY)
    assert [(i.url, i.date) for i in facts.list_items] == [(SITE + "/zwdt/gzdt/a1.html", "2026-11-20")]
    assert facts.needs_render is False


def test_article_published_date_from_meta_pubdate():
    facts = facts_of("article_meta.html", SITE + "/zwdt/qxyw/202611/t20261110_1.html")
    assert facts.published == "2026-11-10"
    assert facts.breadcrumb == ["首页", "政务动态", "清溪要闻"]
    assert facts.text.splitlines()[0] == "区政府召开常务会议"
    assert "会议指出，要统筹推进各项任务落实。" in facts.text
    assert "联系我们" not in facts.text


def test_article_published_date_from_the_labelled_line():
    facts = facts_of("article_text.html", SITE + "/zwgk/tzgg/a.html")
    assert facts.published == "2026-10-28"       # 发布时间, not the signature date below it


@pytest.mark.parametrize("meta", [
    '<meta name="pubdate" content="2026/11/10">',
    '<meta property="article:published_time" content="2026-11-10T08:00:00+08:00">',
])
def test_other_published_meta_tags(meta):
    html = f"<html><head>{meta}</head><body><p>正文</p></body></html>"
    assert extract(lxml.html.fromstring(html), SITE + "/a.html", today=TODAY).published == "2026-11-10"


def test_gbk_page_decoded_by_the_crawler_reads_the_same():
    raw = (fixture_text.__globals__["FIXTURES"] / "list_gbk.html").read_bytes()
    assert "人事信息".encode("gbk") in raw
    facts = extract(lxml.html.fromstring(raw.decode("gbk")), SITE + "/zwgk/rsxx/", today=TODAY)
    assert facts.breadcrumb == ["首页", "政务公开", "人事信息"]
    assert facts.title == "人事信息_清溪区人民政府"
    assert len(facts.list_items) == 3


def test_breadcrumb_made_of_links_without_separators():
    html = ("<html><body><div class='location'><a href='/'>首页</a><a href='/zwgk/'>政务公开</a>"
            "<a href='/zwgk/tzgg/'>通知公告</a></div></body></html>")
    assert extract(lxml.html.fromstring(html), SITE + "/zwgk/tzgg/", today=TODAY).breadcrumb == [
        "首页", "政务公开", "通知公告"]


def test_query_pagination_with_next_and_last_only():
    html = ("<html><body><ul class='list'><li><a href='a.html'>关于开展安全生产大检查的通知</a>"
            "<span>2026-11-01</span></li></ul><div><a href='list.jsp?cat=3&amp;pageNo=2'>下一页</a>"
            "<a href='list.jsp?cat=3&amp;pageNo=4'>尾页</a></div></body></html>")
    facts = extract(lxml.html.fromstring(html), SITE + "/list.jsp?cat=3", today=TODAY)
    assert facts.pagination == [SITE + f"/list.jsp?cat=3&pageNo={n}" for n in (2, 3, 4)]


def test_odd_html_gives_facts_not_errors():
    html = ("<html><body><a href='javascript:void(0)'>打开</a><li><a>无链接</a></li>"
            "<a href='http://[bad'>坏链接</a><!-- c --><table><tr><td>孤立单元格" + "<div>" * 240
            + "深层文字</body></html>")
    facts = extract(lxml.html.fromstring(html), SITE + "/", today=TODAY)
    assert "深层文字" in facts.text
    assert facts.list_items == [] and facts.nav_links == []


def test_layout_classes_do_not_hide_content():
    html = ("<html><body><div class='position-relative border-bottom'><ul class='list'>"
            "<li><a href='/a/1.html'>区政府召开常务会议研究部署重点工作</a><span>2026-11-20</span></li></ul>"
            "</div><div class='bottom'>主办单位：清溪区人民政府办公室</div>"
            "<div class='page-position'>当前位置：首页 &gt; 工作动态</div></body></html>")
    facts = extract(lxml.html.fromstring(html), SITE + "/gzdt/", today=TODAY)
    assert [i.date for i in facts.list_items] == ["2026-11-20"]
    assert "区政府召开常务会议" in facts.text and "主办单位" not in facts.text
    assert facts.breadcrumb == ["首页", "工作动态"]
