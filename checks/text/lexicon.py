"""The official-usage lexicon: what real official text writes is not a slip.

The statistical layer judges a character by jieba's general-language counts, which know little
of the vocabulary of laws, regulations and government work: 收寄, 验视, 关衔, 禁行, 视情, 宜业
are right in official text and look like slips to it.  ``patroldata/text/official.txt`` lists the
strings, around the places the statistical layer would flag, that real official text writes in
at least two documents (derived by ``python -m checks.text.derive official``).  A statistical
flag is dropped when the text around it, as written, is such a string: the flagged span itself
(禁行), or the span with one or two of its neighbours (卫健委 for the flag 健委, 科创板 for 创板).

A slip rarely forms, with its neighbours, a string that two documents of official text write;
a new term does, once it is in use.
"""
from __future__ import annotations

from pathlib import Path

from checks.text.rules import read_table

# (characters taken before, after) the flagged span: the span alone first.
WINDOWS = ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2))
SEPARATOR = "\x00"           # joins the texts of own_vocabulary (when none of them holds it)


# 《中华人民共和国行政区划简册》's abbreviations of the provinces, less those that are common
# characters in ordinary writing (京 津 沪 渝 吉 黑 苏 浙 鲁 新 宁 青 云 川 贵 甘 蒙 藏 港 澳 台).
PROVINCE_ABBREVIATIONS = "冀晋辽皖闽赣豫鄂湘粤桂琼蜀黔滇陕陇秦"


def windows(text: str, start: int, end: int) -> list[str]:
    """The flagged span and the spans one or two characters wider, inside ``text``."""
    out = []
    n = len(text)
    for before, after in WINDOWS:
        s, e = start - before, end + after
        if s >= 0 and e <= n:
            out.append(text[s:e])
    return out


def read_list(path: Path) -> list[str]:
    """The first column of a list file of patroldata/text/ (none when the file is missing)."""
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return [row[0].strip() for _, row in read_table(path, 1)]     # it says what is wrong
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if "\t" not in text:
        return [line.strip() for line in lines]
    # official.txt's 120,000 lines of string and count: read here in one pass, read_table's
    # per-line checks (five times slower) only to say what is wrong with a line that has no string.
    first = [line.split("\t", 1)[0].strip() for line in lines]
    if all(first):
        return first
    return [row[0].strip() for _, row in read_table(path, 1)]


CACHE_KEEP = 4                 # cached copies of official.txt's strings kept


def _strings(path: Path) -> frozenset[str]:
    """``read_list(path)`` as a set, kept in patrol's cache under the file's digest: 120,000
    strings load in a third of the time it takes to read the file's lines."""
    import hashlib
    import marshal

    from common.cache import cache_dir, read_cached, write_cached

    try:
        digest = hashlib.blake2b(path.read_bytes(), digest_size=12).hexdigest()
    except OSError:
        return frozenset(read_list(path))           # missing: none; unreadable: said there
    cached = cache_dir() / f"official-strings-{digest}.bin"
    data = read_cached(cached)
    if data is not None:
        try:
            strings = marshal.loads(data)
        except (ValueError, EOFError, TypeError):
            strings = None
        if isinstance(strings, frozenset):
            return strings
    strings = frozenset(read_list(path))
    write_cached(cached, marshal.dumps(strings), "official-strings-*", CACHE_KEEP)
    return strings


class OfficialLexicon:
    """Strings of real official text (``official.txt``), the protected names (``protected.txt``,
    ``places.txt``) and the words patrol never suggests (``denied.txt``)."""

    def __init__(self, strings, names=(), denied=()) -> None:
        self.strings = frozenset(strings)
        self.names = frozenset(n for n in names if len(n) >= 2)
        self.denied = tuple(sorted(set(denied)))
        # The provinces' one-character abbreviations that are rare as characters otherwise:
        # written on purpose (皖美, 兴陇, 回湘), never typed for a commoner homophone.
        self.abbreviations = frozenset(PROVINCE_ABBREVIATIONS)
        self._by_start: dict[str, tuple[str, ...]] | None = None    # see name_spans
        self._denied = None

    @classmethod
    def load(cls, data_dir: Path) -> OfficialLexicon:
        names = read_list(data_dir / "protected.txt") + read_list(data_dir / "places.txt")
        return cls(_strings(data_dir / "official.txt"), names, read_list(data_dir / "denied.txt"))

    def name_spans(self, text: str) -> list[tuple[int, int]]:
        """Where protected names and places stand in ``text`` (by end, the longest first):
        never statistical typos."""
        by_start = self._by_start
        if by_start is None:
            # A look-up per character costs half of what an Aho-Corasick automaton of thousands
            # of names does.
            by_start = self._by_start = _by_start(self.names)
        if not by_start:
            return []
        get = by_start.get
        spans: list[tuple[int, int]] = []
        for i in range(len(text) - 1):
            names = get(text[i:i + 2])
            if names is not None:
                spans += [(i, i + len(name)) for name in names if text.startswith(name, i)]
        if len(spans) > 1:
            spans.sort(key=lambda span: (span[1], span[0]))
        return spans

    def is_denied(self, suggestion: str) -> bool:
        """Whether ``suggestion`` contains a word patrol never suggests."""
        if not self.denied or not suggestion:
            return False
        automaton = self._denied
        if automaton is None:
            import ahocorasick

            automaton = self._denied = ahocorasick.Automaton()
            for word in self.denied:
                automaton.add_word(word, word)
            automaton.make_automaton()
        for _ in automaton.iter(suggestion):
            return True
        return False

    def covers(self, text: str, start: int, end: int) -> bool:
        """Whether official text writes ``text[start:end]`` as it stands here."""
        strings = self.strings
        return any(window in strings for window in windows(text, start, end))

    def __contains__(self, word: str) -> bool:
        return word in self.strings

    def __len__(self) -> int:
        return len(self.strings)


def own_vocabulary(words: set[str], texts, min_contexts: int = 3) -> set[str]:
    """The ``words`` that ``texts`` write in at least ``min_contexts`` different surroundings.

    A word no dictionary knows but that a document or a site uses again and again — its own
    places, bodies, people and terms (柳溪镇 in a dozen articles, 关衔 all through the
    regulations on customs ranks) — is its vocabulary, not a slip.  Occurrences count only
    when their surroundings (three characters each side) differ: a title repeated on list
    pages, or a sentence repeated, is one use.
    """
    words = {word for word in words if word}
    if not words:
        return set()
    contexts: dict[str, set[str]] = {}
    texts = list(texts)
    # One scan of the texts joined by a character none of them holds (a document's
    # thousands of lines cost one call, not one each); the surroundings stop at the joins.
    joined = SEPARATOR.join(texts)
    if joined.count(SEPARATOR) != len(texts) - 1 or any(SEPARATOR in word for word in words):
        joined = None
    for text in ((joined,) if joined is not None else texts):
        for start, word in _occurrences(words, text):
            seen = contexts.get(word)
            if seen is None:
                seen = contexts[word] = set()
            if len(seen) < min_contexts:
                end = start + len(word)
                lo, hi = (start - 3 if start > 3 else 0), end + 3
                cut = text.rfind(SEPARATOR, lo, start)
                if cut >= 0:
                    lo = cut + 1
                cut = text.find(SEPARATOR, end, hi)
                if cut >= 0:
                    hi = cut
                seen.add(text[lo:start] + "|" + text[end:hi])
    return {word for word, seen in contexts.items() if len(seen) >= min_contexts}


def _by_start(words) -> dict[str, tuple[str, ...]]:
    """``words`` (two characters or more) by their first two characters, the longest first."""
    grouped: dict[str, list[str]] = {}
    for word in sorted(words, key=lambda w: (-len(w), w)):
        grouped.setdefault(word[:2], []).append(word)
    return {start: tuple(group) for start, group in grouped.items()}


def _occurrences(words: set[str], text: str):
    """(start, word) for every place a word of ``words`` (none empty) stands in ``text``,
    overlapping ones too.  The places where a word's first two characters stand are found with
    numpy over the whole text (a table of the pairs of characters that begin a word); only
    there is a word compared."""
    import numpy as np

    singles = {word for word in words if len(word) == 1}
    by_start = _by_start(word for word in words if len(word) > 1)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if singles:
        wanted = np.frombuffer("".join(sorted(singles)).encode("utf-32-le", "surrogatepass"), dtype="<u4")
        for start in np.flatnonzero(np.isin(codes, wanted)).tolist():
            yield start, text[start]
    if not by_start or len(codes) < 2:
        return
    firsts = sorted({start[0] for start in by_start})
    seconds = sorted({start[1] for start in by_start})
    # Each character's rank among the first (second) characters of the words, 0 for others.
    first_rank = np.zeros(0x110000, dtype=np.uint16)
    first_rank[np.frombuffer("".join(firsts).encode("utf-32-le", "surrogatepass"), dtype="<u4")] = \
        np.arange(1, len(firsts) + 1)
    second_rank = np.zeros(0x110000, dtype=np.uint16)
    second_rank[np.frombuffer("".join(seconds).encode("utf-32-le", "surrogatepass"), dtype="<u4")] = \
        np.arange(1, len(seconds) + 1)
    begins = np.zeros((len(firsts) + 1, len(seconds) + 1), dtype=bool)
    for start in by_start:
        begins[firsts.index(start[0]) + 1, seconds.index(start[1]) + 1] = True
    at = np.flatnonzero(begins[first_rank[codes[:-1]], second_rank[codes[1:]]])
    for start in at.tolist():
        for word in by_start[text[start:start + 2]]:
            if text.startswith(word, start):
                yield start, word
