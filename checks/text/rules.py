"""Rules from the data files of patroldata/text/, matched with one Aho-Corasick automaton.

Files (TSV, ``#`` comments say where the entries come from):

- ``typos.tsv``      wrong -> right                     -> ``typo``
- ``serious.tsv``    wrong -> right                     -> ``serious_error``
- ``outdated.tsv``   old name -> new name, effective     -> ``wrong_expression`` (dated text only)
- ``banned.tsv``     expression -> suggestion            -> ``wrong_expression``
- ``exceptions.txt`` correct phrases: a match inside one of them is dropped
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import ahocorasick

from checks.text.flags import TextFlag, make_flag
from checks.text.spans import matches_by_text

# An outdated name is still right when the text says it is the former name.
FORMER_MARKERS_BEFORE = ("原", "前", "旧")
FORMER_MARKERS_AFTER = ("更名", "改名", "改为", "改称", "整合", "撤销", "划入", "组建", "调整为")


class DataFileError(ValueError):
    """A data file of patroldata/text/ is malformed; the message names the file and line."""


def load_yaml(text: str) -> object:
    """``yaml.safe_load`` through libyaml's parser when PyYAML was built with it (ten times
    faster than the pure-Python one; the settings are read at every start)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str                 # typo | serious | outdated | banned | exception
    pattern: str
    suggestion: str = ""
    note: str = ""
    effective: date | None = None
    source: str = ""          # file:line


def read_table(path: Path, columns: int) -> list[tuple[int, list[str]]]:
    """Rows of a TSV data file (comments and blank lines skipped), with their line numbers."""
    rows: list[tuple[int, list[str]]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise DataFileError(f"{path}: not UTF-8 text") from None
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < columns or not parts[0].strip():
            raise DataFileError(f"{path}:{number}: expected {columns} tab-separated columns")
        rows.append((number, [p.strip() for p in parts]))
    return rows


def load_rules(data_dir: Path) -> list[Rule]:
    rules: list[Rule] = []
    for kind, name in (("typo", "typos.tsv"), ("serious", "serious.tsv"), ("banned", "banned.tsv")):
        for number, row in read_table(data_dir / name, 2):
            rules.append(Rule(kind, row[0], row[1], row[2] if len(row) > 2 else "",
                              source=f"{name}:{number}"))
    for number, row in read_table(data_dir / "outdated.tsv", 3):
        try:
            effective = date.fromisoformat(row[2])
        except ValueError:
            raise DataFileError(f"{data_dir / 'outdated.tsv'}:{number}: {row[2]!r} is not an ISO date") \
                from None
        rules.append(Rule("outdated", row[0], row[1], row[3] if len(row) > 3 else "", effective,
                          source=f"outdated.tsv:{number}"))
    for number, phrase in read_exceptions(data_dir / "exceptions.txt"):
        rules.append(Rule("exception", phrase, source=f"exceptions.txt:{number}"))
    countries = data_dir / "countries.txt"
    if countries.exists():
        for number, row in read_table(countries, 1):
            rules.append(Rule("foreign", row[0].strip(), source=f"countries.txt:{number}"))
    return rules


def read_exceptions(path: Path) -> list[tuple[int, str]]:
    """The correct phrases of exceptions.txt, with their line numbers."""
    return [(number, row[0]) for number, row in read_table(path, 1)]


VARIANTS_STANDARDISED = date(2002, 3, 31)
VARIANT_NOTES = ("规范用字", "异形词整理表")         # typos.tsv notes of variant forms, not misspellings
# The news agency's list of banned words is of 2016: in older text its words (残废军人 in a 1953
# regulation) are only 疑似, but for those about Taiwan, which were never right.
BANNED_SINCE = date(2016, 1, 1)
# A judgment or a case names its parties as they were (怀宁国土局 in a case about 2015):
# in such a text an outdated name is only 疑似.
JUDICIAL_WORDS = ("原告", "被告", "上诉人", "被上诉人", "一审", "二审", "判决", "裁定", "再审", "申请人")


def judicial(text: str) -> bool:
    """Whether ``text`` reads as a judgment or a case (two of JUDICIAL_WORDS)."""
    return sum(1 for word in JUDICIAL_WORDS if word in text) >= 2
# Words that begin with 原 without meaning "former" (原则上, 原因 …).
NOT_FORMER = ("原则", "原因", "原告", "原料", "原来", "原始", "原本", "原件", "原文", "原有", "原籍", "原地",
              "原状", "原值", "原价", "原样", "原理", "原创", "原生")
CLAUSE_END = "。！？；;!?\n"
YEAR_IN_TEXT = re.compile(r"(1[89]\d\d|20\d\d)\s*年")


class RuleMatcher:
    """All data-file rules in one automaton; ``match`` gives the flags for one text."""

    def __init__(self, rules: list[Rule]) -> None:
        self.automaton = ahocorasick.Automaton()
        by_pattern: dict[str, list[Rule]] = {}
        # Another country's name right before an outdated name: that country's body.
        self.foreign = tuple(sorted({r.pattern for r in rules if r.kind == "foreign"}, key=len, reverse=True))
        rules = [r for r in rules if r.kind != "foreign"]
        self.variant_sources = frozenset(r.source for r in rules if r.kind == "typo" and r.note in VARIANT_NOTES)
        for rule in rules:
            by_pattern.setdefault(rule.pattern, []).append(rule)
        for pattern, group in by_pattern.items():
            self.automaton.add_word(pattern, tuple(group))
        self.count = len(rules)
        if by_pattern:
            self.automaton.make_automaton()

    def match(self, text: str, published: date) -> list[TextFlag]:
        if not self.count:
            return []
        return self._flags(text, [(end_index + 1, group) for end_index, group in self.automaton.iter(text)],
                           published)

    def match_many(self, texts: Sequence[str], published: Sequence[date]) -> list[list[TextFlag]]:
        """``match`` of each text (with its date): one scan of the texts joined by a line break
        (no rule's pattern holds one), a third of the time of a scan per line."""
        out: list[list[TextFlag]] = [[] for _ in texts]
        if not self.count or not texts:
            return out
        starts = list(itertools.accumulate([len(text) + 1 for text in texts[:-1]], initial=0))
        found: dict[int, list[tuple[int, tuple[Rule, ...]]]] = {}
        for k, end, group in matches_by_text(self.automaton, "\n".join(texts), starts):
            found.setdefault(k, []).append((end, group))
        for k, ends in found.items():
            out[k] = self._flags(texts[k], ends, published[k])
        return out

    def _flags(self, text: str, ends: list[tuple[int, tuple[Rule, ...]]], published: date) -> list[TextFlag]:
        """The flags of the automaton's hits in ``text`` (where each ends, its rules)."""
        hits: list[tuple[int, int, Rule]] = []
        exceptions: list[tuple[int, int]] = []
        for end, group in ends:
            for rule in group:
                start = end - len(rule.pattern)
                if rule.kind == "exception":
                    exceptions.append((start, end))
                else:
                    hits.append((start, end, rule))
        if not hits:
            return []
        # Longest match wins where rules overlap (国家卫生和计划生育委员会 over 卫生和计划生育委员会).
        hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        flags: list[TextFlag] = []
        taken_until = -1
        for start, end, rule in hits:
            if start < taken_until:
                continue
            if any(s <= start and end <= e for s, e in exceptions):
                continue
            flag = self._flag(text, start, end, rule, published)
            if flag is not None:
                flags.append(flag)
                taken_until = end
        return flags

    def is_variant(self, rule_id: str) -> bool:
        """Whether the flag's rule (``typos.tsv:98 定单→订单``) is a variant form's."""
        return rule_id.split(" ", 1)[0] in self.variant_sources

    def _former_or_foreign(self, text: str, start: int, effective: date) -> bool:
        """An outdated name that the text means as it was: after 原 (原国家工商行政管理局), after
        another country's name (意大利文化部), or in a clause dated before the change
        (1988年…工商行政管理局令, 2017年，区国土资源局…)."""
        if self.foreign and text[max(0, start - 8):start].endswith(self.foreign):
            return True
        clause_start = max((text.rfind(c, 0, start) for c in CLAUSE_END), default=-1) + 1
        before = text[max(clause_start, start - 6):start]
        k = before.rfind("原")
        if k >= 0 and not before.startswith(NOT_FORMER, k) and not any(c in before[k:] for c in "，,、 "):
            return True
        clause = text[clause_start:start]
        return any(int(year) < effective.year for year in YEAR_IN_TEXT.findall(clause))

    def _flag(self, text: str, start: int, end: int, rule: Rule, published: date) -> TextFlag | None:
        if rule.pattern.endswith("部") and text[end:end + 1] in ("门", "署"):
            return None         # 农业部门, 环境保护部署: a department, not the ministry
        rule_id = f"{rule.source} {rule.pattern}→{rule.suggestion}"
        if rule.kind == "typo":
            # Standard forms of variant words date from the 第一批异形词整理表 (in force
            # 2002-03-31): in text published before, such a form is only 疑似 (帐目 in 1953).
            if rule.note in VARIANT_NOTES and published < VARIANTS_STANDARDISED:
                return make_flag("typo", text, start, end, rule.suggestion, rule_id, 0.5)
            return make_flag("typo", text, start, end, rule.suggestion, rule_id, 0.95)
        if rule.kind == "serious":
            return make_flag("serious_error", text, start, end, rule.suggestion, rule_id, 0.98)
        if rule.kind == "banned":
            if published < BANNED_SINCE and "涉台" not in rule.note:
                return make_flag("wrong_expression", text, start, end, rule.suggestion, rule_id, 0.5)
            return make_flag("wrong_expression", text, start, end, rule.suggestion, rule_id, 0.9)
        if rule.kind == "outdated":
            if rule.effective is None or published < rule.effective:
                return None
            before = text[max(0, start - 2):start]
            after = text[end:end + 12]
            if any(m in before for m in FORMER_MARKERS_BEFORE) or any(m in after for m in FORMER_MARKERS_AFTER):
                return None
            if self._former_or_foreign(text, start, rule.effective):
                return None
            return make_flag("wrong_expression", text, start, end, rule.suggestion,
                             f"{rule_id}（{rule.effective.isoformat()}起）",
                             0.5 if judicial(text) else 0.9)
        return None
