"""Rules from the data files of config/text/, matched with one Aho-Corasick automaton.

Files (TSV, ``#`` comments say where the entries come from):

- ``typos.tsv``      wrong -> right                     -> ``typo``
- ``serious.tsv``    wrong -> right                     -> ``serious_error``
- ``outdated.tsv``   old name -> new name, effective     -> ``wrong_expression`` (dated text only)
- ``banned.tsv``     expression -> suggestion            -> ``wrong_expression``
- ``exceptions.txt`` correct phrases: a match inside one of them is dropped
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import ahocorasick

from checks.text.flags import TextFlag, make_flag

# An outdated name is still right when the text says it is the former name.
FORMER_MARKERS_BEFORE = ("原", "前", "旧")
FORMER_MARKERS_AFTER = ("更名", "改名", "改为", "改称", "整合", "撤销", "划入", "组建", "调整为")


class DataFileError(ValueError):
    """A data file of config/text/ is malformed; the message names the file and line."""


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
    return rules


def read_exceptions(path: Path) -> list[tuple[int, str]]:
    """The correct phrases of exceptions.txt, with their line numbers."""
    return [(number, row[0]) for number, row in read_table(path, 1)]


class RuleMatcher:
    """All data-file rules in one automaton; ``match`` gives the flags for one text."""

    def __init__(self, rules: list[Rule]) -> None:
        self.automaton = ahocorasick.Automaton()
        by_pattern: dict[str, list[Rule]] = {}
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
        hits: list[tuple[int, int, Rule]] = []
        exceptions: list[tuple[int, int]] = []
        for end_index, group in self.automaton.iter(text):
            end = end_index + 1
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

    @staticmethod
    def _flag(text: str, start: int, end: int, rule: Rule, published: date) -> TextFlag | None:
        if rule.pattern.endswith("部") and text[end:end + 1] in ("门", "署"):
            return None         # 农业部门, 环境保护部署: a department, not the ministry
        rule_id = f"{rule.source} {rule.pattern}→{rule.suggestion}"
        if rule.kind == "typo":
            return make_flag("typo", text, start, end, rule.suggestion, rule_id, 0.95)
        if rule.kind == "serious":
            return make_flag("serious_error", text, start, end, rule.suggestion, rule_id, 0.98)
        if rule.kind == "banned":
            return make_flag("wrong_expression", text, start, end, rule.suggestion, rule_id, 0.9)
        if rule.kind == "outdated":
            if rule.effective is None or published < rule.effective:
                return None
            before = text[max(0, start - 2):start]
            after = text[end:end + 12]
            if any(m in before for m in FORMER_MARKERS_BEFORE) or any(m in after for m in FORMER_MARKERS_AFTER):
                return None
            return make_flag("wrong_expression", text, start, end, rule.suggestion,
                             f"{rule_id}（{rule.effective.isoformat()}起）", 0.9)
        return None
