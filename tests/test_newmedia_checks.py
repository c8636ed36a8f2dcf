"""checks/newmedia.py: judging an account from its posts (pure; no network, no files but config)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest

from checks.model import CheckContext, LinkResult
from checks.newmedia import (
    Post,
    check_account,
    is_placeholder,
    load_rules,
    parse_post_date,
    posts_per_month,
    repost_source,
)

TODAY = date(2026, 11, 22)
CHINA = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=CHINA)
THRESHOLDS = {"newmedia_stale": {"veto_days": 14, "warn_days": 10},
              "newmedia_reposts": {"yearly_target": 50}, "serious_error": {"veto_count": 1}}


def ctx(today: date = TODAY, **thresholds: dict) -> CheckContext:
    return CheckContext(site="清溪发布", department="zfb", today=today.isoformat(),
                        thresholds={**THRESHOLDS, **thresholds})


def post(days_ago: int | None, title: str = "清溪区召开安全生产工作会议", **kw) -> Post:
    when = None if days_ago is None else datetime.combine(TODAY - timedelta(days=days_ago),
                                                          datetime.min.time(), CHINA).replace(hour=9)
    return Post(title=title, date=when, url=kw.pop("url", f"https://mp.example.cn/{title}/{days_ago}"), **kw)


def account(**kw) -> dict:
    return {"name": "清溪发布", "platform": "wechat", "department": "zfb",
            "url": "https://feeds.example.cn/qingxi.xml", "status": "ok", **kw}


def by_check(out, check: str):
    return [f for f in out.findings if f.check == check]


# --- dates -------------------------------------------------------------------------------

def test_post_at_night_in_new_york_is_next_day_in_china():
    value = parse_post_date("2026-11-08T23:30:00-05:00", now=NOW)
    assert Post("x", date=value).day() == date(2026, 11, 9)


def test_rfc822_date_with_zone_is_converted_to_china_day():
    value = parse_post_date("Sun, 08 Nov 2026 23:30:00 -0500", now=NOW)
    assert Post("x", date=value).day() == date(2026, 11, 9)


def test_date_without_zone_is_taken_in_the_accounts_zone():
    value = parse_post_date("2026-11-08 23:30", now=NOW)
    assert value.utcoffset() == timedelta(hours=8)
    assert Post("x", date=value).day() == date(2026, 11, 8)
    new_york = timezone(timedelta(hours=-5))
    assert Post("x", date=parse_post_date("2026-11-08 23:30", now=NOW, tz=new_york)).day() == date(2026, 11, 9)


@pytest.mark.parametrize("raw, day", [
    ("2026年11月8日 09:15", date(2026, 11, 8)),
    ("2026年11月8日", date(2026, 11, 8)),
    ("2026/11/08", date(2026, 11, 8)),
    ("2026.11.08 10:00", date(2026, 11, 8)),
    ("11-08", date(2026, 11, 8)),
    ("12-30", date(2025, 12, 30)),          # no year, later than today: last year's
    ("3天前", date(2026, 11, 19)),
    ("昨天 12:00", date(2026, 11, 21)),
    ("前天", date(2026, 11, 20)),
    ("刚刚", date(2026, 11, 22)),
    ("5小时前", date(2026, 11, 22)),
    ("1794196800", date(2026, 11, 9)),      # Unix seconds (noon in China)
    ("1794196800000", date(2026, 11, 9)),   # milliseconds
    ("2026-11-08T16:30:00Z", date(2026, 11, 9)),   # UTC afternoon is China night
])
def test_platform_date_formats(raw, day):
    value = parse_post_date(raw, now=NOW)
    assert (Post("x", date=value).day() if value is not None else None) == day


@pytest.mark.parametrize("raw", ["明天上午", "待定", "", "2026-13-45", "2026年2月30日", "null", None])
def test_nonsense_dates_give_none(raw):
    assert parse_post_date(raw, now=NOW) is None


def test_spreadsheet_datetime_without_zone_is_china_time():
    value = parse_post_date(datetime(2026, 11, 8, 23, 30), now=NOW)
    assert value.tzinfo is not None and Post("x", date=value).day() == date(2026, 11, 8)


# --- reposts and placeholders ------------------------------------------------------------

@pytest.mark.parametrize("kw, source", [
    ({"source": "新华社"}, "新华社"),
    ({"source": "人民日报客户端"}, "人民日报"),
    ({"text": "（来源：央视新闻客户端）国务院常务会议召开"}, "央视新闻"),
    ({"text": "本文转自学习强国"}, "学习强国"),
    ({"text": "新华社北京11月8日电 国务院新闻办公室举行发布会"}, "新华社"),
    ({"url": "https://www.gov.cn/zhengce/content/2026-11/08/content_1.htm"}, "中国政府网"),
    ({"links": ["http://www.news.cn/politics/2026-11/08/c_1.htm"]}, "新华社"),
    ({"text": "来源：清溪区融媒体中心"}, None),
    ({"url": "https://www.qingxi.gov.cn/art/1.html"}, None),      # a local *.gov.cn is not 中国政府网
    ({"text": "区委书记到新华社区走访"}, None),                      # 新华社 inside 新华社区, no byline
])
def test_repost_source_by_field_byline_or_link(kw, source):
    kw.setdefault("url", "https://mp.example.cn/s/1")
    assert repost_source(Post("标题", **kw), load_rules()) == source


@pytest.mark.parametrize("title, text, expected", [
    ("测试", "test", True),
    ("暂无内容", "敬请期待！", True),
    ("测试内容1", "", True),
    ("", "", True),
    ("清溪区开展政务公开日活动", "", False),
    ("测试", "全区消防安全测试演练顺利完成", False),
])
def test_placeholder_posts(title, text, expected):
    assert is_placeholder(Post(title, text=text), load_rules()) is expected


# --- staleness ---------------------------------------------------------------------------

@pytest.mark.parametrize("days, severity", [(0, None), (10, None), (11, "warning"), (14, "warning"),
                                            (15, "veto"), (40, "veto")])
def test_stale_boundaries(days, severity):
    out = check_account(account(), [post(days), post(days + 3, "旧文章")], ctx())
    stale = by_check(out, "newmedia_stale")
    assert [f.severity for f in stale] == ([severity] if severity else [])
    assert ("newmedia_stale" in out.veto) is (severity == "veto")
    assert out.facts["days_since"] == days
    assert out.facts["latest_post"] == (TODAY - timedelta(days=days)).isoformat()


def test_stale_thresholds_come_from_context():
    out = check_account(account(), [post(8)], ctx(newmedia_stale={"veto_days": 7, "warn_days": 5}))
    assert by_check(out, "newmedia_stale")[0].severity == "veto"
    assert by_check(out, "newmedia_stale")[0].detail["veto_days"] == 7


def test_undated_and_future_posts_do_not_count_as_updates():
    future = Post("明年计划", date=datetime(2027, 1, 5, tzinfo=CHINA), url="https://mp.example.cn/f")
    out = check_account(account(), [post(None, "无日期"), future, post(30)], ctx())
    assert by_check(out, "newmedia_stale")[0].severity == "veto"
    assert out.facts["undated_posts"] == 1 and out.facts["future_posts"] == 1
    assert out.facts["latest_post"] == (TODAY - timedelta(days=30)).isoformat()


def test_stale_finding_names_the_account_and_source():
    out = check_account(account(), [post(20)], ctx())
    f = by_check(out, "newmedia_stale")[0]
    assert f.site == "清溪发布" and f.department == "zfb" and f.url == "https://feeds.example.cn/qingxi.xml"
    assert f.detail["account"] == "清溪发布" and f.detail["days_since"] == 20
    assert "20 天" in f.message


# --- 空壳 -------------------------------------------------------------------------------

def test_account_without_posts_is_empty_and_stale():
    out = check_account(account(status="empty"), [], ctx())
    assert by_check(out, "newmedia_empty")[0].detail["kind"] == "no_posts"
    assert out.veto == ["newmedia_stale"]
    assert out.facts["posts"] == 0 and out.facts["latest_post"] is None


def test_placeholder_only_account_is_empty_even_when_recent():
    posts = [post(1, "测试", text="test"), post(2, "暂无内容")]
    out = check_account(account(), posts, ctx())
    assert by_check(out, "newmedia_empty")[0].detail["kind"] == "placeholder"
    # Placeholders do not keep an account alive either.
    assert by_check(out, "newmedia_stale")[0].severity == "veto"
    assert out.facts["content_posts"] == 0 and out.facts["posts"] == 2


def test_account_with_content_is_not_empty():
    out = check_account(account(), [post(1, "测试"), post(2)], ctx())
    assert not by_check(out, "newmedia_empty") and not by_check(out, "newmedia_stale")


# --- unreachable -------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["unreachable", "invalid"])
def test_failed_source_reports_unreachable_and_judges_nothing_else(status):
    out = check_account(account(status=status, errors=["订阅源返回 HTTP 410"]), [], ctx())
    assert [f.check for f in out.findings] == ["newmedia_unreachable"]
    f = out.findings[0]
    assert f.detail["kind"] == status and "HTTP 410" in f.message
    assert out.veto == [] and out.facts["status"] == status


# --- reposts against the yearly target ---------------------------------------------------

def reposts(n: int, start_days_ago: int = 0, step: int = 1) -> list[Post]:
    return [post(start_days_ago + k * step, f"转发{k}", source="人民日报") for k in range(n)]


def test_reposts_behind_pace_warn_with_running_total():
    out = check_account(account(), [post(1), *reposts(10)], ctx())
    f = by_check(out, "newmedia_reposts")[0]
    assert f.severity == "warning"
    assert f.detail["reposts"] == 10 and f.detail["target"] == 50
    day = TODAY.timetuple().tm_yday
    assert f.detail["expected_by_now"] == round(50 * day / 365, 1)
    assert f.detail["projected"] == round(10 * 365 / day, 1)
    assert out.facts["reposts_year"] == 10 and out.facts["reposts_on_track"] is False
    assert out.facts["reposts_by_source"] == {"人民日报": 10}


def test_reposts_on_pace_early_in_the_year_do_not_warn():
    early = date(2026, 1, 20)
    posts = [Post(f"转发{k}", date=date(2026, 1, 1 + k), url=f"u{k}", source="新华社") for k in range(4)]
    out = check_account(account(), posts, ctx(today=early))
    assert not by_check(out, "newmedia_reposts")
    assert out.facts["reposts_year"] == 4 and out.facts["reposts_on_track"] is True


def test_reposts_target_reached_does_not_warn():
    out = check_account(account(), reposts(50, step=2), ctx(newmedia_reposts={"yearly_target": 50}))
    assert not by_check(out, "newmedia_reposts") and out.facts["reposts_year"] == 50


def test_reposts_of_last_year_do_not_count_this_year():
    old = Post("去年转发", date=date(2025, 12, 30), url="old", source="新华社")
    out = check_account(account(), [post(1), old], ctx())
    assert out.facts["reposts_year"] == 0 and out.facts["reposts_total"] == 1


def test_year_posts_from_earlier_runs_add_to_the_running_total_without_double_counting():
    current = reposts(3)
    earlier = [*reposts(3), *[Post(f"早前转发{k}", date=date(2026, 3, 1 + k), url=f"e{k}", source="央视新闻")
                              for k in range(20)]]
    out = check_account(account(), current, ctx(), year_posts=earlier)
    assert out.facts["reposts_year"] == 23
    assert out.facts["reposts_total"] == 3          # in the current posts


def test_yearly_target_comes_from_context():
    out = check_account(account(), reposts(5), ctx(newmedia_reposts={"yearly_target": 5}))
    assert not by_check(out, "newmedia_reposts") and out.facts["reposts_target"] == 5


# --- per month ---------------------------------------------------------------------------

def test_posts_per_month_fills_empty_months_up_to_today():
    posts = [Post("a", date=date(2026, 8, 3)), Post("b", date=date(2026, 8, 20)),
             Post("c", date=date(2026, 11, 2)), Post("d")]
    assert posts_per_month(posts, TODAY) == {"2026-08": 2, "2026-09": 0, "2026-10": 0, "2026-11": 1}


def test_posts_per_month_keeps_the_last_twelve_months():
    counts = posts_per_month([Post("a", date=date(2020, 1, 1)), Post("b", date=TODAY)], TODAY)
    assert len(counts) == 12 and next(iter(counts)) == "2025-12" and counts["2026-11"] == 1


# --- wording and links -------------------------------------------------------------------

@dataclass
class Flag:
    check: str
    wrong: str
    suggestion: str
    start: int = 0
    end: int = 0
    severity: str = ""
    suspected: bool = False


class WordChecker:
    """Flags fixed words, like the shared text checker does with its data files."""

    def __init__(self, words: dict[str, tuple[str, str]]):
        self.words = words
        self.calls: list[tuple[str, object]] = []

    def check(self, text, published):
        self.calls.append((text, published))
        return [Flag(check, wrong, right, text.index(wrong), text.index(wrong) + len(wrong))
                for wrong, (right, check) in self.words.items() if wrong in text]


def test_typos_in_posts_become_findings_on_the_post():
    checker = WordChecker({"部属": ("部署", "typo")})
    p = post(2, "清溪区部属冬季防火工作", text="会议部属了相关工作。")
    out = check_account(account(), [p, post(3)], ctx(), text_checker=checker)
    typos = by_check(out, "typo")
    assert len(typos) == 2 and {f.detail["field"] for f in typos} == {"title", "text"}
    assert all(f.url == p.url and f.page == p.url for f in typos)
    assert typos[0].detail["wrong"] == "部属" and typos[0].detail["suggestion"] == "部署"
    assert typos[0].severity == "error" and "部署" in typos[0].message
    # The checker is told when the post was published (outdated names depend on it).
    assert (p.title, TODAY - timedelta(days=2)) in checker.calls


def test_serious_error_in_a_post_vetoes_the_account():
    checker = WordChecker({"中华人民共合国": ("中华人民共和国", "serious_error")})
    out = check_account(account(), [post(1, "中华人民共合国成立77周年")], ctx(), text_checker=checker)
    assert by_check(out, "serious_error")[0].severity == "veto"
    assert "serious_error" in out.veto


def test_failing_text_checker_is_recorded_not_raised():
    class Broken:
        def check(self, text, published):
            raise RuntimeError("model missing")

    out = check_account(account(), [post(1)], ctx(), text_checker=Broken())
    assert any("model missing" in e for e in out.facts["errors"])
    assert not by_check(out, "newmedia_stale")


def test_without_text_checker_no_wording_findings():
    out = check_account(account(), [post(1, "中华人民共合国")], ctx())
    assert not [f for f in out.findings if f.check in ("typo", "serious_error")]


def test_broken_post_and_body_links_become_findings():
    p = post(1, links=["https://files.example.cn/a.pdf", "https://ok.example.cn/"])
    q = post(2, "已删除的文章", url="https://mp.example.cn/deleted")
    results = {
        p.url: LinkResult(p.url, kind="ok", status=200),
        "https://files.example.cn/a.pdf": LinkResult("https://files.example.cn/a.pdf", kind="http_404", status=404),
        "https://ok.example.cn/": LinkResult("https://ok.example.cn/", kind="ok", status=200),
        q.url: LinkResult(q.url, kind="dns", error="no such domain"),
    }
    out = check_account(account(), [p, q], ctx(), link_results=results)
    broken = {f.url: f for f in by_check(out, "broken_link")}
    assert set(broken) == {"https://files.example.cn/a.pdf", "https://mp.example.cn/deleted"}
    assert broken["https://files.example.cn/a.pdf"].page == p.url
    assert broken["https://files.example.cn/a.pdf"].detail["kind"] == "http_404"
    assert "404" in broken["https://files.example.cn/a.pdf"].message
    # A dead post is seen from the account's listing.
    assert broken["https://mp.example.cn/deleted"].page == "https://feeds.example.cn/qingxi.xml"
    assert out.facts["broken_links"] == 2


def test_findings_have_stable_fingerprints_per_account():
    a = check_account(account(), [post(20)], ctx()).findings[0]
    b = check_account(account(), [post(25)], ctx()).findings[0]
    c = check_account(account(name="清溪卫健"), [post(20)], ctx()).findings[0]
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_real_text_checker_flags_a_post_when_available():
    text = pytest.importorskip("checks.text")
    checker = text.TextChecker([])
    out = check_account(account(), [post(1, "中华人民共合国成立纪念日活动")], ctx(), text_checker=checker)
    assert any(f.detail.get("wrong") and "共合国" in f.detail["wrong"] for f in out.findings), \
        [f.to_dict() for f in out.findings]


@pytest.mark.parametrize("raw, day", [
    ("[11-10]", date(2026, 11, 10)),
    ("二〇二六年十一月十日", date(2026, 11, 10)),
    ("发布于 3天前", date(2026, 11, 19)),
    ("2026年11月8日 23:30:15", date(2026, 11, 8)),
])
def test_post_dates_are_read_by_the_one_date_parser(raw, day):
    from checks.dates import parse_when
    value = parse_post_date(raw, now=NOW)
    assert Post("x", date=value).day() == day
    naive = parse_when(raw, now=NOW.replace(tzinfo=None))
    assert (naive.date() if isinstance(naive, datetime) else naive) == day


class BatchChecker(WordChecker):
    """A checker that proofreads many texts at once, as TextChecker.check_many does, and fails
    on any text holding ``bad``."""

    def __init__(self, words: dict, bad: str | None = None) -> None:
        super().__init__(words)
        self.bad = bad
        self.batches: list[list[tuple[str, object]]] = []

    def check_many(self, texts, published):
        self.batches.append(list(zip(texts, published)))
        return [self.check(text, day) for text, day in zip(texts, published)]

    def check(self, text, published):
        if self.bad and self.bad in text:
            raise RuntimeError(f"cannot read {text}")
        return super().check(text, published)


def test_an_accounts_posts_are_proofread_together():
    checker = BatchChecker({"部属": ("部署", "typo")})
    first, second = post(2, "清溪区部属冬季防火工作", text="会议部属了相关工作。"), post(3, "清溪区召开会议")
    out = check_account(account(), [first, second], ctx(), text_checker=checker)
    assert len(by_check(out, "typo")) == 2
    assert checker.batches == [[(first.title, TODAY - timedelta(days=2)), (first.text, TODAY - timedelta(days=2)),
                                (second.title, TODAY - timedelta(days=3))]]


def test_a_post_that_fails_the_batch_is_named_and_the_others_are_proofread():
    checker = BatchChecker({"部属": ("部署", "typo")}, bad="乱码")
    good, bad = post(2, "清溪区部属冬季防火工作"), post(3, "乱码标题")
    out = check_account(account(), [good, bad], ctx(), text_checker=checker)
    assert len(checker.batches) == 1                       # tried together, then one by one
    assert [f.detail["wrong"] for f in by_check(out, "typo")] == ["部属"]
    assert [e for e in out.facts["errors"] if "cannot read 乱码标题" in e]
