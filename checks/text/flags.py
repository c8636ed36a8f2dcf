"""The result of proofreading: one ``TextFlag`` per suspicious span of text."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CHECKS = ("typo", "wrong_expression", "serious_error", "privacy_leak")
CONTEXT_CHARS = 20
SUSPECTED_BELOW = 0.6        # flags less confident than this are listed apart as 疑似

# What a text finding is about (detail.category), as buyers of inspection services expect it:
# reports group text findings by it.
CATEGORIES = {
    "leader": "国家领导人",
    "organ": "机构名称",
    "political": "时政用语",
    "law": "法律法规名称",
    "place": "行政区划",
    "outdated": "过时机构名称",
    "expression": "不规范表述",
    "typo": "一般错别字",
    "privacy": "个人信息",
}
# Rule sources (the start of TextFlag.rule) -> category, where the check alone does not say.
_CATEGORY_OF_RULE = (("outdated.tsv", "outdated"), ("banned.tsv", "expression"),
                     ("serious.tsv", "organ"), ("names.txt", "organ"), ("leaders:", "leader"),
                     ("officeholders", "leader"), ("expressions.txt", "political"))


def category_of(check: str, rule: str) -> str:
    """The category a flag of ``check`` raised by ``rule`` belongs to."""
    if check == "privacy_leak":
        return "privacy"
    for prefix, category in _CATEGORY_OF_RULE:
        if rule.startswith(prefix):
            return category
    return "typo"


LABELS = {
    "typo": "错别字",
    "wrong_expression": "表述不规范",
    "serious_error": "严重表述错误",
    "privacy_leak": "泄露个人信息",
}


@dataclass(slots=True)
class TextFlag:
    check: str               # typo | wrong_expression | serious_error | privacy_leak
    wrong: str
    suggestion: str
    start: int               # character offsets in the checked text
    end: int
    context: str             # about CONTEXT_CHARS characters each side of the wrong text
    rule: str                # data file and entry, "statistical", "consistency", "leaders" ...
    confidence: float        # 0-1
    suspected: bool = False  # low confidence: listed as 疑似 apart from the rest
    severity: str = "error"  # veto (serious_error) | error | warning (suspected)
    category: str = "typo"   # one of CATEGORIES: what kind of wording it is about

    def to_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies every field and costs more than the check.
        return {name: getattr(self, name) for name in _FIELDS}

    @property
    def message(self) -> str:
        """One line in Chinese for reports, e.g. 错别字：“合国”应为“和国”."""
        label = ("疑似" if self.suspected else "") + LABELS.get(self.check, self.check)
        if self.check == "privacy_leak":
            return f"{label}：{self.suggestion}（{mask(self.wrong)}）"
        if self.suggestion:
            return f"{label}：“{self.wrong}”应为“{self.suggestion}”"
        return f"{label}：“{self.wrong}”"


_FIELDS = tuple(TextFlag.__dataclass_fields__)


def make_flag(check: str, text: str, start: int, end: int, suggestion: str, rule: str,
              confidence: float, suspected: bool | None = None, category: str | None = None) -> TextFlag:
    """A flag for ``text[start:end]`` with its context and the severity its check implies."""
    if suspected is None:
        suspected = confidence < SUSPECTED_BELOW
    if suspected:
        severity = "warning"
    elif check == "serious_error":
        severity = "veto"
    else:
        severity = "error"
    return TextFlag(check=check, wrong=text[start:end], suggestion=suggestion, start=start, end=end,
                    context=context_of(text, start, end), rule=rule,
                    confidence=round(max(0.0, min(1.0, confidence)), 3), suspected=suspected,
                    severity=severity, category=category or category_of(check, rule))


def to_suspected(flag: TextFlag, confidence: float = 0.5) -> None:
    """Make ``flag`` a 疑似 one (listed apart for a person, not scored or mailed)."""
    flag.suspected, flag.severity, flag.confidence = True, "warning", confidence


def context_of(text: str, start: int, end: int, width: int = CONTEXT_CHARS) -> str:
    """The wrong text with up to ``width`` characters each side, on one line."""
    return " ".join(text[max(0, start - width):end + width].split())


def highlight(text: str, start: int, end: int, width: int = CONTEXT_CHARS,
              left: str = "【", right: str = "】") -> str:
    """The context with the wrong text bracketed, e.g. 中华人民【共合国】成立."""
    before = " ".join(text[max(0, start - width):start].split())
    after = " ".join(text[end:end + width].split())
    return f"{before}{left}{text[start:end]}{right}{after}"


def mask(value: str) -> str:
    """Personal data shown in reports keeps its first and last characters only."""
    if len(value) <= 7:
        return value[:1] + "*" * (len(value) - 1)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
