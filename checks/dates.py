"""Publish dates as government websites write them, in text and in article URLs.

List entries show ``2026-11-10``, ``2026/11/10``, ``2026.11.10``, ``2026年11月10日`` or a short
``[11-10]`` / ``11-10`` / ``11月10日`` without the year; article pages carry a time as well
(``2026-11-10 09:30:15``).  Content-management systems (TRS WCM, 大汉, 政府网站集约化平台)
put the date into the article URL: ``t20261110_123.html``, ``/202611/``, ``/2026-11/10/``,
``/2026/1110/``.

Every function returns a ``datetime.date`` or None; an impossible date (month 13, 30 February)
is None, never an exception.
"""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

# Years outside this range are taken for numbers that only look like dates (IDs, phone numbers).
MIN_YEAR = 1990
MAX_YEAR = 2100

_SEP = r"\s*[-/.．／]\s*"
_FULL = re.compile(
    r"(?<!\d)((?:19|20)\d{2})(?:" + _SEP + r"(\d{1,2})" + _SEP + r"(\d{1,2})"
    r"|\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?)(?!\d)"
)
# Compact 20261110, only when it stands alone (not inside a longer number such as an ID).
_COMPACT = re.compile(r"(?<![\d_])((?:19|20)\d{2})(\d{2})(\d{2})(?![\d])")
_SHORT = re.compile(r"(?<![\d.:/-])(\d{1,2})(?:\s*[-/／]\s*(\d{1,2})|\s*月\s*(\d{1,2})\s*[日号])(?![\d:])")

_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CN_FULL = re.compile(r"([〇○零Ｏ一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")


def make_date(year: int, month: int, day: int) -> date | None:
    """The date, or None when it does not exist or lies outside the plausible years."""
    if not (MIN_YEAR <= year <= MAX_YEAR):
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def infer_year(month: int, day: int, *, today: date) -> date | None:
    """A date shown without its year: the latest such date that is not after ``today``.

    ``[12-28]`` seen on 5 January means last December; ``[02-29]`` goes back to a leap year.
    """
    for year in range(today.year, today.year - 8, -1):
        found = make_date(year, month, day)
        if found is not None and found <= today:
            return found
    return None


def parse_date(text: str, *, today: date) -> date | None:
    """The first date written in ``text``; a month-day date gets its year from ``today``."""
    if not text:
        return None
    for m in _FULL.finditer(text):
        if m.group(2):
            found = make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        else:
            found = make_date(int(m.group(1)), int(m.group(4)), int(m.group(5)))
        if found:
            return found
    if "年" in text and "月" in text:
        found = _parse_chinese_numerals(text)
        if found:
            return found
    for m in _COMPACT.finditer(text):
        found = make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if found:
            return found
    for m in _SHORT.finditer(text):
        day = m.group(2) or m.group(3)
        found = infer_year(int(m.group(1)), int(day), today=today)
        if found:
            return found
    return None


def parse_iso(text: str | None) -> date | None:
    """An ISO ``YYYY-MM-DD`` string (as stored in snapshots) back to a date."""
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _cn_number(chars: str) -> int | None:
    """十一 -> 11, 二十 -> 20, 三十一 -> 31, 五 -> 5."""
    if not chars or any(c not in _CN_DIGITS for c in chars):
        return None
    if "十" not in chars:
        return _CN_DIGITS[chars] if len(chars) == 1 else None
    tens, _, ones = chars.partition("十")
    value = (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    return value


def _parse_chinese_numerals(text: str) -> date | None:
    """二〇二六年十一月十日, as in the signature line of an official document (公文落款)."""
    m = _CN_FULL.search(text)
    if not m:
        return None
    year = int("".join(str(_CN_DIGITS[c]) for c in m.group(1)))
    month, day = _cn_number(m.group(2)), _cn_number(m.group(3))
    if month is None or day is None:
        return None
    return make_date(year, month, day)


# --- dates in URLs -----------------------------------------------------------------------

# Ordered from the most to the least specific; each pattern runs on the URL path only.
_URL_DAY_PATTERNS = (
    re.compile(r"(?<![0-9])t((?:19|20)\d{2})(\d{2})(\d{2})_\d+"),                  # TRS t20261110_123
    re.compile(r"/((?:19|20)\d{2})[-_]?(\d{2})[-_]?(\d{2})(?=[/_.]|$)"),            # /20261110/ /2026-11-10/
    re.compile(r"/((?:19|20)\d{2})[-_](\d{1,2})/(\d{1,2})(?=/)"),                   # /2026-11/10/
    re.compile(r"/((?:19|20)\d{2})(\d{2})/(\d{2})(?=/)"),                           # /202611/10/
    re.compile(r"/((?:19|20)\d{2})/(\d{2})(\d{2})(?=/)"),                           # /2026/1110/
    re.compile(r"/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})(?=/)"),                      # /2026/11/10/
    re.compile(r"(?<![0-9])((?:19|20)\d{2})(\d{2})(\d{2})(?=\d{2,}\.s?html?$|_)"),  # 20261110093012345.html
)
_URL_MONTH_PATTERNS = (
    re.compile(r"/((?:19|20)\d{2})[-_]?(\d{2})(?=/)"),                              # /202611/ /2026-11/
    re.compile(r"/((?:19|20)\d{2})/(\d{1,2})(?=/)"),                                # /2026/11/
)


@lru_cache(maxsize=65536)
def url_date(url: str) -> tuple[date, str] | None:
    """The date in an article URL and its precision: ``day``, or ``month`` for ``/202611/``.

    A month-only URL counts as the first of that month: the article is at least that old.
    """
    path = _path_of(url)
    for pattern in _URL_DAY_PATTERNS:
        for m in pattern.finditer(path):
            found = make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if found:
                return found, "day"
    for pattern in _URL_MONTH_PATTERNS:
        for m in pattern.finditer(path):
            found = make_date(int(m.group(1)), int(m.group(2)), 1)
            if found:
                return found, "month"
    return None


def date_from_url(url: str) -> date | None:
    """The publish date an article URL carries (first of the month when it shows only a month)."""
    found = url_date(url)
    return found[0] if found else None


def _path_of(url: str) -> str:
    # Cheaper than urlsplit and enough here: drop scheme+host, query and fragment.
    start = url.find("://")
    if start >= 0:
        slash = url.find("/", start + 3)
        url = url[slash:] if slash >= 0 else "/"
    for mark in ("?", "#"):
        cut = url.find(mark)
        if cut >= 0:
            url = url[:cut]
    return url
