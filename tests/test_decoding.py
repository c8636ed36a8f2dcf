"""The one HTML decoder (common/decoding.py), built on w3lib's html_to_unicode."""
from common.decoding import declared_encoding, decode_html


def test_gb2312_and_gbk_declarations_read_as_gb18030():
    # 镕 and 喆 are outside GB2312 but written by GBK/GB18030 pages that declare gb2312
    body = "朱镕基 张喆 通知".encode("gb18030")
    assert decode_html(body, "text/html; charset=GB2312") == ("朱镕基 张喆 通知", "gb18030")
    assert declared_encoding("", b'<meta http-equiv="Content-Type" content="text/html; charset=gbk">') == "gb18030"


def test_a_declaration_the_bytes_contradict_is_not_trusted():
    body = '<meta charset="utf-8"><p>关于做好防汛工作的通知</p>'.encode("gbk")
    text, encoding = decode_html(body, "text/html; charset=utf-8")
    assert "关于做好防汛工作的通知" in text and encoding == "gb18030"


def test_bom_wins_and_undeclared_pages_are_sniffed():
    assert decode_html(b"\xef\xbb\xbf" + "政务公开".encode(), "text/html; charset=gbk") == ("政务公开", "utf-8")
    assert decode_html("政务公开".encode("utf-16-le").join([b"\xff\xfe", b""]))[0] == "政务公开"
    assert decode_html("政务公开".encode("gb18030")) == ("政务公开", "gb18030")


def test_undecodable_bytes_are_replaced_and_marked():
    text, encoding = decode_html(b"abc \xff\xfe\x81 def", "text/html; charset=x-unknown-charset")
    assert text.startswith("abc ") and text.endswith(" def") and "\ufffd" in text
    assert encoding.endswith("?")
