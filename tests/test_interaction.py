"""checks/interaction.py on snapshots: message pages as boards write them, working days, the
channel verdicts.  The whole check through `patrol run` is in test_interaction_phones_run.py."""
from __future__ import annotations

from datetime import date

import pytest

from checks.interaction import add_months, check_site, read_message, working_days
from checks.model import CheckContext, LinkRef, LinkResult, PageSnapshot, SiteCrawl

TODAY = date(2026, 12, 4)          # a Friday
S = "http://www.example.gov.cn"


def page(path: str, text: str = "", links: list[LinkRef] | None = None, **kw) -> PageSnapshot:
    return PageSnapshot(url=S + path, final_url=S + path, status=kw.pop("status", 200), depth=1, text=text,
                        links=links or [], **kw)


def letter(asked: str, replied: str = "", state: str = "", reply: str = "", unit: str = "") -> str:
    """A message page's text as the extractor gives it for a th/td table."""
    return "\n".join(["信件标题", "关于路灯的咨询", "留言时间", asked, "办理状态", state, "留言内容", "路灯坏了。",
                      "答复单位", unit, "答复时间", replied, "答复内容", reply])


@pytest.mark.parametrize("start, end, expected", [
    (date(2026, 11, 27), date(2026, 12, 4), 5),      # Friday to Friday
    (date(2026, 11, 28), date(2026, 11, 30), 1),     # Saturday to Monday
    (date(2026, 12, 4), date(2026, 12, 4), 0),
    (date(2026, 12, 4), date(2026, 12, 1), 0),
    (date(2026, 11, 2), date(2026, 11, 23), 15),     # three weeks
    (date(2026, 11, 2), date(2026, 11, 24), 16),
])
def test_working_days_skip_weekends(start, end, expected):
    assert working_days(start, end) == expected


def test_add_months_keeps_the_day_or_takes_the_month_end():
    assert add_months(date(2026, 8, 7), 3) == date(2026, 11, 7)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 10, 31), 3) == date(2027, 1, 31)


def test_a_table_message_with_its_reply():
    msg = read_message(page("/a.html", letter("2026-10-01 09:12", "2026年10月9日", "已办结", "您好，已修复。",
                                              "区城管局"), headline="关于路灯的咨询"), TODAY)
    assert msg is not None
    assert (msg.asked, msg.replied, msg.state, msg.unit, msg.title) == (
        date(2026, 10, 1), date(2026, 10, 9), "answered", "区城管局", "关于路灯的咨询")


def test_empty_cells_are_not_read_as_the_next_label():
    msg = read_message(page("/a.html", letter("2026-10-01", state="办理中")), TODAY)
    assert msg is not None and msg.state == "pending" and msg.replied is None and msg.unit == ""


@pytest.mark.parametrize("text, state", [
    ("留言时间：2026年8月7日\n办理状态：办理中\n答复内容：暂无答复", "pending"),
    ("来信时间：2026-08-07\n回复时间：2026-08-10\n回复内容：已转交相关部门办理。", "answered"),
    ("提问时间: 2026/08/07\n状态：不予受理（重复件）", "invalid"),
    ("留言时间：2026-08-07\n状态：已办结\n办理结果：已解决。", "answered"),       # answered, no reply date
    ("留言时间：2026-08-07\n答复时间：2026-08-01\n答复内容：已办理。", "answered"),  # reply before message: undated
    ("咨询时间：08-07\n处理状态：待处理", "pending"),                              # a yearless date
    ("留 言 时 间：　2026-08-07\n答　复　时　间：2026-08-20\n回复内容：已处理。", "answered"),  # padded labels
])
def test_states_as_boards_write_them(text, state):
    msg = read_message(page("/a.html", text), TODAY)
    assert msg is not None and msg.state == state and msg.asked.month == 8
    if "08-01" in text or "已办结" in text:
        assert msg.replied is None


def test_an_article_that_mentions_a_time_label_is_no_message():
    assert read_message(page("/a.html", "信箱的留言时间：2026-10-01 起全天开放。"), TODAY) is None
    assert read_message(page("/a.html", "留言时间以系统记录为准，答复时间为十五个工作日。"), TODAY) is None


def crawl_of(pages, links=None, **stats) -> SiteCrawl:
    return SiteCrawl(name="清溪区人民政府", url=S + "/", pages=pages, links=links or {}, homepage_url=S + "/",
                     stats=stats)


def run(crawl, **thresholds):
    return check_site(crawl, CheckContext(site=crawl.name, department="zfb", today=TODAY.isoformat(),
                                          thresholds={"interaction_poor": thresholds} if thresholds else {}))


def board(*messages: PageSnapshot, write_ok: bool = True) -> list[PageSnapshot]:
    write = S + "/hdjl/write.html"
    home = page("/", "首页", [LinkRef(S + "/hdjl/", "a", "政民互动")])
    listing = page("/hdjl/", "", [LinkRef(write, "a", "我要写信")], headline="政民互动")
    pages = [home, listing, *messages]
    if write_ok:
        pages.append(page("/hdjl/write.html", "请填写"))
    return pages


def test_verdicts_for_each_message_and_the_veto():
    msgs = [page("/m1.html", letter("2026-11-02", "2026-11-23", "已办结", "已答复。")),      # 15 working days
            page("/m2.html", letter("2026-11-02", "2026-11-24", "已办结", "已答复。")),      # 16: late
            page("/m3.html", letter("2026-11-27", state="办理中")),                         # pending
            page("/m4.html", letter("2026-10-01", state="办理中")),                         # overdue
            page("/m5.html", letter("2026-09-03", state="办理中")),                         # > 3 months
            page("/m6.html", letter("2025-11-01", state="办理中"))]                         # outside the year
    out = run(crawl_of(board(*msgs)))
    verdicts = {m["url"].rsplit("/", 1)[1]: m["verdict"] for m in out.facts["messages"]}
    assert verdicts == {"m1.html": "ok", "m2.html": "late", "m3.html": "pending", "m4.html": "overdue",
                        "m5.html": "unanswered", "m6.html": "outside_window"}
    rules = {f.url.rsplit("/", 1)[1]: (f.severity, f.detail["rule"]) for f in out.findings}
    assert rules == {"m2.html": ("warning", "late_reply"), "m4.html": ("warning", "overdue"),
                     "m5.html": ("veto", "unanswered")}
    assert out.veto == ["interaction_poor"] and out.facts["channel"] == "ok"
    assert out.facts["holidays_skipped"] is False
    # Thresholds are configuration: with 30 working days and 6 months the late reply is in time
    # and the old messages are overdue warnings, no veto.
    out = run(crawl_of(board(*msgs)), reply_working_days=30, unanswered_months=6)
    rules = {f.url.rsplit("/", 1)[1]: (f.severity, f.detail["rule"]) for f in out.findings}
    assert rules == {"m4.html": ("warning", "overdue"), "m5.html": ("warning", "overdue")} and out.veto == []


def test_fingerprints_are_stable_across_runs():
    msgs = [page("/m5.html", letter("2026-09-03", state="办理中"))]
    first = run(crawl_of(board(*msgs))).findings[0]
    again = run(crawl_of(list(reversed(board(*msgs))))).findings[0]
    assert first.fingerprint == again.fingerprint


def test_no_channel_is_a_veto_and_only_suspected_when_the_crawl_was_cut():
    pages = [page("/", "首页", [LinkRef(S + "/xwzx/", "a", "新闻中心")])]
    out = run(crawl_of(pages))
    assert [(f.severity, f.detail["rule"]) for f in out.findings] == [("veto", "no_channel")]
    assert out.veto == ["interaction_poor"]
    out = run(crawl_of(pages, max_pages_reached=True))
    assert [(f.severity, f.detail["rule"]) for f in out.findings] == [("warning", "no_channel")]
    assert out.findings[0].message.startswith("疑似") and out.veto == []


def test_an_unreachable_submission_page_is_a_veto():
    write = S + "/hdjl/write.html"
    links = {write: LinkResult(url=write, kind="http_404", status=404)}
    out = run(crawl_of(board(write_ok=False), links))
    assert [(f.severity, f.detail["rule"], f.url, f.page) for f in out.findings] == [
        ("veto", "submit_unreachable", write, S + "/hdjl/")]
    assert out.facts["channel"] == "unreachable"
    # A rate-limited entry is not known to be broken: no verdict on it.
    links = {write: LinkResult(url=write, kind="rate_limited", status=429)}
    assert run(crawl_of(board(write_ok=False), links)).findings == []


def test_the_report_view_of_the_facts():
    from reports.render import _interaction
    msgs = [page("/m5.html", letter("2026-09-03", state="办理中")),
            page("/m1.html", letter("2026-11-02", "2026-11-23", "已办结", "已答复。"))]
    view = _interaction(run(crawl_of(board(*msgs)), unanswered_months=2).facts)
    assert [(r["verdict_label"], r["state_label"]) for r in view["rows"]] == [
        ("按时答复", "已答复"), ("超过2个月未答复", "未答复")]           # newest first
    assert view["channel_label"] == "渠道正常"
    assert _interaction({"error": "ValueError()"}) is None              # a failed check: 未检查
