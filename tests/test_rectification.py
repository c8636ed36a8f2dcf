from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from reportdata import make_area

from reports.rectification import COLUMNS, XLSX_COLUMNS, items_by_department, load_rules, write_lists


@pytest.fixture()
def area(tmp_path: Path):
    return make_area(tmp_path, "http://127.0.0.1:9", runs=2)


def test_lists_are_split_by_responsible_department(area) -> None:
    lists = items_by_department(area.store, area.runs[0], area.cfg)
    assert set(lists) == {"zfb", "jyj"}
    assert {i.site for i in lists["jyj"]} == {"清溪区教育局"}
    assert {i.site for i in lists["zfb"]} == {"清溪区人民政府", "清溪发布"}


def test_template_link_broken_on_many_pages_is_one_row_with_page_count(area) -> None:
    items = items_by_department(area.store, area.runs[0], area.cfg)["zfb"]
    pdf = [i for i in items if i.check == "broken_link" and i.url.endswith("/files/plan.pdf")]
    assert len(pdf) == 1
    row = pdf[0]
    assert row.page_count == 3 and len(row.fingerprints) == 3
    assert "出现在 3 个页面" in row.description
    # The homepage comes first among the pages listed.
    assert row.page.splitlines()[0] == area.base + "/"


def test_deadlines_follow_the_rules_from_the_run_day(area) -> None:
    rules = load_rules(area.cfg)
    lists = items_by_department(area.store, area.runs[0], area.cfg)
    serious = next(i for i in lists["jyj"] if i.check == "serious_error")
    empty = next(i for i in lists["jyj"] if i.check == "column_empty")
    stale = next(i for i in lists["zfb"] if i.check == "column_stale")
    run_day = date(2026, 10, 20)
    assert (serious.deadline - run_day).days == rules["deadlines"]["by_check"]["serious_error"]
    assert (empty.deadline - run_day).days == rules["deadlines"]["by_severity"]["error"]
    assert (stale.deadline - run_day).days == rules["deadlines"]["by_severity"]["warning"]
    # Most serious first.
    assert lists["jyj"][0].check == "serious_error"


def test_suggestions_come_from_the_rules_and_the_finding(area) -> None:
    items = items_by_department(area.store, area.runs[0], area.cfg)["zfb"]
    typo = next(i for i in items if i.check == "typo")
    assert "监管" in typo.suggestion
    timeout = next(i for i in items if i.check == "broken_link" and i.url.endswith("gone.html"))
    assert timeout.suggestion == load_rules(area.cfg)["broken_link_kinds"]["timeout"]
    assert "旧栏目" in timeout.description


def test_problem_still_there_says_since_when(area) -> None:
    items = items_by_department(area.store, area.runs[1], area.cfg)["zfb"]
    timeout = next(i for i in items if i.check == "broken_link" and i.url.endswith("gone.html"))
    assert timeout.state == "open" and "2026-10" in timeout.description
    first = items_by_department(area.store, area.runs[0], area.cfg)["zfb"]
    assert all("至今未整改" not in i.description for i in first)


def test_xlsx_has_the_seven_columns_and_a_row_per_item(area, tmp_path: Path) -> None:
    paths = write_lists(area.store, area.runs[0], tmp_path / "lists", area.cfg)
    assert sorted(p.name for p in paths) == ["rectification-jyj.html", "rectification-jyj.xlsx",
                                             "rectification-zfb.html", "rectification-zfb.xlsx"]
    ws = load_workbook(tmp_path / "lists" / "rectification-zfb.xlsx").active
    rows = list(ws.iter_rows(values_only=True))
    assert "区政府办公室" in rows[0][0] and "2026-10" in rows[0][0]
    assert list(rows[1]) == XLSX_COLUMNS
    items = items_by_department(area.store, area.runs[0], area.cfg)["zfb"]
    body = rows[2:]
    assert len(body) == len(items)
    assert [r[0] for r in body] == list(range(1, len(items) + 1))
    for row, item in zip(body, items):
        assert row[1] == item.site and row[2] == item.label and row[6] == item.deadline.isoformat()


def test_formula_like_text_stays_text_in_xlsx(area, tmp_path: Path) -> None:
    write_lists(area.store, area.runs[0], tmp_path / "lists", area.cfg)
    ws = load_workbook(tmp_path / "lists" / "rectification-zfb.xlsx").active
    cells = [c for row in ws.iter_rows(min_row=3) for c in row if isinstance(c.value, str)
             and c.value.startswith("=HYPERLINK")]
    assert cells and all(c.data_type == "s" for c in cells)


def test_html_list_escapes_crawled_text(area, tmp_path: Path) -> None:
    write_lists(area.store, area.runs[0], tmp_path / "lists", area.cfg)
    html = (tmp_path / "lists" / "rectification-zfb.html").read_text(encoding="utf-8")
    assert "<th" in html and all(c in html for c in COLUMNS)
    assert "=HYPERLINK(&#34;http://x&#34;)" in html
