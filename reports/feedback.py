"""``patrol feedback``: a department's filled-in rectification list (XLSX) read back as marks.

The list patrol mails (reports/rectification.py) has three columns for the department —
整改情况 (已整改 / 误报 / 无法整改), 说明, 联系人 — the item's 问题编号, and a hidden sheet
with the run, the department and each row's key and fingerprints.  Every row is checked
against that sheet and the store before anything is applied; a file with any bad row is
applied not at all (correct it and read it again), and each problem names the file, the
sheet and the row.

已整改 marks the item's findings ``fixed`` (the next run verifies it: found again, it is
reopened), 误报 ``false_alarm``, 无法整改 ``accepted`` with the 说明 as the reason.
"""
from __future__ import annotations

import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from store import FindingRow, Rectification, Store
from reports.rectification import (
    COLUMNS,
    LIST_SHEET,
    META_SHEET,
    REPLIES,
    UNASSIGNED_NAME,
    XLSX_COLUMNS,
)
from reports.triage import set_marks

REPLY_STATES = {"已整改": "fixed", "误报": "false_alarm", "无法整改": "accepted"}
_REPLY, _NOTE, _CONTACT, _KEY = (len(COLUMNS) + i for i in range(4))     # 0-based cell indexes


@dataclass
class Reply:
    row: int
    key: str
    fingerprints: list[str]
    reply: str
    note: str
    contact: str


@dataclass
class FileOutcome:
    path: Path
    run: int | None = None
    department: str = ""
    problems: list[str] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    blank: int = 0
    applied: bool = False

    def problem(self, message: str, row: int | None = None, sheet: str = LIST_SHEET) -> None:
        where = f"{self.path.name}: 工作表“{sheet}”第 {row} 行: " if row is not None else f"{self.path.name}: "
        self.problems.append(where + message)


@dataclass
class FeedbackOutcome:
    files: list[FileOutcome] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return all(not f.problems for f in self.files)

    def summary(self) -> str:
        lines = []
        for f in self.files:
            head = f"{f.path}"
            if f.run is not None:
                head += f"（运行 {f.run}，{f.department or UNASSIGNED_NAME}）"
            if f.problems:
                lines.append(f"{head}：{len(f.problems)} 处错误，本文件未导入，改正后请重新导入：")
                lines += [f"  {p}" for p in f.problems]
                continue
            counts = Counter(r.reply for r in f.replies)
            told = "，".join(f"{k} {counts.get(k, 0)} 项" for k in REPLIES)
            verb = "检查通过（--dry-run，未导入）" if self.dry_run else "已导入"
            lines.append(f"{head}：{verb}：{told}；未填写 {f.blank} 项")
        if not lines:
            lines.append("没有给出文件。")
        total = Counter(r.reply for f in self.files if f.applied for r in f.replies)
        if total:
            lines.append("合计导入：" + "，".join(f"{k} {total.get(k, 0)} 项" for k in REPLIES)
                         + "。标为“已整改”的将由下次巡检复核，仍发现的恢复为“整改后复现”。")
        return "\n".join(lines)


def apply_feedback(store: Store, paths: list[Path], dry_run: bool = False) -> FeedbackOutcome:
    """Check each file; apply the replies of every file without problems (unless ``dry_run``)."""
    outcome = FeedbackOutcome(dry_run=dry_run)
    for path in paths:
        result = read_file(store, Path(path))
        outcome.files.append(result)
        if result.problems or dry_run:
            continue
        for reply in result.replies:
            state = REPLY_STATES[reply.reply]
            note = reply.note if state != "accepted" else f"无法整改：{reply.note}"
            set_marks(store, reply.fingerprints, state, note=note,
                      by=reply.contact or result.department or "责任部门", source="feedback", run_id=result.run)
        result.applied = True
    return outcome


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_file(store: Store, path: Path) -> FileOutcome:
    """Read and check one returned list; ``problems`` says what is wrong, row by row."""
    out = FileOutcome(path)
    if not path.is_file():
        out.problem("文件不存在")
        return out
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException
    try:
        wb = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        out.problem(f"无法作为 XLSX 文件读取（{type(exc).__name__}）；请用 Excel/WPS 另存为 .xlsx 后再导入")
        return out
    if LIST_SHEET not in wb.sheetnames:
        out.problem(f"没有“{LIST_SHEET}”工作表：这不是巡检系统发出的整改清单")
        return out
    if META_SHEET not in wb.sheetnames:
        out.problem(f"缺少隐藏工作表“{META_SHEET}”（巡检系统发出的整改清单都有）：请在邮件附件的清单上填写，"
                    "不要复制到新文件")
        return out
    meta = wb[META_SHEET]
    fields = {_text(r[0]): r[1] for r in meta.iter_rows(min_row=1, max_row=3, max_col=2, values_only=True)}
    try:
        out.run = int(_text(fields.get("run")))
    except ValueError:
        out.problem(f"隐藏工作表记录的运行编号 {fields.get('run')!r} 无效", sheet=META_SHEET, row=1)
        return out
    out.department = _text(fields.get("department"))
    if store.get_run(out.run) is None:
        out.problem(f"这是运行 {out.run} 的清单，当前数据库（{store.url}）中没有该运行：另一套巡检的文件？")
        return out
    sent: dict[int, tuple[str, list[str]]] = {}
    for r in meta.iter_rows(min_row=5, max_col=3, values_only=True):
        if r[0] is None:
            continue
        try:
            sent[int(r[0])] = (_text(r[1]), _text(r[2]).split())
        except ValueError:
            out.problem("隐藏工作表被改动，无法核对", sheet=META_SHEET)
            return out
    ws = wb[LIST_SHEET]
    header = [_text(c) for c in next(ws.iter_rows(min_row=2, max_row=2, values_only=True), ())]
    for i, name in enumerate(XLSX_COLUMNS):
        got = header[i] if i < len(header) else ""
        if got != name:
            out.problem(f"第 {i + 1} 列的表头应为“{name}”，现为“{got}”：请不要增删或移动列", row=2)
            return out
    _check_items(store, out, sent)
    if out.problems:
        return out
    seen_rows = set()
    for number, cells in enumerate(ws.iter_rows(min_row=3, values_only=True), 3):
        values = [_text(c) for c in cells] + [""] * len(XLSX_COLUMNS)
        if not any(values):
            continue
        reply, note, contact, key = values[_REPLY], values[_NOTE], values[_CONTACT], values[_KEY]
        expected = sent.get(number)
        if expected is None:
            out.problem(f"发出的清单没有这一行（问题编号“{key}”）：请不要增加、删除或移动行", row=number)
            continue
        seen_rows.add(number)
        if key != expected[0]:
            out.problem(f"问题编号被改动：发出时为“{expected[0]}”，现为“{key}”{_whose(store, key, out)}",
                        row=number)
            continue
        if not reply:
            out.blank += 1
            continue
        if reply not in REPLY_STATES:
            out.problem(f"整改情况“{reply}”不在可选值（{'、'.join(REPLIES)}）之内", row=number)
            continue
        if reply == "无法整改" and not note:
            out.problem("选择“无法整改”时须在“说明”中写明原因", row=number)
            continue
        out.replies.append(Reply(number, key, expected[1], reply, note, contact))
    missing = sorted(set(sent) - seen_rows)
    if missing:
        out.problem(f"发出的清单第 {'、'.join(map(str, missing[:10]))} 行被删除或清空：请不要删除行")
    return out


def _check_items(store: Store, out: FileOutcome, sent: dict[int, tuple[str, list[str]]]) -> None:
    """The rows the hidden sheet lists must be findings of this file's run and department."""
    fps = {fp for _, fp_list in sent.values() for fp in fp_list}
    with store.session() as s:
        stored = {f.fingerprint: f for f in s.exec(select(FindingRow).where(
            FindingRow.run_id == out.run, col(FindingRow.fingerprint).in_(list(fps) or [""])))}
    for number, (key, fp_list) in sorted(sent.items()):
        rows = [stored.get(fp) for fp in fp_list]
        if not fp_list or any(r is None for r in rows):
            out.problem(f"问题编号“{key}”不是运行 {out.run} 的问题{_whose(store, key, out)}", row=number)
        elif any(r.department != out.department for r in rows if r is not None):
            other = next(r.department for r in rows if r is not None and r.department != out.department)
            out.problem(f"问题编号“{key}”属于部门“{other or UNASSIGNED_NAME}”，而本清单是"
                        f"“{out.department or UNASSIGNED_NAME}”的", row=number)


def _whose(store: Store, key: str, out: FileOutcome) -> str:
    """Where a key belongs, when it is not where the file says: another run or department."""
    if not key:
        return ""
    with store.session() as s:
        row = s.exec(select(FindingRow).where(FindingRow.fingerprint == key)
                     .order_by(col(FindingRow.id).desc())).first()
        if row is not None:
            run, dep = row.run_id, row.department
        else:
            item = s.exec(select(Rectification).where(Rectification.key == key)).first()
            if item is None:
                return "（数据库中没有这个编号）"
            run, dep = item.mailed_run, item.department
    if dep != out.department:
        return f"（这是部门“{dep or UNASSIGNED_NAME}”的问题，不属于本清单）"
    if run != out.run:
        return f"（这是运行 {run} 的问题，不属于本清单的运行 {out.run}）"
    return ""
