from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from checks.model import Finding
from common.config import config_from_dict
from checks.scoring import SCORING_FILE, ScoringError, deductions, load_table, score_site, verdict


def link(url: str, page: str, homepage: bool = False, severity: str = "error") -> Finding:
    return Finding("broken_link", severity, "站", url, "链接无法访问", page, "zfb",
                   {"kind": "http_404", "homepage": homepage})


def test_default_table_comes_from_config_scoring_yaml() -> None:
    table = load_table()
    assert table["source"].endswith("patroldata/scoring.yaml")
    assert table["checks"]["broken_link"]["homepage"] > table["checks"]["broken_link"]["other"]


def test_homepage_broken_link_costs_more_than_other_pages_link() -> None:
    table = load_table()
    on_home = score_site([link("http://a/x.pdf", "http://a/", homepage=True)], [], table)
    elsewhere = score_site([link("http://a/x.pdf", "http://a/n/1.html")], [], table)
    assert on_home == 100 - table["checks"]["broken_link"]["homepage"]
    assert elsewhere == 100 - table["checks"]["broken_link"]["other"]
    assert on_home < elsewhere


def test_template_link_broken_on_many_pages_is_deducted_once() -> None:
    table = load_table()
    many = [link("http://a/logo.png", f"http://a/n/{i}.html") for i in range(500)]
    assert score_site(many, [], table) == 100 - table["checks"]["broken_link"]["other"]


def test_template_link_that_is_also_on_the_homepage_gets_homepage_weight() -> None:
    table = load_table()
    rows = [link("http://a/logo.png", f"http://a/n/{i}.html") for i in range(3)]
    rows.append(link("http://a/logo.png", "http://a/", homepage=True))
    assert deductions(rows, table) == {"broken_link": table["checks"]["broken_link"]["homepage"]}


def test_deduction_per_check_is_capped() -> None:
    table = load_table()
    typos = [Finding("typo", "error", "站", f"http://a/{i}.html", "错别字", None, "", {"wrong": str(i)})
             for i in range(100)]
    assert deductions(typos, table)["typo"] == table["checks"]["typo"]["cap"]
    assert score_site(typos, [], table) == 100 - table["checks"]["typo"]["cap"]


def test_warnings_do_not_cost_points_by_default() -> None:
    table = load_table()
    early = [Finding("column_stale", "warning", "站", "http://a/c/", "预警", None, "", {"column": "c"})]
    assert score_site(early, [], table) == 100


def test_unlisted_check_uses_the_default_entry() -> None:
    table = load_table()
    assert "page_error" not in table["checks"]
    rows = [Finding("page_error", "error", "站", "http://a/", "页面未能完整检查", None, "", {})]
    assert score_site(rows, [], table) == 100 - table["default"]["per"]


def test_veto_does_not_change_the_score_unless_a_cap_is_set() -> None:
    table = load_table()
    assert score_site([], ["column_stale"], table) == 100
    capped = dict(table, veto_cap=59)
    assert score_site([], ["column_stale"], capped) == 59
    assert score_site([], [], capped) == 100


def test_verdict_names_the_reason_for_failing() -> None:
    table = load_table()
    assert verdict(95, [], table) == "合格"
    assert "单项否决" in verdict(95, ["homepage_stale"], table)
    assert "低于合格线" in verdict(55, [], table)
    assert verdict(None, [], table) == "未评分"


def test_scoring_table_next_to_the_config_file_is_used(tmp_path: Path) -> None:
    table = yaml.safe_load(SCORING_FILE.read_text(encoding="utf-8"))
    table["checks"]["broken_link"]["homepage"] = 7
    (tmp_path / "scoring.yaml").write_text(yaml.safe_dump(table, allow_unicode=True), encoding="utf-8")
    cfg = config_from_dict({}, source=str(tmp_path / "patrol.yaml"), base_dir=tmp_path)
    loaded = load_table(cfg)
    assert loaded["source"] == str(tmp_path / "scoring.yaml")
    assert score_site([link("http://a/x", "http://a/", homepage=True)], [], loaded) == 93


def test_malformed_scoring_table_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "scoring.yaml"
    bad.write_text("full_score: 100\npass_score: 60\nchecks:\n  typo: {per: lots}\n", encoding="utf-8")
    with pytest.raises(ScoringError, match=r"checks\.typo\.per"):
        load_table(path=bad)


def test_same_wrong_words_on_many_pages_cost_once() -> None:
    from checks.scoring import breakdown
    table = load_table()
    rows = [Finding("typo", "error", "站", f"http://a/{i}.html", "错别字", f"http://a/{i}.html", "",
                    {"wrong": "尾页", "suggestion": "一页"}) for i in range(30)]
    rows.append(Finding("typo", "error", "站", "http://a/x.html", "错别字", None, "",
                        {"wrong": "布署", "suggestion": "部署"}))
    assert deductions(rows, table)["typo"] == 2 * table["checks"]["typo"]["per"]
    assert breakdown(rows, table)[0]["count"] == 2


def test_a_verdict_summing_up_other_findings_costs_nothing_of_its_own() -> None:
    table = load_table()
    columns = [Finding("column_stale", "error", "站", f"http://a/c{i}/", "栏目未更新", None, "", {"column": str(i)})
               for i in range(5)]
    verdict_row = Finding("column_stale", "veto", "站", "http://a/", "栏目不更新：5 个", None, "",
                          {"rule": "count", "stale": 5})
    assert deductions(columns + [verdict_row], table) == deductions(columns, table)


def test_breakdown_says_how_the_points_were_reached_and_where_the_cap_stopped_them() -> None:
    from checks.scoring import breakdown
    table = load_table()
    rows = [link(f"http://a/{i}.pdf", "http://a/", homepage=True) for i in range(2)]
    rows += [link(f"http://a/o{i}.pdf", "http://a/n.html") for i in range(3)]
    rows += [Finding("privacy_leak", "error", "站", f"http://a/{i}.html", "泄露", None, "", {}) for i in range(9)]
    by_check = {r["check"]: r for r in breakdown(rows, table)}
    link_row, leak_row = by_check["broken_link"], by_check["privacy_leak"]
    assert (link_row["homepage_count"], link_row["other_count"]) == (2, 3)
    entry = table["checks"]["broken_link"]
    assert link_row["points"] == 2 * entry["homepage"] + 3 * entry["other"] and not link_row["capped"]
    assert leak_row["raw"] == 9 * table["checks"]["privacy_leak"]["per"]
    assert leak_row["capped"] and leak_row["points"] == table["checks"]["privacy_leak"]["cap"]
    assert sum(r["points"] for r in by_check.values()) == 100 - score_site(rows, [], table)


def test_every_new_media_check_has_its_own_entry() -> None:
    table = load_table()
    for check in ("newmedia_stale", "newmedia_empty", "newmedia_unreachable", "newmedia_reposts"):
        assert check in table["checks"]
