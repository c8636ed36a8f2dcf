"""Rectification lists (整改清单): one per department, as HTML and XLSX.

Columns: 序号, 网站/账号, 问题类型, 问题页面, 问题描述, 整改建议, 整改期限; the XLSX adds
整改情况 / 说明 / 联系人 for the department's reply and the item's 问题编号.  Broken links are
grouped by target, so a template link broken on 500 pages is one row that counts the pages.
Each row (an *item*) carries the fingerprints of the findings it stands for, which is what
the mail records and the next run follows up.
"""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from checks.model import link_key
from store import FindingRow, Store
from patroldata import data_path
from reports.data import SEVERITY_ORDER, RunData, department_names, load_run, run_day
from reports.templating import environment

if TYPE_CHECKING:
    from common.config import Config

RULES_FILE = data_path("rectification.yaml")
COLUMNS = ["序号", "网站/账号", "问题类型", "问题页面", "问题描述", "整改建议", "整改期限"]
UNASSIGNED = ""          # findings of sites with no department
UNASSIGNED_NAME = "未指定责任部门"
# The XLSX adds what the department fills in, and the item's key (reports/feedback.py reads them).
REPLY_COLUMNS = ["整改情况", "说明", "联系人"]
KEY_COLUMN = "问题编号（请勿修改）"
XLSX_COLUMNS = COLUMNS + REPLY_COLUMNS + [KEY_COLUMN]
REPLIES = ["已整改", "误报", "无法整改"]
LIST_SHEET = "整改清单"
META_SHEET = "_patrol"
SEVERITY_LABELS = {"veto": "单项否决", "error": "问题", "warning": "预警", "info": "提示"}
# The sheet of published telephone numbers each department rings to confirm (僵尸电话 clean-up).
PHONE_SHEET = "联系电话核查"
PHONE_COLUMNS = ["序号", "网站", "电话号码", "类型", "标注", "所在栏目", "页面数", "页面（示例）", "核实结果", "备注"]
PHONE_PAGES_LISTED = 3
# Checks with one finding per page that a department fixes once per column (in the column's
# template): one row per column, not one per page.
GROUP_BY_COLUMN = {"page_labels"}


@dataclass
class Item:
    """One row of a rectification list."""

    key: str                     # stable across runs: the finding's fingerprint, or the link target's
    department: str
    site: str
    check: str
    label: str
    severity: str
    page: str                    # 问题页面
    url: str
    description: str
    suggestion: str
    deadline: date
    fingerprints: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    page_count: int = 0
    state: str = "new"           # new | open (reported by an earlier run) | reopened (marked fixed, found again)

    def row(self, number: int) -> list[Any]:
        return [number, self.site, self.label, self.page, self.description, self.suggestion,
                self.deadline.isoformat()]


def load_rules(cfg: Config | None = None) -> dict[str, Any]:
    """patroldata/rectification.yaml, or ``rectification.yaml`` next to the config file."""
    candidates = []
    if cfg is not None and cfg.path and cfg.path != "<none>":
        candidates.append(Path(cfg.path).parent / "rectification.yaml")
    candidates.append(RULES_FILE)
    for candidate in candidates:
        if candidate.is_file():
            rules = yaml.safe_load(candidate.read_text(encoding="utf-8")) or {}
            if not isinstance(rules, dict):
                raise ValueError(f"{candidate}: expected a mapping")
            return rules
    return {}


def label(check: str, rules: dict[str, Any]) -> str:
    """问题类型 of a check id; a check the labels do not know yet still reads as Chinese."""
    known = (rules.get("labels") or {}).get(check)
    return known if known else f"其他问题（{check}）"


def deadline_days(check: str, severity: str, rules: dict[str, Any]) -> int:
    d = rules.get("deadlines") or {}
    by_check = d.get("by_check") or {}
    if check in by_check:
        return int(by_check[check])
    return int((d.get("by_severity") or {}).get(severity, d.get("default_days", 15)))


def suggestion(check: str, detail: dict[str, Any], rules: dict[str, Any]) -> str:
    texts = rules.get("suggestions") or {}
    if check == "broken_link":
        kind = str(detail.get("kind", ""))
        by_kind = rules.get("broken_link_kinds") or {}
        if kind in by_kind:
            return by_kind[kind]
        if kind.startswith("http_4") and "http_404" in by_kind:
            return by_kind["http_404"]
    if detail.get("suggestion") and check in ("typo", "wrong_expression", "serious_error"):
        return f"建议改为“{detail['suggestion']}”。" + texts.get(check, "")
    return texts.get(check) or texts.get("default", "")


def items_by_department(store: Store, run_id: int, cfg: Config | None = None,
                        rules: dict[str, Any] | None = None, *,
                        data: RunData | None = None) -> dict[str, list[Item]]:
    """The rectification items of a run, per department id (``""`` when none is set)."""
    rules = rules if rules is not None else load_rules(cfg)
    data = data or load_run(store, run_id, cfg)
    include = set(rules.get("include_severities") or ["veto", "error", "warning"])
    base = run_day(data.run)
    pages_listed = int(rules.get("pages_listed", 5))
    periods = {r.id: r.period for r in store.runs()}
    groups: dict[tuple[str, str, str], list[FindingRow]] = {}
    singles: list[FindingRow] = []
    by_column: dict[tuple[str, str, str, str], list[FindingRow]] = {}
    for f in data.findings:
        if f.severity not in include:
            continue
        if f.check == "broken_link":
            # One item per target, however the pages wrote it; it names the target as written.
            groups.setdefault((f.department, f.site, link_key(f.url, f.detail)), []).append(f)
        elif f.check in GROUP_BY_COLUMN:
            column = str((f.detail or {}).get("column") or "")
            by_column.setdefault((f.department, f.site, f.check, column), []).append(f)
        else:
            singles.append(f)
    items: list[Item] = []
    for (dep, site, key), rows in groups.items():
        worst = min(rows, key=lambda r: SEVERITY_ORDER.get(r.severity, 9))
        url = worst.url
        # Homepage first: that is where a citizen meets the broken link first.
        rows = sorted(rows, key=lambda r: (not (r.detail or {}).get("homepage"), r.page or ""))
        pages = list(dict.fromkeys(r.page or "" for r in rows if r.page))
        detail = dict(worst.detail or {})
        anchor = next((str((r.detail or {}).get("anchor")) for r in rows if (r.detail or {}).get("anchor")), "")
        text = worst.message or "链接无法访问"
        extra = [f"目标：{url}"]
        if anchor:
            extra.append(f"链接文字“{anchor}”")
        if len(pages) > 1:
            extra.append(f"出现在 {len(pages)} 个页面")
        desc = f"{text}（{'；'.join(extra)}）"
        page = pages[0] if pages else url
        if len(pages) > 1:
            shown = pages[:pages_listed]
            rest = len(pages) - len(shown)
            page = "\n".join(shown) + (f"\n等共 {len(pages)} 个页面" if rest > 0 else "")
        items.append(_item(rules, base, key="link:" + _digest(site, key), department=dep, site=site,
                           check="broken_link", severity=worst.severity, page=page, url=url,
                           description=desc + _history(rows, periods) + _reopened(rows), detail=detail,
                           fingerprints=[r.fingerprint for r in rows], pages=pages,
                           state="reopened" if any(r.state == "reopened" for r in rows)
                           else "open" if all(r.state == "open" for r in rows) else "new"))
    for (dep, site, check, column), rows in by_column.items():
        items.append(_column_item(rules, base, dep, site, check, column, rows, pages_listed, periods))
    for f in singles:
        detail = dict(f.detail or {})
        desc = f.message or label(f.check, rules)
        context = detail.get("context")
        if isinstance(context, str) and context and context not in desc:
            desc += f"（原文：“{_clip(context, 80)}”）"
        if f.severity == "warning":
            desc = "【预警】" + desc
        items.append(_item(rules, base, key=f.fingerprint, department=f.department, site=f.site,
                           check=f.check, severity=f.severity, page=f.page or f.url, url=f.url,
                           description=desc + _history([f], periods) + _reopened([f]), detail=detail,
                           fingerprints=[f.fingerprint], pages=[f.page] if f.page else [],
                           state=f.state))
    items.sort(key=lambda i: (SEVERITY_ORDER.get(i.severity, 9), i.deadline, i.site, i.check, i.url))
    out: dict[str, list[Item]] = {}
    for item in items:
        out.setdefault(item.department or UNASSIGNED, []).append(item)
    return out


def phones_by_department(store: Store, run_id: int, *,
                         data: RunData | None = None) -> dict[str, list[list[Any]]]:
    """Rows of the 联系电话核查 sheet per department id: one per distinct number of each site
    (``contact_phone`` findings), with 核实结果 and 备注 left for the department to fill in."""
    data = data or load_run(store, run_id)
    rows: dict[str, list[list[Any]]] = {}
    for f in sorted((f for f in data.findings if f.check == "contact_phone"),
                    key=lambda f: (f.site, str((f.detail or {}).get("number", f.url)))):
        d = f.detail or {}
        pages = [str(p) for p in d.get("pages") or []]
        shown = "\n".join(pages[:PHONE_PAGES_LISTED])
        total = int(d.get("page_count") or len(pages))
        if total > PHONE_PAGES_LISTED:
            shown += f"\n等共 {total} 个页面"
        rows.setdefault(f.department or UNASSIGNED, []).append([
            f.site, str(d.get("number") or f.url.removeprefix("tel:")), str(d.get("kind_label") or ""),
            "、".join(str(x) for x in d.get("labels") or []), "；".join(str(x) for x in d.get("columns") or []),
            total, shown, "", ""])
    for dep_rows in rows.values():
        for n, row in enumerate(dep_rows, 1):
            row.insert(0, n)
    return rows


def _column_item(rules: dict[str, Any], base: date, dep: str, site: str, check: str, column: str,
                 rows: list[FindingRow], pages_listed: int, periods: dict[int | None, str]) -> Item:
    """One row for a column's pages with the same kind of problem (page labels)."""
    worst = min(rows, key=lambda r: SEVERITY_ORDER.get(r.severity, 9))
    rows = sorted(rows, key=lambda r: r.page or r.url)
    pages = list(dict.fromkeys(r.page or r.url for r in rows))
    counts: dict[str, int] = {}
    for r in rows:
        for name in (r.detail or {}).get("missing") or []:
            counts[str(name)] = counts.get(str(name), 0) + 1
    missing = "、".join(f"{name}（{n} 页）" if len(rows) > 1 else name for name, n in counts.items())
    desc = f"栏目“{column}”{len(pages)} 个页面缺少网页标签：{missing}" if len(pages) > 1 else \
        (worst.message or label(check, rules))
    if worst.severity == "warning":
        desc = "【预警】" + desc
    shown = pages[:pages_listed]
    page = "\n".join(shown) + (f"\n等共 {len(pages)} 个页面" if len(pages) > len(shown) else "")
    return _item(rules, base, key=f"column:{check}:" + _digest(site, column), department=dep, site=site,
                 check=check, severity=worst.severity, page=page, url=rows[0].url,
                 description=desc + _history(rows, periods), detail={"column": column, "missing": list(counts)},
                 fingerprints=[r.fingerprint for r in rows], pages=pages,
                 state="open" if all(r.state == "open" for r in rows) else "new")


def _item(rules: dict[str, Any], base: date, *, detail: dict[str, Any], **kw: Any) -> Item:
    kw["page_count"] = len(kw.get("pages") or [])
    return Item(label=label(kw["check"], rules), suggestion=suggestion(kw["check"], detail, rules),
                deadline=base + timedelta(days=deadline_days(kw["check"], kw["severity"], rules)), **kw)


def _history(rows: list[FindingRow], periods: dict[int | None, str]) -> str:
    firsts = [r.first_seen_run for r in rows if r.state == "open" and r.first_seen_run]
    if not firsts or len(firsts) < len(rows):
        return ""
    first = min(firsts)
    return f"。该问题在 {periods.get(first, '此前')} 的巡检中已发现，至今未整改"


def _reopened(rows: list[FindingRow]) -> str:
    """An item marked 已整改 that a later run found again says so (reports/triage.py)."""
    return "。该问题曾标记为已整改，本次巡检仍发现，请重新整改" if any(r.state == "reopened" for r in rows) else ""


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def safe_name(text: str) -> str:
    """A file-name-safe form of a department id."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "unassigned"


def list_context(store: Store, run_id: int, cfg: Config | None, department: str,
                 items: list[Item], phones: list[list[Any]] | None = None) -> dict[str, Any]:
    run = store.get_run(run_id)
    assert run is not None
    names = department_names(cfg)
    return {
        "run": run, "department": department,
        "department_name": names.get(department, department or UNASSIGNED_NAME),
        "inspector": (cfg.inspector.name if cfg else run.inspector) or "巡检单位",
        "inspector_email": cfg.inspector.email if cfg else "",
        "items": items, "columns": COLUMNS, "severity_labels": SEVERITY_LABELS,
        "phones": phones or [], "phone_columns": PHONE_COLUMNS, "phone_sheet": PHONE_SHEET,
    }


def render_list_html(store: Store, run_id: int, cfg: Config | None, department: str,
                     items: list[Item], phones: list[list[Any]] | None = None) -> str:
    template = environment().get_template("rectification.html.j2")
    return template.render(**list_context(store, run_id, cfg, department, items, phones))


def write_xlsx(path: Path, title: str, items: list[Item], run_id: int | None = None,
               department: str = "", phones: list[list[Any]] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(xlsx_bytes(title, items, run_id, department, phones))
    return path


def xlsx_bytes(title: str, items: list[Item], run_id: int | None = None, department: str = "",
               phones: list[list[Any]] | None = None) -> bytes:
    """The list as an XLSX workbook: a title row, the header row, one row per item.

    After the list's columns come those the department fills in (``REPLY_COLUMNS``: 整改情况
    from a drop-down of ``REPLIES``, 说明, 联系人) and the item's 问题编号.  With ``phones``
    (rows of :func:`phones_by_department`) a second sheet 联系电话核查.  A hidden sheet
    (``META_SHEET``) keeps the run, the department and each row's key and fingerprints, so
    ``patrol feedback`` (reports/feedback.py) can check a returned file row by row."""
    from openpyxl import Workbook  # imported when a workbook is written: 0.2 s
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation
    header = XLSX_COLUMNS
    wb = Workbook()
    ws = wb.active
    ws.title = LIST_SHEET
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    ws.append(header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6F0" if cell.column <= len(COLUMNS) else "FCE9C8")
    for n, item in enumerate(items, 1):
        ws.append(item.row(n) + ["", "", "", item.key])
        for cell in ws[ws.max_row]:
            # Crawled text that starts with "=" must stay text, never become a formula.
            if isinstance(cell.value, str):
                cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(ws.max_row, len(header)).font = Font(color="808080", size=9)
    for col, width in enumerate([6, 18, 14, 48, 60, 40, 12, 12, 40, 14, 20], 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A3"
    reply_col = get_column_letter(len(COLUMNS) + 1)
    if items:
        ws.auto_filter.ref = f"A2:{get_column_letter(len(header))}{ws.max_row}"
        choice = DataValidation(type="list", formula1='"' + ",".join(REPLIES) + '"', allow_blank=True,
                                showErrorMessage=True, errorTitle="整改情况",
                                error="请从下拉列表中选择：" + "、".join(REPLIES))
        choice.add(f"{reply_col}3:{reply_col}{ws.max_row}")
        ws.add_data_validation(choice)
    if phones:
        sheet = wb.create_sheet(PHONE_SHEET)
        sheet.append([title.replace("整改清单", "联系电话核查表", 1)])
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(PHONE_COLUMNS))
        sheet.append(PHONE_COLUMNS)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDE6F0")
        for row in phones:
            sheet.append(row)
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        for col, width in enumerate([6, 18, 20, 14, 20, 30, 8, 48, 14, 20], 1):
            sheet.column_dimensions[get_column_letter(col)].width = width
        sheet.freeze_panes = "A3"
        sheet.auto_filter.ref = f"A2:{get_column_letter(len(PHONE_COLUMNS))}{sheet.max_row}"
    meta = wb.create_sheet(META_SHEET)
    meta.sheet_state = "hidden"
    meta.append(["run", run_id if run_id is not None else ""])
    meta.append(["department", department])
    meta.append(["rows", len(items)])
    meta.append(["row", "key", "fingerprints"])
    for n, item in enumerate(items, 1):
        meta.append([n + 2, item.key, " ".join(item.fingerprints)])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def list_title(store: Store, run_id: int, cfg: Config | None, department: str) -> str:
    run = store.get_run(run_id)
    name = department_names(cfg).get(department, department or UNASSIGNED_NAME)
    return f"{name} 整改清单（{run.period if run else ''} 巡检）"


def write_lists(store: Store, run_id: int, out_dir: Path, cfg: Config | None = None) -> list[Path]:
    """Write ``rectification-<dept>.html`` and ``.xlsx`` per department with items; return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    data = load_run(store, run_id)
    lists = items_by_department(store, run_id, cfg, data=data)
    phones = phones_by_department(store, run_id, data=data)
    for department in list(lists) + [d for d in phones if d not in lists]:
        items = lists.get(department, [])
        stem = f"rectification-{safe_name(department)}"
        html_path = out_dir / f"{stem}.html"
        html_path.write_text(render_list_html(store, run_id, cfg, department, items, phones.get(department)),
                             encoding="utf-8")
        paths.append(html_path)
        paths.append(write_xlsx(out_dir / f"{stem}.xlsx", list_title(store, run_id, cfg, department), items,
                                run_id, department, phones.get(department)))
    return paths
