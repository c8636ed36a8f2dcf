from datetime import date

import pytest

from checks.dates import date_from_url, infer_year, parse_date, parse_iso, url_date

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize("text, expected", [
    ("2026-11-10", date(2026, 11, 10)),
    ("2026/11/10", date(2026, 11, 10)),
    ("2026.11.10", date(2026, 11, 10)),
    ("2026-1-5", date(2026, 1, 5)),
    ("2026年11月10日", date(2026, 11, 10)),
    ("2026 年 1 月 5 日", date(2026, 1, 5)),
    ("发布时间：2026-11-10 09:30:15", date(2026, 11, 10)),
    ("二〇二六年十一月十日", date(2026, 11, 10)),
    ("二〇二五年十二月三十一日", date(2025, 12, 31)),
    ("20261110", date(2026, 11, 10)),
])
def test_full_dates_in_every_common_form(text, expected):
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text, expected", [
    ("[11-10]", date(2026, 11, 10)),
    ("11-10", date(2026, 11, 10)),
    ("11/10", date(2026, 11, 10)),
    ("11月10日", date(2026, 11, 10)),
    ("[11-22]", date(2026, 11, 22)),        # today itself
    ("[11-23]", date(2025, 11, 23)),        # tomorrow can only be last year's
    ("[12-28]", date(2025, 12, 28)),
])
def test_month_day_gets_the_latest_year_not_after_today(text, expected):
    assert parse_date(text, today=TODAY) == expected


def test_february_29_goes_back_to_a_leap_year():
    assert infer_year(2, 29, today=date(2027, 3, 1)) == date(2024, 2, 29)


@pytest.mark.parametrize("text", [
    "", "浏览次数：128", "2026-13-01", "2026-02-30", "时间 10:30", "版本 3.2", "清政发〔2026〕12号",
    "电话 0571-88886666", "1850-01-01",
])
def test_text_without_a_real_date_gives_none(text):
    assert parse_date(text, today=TODAY) is None


def test_first_valid_date_wins_over_an_impossible_one():
    assert parse_date("2026-02-30 或 2026-03-01", today=TODAY) == date(2026, 3, 1)


@pytest.mark.parametrize("url, expected, precision", [
    ("http://www.qx.gov.cn/zwgk/tzgg/202611/t20261110_123.html", date(2026, 11, 10), "day"),
    ("http://www.qx.gov.cn/xwzx/2026-11/10/content_5512.htm", date(2026, 11, 10), "day"),
    ("http://www.qx.gov.cn/news/2026/1110/c123a45.html", date(2026, 11, 10), "day"),
    ("http://www.qx.gov.cn/art/2026/11/10/art_1229_456.html", date(2026, 11, 10), "day"),
    ("http://www.qx.gov.cn/a/20261110/abc.shtml", date(2026, 11, 10), "day"),
    ("http://www.qx.gov.cn/zwdt/202611/", date(2026, 11, 1), "month"),
    ("http://www.qx.gov.cn/zwdt/2026-11/x.html", date(2026, 11, 1), "month"),
])
def test_dates_in_article_urls(url, expected, precision):
    assert url_date(url) == (expected, precision)
    assert date_from_url(url) == expected


@pytest.mark.parametrize("url", [
    "http://www.qx.gov.cn/content_5412345.htm",
    "http://www.qx.gov.cn/zwgk/tzgg/index_2.html",
    "http://www.qx.gov.cn/p/801.html?date=2026-11-10",     # the query is not the article's path
    "http://www.qx.gov.cn/a/202613/x.html",
])
def test_urls_without_a_date_give_none(url):
    assert date_from_url(url) is None


def test_parse_iso_reads_stored_dates_and_rejects_garbage():
    assert parse_iso("2026-11-10") == date(2026, 11, 10)
    assert parse_iso("2026-11-10T09:30:00") == date(2026, 11, 10)
    assert parse_iso("not a date") is None
    assert parse_iso(None) is None


# --- years of month-day dates from the page's evidence ------------------------------------

from checks.dates import (YEAR_FROM_ORDER, YEAR_FROM_PAGE, YEAR_FROM_URL, Written,  # noqa: E402
                          find_date, nearest_year, resolve_years)


def md(text):
    found = find_date(text)
    assert found is not None and found.year is None
    return found


def test_find_date_tells_a_written_year_from_a_missing_one():
    assert find_date("[2018-03-16]").year == 2018
    assert find_date("[03-16]") == Written(None, 3, 16, 1, 6)
    assert find_date("二〇一八年三月十六日").year == 2018
    assert find_date("02-29").year is None and find_date("02-30") is None


def test_nearest_year_follows_the_url_across_new_year():
    assert nearest_year(3, 8, date(2018, 3, 7)) == date(2018, 3, 8)
    assert nearest_year(12, 30, date(2019, 1, 2)) == date(2018, 12, 30)
    assert nearest_year(1, 2, date(2018, 12, 30)) == date(2019, 1, 2)
    assert nearest_year(1, 2, date(2018, 12, 30), today=date(2018, 12, 31)) == date(2018, 1, 2)


def test_a_2018_homepage_checked_years_later_keeps_its_2018_dates():
    """t20180316_ in the URL: the page is eight years old, not 'updated this March'."""
    today = date(2026, 3, 20)
    [[first, second]] = resolve_years([[(md("03-16"), date(2018, 3, 16)), (md("03-15"), date(2018, 3, 1))]],
                                      today=today)
    assert first == (date(2018, 3, 16), YEAR_FROM_URL)
    assert second == (date(2018, 3, 15), YEAR_FROM_URL)


def test_list_order_carries_the_year_across_a_year_boundary():
    group = [(find_date("2019-01-08"), None), (md("01-03"), None), (md("12-28"), None),
             (md("12-20"), None), (find_date("2018-12-11"), None)]
    [row] = resolve_years([group], today=date(2026, 11, 1))
    assert row == [(date(2019, 1, 8), "list"), (date(2019, 1, 3), YEAR_FROM_ORDER),
                   (date(2018, 12, 28), YEAR_FROM_ORDER), (date(2018, 12, 20), YEAR_FROM_ORDER),
                   (date(2018, 12, 11), "list")]


def test_an_unordered_list_says_nothing_about_years():
    group = [(find_date("2018-01-20"), None), (md("05-03"), None), (find_date("2018-03-01"), None)]
    [row] = resolve_years([group], today=date(2026, 11, 1))
    # the other lists' dates still place it: the page's newest date is 2018-03-01
    assert row[1] == (date(2017, 5, 3), YEAR_FROM_PAGE)


def test_other_lists_of_the_page_give_the_year_within_a_month():
    news = [(find_date("[2018-03-16]"), None)]
    notices = [(md("[03-06]"), None), (md("[09-01]"), None)]
    _, row = resolve_years([news, notices], today=date(2026, 12, 1))
    assert row == [(date(2018, 3, 6), YEAR_FROM_PAGE), (date(2017, 9, 1), YEAR_FROM_PAGE)]


def test_without_evidence_a_month_day_date_stays_undated():
    [row] = resolve_years([[(md("03-16"), None), (None, None)]], today=date(2026, 12, 1))
    assert row == [(None, "yearless"), (None, "")]


def test_a_resolved_date_is_never_after_the_check_day():
    [row] = resolve_years([[(md("12-30"), date(2026, 12, 29))]], today=date(2026, 12, 1))
    assert row == [(date(2025, 12, 30), YEAR_FROM_URL)]


def test_relative_words_count_only_as_the_whole_date():
    from datetime import datetime

    from checks.dates import parse_when
    now = datetime(2026, 11, 22, 15, 0)
    assert parse_when("今天是2018年3月16日", now=now) == date(2018, 3, 16)   # a sentence, not 今天
    assert parse_when("昨天 12:00", now=now) == datetime(2026, 11, 21, 12, 0)
    assert parse_when("发布于 3天前", now=now) == datetime(2026, 11, 19, 15, 0)
    assert parse_when("[11-10] 09:30", now=now) == datetime(2026, 11, 10, 9, 30)
    assert parse_when("二〇二六年十一月十日", now=now) == date(2026, 11, 10)
