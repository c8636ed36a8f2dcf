"""Near misses of the standard names of config/text/names.txt: ``serious_error``.

serious.tsv lists known misspellings of the state's names one by one, but every character of
中华人民共和国 can be typed as any of its homophones or look-alikes.  A text that differs from a
standard name in exactly one character, where that character is one the name's own is
confused with (the statistical layer's confusion sets: same pinyin, another reading, fuzzy
pinyin, config/text/shapes.txt), is reported as a serious wording error.  It is not when:

- the variant is a dictionary word itself, another standard name, or inside a phrase of
  exceptions.txt (检察委员会 is a procuratorate's committee, not 监察委员会);
- the replaced character makes a dictionary word with the character next to the name
  (公安布控 is not 公安部), or, in a name of three characters, with a neighbour inside it
  (外教部 is not 外交部);
- serious.tsv or another rule already flags the place.

The variants (tens of thousands, from about 90 names) are matched with one Aho-Corasick
automaton, built once per process on the first check.
"""
from __future__ import annotations

from pathlib import Path

import ahocorasick

from checks.text.flags import TextFlag, make_flag
from checks.text.rules import read_table
from checks.text.spans import SpanIndex

# A confusion is kept only with a character at least this common (log-probability as a
# one-character word in jieba's counts, about 1 in 160,000): input methods offer common
# characters first, and the rare ones would double the automaton (and its build time, which
# every process pays once).  Look-alikes are all kept.
MIN_CHAR_LOGP = -12.0


class NameMatcher:
    """One-character variants of standard names, matched in one pass."""

    def __init__(self, names: list[tuple[str, str, str]], confusion, logp: dict[str, float],
                 exceptions: list[str] = ()) -> None:
        """``names``: (name, kind, source) rows; ``confusion(char)``: {other: kind};
        ``logp``: the dictionary's word log-probabilities."""
        self.logp = logp
        self.exceptions = tuple(exceptions)
        standard = {name for name, _, _ in names}
        variants: dict[str, tuple[str, str, str, int]] = {}
        typed_for: dict[str, list[str]] = {}          # the names share most of their characters
        get = logp.get
        for name, kind, source in names:
            short = len(name) <= 3
            for k, char in enumerate(name):
                others = typed_for.get(char)
                if others is None:
                    others = typed_for[char] = [
                        other for other, how in confusion(char).items()
                        if how == "shape" or get(other, -99.0) >= MIN_CHAR_LOGP]
                head, tail = name[:k], name[k + 1:]
                for other in others:
                    variant = head + other + tail
                    if variant in standard or variant in logp or variant in variants:
                        continue
                    if short and self._makes_word(variant, k):
                        continue
                    variants[variant] = (name, kind, source, k)
        self.count = len(variants)
        # pyahocorasick looks a node's children up one by one: variants whose first character
        # is replaced would give the root a child for each of some 1,500 characters and make
        # every step of the scan slow (0.17 s a million characters against 0.02 s).  They are
        # matched reversed, in the reversed text, where they start with the name's last
        # character like the others.  (One scan of the text, a separator and the text
        # reversed, with both kinds in one automaton, took longer than two.)
        self.forward = ahocorasick.Automaton()
        self.backward = ahocorasick.Automaton()
        for variant, value in variants.items():
            if value[3]:
                self.forward.add_word(variant, value)
            else:
                self.backward.add_word(variant[::-1], value)
        for automaton in (self.forward, self.backward):
            if len(automaton):
                automaton.make_automaton()

    def _makes_word(self, text: str, k: int) -> bool:
        logp = self.logp
        return (k > 0 and text[k - 1:k + 1] in logp) or (k + 1 < len(text) and text[k:k + 2] in logp)

    def match(self, text: str, taken: list[tuple[int, int]] = ()) -> list[TextFlag]:
        """Flags for the near misses in ``text`` that overlap no span of ``taken``."""
        if not self.count:
            return []
        hits = []
        last = len(text) - 1
        if last < 2:
            return []
        if len(self.forward):
            for end_index, (name, kind, source, k) in self.forward.iter(text):
                end = end_index + 1
                hit = self._hit(text, end - len(name), end, name, kind, source, k)
                if hit is not None:
                    hits.append(hit)
        if len(self.backward):
            for end_index, (name, kind, source, k) in self.backward.iter(text[::-1]):
                start = last - end_index
                hit = self._hit(text, start, start + len(name), name, kind, source, k)
                if hit is not None:
                    hits.append(hit)
        if not hits:
            return []
        hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        flags: list[TextFlag] = []
        taken_until = -1
        index = SpanIndex(taken) if taken else None
        for start, end, name, kind, source in hits:
            if start < taken_until or (index is not None and index.overlaps(start, end)):
                continue
            if self.exceptions and self._excepted(text, start, end):
                continue
            wrong = text[start:end]
            flags.append(make_flag("serious_error", text, start, end, name,
                                   f"{source} {wrong}→{name}（{kind}）", 0.9))
            taken_until = end
        return flags

    def _hit(self, text: str, start: int, end: int, name: str, kind: str, source: str, k: int):
        """The hit, unless the replaced character makes a word with the one outside the name."""
        at = start + k
        if (k == 0 and start > 0 and text[at - 1:at + 1] in self.logp) or \
                (k == len(name) - 1 and text[at:at + 2] in self.logp):
            return None
        return start, end, name, kind, source

    def _excepted(self, text: str, start: int, end: int) -> bool:
        for phrase in self.exceptions:
            lo = max(0, end - len(phrase))
            at = text.find(phrase, lo, start + len(phrase))
            while at >= 0:
                if at <= start and end <= at + len(phrase):
                    return True
                at = text.find(phrase, at + 1, start + len(phrase))
        return False


def load_names(data_dir: Path) -> list[tuple[str, str, str]]:
    """(name, kind, "names.txt:line") rows; none when the file is missing."""
    path = data_dir / "names.txt"
    if not path.exists():
        return []
    return [(row[0], row[1], f"names.txt:{number}") for number, row in read_table(path, 2)]


def load_exceptions(data_dir: Path) -> list[str]:
    path = data_dir / "exceptions.txt"
    if not path.exists():
        return []
    return [row[0] for _, row in read_table(path, 1)]
