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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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


@dataclass(frozen=True, slots=True)
class Written:
    """A date as a page writes it: ``year`` is None for ``[11-10]``; ``start``/``end`` is where
    it stands in the text."""

    year: int | None
    month: int
    day: int
    start: int = 0
    end: int = 0

    def on(self, year: int) -> date | None:
        return make_date(year, self.month, self.day)


def find_date(text: str) -> Written | None:
    """The first date written in ``text``, a full one before a month-day one; None when none.

    A month-day date is only checked to exist in some year (``02-29`` does, ``02-30`` not).
    """
    if not text:
        return None
    for m in _FULL.finditer(text):
        if m.group(2):
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        else:
            y, mo, d = int(m.group(1)), int(m.group(4)), int(m.group(5))
        if make_date(y, mo, d):
            return Written(y, mo, d, m.start(), m.end())
    if "年" in text and "月" in text:
        m = _CN_FULL.search(text)
        found = _parse_chinese_numerals(m) if m else None
        if found:
            return Written(found.year, found.month, found.day, m.start(), m.end())
    for m in _COMPACT.finditer(text):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if make_date(y, mo, d):
            return Written(y, mo, d, m.start(), m.end())
    for m in _SHORT.finditer(text):
        mo, d = int(m.group(1)), int(m.group(2) or m.group(3))
        if make_date(2000, mo, d):            # a leap year: every month-day that exists
            return Written(None, mo, d, m.start(), m.end())
    return None


def parse_date(text: str, *, today: date) -> date | None:
    """The first date written in ``text``; a month-day date gets the latest year that puts it
    on or before ``today`` (use :func:`resolve_years` when the page offers better evidence)."""
    found = find_date(text)
    if found is None:
        return None
    if found.year is not None:
        return found.on(found.year)
    return infer_year(found.month, found.day, today=today)


_TIME_AFTER = re.compile(r"[\sT\]】)）]*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?")
# The whole text, as a platform shows it beside a post (not a sentence that mentions 今天).
_RELATIVE = re.compile(r"(?:发布于|发表于)?\s*(\d{1,4})\s*(秒|分钟|小时|天|周|个月)前")
_RELATIVE_UNITS = {"秒": timedelta(seconds=1), "分钟": timedelta(minutes=1), "小时": timedelta(hours=1),
                   "天": timedelta(days=1), "周": timedelta(weeks=1), "个月": timedelta(days=30)}
_DAY_WORD = re.compile(r"(?:发布于|发表于)?\s*(今天|昨天|前天)\s*(?:(\d{1,2})[:：](\d{1,2}))?")
_DAYS_BACK = {"今天": 0, "昨天": 1, "前天": 2}


def parse_when(text: str, *, now: datetime) -> datetime | date | None:
    """A date as people read it, with its time of day when one is written after it.

    Everything :func:`find_date` reads (``[11-10]`` takes the latest such day not after
    ``now``), and the relative dates that platforms show: ``刚刚``, ``3天前``, ``5小时前``,
    ``昨天 12:00``.  A datetime keeps ``now``'s zone (naive when ``now`` is); a date without a
    time comes back as a ``date``.  None when nothing fits or the date does not exist.
    """
    if not text:
        return None
    text = text.strip()
    if text in ("刚刚", "just now"):
        return now
    m = _RELATIVE.fullmatch(text)
    if m:
        return now - int(m.group(1)) * _RELATIVE_UNITS[m.group(2)]
    m = _DAY_WORD.fullmatch(text)
    if m:
        day = now.date() - timedelta(days=_DAYS_BACK[m.group(1)])
        if m.group(2):
            return _at(day, m.group(2), m.group(3), None, now)
        return day
    found = find_date(text)
    if found is None:
        return None
    day = found.on(found.year) if found.year is not None else \
        infer_year(found.month, found.day, today=now.date())
    if day is None:
        return None
    t = _TIME_AFTER.match(text, found.end)
    if t:
        return _at(day, t.group(1), t.group(2), t.group(3), now)
    return day


def _at(day: date, hour: str, minute: str, second: str | None, now: datetime) -> datetime | date | None:
    try:
        return datetime(day.year, day.month, day.day, int(hour), int(minute), int(second or 0),
                        tzinfo=now.tzinfo)
    except ValueError:
        return day                              # 25:70 is no time; the day stands


def nearest_year(month: int, day: int, near: date, *, today: date | None = None) -> date | None:
    """The date with this month and day closest to ``near`` (a year before, the same year or a
    year after), never after ``today``: ``03-08`` near ``t20180307`` is 2018-03-08, ``12-30``
    near ``t20190102`` is 2018-12-30."""
    best: date | None = None
    for year in (near.year - 1, near.year, near.year + 1):
        found = make_date(year, month, day)
        if found is None or (today is not None and found > today):
            continue
        if best is None or abs((found - near).days) < abs((best - near).days):
            best = found
    return best


# How the year of a month-day date was established (``ListItem.date_source``).
YEAR_FROM_URL = "list_year_url"        # the item's own URL carries a date
YEAR_FROM_ORDER = "list_year_order"    # dated neighbours in the same newest-first list
YEAR_FROM_PAGE = "list_year_page"      # the newest dated item elsewhere on the page
PAGE_SLACK = timedelta(days=30)


def resolve_years(groups: list[list[tuple[Written | None, date | None]]], *, today: date,
                  page_date: date | None = None) -> list[list[tuple[date | None, str]]]:
    """Dates for the entries of a page's lists, each entry given as (the date written beside
    it, the date its URL carries); ``groups`` are the page's lists, entries in page order.

    A full date stands as written (source ``list``).  A month-day date takes its year from the
    strongest evidence there is: the entry's URL; the dated entries around it in the same list,
    read newest first, a year boundary being where month-day jumps up (only in a list whose
    dates do run newest first); else the newest date established anywhere on the page or the
    page's own publish date (the latest year that keeps it within 30 days after that date).
    A year so found never puts the date after ``today``; with no evidence the entry stays
    undated (``None``, source ``yearless``) rather than being given the current year.
    """
    out: list[list[tuple[date | None, str]]] = []
    for group in groups:
        row: list[tuple[date | None, str]] = []
        for written, from_url in group:
            if written is None:
                row.append((None, ""))
            elif written.year is not None:
                row.append((written.on(written.year), "list"))
            elif from_url is not None:
                found = nearest_year(written.month, written.day, from_url, today=today)
                row.append((found, YEAR_FROM_URL) if found else (None, "yearless"))
            else:
                row.append((None, "yearless"))
        _by_order(group, row, today)
        out.append(row)
    anchor = max((d for row in out for d, _ in row if d is not None and d <= today), default=None)
    if page_date is not None and page_date <= today and (anchor is None or page_date > anchor):
        anchor = page_date
    if anchor is not None:
        # Other lists of the page may be a little newer than its newest dated entry, rarely
        # much newer: the latest year that keeps the date within PAGE_SLACK of it.
        limit = min(anchor + PAGE_SLACK, today)
        for group, row in zip(groups, out):
            for i, (written, _) in enumerate(group):
                if row[i][0] is None and written is not None and written.year is None:
                    found = infer_year(written.month, written.day, today=limit)
                    if found:
                        row[i] = (found, YEAR_FROM_PAGE)
    return out


def _by_order(group: list[tuple[Written | None, date | None]], row: list[tuple[date | None, str]],
              today: date) -> None:
    """Years from dated neighbours, in a list whose dates run newest first."""
    known = [d for d, _ in row if d is not None]
    if not known or len(known) == len(row):
        return
    if any(a < b for a, b in zip(known, known[1:])):
        return                                    # not newest first: order says nothing
    shown = [(w.month, w.day) for w, _ in group if w is not None]
    if sum(1 for a, b in zip(shown, shown[1:]) if a < b) > 1:
        return                                    # month-days jump up more than once: unordered
    for _ in range(2):                            # newer to older, then older to newer
        for i in range(len(row)):
            written = group[i][0]
            if row[i][0] is not None or written is None or written.year is not None:
                continue
            md = (written.month, written.day)
            before = next((row[j][0] for j in range(i - 1, -1, -1) if row[j][0] is not None), None)
            after = next((row[j][0] for j in range(i + 1, len(row)) if row[j][0] is not None), None)
            found = None
            if before is not None:
                year = before.year if md <= (before.month, before.day) else before.year - 1
                found = written.on(year)
                if found is not None and after is not None and found < after:
                    found = None                  # would break the order: no safe year
            elif after is not None:
                year = after.year if md >= (after.month, after.day) else after.year + 1
                found = written.on(year)
            if found is not None and found <= today:
                row[i] = (found, YEAR_FROM_ORDER)


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


def _parse_chinese_numerals(m: re.Match[str]) -> date | None:
    """二〇二六年十一月十日, as in the signature line of an official document (公文落款)."""
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
