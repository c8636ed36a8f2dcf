"""Personal data that must not be published: ID numbers, bank card numbers, mobile numbers.

An 18-digit resident ID number (GB 11643-1999) is flagged only when its region code, birth
date and ISO 7064 MOD 11-2 check digit are all valid, so order numbers and other long digit
strings are not.  A 15-digit first-generation ID number has no check digit, so it is flagged
only right after a word that names it (身份证号 …) and with a valid birth date.  A bank card
number (16-19 digits, or in groups of four) is flagged after a word that names a card
(银行卡号, 卡号 …) when its Luhn check digit is right; an account number after 账号 is not,
since offices publish their own accounts for fees.  A mobile number (11 digits, 1[3-9]…) may be a public service line, so it
is a suspected leak (疑似) rather than a certain one.  Full-width digits count as digits.
Masked numbers (3201**********1234) are fine.  The flags carry the number masked: a report
must not spread what it reports.
"""
from __future__ import annotations

import re
from datetime import date

from checks.text.flags import TextFlag, context_of, make_flag, mask

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-8][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
OLD_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-8][0-9]{14}(?![0-9A-Za-z])")
CARD_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{15,18}(?![0-9A-Za-z])"
                         # ... or written in groups of four: 6222 0202 0000 1234 567
                         r"|(?<![0-9A-Za-z])[1-9][0-9]{3}(?:[ -][0-9]{4}){3}(?:[ -][0-9]{1,3})?(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
# Words that say the number after them is an ID number / a bank card's (within CUE_REACH
# characters before it).
ID_WORDS = ("身份证", "身份号码")            # each contains 身份 (not 证件号: a licence's
                                             # 15-digit registration number follows it too)
CARD_WORDS = ("银行卡", "卡号", "储蓄卡", "借记卡", "信用卡", "社保卡", "社会保障卡")  # each has 卡
CUE_REACH = 8
# Full-width digits and letters read as ASCII (same length, so offsets stay valid).
HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)}
HALF_WIDTH.update({0xFF38: ord("X"), 0xFF58: ord("x")})
_FULL_WIDTH_DIGIT = re.compile("[\uff10-\uff19]")
_FOUR_DIGITS = re.compile("[0-9\uff10-\uff19]{4}")
_GROUPING = re.compile("[ -]")
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


def old_id_number_valid(number: str) -> bool:
    """True for a 15-digit first-generation ID number (born 19YY) with a valid birth date."""
    if len(number) != 15 or not number.isdigit():
        return False
    try:
        date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        return False
    return True


def luhn_valid(number: str) -> bool:
    """True when ``number``'s last digit is its Luhn (ISO/IEC 7812) check digit."""
    total = 0
    for k, digit in enumerate(reversed(number)):
        value = ord(digit) - 48
        if k % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _any_in(text: str, words: tuple[str, ...]) -> bool:
    return any(word in text for word in words)


def _cued(text: str, start: int, words: tuple[str, ...]) -> bool:
    return _any_in(text[max(0, start - CUE_REACH):start], words)


def office_line(text: str, start: int) -> bool:
    """True when the mobile number at ``start`` follows a word that makes it an office's line
    (热线, 联系电话 …): published for the public, not a citizen's (checks/phones.py lists it)."""
    return _cued(text, start, SERVICE_WORDS)


def find_personal_data(text: str, today: date | None = None) -> list[TextFlag]:
    """Flags for personal data in ``text``; their ``wrong`` and ``context`` show it masked."""
    # Every number looked for has a run of four digits (half- or full-width): most text has none.
    if _FOUR_DIGITS.search(text) is None:
        return []
    flags: list[TextFlag] = []
    digits = text.translate(HALF_WIDTH) if _FULL_WIDTH_DIGIT.search(text) else text
    # Most text names neither (a substring test is cheaper than a regular expression).
    rare = "身份" in digits or "卡" in digits
    for m in ID_NUMBER.finditer(digits):
        if id_number_valid(m.group(), today):
            flags.append(make_flag("privacy_leak", text, m.start(), m.end(),
                                   "公民身份号码不得公开发布", "privacy:id_number", 0.97))
    for m in (OLD_ID_NUMBER.finditer(digits) if rare and _any_in(digits, ID_WORDS) else ()):
        if _cued(digits, m.start(), ID_WORDS) and old_id_number_valid(m.group()):
            flags.append(make_flag("privacy_leak", text, m.start(), m.end(),
                                   "公民身份号码不得公开发布", "privacy:id_number_15", 0.9))
    for m in (CARD_NUMBER.finditer(digits) if rare and _any_in(digits, CARD_WORDS) else ()):
        if _cued(digits, m.start(), CARD_WORDS) and luhn_valid(_GROUPING.sub("", m.group())) \
                and not any(f.start == m.start() for f in flags):
            flags.append(make_flag("privacy_leak", text, m.start(), m.end(),
                                   "个人银行卡号不得公开发布", "privacy:bank_card", 0.9))
    for m in MOBILE.finditer(digits):
        if office_line(digits, m.start()):
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

