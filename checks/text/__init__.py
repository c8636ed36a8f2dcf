"""Typos and wrong expressions in page text (错别字、严重表述错误、不规范表述、个人信息).

``TextChecker(leaders, data_dir).check(text, published)`` proofreads one text;
``check_site(crawl, ctx)`` proofreads a whole crawl.  Pure functions over plain data: the
word lists live in config/text/, the word frequencies come from jieba's bundled dictionary.
"""
from checks.text.checker import TextChecker
from checks.text.flags import TextFlag, highlight
from checks.text.site import check_site

__all__ = ["TextChecker", "TextFlag", "check_site", "highlight"]
