"""Decoding and link extraction from saved HTML, with no crawl and no network."""
from __future__ import annotations

from crawler.pages import anchor_names, css_urls, decode_html, iter_links, needs_render, parse_html, srcset_urls


def test_declared_gbk_page_decodes_as_gb18030():
    html = '<html><head><meta charset="gbk"><title>通知公告</title></head><body>镕</body></html>'
    text, encoding = decode_html(html.encode("gb18030"), "text/html")
    assert encoding == "gb18030"
    assert "通知公告" in text and "镕" in text


def test_header_charset_wins_over_sniffing():
    body = "<p>政务公开</p>".encode("gbk")
    text, encoding = decode_html(body, "text/html; charset=GB2312")
    assert encoding == "gb18030" and "政务公开" in text


def test_undeclared_gb18030_page_is_sniffed():
    body = "<html><body><a href='/a.html'>部门动态</a></body></html>".encode("gb18030")
    text, encoding = decode_html(body, "text/html")
    assert encoding == "gb18030" and "部门动态" in text


def test_wrong_utf8_declaration_falls_back_to_gb18030():
    body = '<meta charset="utf-8"><p>人事信息</p>'.encode("gb18030")
    text, _ = decode_html(body, "")
    assert "人事信息" in text


def test_links_of_every_kind_are_extracted_with_anchor_text():
    html = """<html><head><base href="http://x.gov.cn/zwgk/">
      <link rel="stylesheet" href="/css/site.css"><link rel="dns-prefetch" href="//cdn.x.cn">
      <script src="js/app.js"></script><meta http-equiv="refresh" content="30; url=/index.html"></head>
      <body><a href="tzgg/a.html"> 关于 <b>开展</b> 巡检的通知 </a><a href="#top">top</a>
      <img src="/img/logo.png" alt="区徽"><iframe src="/map.html"></iframe>
      <a href="/files/plan.pdf">附件</a><object data="/flash/x.swf"></object></body></html>"""
    links = list(iter_links(parse_html(html), "http://x.gov.cn/index.html"))
    by_url = {url: (tag, anchor) for url, tag, anchor, _ in links}
    assert by_url["http://x.gov.cn/zwgk/tzgg/a.html"] == ("a", "关于 开展 巡检的通知")
    assert by_url["http://x.gov.cn/css/site.css"][0] == "link"
    assert by_url["http://x.gov.cn/zwgk/js/app.js"][0] == "script"
    assert by_url["http://x.gov.cn/index.html"][0] == "meta"
    assert by_url["http://x.gov.cn/img/logo.png"] == ("img", "区徽")
    assert by_url["http://x.gov.cn/map.html"][0] == "iframe"
    assert by_url["http://x.gov.cn/files/plan.pdf"] == ("a", "附件")
    assert by_url["http://x.gov.cn/flash/x.swf"][0] == "object"
    assert not any("cdn.x.cn" in url for url in by_url)
    assert not any(url.endswith("#top") for url in by_url)


def test_empty_list_filled_by_script_needs_rendering():
    html = """<html><body><ul class="list" id="list"></ul>
      <script>document.getElementById('list').innerHTML = '<li>x</li>'</script></body></html>"""
    assert needs_render(parse_html(html))


def test_static_list_does_not_need_rendering():
    html = """<html><body><ul class="list"><li><a href="/a.html">a</a></li></ul>
      <script>var x = 1;</script></body></html>"""
    assert not needs_render(parse_html(html))


def test_links_in_every_attribute_and_in_css_are_extracted_with_their_attribute():
    html = """<html manifest="/app.appcache"><head><style>
        .a { background: url('/img/block.png') } @import "/css/more.css";
        @font-face { src: url(/font/f.woff2) format("woff2"), url(data:font/woff2;base64,AA) }
        /* url(/img/comment.png) */</style></head>
      <body background="/img/bg.png"><div style="background:url(&quot;/img/inline.png&quot;)"></div>
      <img src="/img/a.png" srcset="/img/a.png 1x, /img/a@2x.png 2x">
      <picture><source srcset="/img/s.webp 100w, /img/s2.webp 200w"></picture>
      <table background="/img/t.png"><tr><td background="/img/td.png"></td></tr></table>
      <video poster="/img/p.jpg"><track src="/media/sub.vtt"></video>
      <input type="image" src="/img/go.png" alt="搜索"><input type="text" src="/img/no.png">
      <button formaction="/submit.do">提交</button>
      <object data="/flash/a.swf" codebase="/cab/a.cab"></object>
      <applet code="Main.class" archive="a.jar, b.jar" codebase="/applets/"></applet></body></html>"""
    found = {(url.replace("http://x.gov.cn", ""), tag, attr)
             for url, tag, _, attr in iter_links(parse_html(html), "http://x.gov.cn/index.html")}
    assert found == {
        ("/app.appcache", "html", "manifest"), ("/img/block.png", "style", "css"), ("/css/more.css", "style", "css"),
        ("/font/f.woff2", "style", "css"), ("/img/bg.png", "body", "background"), ("/img/inline.png", "div", "style"),
        ("/img/a.png", "img", ""), ("/img/a.png", "img", "srcset"), ("/img/a@2x.png", "img", "srcset"),
        ("/img/s.webp", "source", "srcset"), ("/img/s2.webp", "source", "srcset"), ("/img/t.png", "table", "background"),
        ("/img/td.png", "td", "background"), ("/img/p.jpg", "video", "poster"), ("/media/sub.vtt", "track", ""),
        ("/img/go.png", "input", "src"), ("/submit.do", "button", "formaction"), ("/flash/a.swf", "object", ""),
        ("/cab/a.cab", "object", "codebase"), ("/applets/Main.class", "applet", "code"),
        ("/applets/a.jar", "applet", "archive"), ("/applets/b.jar", "applet", "archive"),
    }


def test_a_refresh_to_what_is_no_url_is_said_not_followed():
    html = '<html><head><meta http-equiv="refresh" content="0;url=http://[broken/x"></head></html>'
    problems: list[str] = []
    assert list(iter_links(parse_html(html), "http://x.gov.cn/p.html", problems)) == []
    assert len(problems) == 1 and "http://[broken/x" in problems[0]


def test_a_base_that_does_not_parse_is_ignored_and_said():
    html = '<html><head><base href="http://[broken/"></head><body><a href="a.html">a</a></body></html>'
    problems: list[str] = []
    links = [url for url, *_ in iter_links(parse_html(html), "http://x.gov.cn/zw/p.html", problems)]
    assert links == ["http://x.gov.cn/zw/a.html"]
    assert len(problems) == 1 and "http://[broken/" in problems[0]


def test_same_page_fragments_are_collected_apart_from_links():
    html = '<html><body><a href="#sec2">二</a><a href="#">空</a><a href="b.html#x">b</a></body></html>'
    fragments: list[str] = []
    links = [url for url, *_ in iter_links(parse_html(html), "http://x.gov.cn/p.html", None, fragments)]
    assert links == ["http://x.gov.cn/b.html#x"]
    assert fragments == ["http://x.gov.cn/p.html#sec2"]


def test_srcset_candidates_follow_the_standard_parser():
    assert srcset_urls("a.jpg 1x, b.jpg 2x") == ["a.jpg", "b.jpg"]
    assert srcset_urls("a.jpg, b.jpg 640w,c.jpg") == ["a.jpg", "b.jpg", "c.jpg"]
    assert srcset_urls(" img,1.jpg 1x ,  x.jpg (max-width: 600px, x) 2x, y.jpg") == ["img,1.jpg", "x.jpg", "y.jpg"]


def test_css_urls_in_every_form():
    css = """a{background:url(a.png)} b{background:url( "b.png" )} c{background:URL('c.png')}
             @import 'd.css'; @import url(e.css) screen; /* url(f.png) */ x{src:url(data:x)} y{behavior:url()}"""
    assert css_urls(css) == ["a.png", "b.png", "c.png", "d.css", "e.css"]


def test_anchor_names_are_ids_and_a_names_and_what_a_script_mentions():
    tree = parse_html('<html><body><h2 id="one">1</h2><a name="two">2</a><div name="three"></div>'
                      '<script>makeAnchor("four")</script></body></html>')
    assert anchor_names(tree, {"one", "four", "five"}) == ["four", "one", "two"]


def test_a_page_without_the_rarer_links_is_read_the_same_with_its_source():
    html = ('<html><body><a href="/a.html">a</a><img src="/i.png" alt="图"><input type="image" src="/go.png">'
            '<div style="background:URL(/bg.png)"></div><TD BACKGROUND="/td.png"></TD></body></html>')
    tree = parse_html(html)
    with_source = list(iter_links(tree, "http://x.gov.cn/", source=html.encode()))
    assert with_source == list(iter_links(tree, "http://x.gov.cn/"))
    assert ("http://x.gov.cn/bg.png", "div", "", "style") in with_source
    plain = '<html><body><a href="/a.html">a</a><img src="/i.png" alt="图"></body></html>'
    assert list(iter_links(parse_html(plain), "http://x.gov.cn/", source=plain.encode())) == [
        ("http://x.gov.cn/a.html", "a", "a", ""), ("http://x.gov.cn/i.png", "img", "图", "")]
