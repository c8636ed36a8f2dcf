"""Spans that the statistical layer must leave alone: names, and measure words after numbers.

A unigram word model calls every rare character sequence suspicious, and names are rare by
nature: 柳溪镇 looks like a slip for 柳枝, 李明 for 黎明.  The writing around them says what
they are — a place's name before 镇/街道, a person's name after 拟聘用人员： or before ，男 /
同志 / 主任 — and a measure word after a number (5个工作日, 4个街道) is not 各 or 革.
The cue lists live in patroldata/text/context.yaml.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Container
from dataclasses import dataclass
from pathlib import Path

import yaml

from checks.text.rules import DataFileError, load_yaml

CJK = re.compile(r"[\u4e00-\u9fff]")
CJK_ONLY = re.compile(r"[\u4e00-\u9fff]+")
KINDS = ("person", "place", "measure")


@dataclass(frozen=True)
class ContextRules:
    surnames: frozenset[str]
    compound_surnames: tuple[str, ...]
    before: re.Pattern[str] | None          # a name cue that precedes the name
    after: re.Pattern[str] | None           # a name cue that follows the name
    place: re.Pattern[str] | None           # two characters and a place suffix
    measure: re.Pattern[str] | None         # a numeral and a measure word

    def __post_init__(self) -> None:
        # The lengths of the compound surnames, for is_name (one slice per length).
        object.__setattr__(self, "compound_lengths", tuple(sorted({len(c) for c in self.compound_surnames})))

    @classmethod
    def load(cls, path: Path) -> ContextRules:
        try:
            data = load_yaml(path.read_text(encoding="utf-8")) if path.exists() else None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise DataFileError(f"{path}: not valid YAML ({exc})") from None
        if data is not None and not isinstance(data, dict):
            raise DataFileError(f"{path}: expected a mapping of lists")
        data = data or {}

        def alternation(key: str) -> str:
            words = sorted({str(w) for w in data.get(key) or () if str(w)}, key=len, reverse=True)
            return "|".join(map(re.escape, words))

        def first(key: str) -> str:
            """A look-ahead for the first characters of the words of ``key``: the patterns
            tried at every position fail at most positions on it, a third of the time."""
            chars = sorted({str(w)[0] for w in data.get(key) or () if str(w)})
            return f"(?=[{''.join(map(re.escape, chars))}])"

        surnames = frozenset(CJK.findall(str(data.get("surnames") or "")))
        compound = tuple(str(s) for s in data.get("compound_surnames") or ())
        before = alternation("name_before")
        after = alternation("name_after")
        places = alternation("place_suffixes")
        numerals = re.escape("".join(str(data.get("numerals") or "").split()))
        measures = re.escape("".join(str(data.get("measure_words") or "").split()))
        return cls(
            surnames=surnames, compound_surnames=compound,
            before=re.compile(f"(?:{before})") if before else None,
            # The name is the two or three characters before the cue; which it is is settled below.
            after=re.compile(f"{first('name_after')}(?=(?:{after}))") if after else None,
            place=re.compile(f"{first('place_suffixes')}(?<=[\u4e00-\u9fff]{{2}})(?:{places})") if places else None,
            measure=re.compile(f"(?<=[{numerals}])[{measures}]") if numerals and measures else None,
        )

    def is_name(self, text: str) -> bool:
        """A surname followed by one or two more characters of a given name."""
        if not 2 <= len(text) <= 4 or not CJK_ONLY.fullmatch(text):
            return False
        for length in self.compound_lengths:
            if text[:length] in self.compound_surnames:
                return 3 <= len(text) <= 4
        return text[0] in self.surnames and len(text) <= 3

    def protected_spans(self, text: str, words: Container[str] | None = None,
                        kinds: Collection[str] = KINDS) -> list[tuple[int, int]]:
        """(start, end) of every name and numeral-measure word in ``text``.

        ``kinds`` selects among "person", "place" and "measure": site consistency, which
        compares the site with itself, wants a variant of its own names found (青溪区 once
        where 清溪区 is written a hundred times) and only asks about measure words.

        With ``words`` (the dictionary), a one-character suffix that makes a word with the
        next or the previous character is no suffix: 市场, 区域, 村民, 地区, 小区 say nothing
        about the characters before them.
        """
        spans: list[tuple[int, int]] = []
        if "person" in kinds and self.before is not None:
            for m in self.before.finditer(text):
                end = m.end()
                for length in (4, 3, 2):
                    if self.is_name(text[end:end + length]):
                        # The given name may be one character or two: the longer span is kept,
                        # since a false "typo" in a name is worse than a missed one.
                        spans.append((end, end + length))
                        break
        if "person" in kinds and self.after is not None:
            for m in self.after.finditer(text):
                start = m.start()
                for length in (4, 3, 2):
                    if start >= length and self.is_name(text[start - length:start]):
                        spans.append((start - length, start))
                        break
        if "place" in kinds and self.place is not None:
            for m in self.place.finditer(text):
                at = m.start()
                if words is not None and m.end() - at == 1 and (
                        text[at:at + 2] in words or text[at - 1:at + 1] in words):
                    continue
                spans.append((at - 2, at))
        if "measure" in kinds and self.measure is not None:
            for m in self.measure.finditer(text):
                spans.append((m.start(), m.end()))
        return spans
