"""Decoding and link extraction from saved HTML, with no crawl and no network."""
from __future__ import annotations

from crawler.pages import decode_html, iter_links, needs_render, parse_html


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
