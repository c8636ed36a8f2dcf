"""Near misses of the standard names of patroldata/text/names.txt: ``serious_error``.

serious.tsv lists known misspellings of the state's names one by one, but every character of
中华人民共和国 can be typed as any of its homophones or look-alikes.  A text that differs from a
standard name in exactly one character, where that character is one the name's own is
confused with (the statistical layer's confusion sets: same pinyin, another reading, fuzzy
pinyin, patroldata/text/shapes.txt), is reported as a serious wording error.  It is not when:

- the variant is a dictionary word itself, another standard name, or inside a phrase of
  exceptions.txt (检察委员会 is a procuratorate's committee, not 监察委员会);
- the replaced character is part of a dictionary word of two to four characters in the text,
  inside the name or across its edge: 外教部 is not 外交部, 中共中阳县委 is the Party committee
  of 中阳县 and not 中共中央, 公安布控 is not 公安部;
- the replacement at the first or last character of the name is one of the commonest
  characters (不, 的, 在 …): 教育不深入 and 财政不透明 are not misspelt ministries;
- it lies in a person's or place's name or a measure word (context.yaml: 会议由席近平主持);
- serious.tsv or another rule already flags the place.

The variants (about 17,600 from 88 names) are matched with Aho-Corasick automata, built on
the first check and kept in the cache directory beside the model (building them takes 0.09 s,
loading them under 0.01 s).
"""
from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import ahocorasick

from checks.text.flags import CATEGORIES, TextFlag, make_flag
from checks.text.rules import read_exceptions, read_table
from checks.text.spans import SpanIndex, texts_matched

# A confusion is kept only with a character at least this common (log-probability as a
# one-character word in jieba's counts, about 1 in 160,000): input methods offer common
# characters first, and the rare ones would double the automaton (and its build time, which
# every process pays once).  Look-alikes are all kept.
MIN_CHAR_LOGP = -12.0
# A replacement at a name's first or last character that is this common or commoner (不 的 是
# 在 和 有 也 都 就 …, about 1 in 400 characters) is not taken: such a character next to a
# word is far more often ordinary writing (教育不深入) than a slip.
EDGE_MAX_CHAR_LOGP = -6.0
# In a name of at most this many characters, a replaced character that makes a dictionary word
# inside it excuses the variant (外教部 is a university's office); in a longer name the rest of
# the name says what was meant (中华任民共和国, 全国人民代表大汇).
SHORT_NAME_LEN = 4
NAMES_VERSION = 5              # of the variants' rules: a change makes the cached matchers stale
KEEP_MATCHERS = 4              # cached matchers kept (each change of the data files makes one)


class NameMatcher:
    """One-character variants of standard names, found in one scan of a text, and a second
    of the text reversed for the variants of a name's first character when the first scan
    found the rest of such a name."""

    def __init__(self, names: list[tuple[str, str, str]], confusion, logp: dict[str, float],
                 exceptions: list[str] = (), inside_words: bool = True) -> None:
        """``names``: (name, kind, source) rows; ``confusion(char)``: {other: kind};
        ``logp``: the dictionary's word log-probabilities.  ``inside_words=False`` (the fixed
        expressions): a replaced character that makes a dictionary word inside the name does
        not excuse the variant (二十大精深, 四个全免: 精深 and 全免 are words, the phrases wrong),
        nor does a common character at its edge (马克思主一, 共同富与: an expression is long and
        fixed, where 教育不深入 next to 教育部 is ordinary writing)."""
        self.logp = logp
        self.exceptions = tuple(exceptions)
        # A name or abbreviation inside the match (习近平 in the guiding thought, 组织部 in
        # 中央组织部) does not excuse it; one across its edge does (中阳县 in 中共中阳县委).
        self.inside_only = True
        standard = {name for name, _, _ in names}
        variants: dict[str, tuple[str, str, str, int]] = {}
        typed_for: dict[str, list[str]] = {}          # the names share most of their characters
        get = logp.get
        for name, kind, source in names:
            last = len(name) - 1
            for k, char in enumerate(name):
                others = typed_for.get(char)
                if others is None:
                    others = typed_for[char] = [
                        other for other, how in confusion(char).items()
                        if how == "shape" or get(other, -99.0) >= MIN_CHAR_LOGP]
                head, tail = name[:k], name[k + 1:]
                edge = (k == 0 or k == last) and inside_words
                for other in others:
                    if edge and get(other, -99.0) >= EDGE_MAX_CHAR_LOGP:
                        continue
                    variant = head + other + tail
                    if variant in standard or variant in logp or variant in variants:
                        continue
                    if inside_words and len(name) <= SHORT_NAME_LEN \
                            and self._in_word(variant, k, 0, len(variant)):
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
        # A variant of a name's first character ends with the rest of the name: the forward
        # scan looks for those rests too (value None), and the reversed scan runs only on a
        # text that holds one (a few in a hundred lines).  ``both``: rests that are variants.
        rests = {variant[1:] for variant, value in variants.items() if not value[3]}
        self.both = frozenset(rest for rest in rests if rest in self.forward)
        for rest in rests - self.both:
            self.forward.add_word(rest, None)
        for automaton in (self.forward, self.backward):
            if len(automaton):
                automaton.make_automaton()

    def __getstate__(self) -> dict:
        # Not the dictionary: cached_matcher gives the loaded matcher the model's.
        return {key: getattr(self, key) for key in ("exceptions", "count", "forward", "backward", "inside_only",
                                                    "both")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.logp = {}

    def _in_word(self, text: str, at: int, lo: int, hi: int, crossing: tuple[int, int] | None = None
                 ) -> bool:
        """Whether a dictionary word of 2-4 characters inside ``text[lo:hi]`` contains ``at``
        (only those that cross an edge of ``crossing``, when given)."""
        logp = self.logp
        for length in (2, 3, 4):
            for s in range(max(lo, at - length + 1), min(at, hi - length) + 1):
                if crossing is not None and crossing[0] <= s and s + length <= crossing[1]:
                    continue
                if text[s:s + length] in logp:
                    return True
        return False

    def matched(self, joined: str, starts: list[int]) -> set[int]:
        """The indexes of the texts (``joined`` by a line break, each starting at its entry of
        ``starts``) for which ``match`` can find anything: those where the first scan finds a
        variant or the rest of one.  For the others ``match`` would give nothing."""
        if not self.count or not len(self.forward):
            return set()
        return texts_matched(self.forward, joined, starts)

    def match(self, text: str, taken: list[tuple[int, int]] = (), protected=None) -> list[TextFlag]:
        """Flags for the near misses in ``text`` that overlap no span of ``taken`` nor, when
        given, of ``protected(text)`` (names, places, measure words: called only on a hit)."""
        if not self.count:
            return []
        hits = []
        last = len(text) - 1
        if last < 2:
            return []
        rest = False                 # the rest of a name after its first character
        if len(self.forward):
            both = self.both
            for end_index, value in self.forward.iter(text):
                if value is None:
                    rest = True
                    continue
                name, kind, source, k = value
                end = end_index + 1
                if both and text[end - len(name):end] in both:
                    rest = True
                hit = self._hit(text, end - len(name), end, name, kind, source, k)
                if hit is not None:
                    hits.append(hit)
        if rest and len(self.backward):
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
        flagged = SpanIndex(list(taken)) if taken else None
        guards = list(protected(text)) if protected is not None else []
        guard_index = SpanIndex(guards) if guards else None
        for start, end, name, kind, source in hits:
            if start < taken_until or (flagged is not None and flagged.overlaps(start, end)):
                continue
            if guard_index is not None and guard_index.overlaps(start, end) \
                    and not (self.inside_only and self._guards_inside(guards, start, end)):
                continue
            if self.exceptions and self._excepted(text, start, end):
                continue
            wrong = text[start:end]
            category = kind if kind in CATEGORIES else "political" if "思想" in kind else "organ"
            flags.append(make_flag("serious_error", text, start, end, name,
                                   f"{source} {wrong}→{name}（{CATEGORIES.get(kind, kind)}）", 0.9,
                                   category=category))
            taken_until = end
        return flags

    @staticmethod
    def _guards_inside(spans, start: int, end: int) -> bool:
        """Whether every span overlapping ``start:end`` lies inside it."""
        return all(start <= s and e <= end for s, e in spans if s < end and start < e)

    def _hit(self, text: str, start: int, end: int, name: str, kind: str, source: str, k: int):
        """The hit, unless the replaced character is in a word that crosses the name's edge."""
        at = start + k
        if self._in_word(text, at, 0, len(text), (start, end)):
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


def cached_matcher(data_dir: Path, model, file: str = "names.txt", inside_words: bool = True
                   ) -> NameMatcher:
    """The matcher for ``data_dir``'s names and ``model``'s confusions, from the cache
    directory when it was built before (keyed by the model's key, the names and exceptions,
    the settings and NAMES_VERSION), else built and stored there."""
    from common.cache import cache_dir, read_cached, write_cached

    digest = hashlib.sha1(repr((NAMES_VERSION, model.key, MIN_CHAR_LOGP, EDGE_MAX_CHAR_LOGP, SHORT_NAME_LEN, file,
                                inside_words)).encode())
    for name in (file, "exceptions.txt"):
        path = data_dir / name
        digest.update(path.read_bytes() if path.exists() else b"-")
    path = cache_dir() / f"text-names-{digest.hexdigest()[:16]}.pickle"
    data = read_cached(path) if model.key else None
    if data is not None:
        try:
            matcher = pickle.loads(data)
        except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError):
            matcher = None
        if isinstance(matcher, NameMatcher):
            matcher.logp = model.logp
            return matcher
    matcher = NameMatcher(load_names(data_dir, file), model.confusion, model.logp, load_exceptions(data_dir),
                          inside_words)
    if model.key:
        write_cached(path, pickle.dumps(matcher, protocol=pickle.HIGHEST_PROTOCOL),
                     "text-names-*.pickle", KEEP_MATCHERS)
    return matcher


def load_names(data_dir: Path, file: str = "names.txt") -> list[tuple[str, str, str]]:
    """(name, kind, "names.txt:line") rows; none when the file is missing."""
    path = data_dir / file
    if not path.exists():
        return []
    return [(row[0], row[1], f"{file}:{number}") for number, row in read_table(path, 2)]


def load_exceptions(data_dir: Path) -> list[str]:
    """The phrases of exceptions.txt (the rules' exceptions); none when the file is missing."""
    path = data_dir / "exceptions.txt"
    return [phrase for _, phrase in read_exceptions(path)] if path.exists() else []
