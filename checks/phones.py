"""联系电话核查 (``contact_phone``, info): every telephone number the site publishes.

Offices must confirm each year that the numbers on their sites still answer (僵尸电话
clean-up).  This check lists every distinct number with the pages that show it and the
columns of those pages, one finding per number, so that a department can ring each one.

What counts as a published number (main text and the menu/header/footer blocks of each
crawled page; full-width digits count as digits):

* a landline with its area code: ``023-61234567``, ``(023)61234567``, ``（023）6123 4567``,
  ``023 61234567``, with an extension (``转8001``, ``-8001``) kept as part of the number;
* a landline of 7–8 digits without area code, or a number written without separators
  (``02361234567``), only right after a word that names a telephone (电话, 热线, 传真 …);
* a service hotline ``12xxx`` (12345, 12315 …) or a ``400``/``800`` number after such a word or
  with 热线 right after it;
* a mobile number (``1[3-9]`` and 9 digits) that the office publishes: the rule of the
  ``privacy_leak`` check (:func:`checks.text.privacy.office_line`) decides; any other mobile
  number is a citizen's and stays a ``privacy_leak``, never a contact number.

Never numbers: dates (``2026-11-10``, ``20261110``), document numbers (``〔2026〕12号``),
postcodes (six digits), ID numbers (their digits run on), prices (``12345元``), ICP numbers:
the patterns need a leading 0 and a separator or a telephone word, and no digit, letter, dot or
unit may touch the number.
"""
from __future__ import annotations

import re
from typing import Any

from checks.dates import make_date
from checks.model import CheckContext, CheckOutput, Finding, SiteCrawl
from checks.text.privacy import HALF_WIDTH, MOBILE, office_line

CHECK = "contact_phone"
# Words that say the number after them is a telephone number (within CUE_REACH characters).
PHONE_WORDS = ("电话", "热线", "传真", "座机", "手机", "总机", "客服", "联系方式", "Tel", "TEL", "tel", "Fax", "FAX",
               "电 话", "咨询", "投诉", "举报", "拨打", "值班")
CUE_REACH = 10
PAGES_KEPT = 20
# Nothing of these may touch a number on either side.
_EDGE_BEFORE = r"(?<![0-9A-Za-z.．_/〔\[【-])"
_EDGE_AFTER = r"(?![0-9A-Za-z.．_%％])"
_AFTER_UNITS = re.compile(r"^\s*(?:元|万|亿|千|百|年|月|日|号|个|人|次|件|份|米|吨|户|家|平方|亩|岁|天|小时|分|秒|页|条|项|笔)")
# Area code then local number: 023-61234567, (023)61234567, （0571）8765 4321, 023 61234567.
LANDLINE = re.compile(
    _EDGE_BEFORE + r"(?:[(（]\s*(0\d{2,3})\s*[)）]\s*-?\s*|(0\d{2,3})\s*[-－—–‐ ]\s*)"
    r"(\d{3,4})[- ]?(\d{4})" r"(?:\s*(?:转|-|－|分机)\s*(\d{1,5}))?" + _EDGE_AFTER)
# Written without separators: 02361234567 (needs a telephone word before it).
LANDLINE_PLAIN = re.compile(_EDGE_BEFORE + r"(0\d{9,11})" + _EDGE_AFTER)
LOCAL = re.compile(_EDGE_BEFORE + r"([2-9]\d{2,3})[- ]?(\d{4})" + _EDGE_AFTER)
HOTLINE = re.compile(_EDGE_BEFORE + r"(12\d{3}|[48]00[- ]?\d{3}[- ]?\d{4}|95\d{3})" + _EDGE_AFTER)
_OFFICE_END = re.compile(r"(?:局|委|委员会|办|办公室|室|中心|所|站|处|院|部|会|队|馆|厅|公司|街道|镇|乡|村|社区|窗口|大厅|"
                         r"接待|热线|专线)$")
_HOTLINE_AFTER = re.compile(r"^\s*(?:热线|服务热线|便民|政务服务|平台|电话)")


_FULL_WIDTH_DIGIT = re.compile("[\uff10-\uff19]")
# Every number above has five digits in a row, an area code and three digits after a separator,
# or three digits, a separator and four (8765 4321, 400-123-4567).
_ANY = re.compile(r"\d{5}|0\d{2,3}\D{1,3}\d{3}|\d{3}[- ]\d{4}")


def _half(text: str) -> str:
    return text.translate(HALF_WIDTH) if _FULL_WIDTH_DIGIT.search(text) else text


def _cued(text: str, start: int) -> bool:
    """A telephone word shortly before ``start``, in the same sentence."""
    before = re.split(r"[\n。；;]", text[max(0, start - CUE_REACH):start])[-1]
    return any(word in before for word in PHONE_WORDS)


def _label_before(text: str, start: int) -> str:
    """The words right before a number (its label: 咨询电话, 区信访局 …), trimmed."""
    before = text[max(0, start - 16):start]
    before = re.split(r"[\n。；;，,、！？\d]", before)[-1]
    parts = before.strip(" ：:　()（）").split()
    if len(parts) > 1 and len(parts[0]) <= 1:
        parts = parts[1:]                 # the tail of a word cut by a number (…31686号)
    label = " ".join(parts)[-14:]
    # Only words that say what the number is: a telephone word or an office's name (not the
    # menu words that happen to stand before it, such as 加入收藏 联系我们).
    if any(word in label for word in PHONE_WORDS) or _OFFICE_END.search(label):
        return label
    return ""


def find_numbers(text: str) -> list[dict[str, Any]]:
    """The telephone numbers in ``text``: ``{"number", "kind", "start", "end", "label"}``.

    ``number`` is normalised (``023-61234567``, ``023-61234567转8001``, ``12345``,
    ``13812345678``); ``kind`` is landline, local, hotline or mobile."""
    if not text:
        return []
    digits = _half(text)
    if not _ANY.search(digits):
        return []
    taken: list[tuple[int, int]] = []
    found: list[dict[str, Any]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    def add(number: str, kind: str, start: int, end: int) -> None:
        if _AFTER_UNITS.match(digits[end:end + 3]):
            return
        taken.append((start, end))
        found.append({"number": number, "kind": kind, "start": start, "end": end,
                      "label": _label_before(text, start)})

    for m in LANDLINE.finditer(digits):
        area = m.group(1) or m.group(2)
        local = m.group(3) + m.group(4)
        if len(area) + len(local) > 12 or len(local) < 7:
            continue
        number = f"{area}-{local}" + (f"转{m.group(5)}" if m.group(5) else "")
        add(number, "landline", m.start(), m.end())
    for m in LANDLINE_PLAIN.finditer(digits):
        if free(m.start(), m.end()) and _cued(digits, m.start()):
            raw = m.group(1)
            area = 3 if raw[1] in "12" else 4         # 010, 02x are three digits; the rest four
            add(f"{raw[:area]}-{raw[area:]}", "landline", m.start(), m.end())
    for m in HOTLINE.finditer(digits):
        if not free(m.start(), m.end()):
            continue
        if _cued(digits, m.start()) or _HOTLINE_AFTER.match(digits[m.end():m.end() + 6]):
            raw = re.sub(r"[- ]", "", m.group(1))
            add(f"{raw[:3]}-{raw[3:6]}-{raw[6:]}" if len(raw) == 10 else raw, "hotline", m.start(), m.end())
    for m in MOBILE.finditer(digits):
        if free(m.start(), m.end()) and office_line(digits, m.start()):
            add(m.group(), "mobile", m.start(), m.end())
    for m in LOCAL.finditer(digits):
        local = m.group(1) + m.group(2)
        if len(local) == 8 and make_date(int(local[:4]), int(local[4:6]), int(local[6:])):
            continue                                  # 20261110 is a date
        if len(local) in (7, 8) and free(m.start(), m.end()) and _cued(digits, m.start()):
            add(local, "local", m.start(), m.end())
    found.sort(key=lambda f: f["start"])
    return found


def _column(page: Any, homepage: str) -> str:
    if page.url == homepage or page.final_url == homepage:
        return "首页"
    crumbs = [c for c in page.breadcrumb if c and c not in ("首页", "正文", "网站首页", "详情", "内容")]
    return " > ".join(crumbs)


KIND_LABELS = {"landline": "固定电话", "local": "固定电话（未注明区号）", "hotline": "服务热线",
               "mobile": "办公手机"}


def check_site(crawl: SiteCrawl, ctx: CheckContext) -> CheckOutput:
    dep = ctx.department or crawl.department
    numbers: dict[str, dict[str, Any]] = {}
    homepage = crawl.homepage_url or crawl.url
    blocks: dict[str, list[dict[str, Any]]] = {}
    for page in crawl.pages:
        if page.status >= 400:
            continue
        url = page.final_url or page.url
        sources = [(page.text, False)] + [(b, True) for b in page.blocks]
        for text, in_block in sources:
            if in_block:                 # the same header and footer on every page: read once
                hits = blocks.get(text)
                if hits is None:
                    hits = blocks[text] = find_numbers(text)
            else:
                hits = find_numbers(text)
            for hit in hits:
                entry = numbers.setdefault(hit["number"], {
                    "number": hit["number"], "kind": hit["kind"], "pages": [], "columns": [],
                    "labels": [], "in_blocks": False})
                if url not in entry["pages"]:
                    entry["pages"].append(url)
                    column = _column(page, homepage)
                    if column and column not in entry["columns"]:
                        entry["columns"].append(column)
                if hit["label"] and hit["label"] not in entry["labels"] and len(entry["labels"]) < 5:
                    entry["labels"].append(hit["label"])
                if in_block:
                    entry["in_blocks"] = True
    out = CheckOutput()
    rows = []
    for number in sorted(numbers):
        e = numbers[number]
        pages = sorted(e["pages"])
        first = pages[0]
        label = "、".join(e["labels"][:2])
        where = f"{len(pages)} 个页面" + ("（含页头页脚）" if e["in_blocks"] else "")
        message = f"公开的联系电话 {number}" + (f"（{label}）" if label else "") + f"，见于 {where}，请核实是否仍可接通"
        detail = {"number": number, "kind": e["kind"], "kind_label": KIND_LABELS[e["kind"]],
                  "labels": e["labels"], "columns": e["columns"][:10], "page_count": len(pages),
                  "pages": pages[:PAGES_KEPT], "in_blocks": e["in_blocks"]}
        out.findings.append(Finding(check=CHECK, severity="info", site=crawl.name, department=dep,
                                    url=f"tel:{number}", page=None, message=message, detail=detail))
        rows.append({**detail, "first_page": first})
    out.facts = {"numbers": rows, "count": len(rows)}
    return out
