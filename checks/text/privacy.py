"""Personal data that must not be published: citizens' ID numbers and mobile numbers.

An 18-digit resident ID number (GB 11643-1999) is flagged only when its region code, birth
date and ISO 7064 MOD 11-2 check digit are all valid, so order numbers and other long digit
strings are not.  A mobile number (11 digits, 1[3-9]…) may be a public service line, so it is
a suspected leak (疑似) rather than a certain one.  Masked numbers (3201**********1234) are fine.
The flags carry the number masked: a report must not spread what it reports.
"""
from __future__ import annotations

import re
from datetime import date

from checks.text.flags import TextFlag, context_of, make_flag, mask

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-8][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
# A number right after one of these words is an office line, not a citizen's.
SERVICE_WORDS = ("热线", "服务电话", "咨询电话", "举报电话", "投诉电话", "联系电话", "办公电话", "传真")

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_number_valid(number: str, today: date | None = None) -> bool:
    """True for a well-formed 18-digit resident ID number with a correct check digit."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS))
    if _CHECK[total % 11] != number[17].upper():
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= (today or date.today())


def find_personal_data(text: str, today: date | None = None) -> list[TextFlag]:
    """Flags for personal data in ``text``; their ``wrong`` and ``context`` show it masked."""
    flags: list[TextFlag] = []
    for m in ID_NUMBER.finditer(text):
        if id_number_valid(m.group(), today):
            flags.append(make_flag("privacy_leak", text, m.start(), m.end(),
                                   "公民身份号码不得公开发布", "privacy:id_number", 0.97))
    for m in MOBILE.finditer(text):
        before = text[max(0, m.start() - 8):m.start()]
        if any(word in before for word in SERVICE_WORDS):
            continue
        flags.append(make_flag("privacy_leak", text, m.start(), m.end(),
                               "个人手机号码不宜公开发布", "privacy:mobile", 0.5))
    if flags:
        masked = mask_spans(text, [(f.start, f.end) for f in flags])
        for flag in flags:
            flag.wrong = masked[flag.start:flag.end]
            flag.context = context_of(masked, flag.start, flag.end)
    return flags


def mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span masked in place (same length, so offsets stay valid)."""
    for start, end in spans:
        text = text[:start] + mask(text[start:end]) + text[end:]
    return text

