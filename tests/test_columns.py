import pytest
from freshness_helpers import fixture_text, list_page, snapshot

from checks.columns import categorise, column_key, discover, keywords, placeholder_phrases
from checks.model import LinkRef, PageSnapshot, SiteCrawl

S = "http://www.qx.gov.cn"
MENU = [(S + "/", "首页"), (S + "/zwdt/qxyw/", "清溪要闻"), (S + "/zwgk/tzgg/", "通知公告"),
        (S + "/zwgk/rsxx/", "人事信息"), (S + "/jggk/jgzn/", "机构职能")]


@pytest.mark.parametrize("name, category", [
    ("清溪要闻", "dynamic"), ("部门动态", "dynamic"), ("新闻中心", "dynamic"), ("图片新闻", "dynamic"),
    ("通知公告", "notice"), ("政策文件", "notice"), ("政策解读", "notice"), ("公示公告", "notice"),
    ("人事信息", "yearly"), ("规划计划", "yearly"), ("人事任免通知", "yearly"), ("财政预决算", "yearly"),
    ("机构职能", "none"), ("领导信息", "none"), ("政府信息公开指南", "none"), ("专题专栏", "none"),
])
def test_columns_are_categorised_by_the_longest_keyword(name, category):
    assert categorise(name)[0] == category


def test_keyword_file_has_every_category_and_placeholders():
    table = keywords()
    assert set(table) == {"dynamic", "notice", "yearly", "none"}
    assert "要闻" in table["dynamic"] and "通知公告" in table["notice"] and "人事" in table["yearly"]
    assert "暂无信息" in placeholder_phrases() and "暂无数据" in placeholder_phrases()


@pytest.mark.parametrize("a, b", [
    (S + "/zwgk/tzgg/", S + "/zwgk/tzgg/index.html"),
    (S + "/zwgk/tzgg", S + "/zwgk/tzgg/index.shtml#top"),
    ("HTTP://WWW.QX.GOV.CN/zwgk/", S + "/zwgk/default.htm"),
])
def test_one_column_url_in_its_several_spellings(a, b):
    assert column_key(a) == column_key(b)


def test_query_tells_columns_apart():
    assert column_key(S + "/list.jsp?cat=1") != column_key(S + "/list.jsp?cat=2")


def _site(*pages: PageSnapshot) -> SiteCrawl:
    return SiteCrawl(name="清溪区人民政府", url=S + "/", pages=list(pages), homepage_url=S + "/")


def _home(extra: str = "") -> PageSnapshot:
    menu = "".join(f'<li><a href="{u}">{n}</a></li>' for u, n in MENU)
    return snapshot(f'<html><body><div class="nav"><ul>{menu}</ul></div>{extra}</body></html>', S + "/", depth=0)


def test_columns_come_from_menus_with_menu_names_and_categories():
    crawl = _site(
        _home(),
        snapshot(list_page("", "要闻", ["2026-11-20"], nav=MENU), S + "/zwdt/qxyw/"),
        snapshot(list_page("", "通知公告", ["2026-11-10"], nav=MENU), S + "/zwgk/tzgg/index.html"),
        snapshot(list_page("", "人事信息", ["2026-03-01"], nav=MENU), S + "/zwgk/rsxx/"),
    )
    cols = {c.name: c for c in discover(crawl)}
    assert set(cols) == {"清溪要闻", "通知公告", "人事信息", "机构职能"}
    assert cols["清溪要闻"].name_from == "menu"                    # not the page's own 要闻
    assert (cols["清溪要闻"].category, cols["清溪要闻"].category_from) == ("dynamic", "要闻")
    assert cols["通知公告"].url == S + "/zwgk/tzgg/index.html"     # as crawled
    assert cols["人事信息"].category == "yearly"
    assert cols["机构职能"].kind == "missing"                      # in the menu, not crawled


def test_column_reached_only_through_a_more_link_is_named_by_its_block_heading():
    home = _home('<div class="box"><div class="hd"><h3>乡镇动态</h3><a href="/xzdt/">更多&gt;&gt;</a></div></div>')
    crawl = _site(home, snapshot(list_page("", "乡镇信息", ["2026-11-01"], crumbs=()), S + "/xzdt/"))
    col = next(c for c in discover(crawl) if c.url == S + "/xzdt/")
    assert col.found_by == ["more"]
    # The page's own breadcrumb outranks the heading of the block that links to it.
    assert (col.name, col.name_from) == ("乡镇信息", "breadcrumb")
    assert (col.category, col.category_from) == ("dynamic", "动态")   # the heading's name decides
    crawl.pages[1].breadcrumb = []
    col = next(c for c in discover(crawl) if c.url == S + "/xzdt/")
    assert (col.name, col.name_from, col.category) == ("乡镇动态", "heading", "dynamic")


def test_column_found_only_through_an_article_breadcrumb():
    article = snapshot(fixture_text("article_meta.html").replace('<li><a href="/zwdt/qxyw/">清溪要闻</a></li>', ""),
                       S + "/zwdt/qxyw/202611/t20261110_1.html", depth=2)
    assert all(ref.url != S + "/zwdt/qxyw/" for ref in article.nav_links)
    column = snapshot(list_page("", "清溪要闻", ["2026-11-10"], crumbs=("首页", "政务动态")), S + "/zwdt/qxyw/")
    crawl = _site(snapshot("<html><body><p>首页</p></body></html>", S + "/", depth=0), article, column)
    cols = {c.url: c for c in discover(crawl)}
    assert cols[S + "/zwdt/qxyw/"].found_by == ["breadcrumb"]
    assert cols[S + "/zwdt/qxyw/"].parent == "政务动态"
    assert S + "/" not in cols                                          # 首页 is never a column


def test_later_list_pages_and_sub_columns():
    first = snapshot(fixture_text("list_trs.html"), S + "/zwgk/tzgg/index.html")
    second = snapshot(fixture_text("list_trs.html").replace("createPageHTML(4, 0,", "createPageHTML(4, 1,"),
                      S + "/zwgk/tzgg/index_1.html")
    second.nav_links.append(LinkRef(url=S + "/zwgk/tzgg/index_1.html", tag="a", anchor="通知公告"))
    crawl = _site(_home(), first, second)
    cols = {c.key: c for c in discover(crawl)}
    tzgg = cols[column_key(S + "/zwgk/tzgg/")]
    assert tzgg.pages == [S + "/zwgk/tzgg/index.html", S + "/zwgk/tzgg/index_1.html"]
    assert column_key(S + "/zwgk/tzgg/index_1.html") not in cols
    # The side menu of the column page names its sibling sub-columns.
    assert {column_key(S + "/zwgk/zcwj/"), column_key(S + "/zwgk/rsxx/")} <= set(cols)


def test_parent_page_of_sub_column_blocks_is_a_section_not_a_column():
    blocks = "".join(f'<div class="block"><div class="block-title"><h3>{n}</h3><a class="more" href="{u}">更多</a>'
                     f'</div><ul><li><a href="{u}202611/t20261101_{i}.html">{n}标题示例第一条信息</a>'
                     f'<span>2026-11-01</span></li></ul></div>'
                     for i, (u, n) in enumerate([("/zwgk/tzgg/", "通知公告"), ("/zwgk/zcwj/", "政策文件")]))
    menu = [(S + "/zwgk/", "政务公开")]
    section = snapshot(f'<html><body><div class="nav"><a href="{S}/zwgk/">政务公开</a></div>{blocks}</body></html>',
                       S + "/zwgk/")
    crawl = _site(_home(f'<div class="nav"><a href="{S}/zwgk/">政务公开</a></div>'), section,
                  snapshot(list_page("", "通知公告", ["2026-11-01"], nav=menu), S + "/zwgk/tzgg/"),
                  snapshot(list_page("", "政策文件", ["2026-11-01"], nav=menu), S + "/zwgk/zcwj/"))
    kinds = {c.name: c.kind for c in discover(crawl)}
    assert kinds["政务公开"] == "section"
    assert kinds["通知公告"] == kinds["政策文件"] == "list"


def test_external_hosts_files_and_pages_without_content():
    home = _home('<div class="nav"><a href="http://www.gov.cn/">中国政府网</a>'
                 '<a href="/files/guide.pdf">办事指南下载</a><a href="/zwgk/ywgz/">业务工作</a>'
                 '<a href="/jggk/jgzn/">机构职能</a></div>')
    empty = snapshot(list_page("", "业务工作", [], nav=MENU), S + "/zwgk/ywgz/")
    single = snapshot('<html><body><div class="content"><h1>机构职能</h1><p>'
                      + "负责全区政务公开工作的组织协调和监督检查。" * 8 + "</p></div></body></html>", S + "/jggk/jgzn/")
    kinds = {c.name: c.kind for c in discover(_site(home, empty, single))}
    assert "中国政府网" not in kinds and "办事指南下载" not in kinds
    assert kinds["业务工作"] == "empty"
    assert kinds["机构职能"] == "page"


def test_site_rules_add_rename_recategorise_and_ignore():
    crawl = _site(
        _home(),
        snapshot(list_page("", "清溪要闻", ["2026-11-20"], nav=MENU), S + "/zwdt/qxyw/"),
        snapshot(list_page("", "通知公告", ["2026-11-10"], nav=MENU), S + "/zwgk/tzgg/"),
        snapshot(list_page("", "人事信息", ["2026-03-01"], nav=MENU), S + "/zwgk/rsxx/"),
        snapshot(list_page("", "专项资金", ["2026-01-01"]), S + "/zxzj/"),
    )
    rules = [
        {"url": "/zxzj/", "name": "专项资金公开", "category": "notice"},         # add (not in any menu)
        {"url": S + "/zwdt/qxyw/index.html", "name": "区政府要闻"},            # rename
        {"url": "/zwgk/tzgg/", "category": "yearly"},                           # re-categorise
        {"url": "/zwgk/rsxx/", "ignore": True},                                 # ignore
    ]
    cols = {c.key: c for c in discover(crawl, rules)}
    added = cols[column_key(S + "/zxzj/")]
    assert (added.name, added.category, added.found_by, added.kind) == ("专项资金公开", "notice", ["config"], "list")
    renamed = cols[column_key(S + "/zwdt/qxyw/")]
    assert (renamed.name, renamed.name_from, renamed.category) == ("区政府要闻", "config", "dynamic")
    assert (cols[column_key(S + "/zwgk/tzgg/")].category, cols[column_key(S + "/zwgk/tzgg/")].category_from) == (
        "yearly", "config")
    assert cols[column_key(S + "/zwgk/rsxx/")].ignore is True


def test_rules_may_be_the_config_dataclasses():
    from common.config import ColumnRule

    crawl = _site(_home(), snapshot(list_page("", "通知公告", ["2026-11-10"], nav=MENU), S + "/zwgk/tzgg/"))
    cols = {c.key: c for c in discover(crawl, [ColumnRule(url="/zwgk/tzgg/", ignore=True)])}
    assert cols[column_key(S + "/zwgk/tzgg/")].ignore is True


def test_a_trs_channel_page_named_like_page_n_is_a_column():
    """政府文件 lives at /zwgk/index_257.html: no list's pager reaches it, a menu names it."""
    home = _home(f'<div class="nav"><a href="{S}/zwgk/index_257.html">政府文件</a></div>')
    channel = snapshot(list_page("", "政府文件", ["2026-11-01", "2026-10-20"], nav=MENU), S + "/zwgk/index_257.html")
    cols = {c.name: c for c in discover(_site(home, channel))}
    assert cols["政府文件"].kind == "list" and cols["政府文件"].url == S + "/zwgk/index_257.html"
    uncrawled = {c.name: c for c in discover(_site(home))}
    assert uncrawled["政府文件"].kind == "missing"                 # named in a menu: still a column


def test_block_headings_tabs_and_directories_name_columns_not_articles():
    lead = '<div class="title"><a href="/zx/xq-86092.html">连任国家主席——习近平引领中国走向强盛</a></div>'
    items = "".join(f'<li><a href="/zx/xq-8600{i}.html">第{i}条要闻标题示例文字内容</a></li>' for i in range(3))
    html = (f'<div class="focus"><span class="mark">要闻</span>{lead}<ul>{items}</ul>'
            f'<div class="more_news"><a href="/zx/list-23.html">更多</a></div></div>'
            '<div class="box"><h3><a href="/zwgk/tzgg/">通知公告</a><a href="/zwgk/zcwj/">政策文件</a></h3>'
            '<ul><li><a href="/zwgk/tzgg/a1.html">关于开展安全检查的通知全文</a><span>[03-06]</span></li>'
            '<li><a href="/zwgk/tzgg/a2.html">关于做好防汛工作的通知全文</a><span>[02-26]</span></li></ul></div>'
            '<div class="quick"><dl><dt><a href="/wycx"><img src="1.jpg"></a></dt><dd><a href="/wycx">查询指南</a></dd></dl>'
            '<dl><dd><a href="/wydk">·贷款指南</a></dd></dl><dl><dd><a href="/ywwd/">经办网点</a></dd></dl></div>')
    home = _home(html)
    cols = {c.url: (c.name, c.found_by) for c in discover(_site(home), uncrawled=True)}
    assert cols[S + "/zx/list-23.html"] == ("要闻", ["more"])          # not the lead article's title
    assert "more" in cols[S + "/zwgk/tzgg/"][1] and cols[S + "/zwgk/zcwj/"] == ("政策文件", ["more"])
    assert cols[S + "/wydk"] == ("贷款指南", ["directory"])
    assert not any("xq-" in u for u in cols)
    # crawled, a directory link that leads to no list is no column
    empty = snapshot("<html><body><p>请拨打服务电话</p></body></html>", S + "/ywwd/")
    assert S + "/ywwd/" not in {c.url for c in discover(_site(home, empty))}


def test_sign_in_user_centre_search_language_and_font_size_links_are_not_columns():
    tools = [("/uc/", "用户中心"), ("/login.jsp", "登录"), ("/search/", "站内搜索"), ("/en/", "English"),
             ("/wza/", "无障碍"), ("/zh/", "繁体版"), ("/zwgk/tzgg/", "通知公告")]
    menu = "".join(f'<a href="{u}">{n}</a>' for u, n in tools)
    names = {c.name for c in discover(_site(_home(f'<div class="nav">{menu}</div>')))}
    assert "通知公告" in names
    assert not names & {"用户中心", "登录", "站内搜索", "English", "无障碍", "繁体版"}


def test_a_grid_of_boxed_links_is_a_directory_but_a_bar_of_sub_site_platforms_is_not():
    cells = [("/xxgk/zdxm/", "重大项目"), ("/xxgk/ghjh/", "规划计划"), ("/xxgk/gzbg/", "工作报告"),
             ("http://xxgk.qx.gov.cn/columns/1481/", "法规文件")]
    grid = "".join(f'<td><div align="center"><a href="{u}">{n}</a></div></td>' for u, n in cells)
    bar = "".join(f'<li><a href="http://{h}.qx.gov.cn/"><b>{n}</b></a></li>'
                  for h, n in [("splc", "审判流程公开"), ("ws", "裁判文书公开"), ("zx", "执行信息公开")])
    home = snapshot(f'<html><body><table><tr>{grid}</tr></table><ul class="bar">{bar}</ul>'
                    '<ul><li><a href="/zx/">资讯</a></li></ul></body></html>', "http://www.qx.gov.cn/", depth=0)
    crawl = SiteCrawl(name="清溪", url="http://www.qx.gov.cn/", pages=[home], homepage_url="http://www.qx.gov.cn/")
    names = {c.name for c in discover(crawl, uncrawled=True)}
    assert {"重大项目", "规划计划", "工作报告", "法规文件"} <= names        # a sub-site among the site's own
    assert not names & {"审判流程公开", "裁判文书公开", "执行信息公开"}      # the platforms' bar


def test_the_sites_public_information_on_its_citys_platform_is_a_column():
    # A district's 政府信息公开 lives on the city's platform, another host; other hosts' links
    # in the same menu are still not columns.
    home = _home('<div class="nav"><a href="http://www.gov.cn/">中国政府网</a>'
                 '<a href="http://zfxxgk.example.gov.cn/110094/zfxxgknb/list.shtml">政府信息公开年报</a>'
                 '<a href="/jggk/jgzn/">机构职能</a></div>')
    names = {c.name: c.url for c in discover(_site(home))}
    assert names.get("政府信息公开年报") == "http://zfxxgk.example.gov.cn/110094/zfxxgknb/list.shtml"
    assert "中国政府网" not in names


def _columns(html: str) -> dict[str, str]:
    home = snapshot(f"<html><body>{html}</body></html>", S + "/", depth=0)
    return {c.url: c.name for c in discover(_site(home), uncrawled=True)}


def test_image_tabs_over_lists_a_script_writes_are_columns():
    # Tab bars of pictures (the name is painted on the image) over panes that a script fills.
    tabs = ('<div class="news-bt"><ul>'
            '<li><a href="list.html?/XW/YW/"><img src="tab_1_on.gif" alt="" id="1"></a></li>'
            '<li><a href="/zwgk/tzgg/"><img src="tab_2_off.gif" alt="通知公告"></a></li>'
            '<li><a href="http://www.gov.cn/pushinfo/index.htm"><img src="tab_3_off.gif" alt=""></a></li>'
            '</ul></div>'
            '<div id="context"><div id="p1"><script>homelist4index(1,"XW/YW");</script></div>'
            '<div style="display:none"><script>homelist4index(1,"ZWGK/TZGG");</script></div></div>')
    cols = _columns(tabs)
    assert cols[S + "/zwgk/tzgg/"] == "通知公告"                   # named by the picture's alt
    assert cols[S + "/list.html?/XW/YW/"] == S + "/list.html?/XW/YW/"   # no name to read: its address
    assert not any("gov.cn/pushinfo" in u for u in cols)           # another site's feed
    # a heading over a block that a script fills (<script src>) names its column
    cols = _columns('<div class="box"><h3><a href="/zwgk/zfxxgk/">本区工作动态</a></h3>'
                    '<div class="content"><script src="/js/sy_gkdt.js"></script><!-- <ul></ul> --></div></div>')
    assert cols == {S + "/zwgk/zfxxgk/": "本区工作动态"}


def test_a_heading_over_nothing_a_script_writes_is_no_column():
    # the same tabs over a block of text, or over a script that only switches tabs
    assert _columns('<div class="news-bt"><a href="/zwgk/a/"><img src="t.gif" alt=""></a></div>'
                    '<div class="intro">本区位于城市东部，面积四百平方公里。</div>') == {}
    assert _columns('<div class="box"><h3><a href="/zwgk/zfxxgk/">本区工作动态</a></h3>'
                    '<script>$(".box h3").hover(function(){ $(this).addClass("cur"); });</script></div>') == {}


def test_picture_buttons_of_the_sites_own_host_are_columns_named_by_alt_or_title():
    html = ('<div class="platform">'
            '<a href="/hudong-gengduo-36.html"><img src="p6.png" title="院长信箱" alt="院长信箱"></a>'
            '<a href="http://zhixing.qx.gov.cn/search"><img src="p2.png" alt="被执行人信息查询"></a>'
            '<a href="http://liuyan.example.org/"><img src="p7.png" alt="给大法官留言"></a></div>'
            '<div class="zt"><a href="/xuandiao.html" title="2016年公开选调干部工作专栏"><img src="x.png"></a>'
            '<a href="/zixun-xiangqing-13511.html"><img src="y.jpg" alt="全国模范法官邹碧华"></a>'
            '<a href="/files/jj.pdf" title="中英文简介"><img src="z.png"></a>'
            '<a href="/"><img src="logo.png" alt="清溪区人民政府"></a></div>')
    cols = _columns(html)
    assert cols == {S + "/hudong-gengduo-36.html": "院长信箱", S + "/xuandiao.html": "2016年公开选调干部工作专栏"}


def test_the_parts_of_the_public_information_platform_on_another_host_are_columns():
    # a district's 政府信息公开 box: every link goes to the city's platform, two to documents
    # (content_<hex>.shtml); 依申请公开 is one of the platform's parts as well
    rows = [("http://zfxxgk.bj.gov.cn/qx/zfxxgkzn/content_7e6da208ff9c487a90ca7ec55f5007a5.shtml", "政府信息公开指南"),
            ("http://zfxxgk.bj.gov.cn/zdbz/content_ea57de0a63c04f73b057ecd785f9cf12.shtml", "依申请公开申请流程"),
            ("http://zfxxgk.bj.gov.cn/qx/zfxxgknb/ft_list.shtml", "政府信息公开年报"),
            ("http://zfxxgk.bj.gov.cn/qx/zfxxgkzn/content_7e6da208ff9c487a90ca7ec55f5007a5.shtml", "监督投诉"),
            ("http://zfxxgk.bj.gov.cn/qx/ftq_index.shtml", "政府信息公开目录")]
    table = "".join(f'<tr><td><img src="dot.gif"></td><td><a href="{u}">{n}</a></td></tr>' for u, n in rows)
    cols = _columns(f'<div class="zfxxgk-nrk"><table>{table}</table></div>'
                    '<div class="links"><a href="http://www.bj.gov.cn/a/">北京市政府</a>'
                    '<a href="http://www.gov.cn/">中国政府网</a><a href="http://www.tj.gov.cn/">天津市政府</a></div>')
    assert sorted(cols.values()) == sorted(["政府信息公开指南", "依申请公开申请流程", "政府信息公开年报", "政府信息公开目录"])


def test_a_ticker_of_notices_in_the_header_is_no_menu_and_tabs_name_their_more_links():
    # The header's scrolling ticker links to the page's articles; the notice tabs share one
    # "更多" box each, next to another block's heading (通知通告), and are named by the tabs.
    ticker = "".join(f'<li><a href="/news/nid/{n}" title="t"><span>通知：</span>关于第{n}号政府采购项目的补充通知</a></li>'
                     for n in (6002, 5992, 5642))
    panes = "".join(
        f'<div id="tab{t}-list" class="list"><ul>'
        + "".join(f'<li><a href="/news/nid/{t}{i}00">第{t}类政府采购项目第{i}条公告标题</a><span>2018-03-{10 + i}</span></li>'
                  for i in range(3))
        + f'</ul><div class="more"><a href="/news/tid/{t}"> >>更多</a></div></div>' for t in (1, 2))
    html = (f'<div class="top"><ul id="scrollNews">{ticker}</ul></div>'
            '<div class="box"><ul class="list-tab"><li id="tab1"><a href="/news/tid/1">需求公告</a></li>'
            f'<li id="tab2"><a href="/news/tid/2">招标公告</a></li></ul>{panes}</div>'
            '<div class="side"><div class="side-title"><div class="text">通知通告</div>'
            '<div class="more"><a href="/news/tid/7"> >>更多</a></div></div>'
            '<ul><li><a href="/news/nid/6002">关于第6002号政府采购项目的补充通知</a></li>'
            '<li><a href="/news/nid/5992">关于第5992号政府采购项目的补充通知</a></li></ul></div>')
    cols = _columns(html)
    assert cols == {S + "/news/tid/1": "需求公告", S + "/news/tid/2": "招标公告", S + "/news/tid/7": "通知通告"}


def test_a_short_menu_entry_stays_a_menu_entry_beside_article_addresses():
    # a menu whose entries share the address shape of articles (/news/nid/N) keeps its short names
    menu = '<div class="nav"><ul><li><a href="/news/nid/12">机构职能</a></li><li><a href="/news/nid/13">领导信息</a></li></ul></div>'
    items = "".join(f'<li><a href="/news/nid/{5000 + i}">关于做好第{i}批政府采购工作的通知</a><span>2018-03-0{i + 1}</span></li>'
                    for i in range(3))
    cols = _columns(f'{menu}<ul class="list">{items}</ul>')
    assert cols == {S + "/news/nid/12": "机构职能", S + "/news/nid/13": "领导信息"}


def test_a_link_opening_a_block_over_a_list_and_a_captioned_banner_name_columns():
    html = ('<div class="latestNewsBox"><a href="./zxxw/"><img src="i.png" alt="">最新新闻<i></i></a>'
            '<div class="roll"><ul><li><a href="./yw/201803/t20180313_14196.html">我国代表团赴德国参加卫星导航峰会</a></li>'
            '<li><a href="./yw/201802/t20180212_14128.html">我国成功发射第二十八、二十九颗北斗导航卫星</a></li></ul></div></div>'
            '<div class="wszt"><a href="/zt/xwfbh/wznfbh/"><img src="b.png"><div><p>开通五周年新闻发布会</p></div></a></div>'
            '<div class="pic"><a href="./yw/201803/t20180322_14244.html"><img src="v.png"><p>北斗宣传片</p></a></div>'
            '<p>正文说明：<a href="/zt/other/">另见专题</a></p><ul><li><a href="/a/1.html">某条</a></li><li><a href="/a/2.html">另条</a></li></ul>')
    cols = _columns(html)
    assert cols == {S + "/zxxw/": "最新新闻", S + "/zt/xwfbh/wznfbh/": "开通五周年新闻发布会"}


def test_contact_link_lists_site_map_and_weather_are_not_columns():
    menu = "".join(f'<li><a href="{u}">{n}</a></li>' for u, n in [
        ("/bz/cjwt/", "常见问题"), ("/bz/lxwm/", "联系我们"), ("/bz/yqlj/", "友情链接"), ("/wzdt/", "网站地图"),
        ("/tqyb/", "天气预报：")])
    names = {c.name for c in discover(_site(_home(f'<div class="nav"><ul>{menu}</ul></div>')))}
    assert "常见问题" in names and not names & {"联系我们", "友情链接", "网站地图", "天气预报："}


def test_a_row_of_more_links_one_per_plain_tab_is_named_by_the_tabs_in_order():
    tabs = "".join(f'<li id="one{i}" onmouseover="setTab(\'one\',{i},3)">{n}</li>'
                   for i, n in enumerate(["国务院要闻", "总局要闻", "政务信息"], 1))
    hide = ' style="display: none;"'
    mores = "".join(f'<span id="more_one_{i}"{hide if i > 1 else ""}>'
                    f'<a href="/xwdt/{u}/index.html">更多&gt;&gt;</a></span> '
                    for i, u in enumerate(["gwyyw", "399446", "136578"], 1))
    panes = "".join(f'<div id="con_one_{i}"><ul><li><a href="/xwdt/{u}/45{i}01/index.html">第{i}栏的第一条信息标题文字</a>'
                    f'<span>2018-03-2{i}</span></li><li><a href="/xwdt/{u}/45{i}02/index.html">第{i}栏的第二条信息标题文字</a>'
                    f'<span>2018-03-1{i}</span></li></ul></div>' for i, u in enumerate(["gwyyw", "399446", "136578"], 1))
    html = f'<div class="box"><div class="lib_Menubox"><ul class="left">{tabs}</ul><div class="mmore right">{mores}</div></div>{panes}</div>'
    cols = _columns(html)
    assert cols == {S + "/xwdt/gwyyw/index.html": "国务院要闻", S + "/xwdt/399446/index.html": "总局要闻",
                    S + "/xwdt/136578/index.html": "政务信息"}


def test_the_parts_of_public_information_and_a_sign_up_word_inside_another_name():
    # 公开指南/目录/年报 on the city's platform, 依申请公开 alone under the box; a menu entry with
    # 注册 in the middle of its name is a guide, 用户注册 is a sign-up link
    box = ('<div class="zfxxgk_box"><h3>政府信息公开</h3><ul>'
           '<li><a href="http://zfxxgk.bj.gov.cn/110089/zfxxgkzn/content_2b8670b0541549748f212ff1cc3a3045.shtml">公开指南</a></li>'
           '<li><a href="http://zfxxgk.bj.gov.cn/110089/cg_index.shtml">公开目录</a></li>'
           '<li><a href="http://zfxxgk.bj.gov.cn/110089/zfxxgknb/list.shtml">公开年报</a></li>'
           '<li><a href="/resource/2017080314215811480.doc">申请表</a></li></ul>'
           '<p><a href="/eportal/ui?pageId=136945">依申请公开</a></p>'
           '<p>另见<a href="http://splcgk.court.gov.cn/">中国审判流程信息公开</a>和'
           '<a href="/Article/ShowArticle.aspx?ArticleID=43989">依申请公开流程</a></p></div>')
    menu = ('<div class="nav"><ul><li><a href="/ztzl/357184/index.html">药品注册服务指南</a></li>'
            '<li><a href="/reg/">用户注册</a></li></ul></div>')
    cols = _columns(menu + box)
    assert set(cols.values()) == {"公开指南", "公开目录", "公开年报", "依申请公开", "药品注册服务指南"}
