from datetime import UTC, datetime, timedelta

from checks.availability import judge

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TH = {"site_unreachable": {"probe_timeout_s": 15, "window_days": 7, "veto_failure_rate": 0.05,
                           "warn_failure_rate": 0.03, "min_probes_per_day": 20}}


def probes(total: int, failed: int, *, every: timedelta = timedelta(hours=1)) -> list[dict]:
    """``total`` probes back from NOW, the first ``failed`` of them failures."""
    return [{"at": NOW - i * every, "ok": i >= failed, "status": 200 if i >= failed else None,
             "elapsed_ms": 400, "error": "" if i >= failed else "timeout: no answer"} for i in range(total)]


def test_a_week_of_hourly_probes_with_few_failures_is_fine():
    out = judge(probes(168, 2), NOW, TH, site="清溪区人民政府", url="http://www.qx.gov.cn/")
    assert out.veto == [] and out.findings == []
    f = out.facts
    assert (f["probes"], f["failures"], f["too_few"], f["status"]) == (168, 2, False, "ok")
    assert f["failure_rate"] == 2 / 168
    assert len(f["per_day"]) == 8 and sum(f["per_day"].values()) == 168   # 7 x 24 h over 8 dates


def test_failure_rate_at_five_percent_fails_the_site():
    out = judge(probes(200, 10, every=timedelta(minutes=50)), NOW, TH, site="清溪区人民政府")
    assert out.facts["failure_rate"] == 0.05
    assert out.veto == ["site_unreachable"]
    [f] = out.findings
    assert f.check == "site_unreachable" and f.severity == "veto" and f.detail["failures"] == 10
    assert "5.0%" in f.message


def test_failure_rate_at_three_percent_warns():
    out = judge(probes(200, 6, every=timedelta(minutes=50)), NOW, TH)
    assert out.veto == [] and out.facts["status"] == "warning"
    assert [f.severity for f in out.findings] == ["warning"]


def test_too_few_probes_is_said_and_does_not_fail_the_site_alone():
    out = judge(probes(10, 5), NOW, TH)
    assert out.facts["too_few"] is True and out.facts["probes_needed"] == 140
    assert out.veto == []
    [f] = out.findings
    assert f.severity == "warning" and "探测次数不足" in f.message and "仅 10 次" in f.message
    out = judge(probes(10, 0), NOW, TH)
    assert out.facts["status"] == "too_few"
    assert [f.severity for f in out.findings] == ["info"]


def test_no_probes_at_all_says_how_to_start_them():
    out = judge([], NOW, TH)
    assert out.facts["status"] == "no_data" and out.facts["failure_rate"] is None
    assert "patrol schedule" in out.findings[0].message


def test_only_the_window_counts_and_stored_forms_are_accepted():
    rows = probes(168, 0) + [{"at": NOW - timedelta(days=8), "ok": False},
                             {"at": NOW + timedelta(hours=1), "ok": False},
                             {"at": "2026-11-22T11:30:00", "ok": True},              # naive: UTC
                             {"at": "not a time", "ok": False}]
    out = judge(rows, NOW, TH)
    assert out.facts["probes"] == 169 and out.facts["failures"] == 0


def test_thresholds_section_alone_is_accepted():
    out = judge(probes(168, 2), NOW, {"veto_failure_rate": 0.01, "min_probes_per_day": 20})
    assert out.veto == ["site_unreachable"]
