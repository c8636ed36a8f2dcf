"""互动回应 (``interaction_poor``, a single veto): the site's message board and its replies.

What the crawl already fetched is read, nothing is requested again:

* **Message pages** are pages whose text labels the time a message was left (留言时间, 来信时间,
  提问时间 …) with a date right after the label, and also says something about the reply (答复时间,
  答复内容, 办理状态 …).  From each one: the title, 留言时间, 答复时间, the answering unit, and the
  state (answered, pending, or not a valid message: 不予受理, 重复件 …).  Dates are read by
  :mod:`checks.dates`.
* **Board pages and entries**: pages and links named 政民互动, 互动交流, 咨询投诉, 领导信箱,
  书记信箱, 区长信箱, 12345, 留言板 …; **submission entries** are links named 我要写信,
  我要留言, 在线咨询 …, and whether each answered (the link checker's result, or the page's
  own status when it was crawled).

Verdicts (thresholds under ``interaction_poor`` in patroldata/thresholds.yaml):

* a valid message of the past ``window_days`` (365) left unanswered for more than
  ``unanswered_months`` (3) months: **veto**, one finding per message;
* a reply, or a message still waiting, later than ``reply_working_days`` (15) working days:
  **warning**, one finding per message.  Working days skip Saturdays and Sundays; statutory
  holidays and their make-up working days are not known to patrol and count as working days,
  which the report says;
* no working channel: no board, no entry and no message found (**veto**; a warning marked
  疑似 when the crawl stopped at ``max_pages``, since the board may lie beyond it), or every
  submission entry unreachable (**veto**).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from checks.dates import find_date, infer_year, make_date, parse_iso
from checks.model import CheckContext, CheckOutput, Finding, PageSnapshot, SiteCrawl

CHECK = "interaction_poor"
DEFAULTS = {"reply_working_days": 15, "unanswered_months": 3, "window_days": 365}

ASKED_LABELS = ("留言时间", "留言日期", "来信时间", "来信日期", "写信时间", "写信日期", "提问时间",
                "咨询时间", "投诉时间", "提交时间", "提交日期", "信件时间", "发件时间")
REPLIED_LABELS = ("答复时间", "答复日期", "回复时间", "回复日期", "办结时间", "办结日期", "反馈时间",
                  "处理时间", "回复于")
REPLY_TEXT_LABELS = ("答复内容", "回复内容", "答复意见", "回复意见", "办理结果", "处理结果", "办理情况")
STATE_LABELS = ("办理状态", "处理状态", "信件状态", "回复状态", "答复状态", "状态")
UNIT_LABELS = ("答复单位", "回复单位", "办理单位", "承办单位", "答复部门", "回复部门", "处理单位")


def _labels(labels: tuple[str, ...]) -> str:
    """The labels as one alternation; spaces a page pads them with (留 言 时 间) allowed."""
    return "|".join("[ \u3000]*".join(map(re.escape, label)) for label in labels)


# The label, optional colon, then the value (to the end of the line or 40 characters).
_LABELLED = "(?:{})\\s*[:：]?\\s*([^\\n]{{0,40}})"
_ASKED = re.compile(_LABELLED.format(_labels(ASKED_LABELS)))
_REPLIED = re.compile(_LABELLED.format(_labels(REPLIED_LABELS)))
_STATE = re.compile(_LABELLED.format(_labels(STATE_LABELS)))
_UNIT = re.compile(_LABELLED.format(_labels(UNIT_LABELS)))
_REPLY_TEXT = re.compile("(?:{})\\s*[:：]?\\s*([^\\n]{{0,200}})".format(_labels(REPLY_TEXT_LABELS)))
_ANY_LABEL = re.compile("^(?:{})".format(_labels(
    ASKED_LABELS + REPLIED_LABELS + REPLY_TEXT_LABELS + STATE_LABELS + UNIT_LABELS
    + ("留言内容", "来信内容", "信件标题", "留言标题", "信件内容", "咨询内容", "留言人", "来信人"))))
_ANSWERED_WORDS = ("已答复", "已回复", "已办结", "已处理", "已反馈", "办结", "已完成")
_PENDING_WORDS = ("未答复", "未回复", "待答复", "待回复", "办理中", "处理中", "正在办理", "未办结",
                  "待处理", "转办中", "已受理", "已转办", "未处理")
_INVALID_WORDS = ("不予受理", "不受理", "无效", "重复件", "重复信件", "已撤回", "撤销")
_NO_REPLY_TEXT = re.compile(r"^(?:暂无|暂未|尚未|无|—+|-+|/)?(?:答复|回复)?(?:内容)?$|^暂无|^暂未|^尚未")

BOARD_WORDS = re.compile(r"政民互动|互动交流|咨询投诉|领导信箱|书记信箱|[区市县州省镇乡]长信箱|局长信箱|"
                         r"主任信箱|留言板|网上信访|12345|民意直通车|百姓信箱|公众留言")
SUBMIT_WORDS = re.compile(r"^(?:我要(?:写信|留言|咨询|投诉|建议|提问|反映)|在线(?:咨询|留言|投诉)|网上(?:留言|咨询)|"
                          r"写信|发表留言|提交留言|给.{1,6}写信)$")
MAX_ANCHOR = 16          # a longer link text is a headline that mentions the words, not an entry


@dataclass
class Message:
    url: str
    title: str
    asked: date
    replied: date | None
    state: str               # answered | pending | invalid
    state_text: str = ""     # as the page writes it
    unit: str = ""


def settings(thresholds: dict[str, Any] | None) -> dict[str, Any]:
    section = (thresholds or {}).get(CHECK) or {}
    return {**DEFAULTS, **{k: v for k, v in section.items() if k in DEFAULTS}}


# --- reading pages ------------------------------------------------------------------------

def _value(m: re.Match[str]) -> str:
    """A label's value; empty when the label has none and the next label was caught instead
    (an empty table cell: 答复单位 / 答复时间 / …)."""
    value = m.group(1).strip()
    return "" if _ANY_LABEL.match(value) else value


def _date_after(value: str, today: date) -> date | None:
    """The date that ``value`` starts with (a label's value), or None."""
    found = find_date(value)
    if found is None or found.start > 2:
        return None
    if found.year is not None:
        return found.on(found.year)
    return infer_year(found.month, found.day, today=today)


def read_message(page: PageSnapshot, today: date) -> Message | None:
    """The message a page shows, or None when the page is not a message page."""
    text = page.text or ""
    if "时" not in text and "日" not in text:
        return None
    asked = None
    for m in _ASKED.finditer(text):
        asked = _date_after(_value(m), today)
        if asked:
            break
    if asked is None:
        return None
    replied = None
    for m in _REPLIED.finditer(text):
        replied = _date_after(_value(m), today)
        if replied:
            break
    state_text = ""
    for m in _STATE.finditer(text):
        if _value(m):
            state_text = _value(m)[:12]
            break
    reply_text = None
    for m in _REPLY_TEXT.finditer(text):
        reply_text = _value(m)
        break
    if replied is None and not state_text and reply_text is None:
        return None          # a 留言时间 alone (an article about a board) is no message page
    unit = ""
    for m in _UNIT.finditer(text):
        if _value(m) and not find_date(_value(m)):
            unit = _value(m)[:30]
            break
    has_reply = reply_text is None or not _NO_REPLY_TEXT.match(reply_text)
    pending_word = any(w in state_text for w in _PENDING_WORDS)
    if any(w in state_text for w in _INVALID_WORDS):
        state = "invalid"
    elif replied and has_reply:
        state = "answered"
    elif (not pending_word and any(w in state_text for w in _ANSWERED_WORDS)
          and reply_text and has_reply):
        state = "answered"       # answered, but the page gives no reply date
    else:
        state = "pending"
    if replied is not None and replied < asked:
        replied = None       # a reply dated before the message: not a date patrol can use
    title = (page.headline or page.title or "").strip()
    return Message(page.final_url or page.url, title, asked, replied, state, state_text, unit)


# --- dates ---------------------------------------------------------------------------------

def working_days(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (Monday to Friday; holidays are
    not known and count as working days)."""
    if end <= start:
        return 0
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for k in range(1, rest + 1):
        if (start + timedelta(days=weeks * 7 + k)).weekday() < 5:
            count += 1
    return count


def add_months(day: date, months: int) -> date:
    """The same day ``months`` months later (the month's last day when it has no such day)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    for d in (day.day, 30, 29, 28):
        found = make_date(year, month, d) if 1990 <= year <= 2100 else None
        if found:
            return found
    return day + timedelta(days=30 * months)


# --- the check -----------------------------------------------------------------------------

def _link_ok(url: str, crawl: SiteCrawl, pages: dict[str, PageSnapshot]) -> bool | None:
    page = pages.get(url)
    if page is not None:
        return page.status < 400
    result = crawl.links.get(url)
    if result is None:
        return None
    if result.kind in ("rate_limited",):
        return None
    return result.ok


def check_site(crawl: SiteCrawl, ctx: CheckContext) -> CheckOutput:
    t = settings(ctx.thresholds)
    today = parse_iso(ctx.today) or date.today()
    site_url = crawl.homepage_url or crawl.url
    dep = ctx.department or crawl.department
    pages = {p.url: p for p in crawl.pages}
    for p in crawl.pages:
        pages.setdefault(p.final_url, p)
    out = CheckOutput()

    def finding(severity: str, message: str, url: str, page: str | None, **detail: Any) -> Finding:
        return Finding(check=CHECK, severity=severity, site=crawl.name, department=dep, url=url,
                       page=page, message=message, detail=detail)

    messages: list[Message] = []
    seen: set[str] = set()
    boards: dict[str, str] = {}
    for p in crawl.pages:
        if p.status >= 400:
            continue
        msg = read_message(p, today)
        if msg and msg.url not in seen:
            seen.add(msg.url)
            messages.append(msg)
        name = (p.headline or p.title or "")
        crumbs = " ".join(p.breadcrumb)
        found = BOARD_WORDS.search(name[:40]) or BOARD_WORDS.search(crumbs)
        if found and not msg:
            boards.setdefault(p.final_url or p.url, found.group())

    entries: dict[str, dict[str, Any]] = {}
    for p in crawl.pages:
        for ref in p.links:
            anchor = (ref.anchor or "").strip()
            if ref.tag != "a" or not anchor or len(anchor) > MAX_ANCHOR or not ref.url.startswith("http"):
                continue
            kind = "submit" if SUBMIT_WORDS.match(anchor) else "board" if BOARD_WORDS.search(anchor) else ""
            if not kind or ref.url in entries:
                continue
            entries[ref.url] = {"url": ref.url, "anchor": anchor, "page": p.url, "kind": kind,
                                "ok": _link_ok(ref.url, crawl, pages)}
    entry_list = sorted(entries.values(), key=lambda e: (e["kind"], e["url"]))
    submits = [e for e in entry_list if e["kind"] == "submit"]

    limit = int(t["reply_working_days"])
    months = int(t["unanswered_months"])
    window_start = today - timedelta(days=int(t["window_days"]))
    rows: list[dict[str, Any]] = []
    veto = False
    warn = False
    for msg in sorted(messages, key=lambda m: (m.asked, m.url)):
        end = msg.replied if msg.state == "answered" and msg.replied else today
        wd = working_days(msg.asked, end)
        row = {"url": msg.url, "title": msg.title, "asked": msg.asked.isoformat(),
               "replied": msg.replied.isoformat() if msg.replied else None, "state": msg.state,
               "state_text": msg.state_text, "unit": msg.unit, "working_days": wd, "verdict": "ok"}
        common = {"title": msg.title, "asked": row["asked"], "replied": row["replied"], "state": msg.state,
                  "state_text": msg.state_text, "unit": msg.unit, "working_days": wd, "limit": limit}
        if msg.state == "invalid":
            row["verdict"] = "invalid"
        elif msg.state == "pending":
            if msg.asked < window_start:
                row["verdict"] = "outside_window"
            elif add_months(msg.asked, months) < today:
                row["verdict"] = "unanswered"
                veto = True
                out.findings.append(finding(
                    "veto", f"群众留言超过{months}个月未答复（留言时间 {row['asked']}，"
                            f"已过 {(today - msg.asked).days} 天）", msg.url, msg.url, rule="unanswered",
                    days=(today - msg.asked).days, **common))
            elif wd > limit:
                row["verdict"] = "overdue"
                warn = True
                out.findings.append(finding(
                    "warning", f"群众留言超过{limit}个工作日未答复（留言时间 {row['asked']}，"
                               f"已 {wd} 个工作日）", msg.url, msg.url, rule="overdue", **common))
            else:
                row["verdict"] = "pending"
        elif msg.replied is None:
            row["verdict"] = "answered_undated"
        elif wd > limit and msg.asked >= window_start:
            row["verdict"] = "late"
            warn = True
            out.findings.append(finding(
                "warning", f"留言答复超过{limit}个工作日（留言 {row['asked']}，答复 {row['replied']}，"
                           f"用时 {wd} 个工作日）", msg.url, msg.url, rule="late_reply", **common))
        rows.append(row)

    channel = "ok"
    truncated = bool(crawl.stats.get("max_pages_reached"))
    if not messages and not boards and not entry_list:
        channel = "none"
        severity = "warning" if truncated else "veto"
        text = "未找到互动交流渠道（政民互动、咨询投诉、领导信箱等）"
        if truncated:
            text = "疑似" + text + "（抓取已达页面上限，渠道可能在未抓取的页面中）"
        out.findings.append(finding(severity, text, site_url, site_url, rule="no_channel",
                                    suspected=truncated))
        veto = veto or not truncated
        warn = warn or truncated
    elif submits and all(e["ok"] is False for e in submits):
        channel = "unreachable"
        veto = True
        for e in submits:
            out.findings.append(finding("veto", f"留言提交入口“{e['anchor']}”无法访问", e["url"], e["page"],
                                        rule="submit_unreachable", anchor=e["anchor"]))
    elif any(e["ok"] is False for e in submits):
        channel = "partly_unreachable"
        warn = True
        for e in submits:
            if e["ok"] is False:
                out.findings.append(finding("warning", f"部分留言提交入口无法访问：“{e['anchor']}”", e["url"],
                                            e["page"], rule="submit_unreachable", anchor=e["anchor"]))
    elif not submits and entry_list and all(e["ok"] is False for e in entry_list):
        channel = "unreachable"
        veto = True
        for e in entry_list:
            out.findings.append(finding("veto", f"互动交流入口“{e['anchor']}”无法访问", e["url"], e["page"],
                                        rule="channel_unreachable", anchor=e["anchor"]))
    elif not submits:
        channel = "no_submit_entry"

    counts: dict[str, int] = {}
    for row in rows:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    out.facts = {
        "status": "veto" if veto else "warning" if warn else "ok",
        "channel": channel,
        "boards": [{"url": u, "name": n} for u, n in sorted(boards.items())],
        "entries": entry_list,
        "messages": rows,
        "counts": counts,
        "reply_working_days": limit, "unanswered_months": months, "window_days": int(t["window_days"]),
        "holidays_skipped": False,
        "crawl_truncated": truncated,
    }
    if veto:
        out.veto.append(CHECK)
    return out
