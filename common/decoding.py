"""The one HTML decoder of patrol: bytes of a page to text, as a browser would read them.

Built on w3lib's ``html_to_unicode`` (Scrapy's own decoder), which takes the byte-order mark,
then the Content-Type header, then the ``<meta>`` declaration, and maps GB2312 and GBK to their
superset GB18030. One rule is added for real government sites: a declaration that the bytes
contradict (a page saying ``utf-8`` in GBK, a template copied from another site) is not
trusted; the body is sniffed as UTF-8, then GB18030, and decoded without loss when it can be.
The returned encoding ends in ``?`` when the text had to be decoded with replacement
characters.
"""
from __future__ import annotations

import codecs

from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding, read_bom

SNIFFED = ("utf-8", "gb18030")


def declared_encoding(content_type: str, body: bytes) -> str | None:
    """The encoding a response declares in its Content-Type header or a ``<meta>`` tag, in
    w3lib's normal form (GB2312 and GBK read as GB18030); None when it declares none or one
    Python does not know."""
    name = http_content_type_encoding(content_type or "") or html_body_declared_encoding(body[:4096])
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str = "") -> tuple[str, str]:
    """Decode an HTML body: ``(text, encoding)``."""
    bom, _ = read_bom(body)
    if bom:
        encoding, text = html_to_unicode(content_type, body)
        return text, encoding
    declared = declared_encoding(content_type, body)
    if declared:
        try:
            return body.decode(declared), declared
        except UnicodeDecodeError:
            pass  # a wrong declaration is common on real sites: sniff instead
    for encoding in SNIFFED:
        try:
            return body.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    encoding, text = html_to_unicode(content_type, body)
    return text, f"{codecs.lookup(encoding).name}?"
