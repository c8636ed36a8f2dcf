"""Typos and wrong expressions in page text (错别字、严重表述错误、不规范表述、个人信息).

``TextChecker(leaders, data_dir).check(text, published)`` proofreads one text;
``check_site(crawl, ctx)`` proofreads a whole crawl.  Pure functions over plain data: the
word lists live in patroldata/text/, the word frequencies come from jieba's bundled dictionary.
"""
from typing import Any

from checks.text.checker import TextChecker
from checks.text.flags import TextFlag, highlight

__all__ = ["TextChecker", "TextFlag", "check_site", "highlight"]


def __getattr__(name: str) -> Any:
    # check_site (and the crawl model it needs) is imported on first use: `patrol text`
    # proofreads drafts without it and starts faster.
    if name == "check_site":
        from checks.text.site import check_site

        return check_site
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
