"""National office holders next to their titles: a serious error when the name is wrong.

``patroldata/text/officeholders.tsv`` lists who held each national post (国家主席, 国务院总理,
全国人大常委会委员长 …) and when.  In text published on a date:

- a title followed by a name (国务院总理李克强) must name a holder of that post at that date
  (a name followed by a short title, 李克强总理, is how people speak of past holders too, and is
  not judged).  Another holder of the post
  (a past one, or a future one) is a ``serious_error`` with the holder at that date as the
  suggestion, unless the sentence dates the mention: 时任, 原, 前, 曾任 … before the name, words
  of the past or of a death in the sentence (逝世, 缅怀, 纪念, 回顾 …), or a year of the holder's
  term written in the sentence (2019年，国务院总理李克强…);
- a title followed by a name one character away from the holder's, that character typed for the
  right one by sound or shape (国务院总理李墙), is a ``serious_error`` too.

A name that never held the post, or a title followed by a name patrol does not know, is not
judged: it may be a reading of the text that is not a title and a name at all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import ahocorasick

from checks.text.flags import TextFlag, make_flag
from checks.text.rules import DataFileError, read_table
from checks.text.spans import texts_matched

# Before the name in the same sentence: the mention is dated or historical.
HISTORICAL_MARKERS = ("时任", "原", "前", "曾任", "曾担任", "历任", "生前", "已故", "故", "首任", "老")
# Anywhere in the sentence: it speaks of the past or of a death.
PAST_WORDS = ("逝世", "去世", "病逝", "生前", "缅怀", "悼念", "追悼", "吊唁", "纪念", "诞辰", "遗体", "当年",
              "时任", "曾经", "曾于", "回忆", "回顾")
SENTENCE_END = re.compile(r"[。！？!?；;\n]")
YEAR = re.compile(r"(19[4-9]\d|20\d\d)\s*年")
JOINERS = "、，, "           # between titles of one person: 中共中央总书记、国家主席、中央军委主席习近平


@dataclass(frozen=True, slots=True)
class Term:
    title: str
    name: str
    start: date
    end: date | None          # None: in office
    line: int

    def holds(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def years(self) -> range:
        return range(self.start.year, (self.end.year if self.end else 9999) + 1)


def load_terms(data_dir: Path) -> list[Term]:
    """The terms of officeholders.tsv (none when the file is missing)."""
    path = data_dir / "officeholders.tsv"
    if not path.exists():
        return []
    terms: list[Term] = []
    for number, row in read_table(path, 3):
        title, name, start = row[0].strip(), row[1].strip(), row[2].strip()
        end = row[3].strip() if len(row) > 3 else ""
        try:
            term = Term(title, name, date.fromisoformat(start),
                        date.fromisoformat(end) if end else None, number)
        except ValueError:
            raise DataFileError(f"{path}:{number}: dates must be YYYY-MM-DD") from None
        terms.append(term)
    return terms


class OfficeholderChecker:
    def __init__(self, data_dir: Path) -> None:
        self.terms = load_terms(data_dir)
        self.by_title: dict[str, list[Term]] = {}
        for term in self.terms:
            self.by_title.setdefault(term.title, []).append(term)
        self.names = sorted({t.name for t in self.terms}, key=len, reverse=True)
        self.automaton = ahocorasick.Automaton()
        for title in self.by_title:
            self.automaton.add_word(title, ("title", title))
        for name in self.names:
            self.automaton.add_word(name, ("name", name))
        if len(self.automaton):
            self.automaton.make_automaton()
        self.name_set = set(self.names)

    def __bool__(self) -> bool:
        return bool(self.terms)

    def name_spans(self, text: str) -> list[tuple[int, int]]:
        """Where the names of national leaders stand: never statistical typos."""
        if not self.terms:
            return []
        return [(end + 1 - len(value), end + 1) for end, (kind, value) in self.automaton.iter(text)
                if kind == "name"]

    def matched(self, joined: str, starts: list[int]) -> set[int]:
        """The indexes of the texts (``joined`` by a line break, each starting at its entry of
        ``starts``) that hold a title or a name: for the others ``check`` gives nothing."""
        if not self.terms or not len(self.automaton):
            return set()
        return texts_matched(self.automaton, joined, starts)

    def check(self, text: str, published: date, confusion) -> list[TextFlag]:
        """Flags for ``text`` published on ``published``; ``confusion(char)`` gives the
        characters typed for ``char`` (the statistical layer's), for near misses of names."""
        if not self.terms:
            return []
        flags: list[TextFlag] = []
        hits = list(self.automaton.iter(text))
        titles = [(end + 1 - len(value), end + 1, value) for end, (kind, value) in hits if kind == "title"]
        # The longest title only where titles overlap.
        done: set[int] = set()
        for start, end, title in sorted(titles, key=lambda t: (t[0], -(t[1] - t[0]))):
            if any(s <= start and end <= e and (s, e) != (start, end) for s, e, _ in titles):
                continue
            at = self._skip_titles(text, end, titles)
            if at in done:
                continue
            name = self._name_at(text, at)
            if name is not None:
                flag = self._judge(text, published, title, name, at, at + len(name))
            else:
                flag = self._near_miss(text, published, title, at, confusion)
            if flag is not None:
                done.add(at)
                flags.append(flag)
        # A name followed by a short title (李克强总理, 江泽民主席) is how people speak of a post's
        # past holders too (赞成李克强总理所作的政府工作报告, 缅怀江泽民主席): not judged.
        return flags

    def _skip_titles(self, text: str, at: int, titles) -> int:
        """Past further titles of the same person (总书记、国家主席、中央军委主席习近平)."""
        starts = {s: e for s, e, _ in titles}
        while True:
            k = at
            while k < len(text) and text[k] in JOINERS:
                k += 1
            if starts.get(k, k) > k:
                at = starts[k]
                continue
            return at

    def _name_at(self, text: str, at: int) -> str | None:
        text_at = text[at:at + 3]
        for name in self.names:
            if text_at.startswith(name):
                return name
        return None

    def _historical(self, text: str, start: int, terms: list[Term]) -> bool:
        sentence_start = 0
        for m in SENTENCE_END.finditer(text, 0, start):
            sentence_start = m.end()
        before = text[max(sentence_start, start - 30):start]
        if any(marker in before[-12:] for marker in HISTORICAL_MARKERS):
            return True
        end_m = SENTENCE_END.search(text, start)
        sentence = text[sentence_start:end_m.start() if end_m else len(text)]
        if any(word in sentence for word in PAST_WORDS):
            return True
        years = {int(y) for y in YEAR.findall(sentence)}
        return any(year in term.years() for term in terms for year in years)

    def _judge(self, text: str, published: date, title: str, name: str, start: int, end: int
               ) -> TextFlag | None:
        terms = self.by_title.get(title, [])
        held = [t for t in terms if t.name == name]
        if not held or any(t.holds(published) for t in held):
            return None
        if self._historical(text, start, held):
            return None
        current = [t for t in terms if t.holds(published)]
        if not current:
            return None
        right = "、".join(t.name for t in current)
        since = current[0].start.isoformat()
        return make_flag("serious_error", text, start, end, right,
                         f"officeholders.tsv:{held[0].line} {title}{name}（{published.isoformat()}"
                         f"时{title}为{right}，{since}起）", 0.95, category="leader")

    def _near_miss(self, text: str, published: date, title: str, at: int, confusion) -> TextFlag | None:
        for term in self.by_title.get(title, []):
            if not term.holds(published):
                continue
            name = term.name
            written = text[at:at + len(name)]
            if len(written) != len(name) or written == name or written in self.name_set:
                continue
            diff = [k for k in range(len(name)) if written[k] != name[k]]
            if len(diff) == 1 and written[diff[0]] in confusion(name[diff[0]]):
                return make_flag("serious_error", text, at, at + len(name), name,
                                 f"officeholders.tsv:{term.line} {title}{written}→{name}", 0.95,
                                 category="leader")
        return None
