"""`patrol feedback`: departments' filled-in rectification lists read back as marks, and every
kind of malformed file refused with the sheet and row."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from reportdata import make_area, save_run

from patrol.cli import main
from reports.data import load_run
from reports.feedback import apply_feedback
from reports.rectification import XLSX_COLUMNS, items_by_department, write_lists
from reports.triage import load_marks

pytestmark = pytest.mark.e2e

BASE = "http://127.0.0.1:9"
REPLY, NOTE, CONTACT, KEY = (XLSX_COLUMNS.index(c) + 1 for c in ("整改情况", "说明", "联系人", XLSX_COLUMNS[-1]))


@pytest.fixture()
def lists(tmp_path: Path):
    area = make_area(tmp_path, BASE, runs=1)
    write_lists(area.store, area.runs[0], tmp_path / "lists", area.cfg)
    return area, tmp_path / "lists"


def row_of(ws, check_label: str) -> int:
    return next(r for r in range(3, ws.max_row + 1) if check_label in str(ws.cell(r, 3).value))


def fill(path: Path, replies: dict[str, tuple[str, str, str]], out: Path) -> Path:
    """Fill the rows whose 问题类型 contains each label, as a department would in Excel."""
    wb = load_workbook(path)
    ws = wb["整改清单"]
    for label, (reply, note, contact) in replies.items():
        r = row_of(ws, label)
        ws.cell(r, REPLY, reply)
        ws.cell(r, NOTE, note)
        ws.cell(r, CONTACT, contact)
    wb.save(out)
    return out


def test_xlsx_has_reply_columns_with_a_drop_down_and_the_key(lists) -> None:
    area, folder = lists
    wb = load_workbook(folder / "rectification-zfb.xlsx")
    ws = wb["整改清单"]
    assert [c.value for c in ws[2]] == XLSX_COLUMNS
    rules = ws.data_validations.dataValidation
    assert len(rules) == 1 and rules[0].formula1 == '"已整改,误报,无法整改"'
    assert str(rules[0].sqref) == f"H3:H{ws.max_row}"
    items = items_by_department(area.store, area.runs[0], area.cfg)["zfb"]
    assert [ws.cell(r, KEY).value for r in range(3, ws.max_row + 1)] == [i.key for i in items]
    assert wb["_patrol"].sheet_state == "hidden"


def test_filled_list_becomes_marks_seen_by_the_next_run(lists, tmp_path: Path, capsys) -> None:
    area, folder = lists
    filled = fill(folder / "rectification-zfb.xlsx", {
        "错别字": ("误报", "“监菅”为引用原文", "张三"),
        "表述": ("已整改", "已改为自然资源局", "张三"),
        "链接": ("无法整改", "外部单位的附件已下架，无法恢复", "张三"),
    }, tmp_path / "zfb-filled.xlsx")
    assert main(["feedback", "--config", str(tmp_path / "patrol.yaml"), str(filled)]) == 0
    out = capsys.readouterr().out
    assert "已整改 1 项，误报 1 项，无法整改 1 项" in out
    marks = load_marks(area.store)
    states = sorted(m.state for m in marks.values())
    assert states.count("false_alarm") == 1 and states.count("fixed") == 1
    assert all(m.by == "张三" and m.source == "feedback" for m in marks.values())
    accepted = [m for m in marks.values() if m.state == "accepted"]
    assert accepted and all(m.note == "无法整改：外部单位的附件已下架，无法恢复" for m in accepted)
    # The next run finds everything again: the false alarm and the accepted link stay out,
    # the "fixed" wording is reopened and listed again.
    run2 = save_run(area.store, "2026-11", BASE)
    items = items_by_department(area.store, run2, area.cfg)["zfb"]
    labels = {i.check: i for i in items}
    assert "typo" not in labels
    assert labels["wrong_expression"].state == "reopened"
    ws = load_workbook(filled)["整改清单"]
    link_key = ws.cell(row_of(ws, "链接"), KEY).value
    assert link_key.startswith("link:") and link_key not in {i.key for i in items}
    assert any(i.check == "broken_link" for i in items)      # the other broken link is still listed
    data = load_run(area.store, run2, area.cfg)
    assert {f.state for f in data.marked} == {"false_alarm", "accepted"}


def test_dry_run_checks_and_applies_nothing(lists, tmp_path: Path) -> None:
    area, folder = lists
    filled = fill(folder / "rectification-zfb.xlsx", {"错别字": ("误报", "", "")}, tmp_path / "f.xlsx")
    outcome = apply_feedback(area.store, [filled], dry_run=True)
    assert outcome.ok and "--dry-run" in outcome.summary()
    assert load_marks(area.store) == {}


def _edit(src: Path, dst: Path, change) -> Path:
    wb = load_workbook(src)
    change(wb)
    wb.save(dst)
    return dst


def test_malformed_files_are_refused_row_by_row(lists, tmp_path: Path) -> None:
    area, folder = lists
    zfb, jyj = folder / "rectification-zfb.xlsx", folder / "rectification-jyj.xlsx"
    jyj_key = load_workbook(jyj)["整改清单"].cell(3, KEY).value
    typo_row = row_of(load_workbook(zfb)["整改清单"], "错别字")

    def edited_key(wb):
        ws = wb["整改清单"]
        ws.cell(typo_row, REPLY, "误报")
        ws.cell(typo_row, KEY, "0123456789abcdef")

    def pasted_from_jyj(wb):
        ws = wb["整改清单"]
        ws.cell(typo_row, KEY, jyj_key)

    def outside_list(wb):
        wb["整改清单"].cell(typo_row, REPLY, "已经改了")

    def no_reason(wb):
        wb["整改清单"].cell(typo_row, REPLY, "无法整改")

    def other_run(wb):
        wb["_patrol"]["B1"] = 99

    def header_moved(wb):
        wb["整改清单"].insert_cols(2)

    def row_deleted(wb):
        wb["整改清单"].delete_rows(typo_row)

    def meta_of_jyj(wb):
        wb["_patrol"]["B2"] = "jyj"

    cases = {
        edited_key: f"第 {typo_row} 行: 问题编号被改动",
        pasted_from_jyj: "这是部门“jyj”的问题，不属于本清单",
        outside_list: f"第 {typo_row} 行: 整改情况“已经改了”不在可选值",
        no_reason: "须在“说明”中写明原因",
        other_run: "这是运行 99 的清单",
        header_moved: "第 2 行: 第 2 列的表头应为“网站/账号”",
        row_deleted: "被删除或清空",
        meta_of_jyj: "属于部门“zfb”，而本清单是“jyj”的",
    }
    for change, expected in cases.items():
        path = _edit(zfb, tmp_path / f"{change.__name__}.xlsx", change)
        outcome = apply_feedback(area.store, [path])
        text = outcome.summary()
        assert not outcome.ok and expected in text, (change.__name__, text)
        assert "未导入" in text and "工作表" in text or change is other_run
        assert load_marks(area.store) == {}, change.__name__
    # Not an XLSX at all, a workbook that is no list, a list copied into a new workbook.
    (tmp_path / "notes.xlsx").write_text("整改完毕", encoding="utf-8")
    other = Workbook()
    other.active.title = "Sheet1"
    other.save(tmp_path / "other.xlsx")
    copied = Workbook()
    copied.active.title = "整改清单"
    for row in load_workbook(zfb)["整改清单"].iter_rows(values_only=True):
        copied.active.append(row)
    copied.save(tmp_path / "copied.xlsx")
    for name, expected in (("notes.xlsx", "无法作为 XLSX 文件读取"), ("other.xlsx", "这不是巡检系统发出的整改清单"),
                           ("copied.xlsx", "缺少隐藏工作表"), ("missing.xlsx", "文件不存在")):
        outcome = apply_feedback(area.store, [tmp_path / name])
        assert not outcome.ok and expected in outcome.summary(), name
    # One bad file does not stop a good one; the command exits non-zero.
    good = shutil.copy(zfb, tmp_path / "good.xlsx")
    good = fill(Path(good), {"错别字": ("误报", "原文", "")}, tmp_path / "good.xlsx")
    assert main(["feedback", "--config", str(tmp_path / "patrol.yaml"), str(good),
                 str(tmp_path / "notes.xlsx")]) == 1
    assert [m.state for m in load_marks(area.store).values()] == ["false_alarm"]


def test_reply_read_back_is_not_mailed_and_costs_no_points(tmp_path: Path) -> None:
    from test_mail import Inbox, Server, area_for

    from reports.mail import send_lists
    inbox = Inbox()
    with Server(inbox) as srv:
        area = area_for(tmp_path, srv.port)
        write_lists(area.store, area.runs[0], tmp_path / "lists", area.cfg)
        filled = fill(tmp_path / "lists" / "rectification-zfb.xlsx", {"错别字": ("误报", "引用原文", "张三")},
                      tmp_path / "zfb.xlsx")
        assert apply_feedback(area.store, [filled]).ok
        run2 = save_run(area.store, "2026-11", BASE)
        assert send_lists(area.store, run2, area.cfg, backoff_s=0).ok
    zfb = next(m for m in inbox.messages if m["X-Patrol-Department"] == "zfb")
    assert "监菅" not in zfb.get_body(("plain",)).get_content()
    gov = load_run(area.store, run2, area.cfg).by_site()["清溪区人民政府"]
    assert gov.result.score > gov.stored_score
