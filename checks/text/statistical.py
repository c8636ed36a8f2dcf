"""Statistical detection of homophone and look-alike typos that no word list contains.

A noisy-channel check with a unigram word model taken from jieba's bundled dictionary:

1. A character that no dictionary word of two or more characters covers is suspicious
   (a typo usually breaks the word it sits in: 大数局, 人民很行).
2. Candidate corrections come from a *masked index* — every dictionary word with one
   character blanked out (数据 -> ``数?`` and ``?据``) — intersected with the character's
   confusion set (same pinyin from patroldata/text/pinyin.tsv, or look-alike from shapes.txt).
   So a suspicious character costs about ten index look-ups, whatever its confusion set.
3. A candidate is scored by how much it improves the best segmentation of the few characters
   around it (log-probability under the unigram model) minus the cost of the confusion
   (homophone cheaper than look-alike).  The score becomes the flag's confidence.

jieba itself is never imported: only its ``dict.txt`` is read, once, and the derived tables
are cached (under ``$PATROL_CACHE_DIR`` or ``~/.cache/patrol``) in a compact form that a new
process loads in well under 0.2 s: the word list is one string plus a ``float32`` array, and
the masked index is a few thousand *buckets* (one string per first character, searched with
``str.find``) instead of half a million dictionary entries, decoded only where text needs them.
"""
from __future__ import annotations

import array
import bisect
import gc
import hashlib
import importlib.util
import itertools
import marshal
import math
import re
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from checks.text.arrays import bit_filter, bits_at, member, search, unique
from checks.text.spans import keep_disjoint

MODEL_VERSION = 15
KEEP_MODELS = 4                 # cached models kept (each change of the data files makes one)
MAX_WORD = 4                 # longest dictionary word used by the segmentation window
MASK_MIN_FREQ = 3            # dictionary words rarer than this never suggest a correction
COVER_MIN_FREQ = 3           # ... nor make a character look correct
EXTRA_WORD_FREQ = 2000       # frequency given to the words of patroldata/text/words.txt
SKIP_LOGP = -6.0             # log-probability above which a lone character is not examined
# ... and above which it is not examined between two covered neighbours (……的工作于今年……):
# such a character is nearly always a one-character word.  Tuned on the dev half: recall
# 0.488 -> 0.484 at the same precision, a sixth of the check's time saved.
LONE_SKIP_LOGP = -9.0
WINDOW = 3                   # characters each side of a suspicious one that are re-segmented
# Files of patroldata/text/ whose words join jieba's dictionary (current official vocabulary,
# website furniture such as 尾页 / 返回顶部).
EXTRA_WORD_FILES = ("words.txt", "ui_words.txt")
# Words of official-document language (derived from the dev half of the benchmark's corrected
# sentences): never called a slip for a homophone word.
DOMAIN_FILE = "domain.txt"
SOURCE_FILES = ("pinyin.tsv", "shapes.txt", DOMAIN_FILE) + EXTRA_WORD_FILES
MAX_ALTERNATIVES = 2          # homophone words kept per two-character word (commonest first;
                              # more found nothing more on the dev half)
WORD_MARGIN = 1.0             # log-frequency ratio short of the floor at which a homophone word is scored

CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
CJK_FIRST, CJK_SPAN = 0x4E00, 0xA000 - 0x4E00    # the block of CJK_RUN
_CACHE_HEAD = struct.Struct("<QQ")   # the model cache file's two parts' lengths (_cache_bytes)
CACHE_LAYOUT = 3             # of the arrays derived from a model and cached (_cached)
CONFUSION_FILTER_BITS = 25   # a 4 MB filter of the confusion pairs: 7 % of other pairs pass it
_KEY = "\x01"                # starts a masked key inside a bucket string
_VALUE = "\x02"              # separates the key from its characters
_NOTHING: frozenset[str] = frozenset()
# (first, stop) offsets from a character of every 2-4 character window that contains it.
_WINDOWS = tuple((a, b) for length in (2, 3, 4) for a in range(1 - length, 1) for b in (a + length,))
# _WINDOWS_AT[l][r]: the windows that fit with ``l`` characters before and ``r`` after (0-3).
_WINDOWS_AT = tuple(tuple(tuple((a, b) for a, b in _WINDOWS if -a <= left and b - 1 <= right)
                          for right in range(4)) for left in range(4))


@dataclass(frozen=True, slots=True)
class Candidate:
    """One suspected typo found by the statistical layer."""

    start: int
    end: int
    wrong: str               # the word as written (the suspicious character with its neighbours)
    suggestion: str          # the same word corrected
    char: str                # the suspicious character
    replacement: str         # its correction
    score: float             # log-likelihood gain of the correction, after the confusion cost
    channel: str             # "homophone" | "other_reading" | "near_homophone" | "shape" | "word"


def near_readings(reading: str, fuzzy: tuple[tuple[str, str], ...]) -> list[str]:
    """Readings one fuzzy-pinyin step away: ``zhang`` -> ``zang``, ``zhan``; ``ying`` -> ``yin``.

    Whole initials (at the start) and whole finals (at the end) are swapped; a result that
    is no syllable simply finds no characters in the caller's table.
    """
    near = []
    for a, b in fuzzy:
        for x, y in ((a, b), (b, a)):
            if x[0] in "bcdfghjklmnpqrstwxyz" and reading.startswith(x) and not (
                    x in ("z", "c", "s") and reading[1:2] == "h"):
                near.append(y + reading[len(x):])
            elif x[0] in "aeiouv" and reading.endswith(x) and not (
                    x.endswith("n") and reading.endswith(x + "g")):
                near.append(reading[:len(reading) - len(x)] + y)
    return near


class _CoverIndex(NamedTuple):
    """The covering words as numpy arrays, for ``StatModel.prepare_many`` (see ``_cover_index``)."""

    singles: object        # float64 log-probability of each CJK ideograph alone (last: unknown)
    table: object          # uint16 rank of each CJK ideograph in two-character words (0: none)
    bits: object           # uint8: two bits for each ordered pair of ranks
    ranks: int             # ranks 1 to ranks - 1 are used
    threes: object         # uint64 keys of the three-character covering words, sorted
    fours: object          # ... of the four-character ones


# ``StatModel._bounds``: (need, the bounds of each examined character that has some by its
# position, a byte per character: 1 where bounds were found, a byte per character: 1 where
# ``_best`` can give nothing).
Bounds = tuple[float, dict[int, dict[str, float]], bytes, bytes]


class Prepared(NamedTuple):
    """What the statistical layer reads of texts before it examines a character
    (``StatModel.prepare_many``), for the texts joined by a line break."""

    covered: bytes         # 1: inside a covering word of 2-4 characters, or no CJK ideograph
    words: list[int]       # starts of the two-character words that have homophone words
    singles: Sequence[float]  # each character's log-probability alone (CJK ideographs; the
    #                        unknown one for the others, which no window holds)
    reach: bytes           # 4 * l + r: the CJK ideographs right before (l) and after (r)
    #                        each character, up to 3 each (the windows a word can fill)
    starts: list[int]      # where each text starts
    # With ``prepare_many``'s ``need``: its examined characters' bounds (``Bounds``).
    bounds: Bounds | None = None
    # ``StatModel.segmented``: the best segmentation's log-probability of the windows the
    # texts' corrections are scored on (``_gains``), found at once.
    segments: dict[str, float] | None = None
    # ... and the homophone words ``_word_options`` gave for each two-character word, by its
    # position, with the confusion cost and floor they were found at.
    word_options: tuple[float, float, dict[int, list[str]]] | None = None


def _word_codes(words: list[str], length: int):
    """The keys of ``words`` (each ``length`` CJK ideographs), in their order: their offsets
    from U+4E00, 15 bits each, first character highest."""
    import numpy as np

    codes = (np.frombuffer("".join(words).encode("utf-32-le"), dtype="<u4").astype(np.uint64)
             - np.uint64(CJK_FIRST)).reshape(-1, length)
    keys = np.zeros(len(words), dtype=np.uint64)
    for j in range(length):
        keys = (keys << np.uint64(15)) | codes[:, j]
    return keys


def _word_keys(words: list[str], length: int):
    """The sorted keys of ``words`` (``_word_codes``)."""
    import numpy as np

    return np.sort(_word_codes(words, length))


def _cover_index(model: StatModel) -> _CoverIndex:
    """The covering words of a model as arrays.  Two-character words, most of the cover, are
    an exact table: ``table`` ranks the characters of those words 1 to ranks - 1 (0 for
    others, and its last entry is for anything not a CJK ideograph), and ``bits`` holds two
    bits for every ordered pair of ranks (a, b) at bit 2 * (a * ranks + b): set where ``ab``
    covers, and the next where it has homophone words too (a non-empty value in ``pairs``).
    Words of three and four characters are sorted keys.  Only words of CJK ideographs count
    (the dictionary holds no other; a model made by hand might).  With them, ``singles``: each
    ideograph's log-probability alone.  A model loaded by ``load_model`` (``key``) keeps the
    index in patrol's cache: built in some 80 ms, mapped in well under one."""
    def build() -> list:
        import numpy as np

        pairs, logp, unknown = model.pairs, model.logp, model.unknown_logp
        singles = np.array([logp.get(chr(CJK_FIRST + k), unknown) for k in range(CJK_SPAN)] + [unknown],
                           dtype=np.float64)
        words = [w for w in pairs if len(w) == 2 and CJK_RUN.fullmatch(w)]
        codes = (np.frombuffer("".join(words).encode("utf-32-le"), dtype="<u4")
                 - np.uint32(CJK_FIRST)).astype(np.int64)
        used = unique(codes)
        table = np.zeros(CJK_SPAN + 1, dtype="<u2")
        table[used] = np.arange(1, len(used) + 1)
        ranks = len(used) + 1
        slot = (table[codes[0::2]].astype(np.int64) * ranks + table[codes[1::2]]) * 2
        slot = np.concatenate((slot, slot[np.array([bool(pairs[w]) for w in words], dtype=bool)] + 1))
        bits = bits_at(slot, 2 * ranks * ranks)
        longer = [w for w in model.cover if 3 <= len(w) <= MAX_WORD and CJK_RUN.fullmatch(w)]
        return [singles, table, bits, _word_keys([w for w in longer if len(w) == 3], 3),
                _word_keys([w for w in longer if len(w) == 4], 4)]

    arrays = _cached(model.key, "cover", build, ["<f8", "<u2", "|u1", "<u8", "<u8"])
    if arrays is not None:
        singles, table, bits, threes, fours = arrays
        ranks = int(table.max()) + 1
        if len(singles) == len(table) == CJK_SPAN + 1 and table[-1] == 0 \
                and len(bits) == (2 * ranks * ranks + 7) // 8:
            return _CoverIndex(singles, table, bits, ranks, threes, fours)
    singles, table, bits, threes, fours = build()
    return _CoverIndex(singles, table, bits, int(table.max()) + 1, threes, fours)


class _MaskedIndex(NamedTuple):
    """The masked index as arrays, for the bounds of ``StatModel.prepare_many`` (see
    ``_masked_index``)."""

    keys: object           # uint64 window keys (``_window_key``), sorted
    starts: object         # uint32: where each key's completions begin (and one more: the end)
    completions: object    # uint64: the key's index << 32 | the float32 bits of minus the log-
    #                        probability of the word it completes; sorted (commonest first)
    chars: object          # uint16: each completion's character (offset from U+4E00)


def _window_key(length: int, blank: int):
    """The high bits of a masked key of ``length`` characters whose ``blank`` (0-3) is the
    masked one; its other characters' offsets from U+4E00 follow, 15 bits each, the first at
    bit 30."""
    return ((length - 2) * 4 + blank) << 45


def _masked_index(model: StatModel) -> _MaskedIndex | None:
    """The masked index (``StatModel.ranked``) as sorted arrays: every key of the buckets and
    its completions, commonest first, as the buckets hold them.  None for a model whose
    buckets it cannot hold (a model made by hand with characters other than CJK ideographs,
    or without the log-probabilities): ``StatModel._options`` then reads the buckets.  A
    model loaded by ``load_model`` keeps it in patrol's cache (built in about 0.3 s)."""
    def build() -> list | None:
        import numpy as np

        blob, offsets = model.bucket_logp
        names = [name for name in model.buckets if model.buckets[name]]
        if any(name not in offsets for name in names):
            return None
        text = "".join(model.buckets[name] for name in names)
        if not text:
            return None
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        logp = np.concatenate([np.frombuffer(blob, dtype="<f4", count=len(model.buckets[name]),
                                             offset=offsets[name]) for name in names])
        heads = np.flatnonzero(codes == ord(_KEY))
        marks = np.flatnonzero(codes == ord(_VALUE))
        if len(heads) != len(marks) or heads[0] != 0 or not (marks > heads).all() \
                or not (marks[:-1] < heads[1:]).all():
            return None
        length = marks - heads - 1
        if ((length < 2) | (length > MAX_WORD)).any():
            return None
        count = np.append(heads[1:], len(codes)) - marks - 1
        # The key's characters, four columns (past its length: the blank's code, never read).
        at = np.minimum(heads[:, None] + 1 + np.arange(MAX_WORD), marks[:, None] - 1)
        chars = codes[at]
        blank = np.argmax(chars == ord("?"), axis=1)
        if not (chars[np.arange(len(chars)), blank] == ord("?")).all():
            return None
        keys = ((length - 2) * 4 + blank).astype(np.uint64) << np.uint64(45)
        for k in range(MAX_WORD - 1):                    # the known characters, in order
            column = chars[np.arange(len(chars)), np.minimum(k + (k >= blank), MAX_WORD - 1)]
            used = k < length - 1
            offset = column.astype(np.int64) - CJK_FIRST
            if ((offset[used] < 0) | (offset[used] >= CJK_SPAN)).any():
                return None
            keys |= np.where(used, offset, 0).astype(np.uint64) << np.uint64(30 - 15 * k)
        order = np.argsort(keys, kind="stable")
        keys, count, first = keys[order], count[order], marks[order] + 1
        if len(keys) > 1 and not (keys[1:] > keys[:-1]).all():
            return None
        total = int(count.sum())
        starts = np.concatenate(([0], np.cumsum(count))).astype(np.uint32)
        source = np.arange(total) + np.repeat(first - starts[:-1], count)
        done = codes[source].astype(np.int64) - CJK_FIRST
        values = logp[source]
        if total and ((done < 0) | (done >= CJK_SPAN)).any() or (values > 0).any():
            return None
        # Minus a log-probability (0 - lp: never -0.0) is at least 0, and the bits of a float32
        # at least 0 grow with it: sorted keys, commonest completion first within each.
        minus = (np.float32(0) - values).astype(np.float32)
        completions = (np.repeat(np.arange(len(keys), dtype=np.uint64), count) << np.uint64(32)) \
            | minus.view(np.uint32).astype(np.uint64)
        if total > 1 and not (completions[1:] >= completions[:-1]).all():
            return None
        return [keys, starts, completions, done.astype("<u2")]

    arrays = _cached(model.key, "masked", lambda: build() or [], ["<u8", "<u4", "<u8", "<u2"])
    if arrays is None or len(arrays) != 4:
        arrays = build()
        if arrays is None:
            return None
    keys, starts, completions, chars = arrays
    if len(starts) != len(keys) + 1 or len(completions) != len(chars) or int(starts[-1]) != len(chars):
        return None
    return _MaskedIndex(keys, starts, completions, chars)


def _cached(key: str, name: str, build, dtypes: Sequence[str]) -> list | None:
    """``build()``'s arrays (of ``dtypes``), kept in patrol's cache under the model's ``key``
    (None without one: a model made by hand)."""
    if not key:
        return None
    from common.cache import cache_dir, cached_arrays

    digest = hashlib.blake2b(f"{CACHE_LAYOUT}|{name}|{key}".encode(), digest_size=8).hexdigest()
    return cached_arrays(cache_dir() / f"text-{name}-{digest}.bin", f"text-{name}-*", KEEP_MODELS, build,
                         dtypes)


def need_for(cost: dict[str, float], floor: float) -> float:
    """The least bound a character correction needs to reach ``floor`` (see StatModel._options)."""
    return floor + min(cost.get("homophone", 99.0), cost.get("other_reading", 99.0),
                       cost.get("near_homophone", 99.0), cost.get("shape", 99.0)) - 1e-9


def _window(run: str, i: int, width: int) -> tuple[str, int]:
    """The characters whose best segmentation scores a correction of ``run[i:i + width]``
    (WINDOW each side, as ``run`` has them), and where the corrected ones start in it."""
    lo = i - WINDOW if i > WINDOW else 0
    return run[lo:i + width + WINDOW], i - lo


def _bucket_of(key: str) -> str:
    """Masked keys are grouped by their first known character (``数?x`` -> 数, ``?据`` -> ?据)."""
    return key[:2] if key[0] == "?" else key[0]


class StatModel:
    """Word log-probabilities, the masked index and confusion sets (read-only after load)."""

    def __init__(self, logp: dict[str, float], buckets: dict[str, str], unknown_logp: float,
                 readings: dict[str, tuple[str, ...]], by_reading: dict[str, str],
                 shapes: dict[str, str], fuzzy: tuple[tuple[str, str], ...] = (),
                 cover: dict[str, float] | set[str] | None = None,
                 alternatives: dict[str, str] | None = None,
                 bucket_logp: tuple[bytes, dict[str, int]] | None = None,
                 ordered: bool = False,
                 buckets_from: Callable[[], tuple[dict[str, str], tuple[bytes, dict[str, int]]]] | None = None
                 ) -> None:
        """``buckets_from``: reads ``buckets`` and ``bucket_logp`` when they are first asked
        for (then those given are not used)."""
        self.logp = logp                   # words (1-4 characters) -> log-probability
        self._buckets = buckets            # see the properties buckets and bucket_logp
        self._bucket_logp = bucket_logp if bucket_logp is not None else (b"", {})
        self._buckets_from = buckets_from
        self._reading = threading.Lock()
        self.unknown_logp = unknown_logp
        self.readings = readings           # char -> toneless readings
        self.by_reading = by_reading       # toneless reading -> chars
        self.shapes = shapes               # char -> look-alike chars
        self.fuzzy = fuzzy                 # (initial or final, its near-homophone) pairs
        # The words (two characters or more) that make their characters look right.  A word
        # rarer than statistical.yaml's cover_min_logp does not: a typo often makes a rare
        # real word (应激 for 应急), and such a character is examined like any other.
        self.cover = logp if cover is None else cover
        # Two-character words -> their homophone words, concatenated (平谷 -> 评估, 悔意 -> 会议:
        # a typo that makes another dictionary word covers its characters).
        self.alternatives = alternatives or {}
        self._pairs: dict[str, str] | None = None
        # Function characters (的, 和, 在 ...) standing alone are far likelier right than wrong;
        # the unigram model cannot judge them, so they are not examined at all.
        # ``ordered``: logp lists the commonest words first, so the common ones are a prefix.
        common = (itertools.takewhile(lambda item: item[1] > LONE_SKIP_LOGP, logp.items())
                  if ordered else logp.items())
        singles = [(w, lp) for w, lp in common if len(w) == 1]
        self.skip = frozenset(w for w, lp in singles if lp > SKIP_LOGP)
        self.lone = frozenset(w for w, lp in singles if lp > LONE_SKIP_LOGP)
        self._confusion: dict[str, dict[str, str]] = {}
        self._confusion_sets: dict[str, frozenset[str]] = {}
        self._shape_partners: dict[str, tuple[str, ...]] = {}   # see _shape_options
        self._masked: dict[str, frozenset[str]] = {}
        self._ranked: dict[str, tuple[tuple[float, str], ...]] = {}
        self._bucket_values: dict[str, array.array] = {}
        self._alone: dict[str, float] = {}        # see confusion()
        self._group_top: dict[str, float] = {}
        self._near: dict[str, tuple[str, ...]] = {}       # near_readings of each reading
        self._confusion_pairs = None                      # see confusion_pairs
        self._cover_index: _CoverIndex | None = None     # see prepare_many
        self._masked_index: _MaskedIndex | None | bool = None    # see _bounds (False: none)
        self._char_tables: dict[str, object] = {}         # see _char_table
        self._words: dict[int, tuple] | None | bool = None  # see _word_arrays (False: none)
        self.key = ""                      # set by load_model: the data and settings it is from

    @property
    def pairs(self) -> dict[str, str]:
        """Two-character covering words -> their homophone words, concatenated ("" for none).
        Built on the first question (``prepare_many`` reads its cached index instead)."""
        if self._pairs is None:
            pairs = dict.fromkeys([w for w in self.cover if len(w) == 2], "")
            if self.cover is self.logp:
                pairs.update(self.alternatives)        # every two-character word covers
            else:
                pairs.update((w, alts) for w, alts in self.alternatives.items() if w in pairs)
            self._pairs = pairs
        return self._pairs

    # --- confusion sets ---------------------------------------------------------------
    def _groups(self, char: str) -> list[tuple[str, str]]:
        """The groups of characters ``char`` may have been typed for, each with its kind of
        confusion, weakest first (a character in two groups is of the later one's kind)."""
        readings = self.readings.get(char, ())
        by_reading = self.by_reading
        groups = [("shape", self.shapes.get(char, ""))]
        for reading in readings:
            near = self._near.get(reading)
            if near is None:
                near = self._near[reading] = tuple(near_readings(reading, self.fuzzy))
            groups += [("near_homophone", by_reading.get(r, "")) for r in near]
        # "reading*" lists every character with the reading, "reading" those whose main
        # reading it is (typed far more often by it).
        groups += [("other_reading", by_reading.get(r + "*", "")) for r in readings]
        groups += [("homophone", by_reading.get(r, "")) for r in readings]
        return groups

    def confusion(self, char: str) -> dict[str, str]:
        """Characters ``char`` may have been typed for, with the kind of confusion."""
        found = self._confusion.get(char)
        if found is not None:
            return found
        result: dict[str, str] = {}
        groups = self._groups(char)
        for kind, group in groups:
            # As setting each in turn: a character of a later group takes its kind, in place.
            result.update(dict.fromkeys(group, kind))
        result.pop(char, None)
        self._confusion[char] = result
        # An upper bound of the commonest confusion's log-probability (the groups' tops, kept
        # per group: the groups are shared by many characters), less the character's own.
        get = self.logp.get
        unknown = self.unknown_logp
        top = unknown
        for _, group in groups:
            value = self._group_top.get(group)
            if value is None:
                value = self._group_top[group] = max([get(c, unknown) for c in group],
                                                     default=unknown)
            top = max(top, value)
        self._alone[char] = top - get(char, unknown)
        return result

    def _alone_of(self, char: str) -> float:
        """The upper bound ``confusion`` keeps for ``char``: its commonest confusion's
        log-probability alone, less its own."""
        alone = self._alone.get(char)
        if alone is None:
            self.confusion(char)
            alone = self._alone[char]
        return alone

    def confusion_pairs(self):
        """Every pair (character, a character it may have been typed for) of CJK ideographs,
        as one sorted numpy uint32 array of ``(a << 15) | b`` (offsets from U+4E00), and a
        4 MB bit filter of it (``arrays.bit_filter``): the trigram scan asks them about
        hundreds of thousands of candidates at once.  The keys of ``confusion`` for every
        character; kept in patrol's cache under the model's key (built in about 0.2 s)."""
        found = self._confusion_pairs
        if found is None:
            def build() -> list:
                keys = self._build_confusion_pairs()
                return [keys, bit_filter(keys, CONFUSION_FILTER_BITS)]

            arrays = _cached(self.key, "confusions", build, ["<u4", "|u1"])
            if arrays is None or len(arrays[1]) != 1 << (CONFUSION_FILTER_BITS - 3):
                arrays = build()
            found = self._confusion_pairs = (arrays[0], arrays[1])
        return found

    def _build_confusion_pairs(self):
        import numpy as np

        chars = sorted(c for c in set(self.readings) | set(self.shapes) if CJK_RUN.fullmatch(c))
        others = ["".join([group for _, group in self._groups(c)]) for c in chars]
        sizes = np.fromiter(map(len, others), dtype=np.int64, count=len(others))
        own = np.repeat(np.frombuffer("".join(chars).encode("utf-32-le"), dtype="<u4")
                        - np.uint32(CJK_FIRST), sizes)
        other = np.frombuffer("".join(others).encode("utf-32-le"), dtype="<u4") - np.uint32(CJK_FIRST)
        keep = (other < np.uint32(CJK_SPAN)) & (other != own)
        return unique((own[keep] << np.uint32(15)) | other[keep])

    # --- masked index -----------------------------------------------------------------
    @property
    def buckets(self) -> dict[str, str]:
        """The masked index's buckets (see ``_bucket_of``), read on the first question: a model
        loaded from patrol's cache answers from the index's arrays (``_masked_index``), and
        reads them only to build those."""
        if self._buckets_from is not None:
            self._read_buckets()
        return self._buckets

    @property
    def bucket_logp(self) -> tuple[bytes, dict[str, int]]:
        """float32 log-probability of the word each completion character makes, aligned with
        the bucket strings (0 under the keys themselves): one blob, and each bucket's offset in
        it (one object to load rather than ten thousand).  Read with the buckets."""
        if self._buckets_from is not None:
            self._read_buckets()
        return self._bucket_logp

    def _read_buckets(self) -> None:
        with self._reading:             # read once; no thread sees them half set
            read = self._buckets_from
            if read is not None:
                self._buckets, self._bucket_logp = read()
                self._buckets_from = None

    def _index_arrays(self) -> _MaskedIndex | None:
        """The masked index as arrays (``_masked_index``), read or built on the first use;
        None for a model whose buckets they cannot hold."""
        masked = self._masked_index
        if masked is None:
            masked = self._masked_index = _masked_index(self) or False
        return masked or None

    def _ranked_from_arrays(self, key: str) -> tuple[tuple[float, str], ...] | None:
        """``ranked(key)`` read from the index's arrays; None when the model has none."""
        arrays = self._index_arrays()
        if arrays is None:
            return None
        blank = key.find("?")
        if not 2 <= len(key) <= MAX_WORD or blank < 0:
            return ()
        code = _window_key(len(key), blank)
        shift = 30
        for k, char in enumerate(key):
            if k != blank:
                offset = ord(char) - CJK_FIRST
                if not 0 <= offset < CJK_SPAN:
                    return ()           # (the dictionary's words are all CJK ideographs)
                code |= offset << shift
                shift -= 15
        keys, starts, completions, chars = arrays
        import numpy as np

        at = int(np.searchsorted(keys, np.uint64(code)))
        if at >= len(keys) or int(keys[at]) != code:
            return ()
        lo, hi = int(starts[at]), int(starts[at + 1])
        minus = (completions[lo:hi] & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.float32)
        return tuple(zip((-minus.astype(np.float64)).tolist(),
                         [chr(CJK_FIRST + c) for c in chars[lo:hi].tolist()]))

    def masked(self, key: str) -> frozenset[str]:
        """Characters that complete ``key`` (one ``?``) into a dictionary word."""
        found = self._masked.get(key)
        if found is not None:
            return found
        ranked = self._ranked_from_arrays(key)
        if ranked is not None:
            found = self._masked[key] = frozenset(c for _, c in ranked) if ranked else _NOTHING
            return found
        bucket = self.buckets.get(_bucket_of(key), "")
        needle = _KEY + key + _VALUE
        pos = bucket.find(needle)
        if pos < 0:
            found = _NOTHING
        else:
            pos += len(needle)
            end = bucket.find(_KEY, pos)
            found = frozenset(bucket[pos:] if end < 0 else bucket[pos:end])
        # Decoded once per key and kept: the index itself, decoded lazily, not a result cache.
        self._masked[key] = found
        return found

    def ranked(self, key: str) -> tuple[tuple[float, str], ...]:
        """``masked(key)`` with the log-probability of each completed word, commonest first.

        Both are stored that way in the bucket (a float32 array aligned with its string), so
        decoding a key is two slices.
        """
        found = self._ranked.get(key)
        if found is None:
            found = self._ranked_from_arrays(key)
            if found is not None:
                self._ranked[key] = found
                return found
            name = _bucket_of(key)
            bucket = self.buckets.get(name, "")
            needle = _KEY + key + _VALUE
            pos = bucket.find(needle)
            if pos < 0:
                found = ()
            else:
                pos += len(needle)
                end = bucket.find(_KEY, pos)
                if end < 0:
                    end = len(bucket)
                values = self._bucket_values.get(name)
                if values is None:
                    blob, offsets = self.bucket_logp
                    start = offsets[name]
                    values = self._bucket_values[name] = array.array("f")
                    values.frombytes(blob[start:start + 4 * len(bucket)])
                found = tuple(zip(values[pos:end].tolist(), bucket[pos:end]))
            self._ranked[key] = found
        return found

    # --- scoring ----------------------------------------------------------------------
    def segment_logp(self, text: str) -> float:
        """Log-probability of the best segmentation of ``text`` into dictionary words."""
        return self._segment(text, [0.0] * (len(text) + 1), 1)

    def _segment(self, text: str, best: list[float], first: int) -> float:
        """Fill ``best[first:]`` (best[k]: best log-probability of ``text[:k]``) and return the last.

        ``best[:first]`` must already hold the values for ``text[:first - 1]`` and its prefixes:
        a correction at index ``i`` only changes ``best[i + 1:]``, so alternatives for one
        character share the work before it.
        """
        get = self.logp.get
        unknown = self.unknown_logp
        n = len(text)
        # Words of 1 to MAX_WORD (4) characters, unrolled: this loop is the layer's hot spot.
        for end in range(first, n + 1):
            top = best[end - 1] + get(text[end - 1], unknown)
            if end >= 2:
                lp = get(text[end - 2:end])
                if lp is not None and best[end - 2] + lp > top:
                    top = best[end - 2] + lp
                if end >= 3:
                    lp = get(text[end - 3:end])
                    if lp is not None and best[end - 3] + lp > top:
                        top = best[end - 3] + lp
                    if end >= 4:
                        lp = get(text[end - 4:end])
                        if lp is not None and best[end - 4] + lp > top:
                            top = best[end - 4] + lp
            best[end] = top
        return best[n]

    def segment_many(self, texts: Sequence[str]) -> list[float] | None:
        """``segment_logp`` of each of ``texts``, the same values found at once (numpy: a dynamic
        program over all texts, column by column, adding in the order ``_segment`` adds); None
        for a model whose words the arrays cannot hold (``_word_arrays``)."""
        words = self._word_arrays()
        if words is None:
            return None
        if not texts:
            return []
        import numpy as np

        count = len(texts)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=count)
        width = int(lengths.max())
        codes = (np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype="<u4")
                 - np.uint32(CJK_FIRST))                  # below the block wrapped round: large
        # One row per text, its characters' offsets; past its end, and for any character other
        # than a CJK ideograph, CJK_SPAN (no word holds it; alone it is unknown).
        grid = np.full((count, width), CJK_SPAN, dtype=np.uint32)
        rows = np.repeat(np.arange(count), lengths)
        grid[rows, np.arange(len(codes)) - np.repeat(np.cumsum(lengths) - lengths, lengths)] = \
            np.minimum(codes, np.uint32(CJK_SPAN))
        single = self._index().singles[grid]
        ideograph = grid < np.uint32(CJK_SPAN)
        # The log-probability of the word of each length starting at each column (-inf: none).
        starting: dict[int, object] = {}
        for length, (keys, values) in words.items():
            if width < length or not len(keys):
                continue
            columns = width - length + 1
            whole = ideograph[:, :columns].copy()
            key = grid[:, :columns].astype(np.uint64)
            for j in range(1, length):
                whole &= ideograph[:, j:j + columns]
                key = (key << np.uint64(15)) | grid[:, j:j + columns]
            row, column = np.nonzero(whole)
            asked = key[row, column]
            at = search(keys, asked)
            at[at >= len(keys)] = 0
            hit = keys[at] == asked
            table = np.full((count, columns), -np.inf)
            table[row[hit], column[hit]] = values[at[hit]]
            starting[length] = table
        best = np.zeros((count, width + 1))
        for end in range(1, width + 1):
            top = best[:, end - 1] + single[:, end - 1]
            for length in range(2, MAX_WORD + 1):
                table = starting.get(length)
                if table is not None and end >= length:
                    option = best[:, end - length] + table[:, end - length]
                    top = np.where(option > top, option, top)
            best[:, end] = top
        return best[np.arange(count), lengths].tolist()

    def _word_arrays(self) -> dict[int, tuple] | None:
        """The dictionary's words of 2 to MAX_WORD characters as sorted keys (15 bits a
        character, ``_word_codes``) with their log-probabilities, by length, for
        ``segment_many``; None when a word holds a character other than a CJK ideograph (a model
        made by hand: those loaded hold none).  Kept in patrol's cache under the model's key."""
        found = self._words
        if found is None:
            def build() -> list:
                import numpy as np

                arrays = []
                for length in range(2, MAX_WORD + 1):
                    words = [w for w in self.logp if len(w) == length]
                    keys = _word_codes(words, length)
                    order = np.argsort(keys, kind="stable")
                    arrays += [keys[order], np.array([self.logp[w] for w in words], dtype=np.float64)[order]]
                return arrays

            if not self.key and not all(CJK_RUN.fullmatch(w) for w in self.logp):
                found = False
            else:
                arrays = _cached(self.key, "words", build, ["<u8", "<f8"] * (MAX_WORD - 1)) or build()
                found = {length: (arrays[2 * k], arrays[2 * k + 1])
                         for k, length in enumerate(range(2, MAX_WORD + 1))}
            self._words = found
        return found or None

    def segmented(self, texts: Sequence[str], prepared: Prepared, cost: dict[str, float], floor: float,
                  scanned: Sequence[Sequence] = (), word_floor: float | None = None) -> Prepared:
        """``prepared`` with the windows (and their corrected forms) whose segmentation
        ``_replaced`` will ask for the ``texts`` prepared together, with its value, found at
        once (``segment_many``), and the homophone words of its two-character words: windows
        of the characters with bounds (``prepare_many``) whose options reach ``floor`` (as
        ``_options`` keeps them), of the trigram scan's corrections (``scanned``: a list per
        text of ``trigrams.Scanned``) and of the two-character words with homophone words
        (``_word_options``, at ``floor`` or ``word_floor`` if higher, as ``candidates``).  A
        window asked for that is not here is segmented when asked (a look-alike that
        ``_shape_options`` adds)."""
        starts = prepared.starts
        strings: list[str] = []

        def window(k: int, i: int, replacements, width: int = 1) -> None:
            window, at = _window(texts[k], i, width)
            strings.append(window)
            strings.extend(window[:at] + r + window[at + width:] for r in replacements)

        if prepared.bounds is not None:
            for at, bound in prepared.bounds[1].items():
                k = bisect.bisect_right(starts, at) - 1
                i = at - starts[k]
                confusion = self.confusion(texts[k][i])
                chars = [c for c in bound if bound[c] - cost.get(confusion[c], 99.0) >= floor]
                if chars:
                    window(k, i, chars)
        for k, hits in enumerate(scanned):
            for hit in hits:
                window(k, hit.index, (hit.replacement,))
        word_options = None
        if prepared.words and "word" in cost:
            at_floor = floor if word_floor is None else max(floor, word_floor)
            found: dict[int, list[str]] = {}
            k = 0
            for at in prepared.words:
                while k + 1 < len(starts) and at >= starts[k + 1]:
                    k += 1
                i = at - starts[k]
                options = found[at] = self._word_options(texts[k], i, cost["word"], at_floor)
                if options:
                    window(k, i, options, 2)
            word_options = (cost["word"], at_floor, found)
        values = self.segment_many(strings) if strings else None
        return prepared._replace(segments=dict(zip(strings, values)) if values is not None else None,
                                 word_options=word_options)

    def covered(self, run: str) -> bytearray:
        """1 for every character inside a dictionary word of two or more characters, and for
        every character that is not a CJK ideograph (never examined)."""
        return bytearray(self.prepare_many([run]).covered)

    def prepare_many(self, texts: Sequence[str], need: float | None = None,
                     attested: Sequence[bytes] | None = None) -> Prepared:
        """What the layer reads of texts before it examines a character (``Prepared``):
        which characters covering words hold, the two-character words that have homophone
        words (``pairs``), each character's log-probability alone and how far the ideographs
        around it reach.  With ``need`` (``need_for``), also the bounds of the characters
        ``candidates`` will examine (not those set in ``attested``, one per text, as it takes).

        The texts are looked at together, with numpy (a call has a fixed cost of some 30 µs):
        a table of pairs first, then the windows of three and four characters over what pairs
        leave, asked of sorted keys.
        """
        import numpy as np

        index = self._index()
        # One pass over the texts joined by a line break (in no word).  A lone surrogate keeps
        # its place: one code per character.
        joined = "\n".join(texts)
        offsets = (np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
                   - np.uint32(CJK_FIRST))                  # below the block wrapped round: large
        ideograph = offsets < np.uint32(CJK_SPAN)
        # Characters other than CJK ideographs (punctuation, digits, Latin) are never examined
        # and no word contains them: they count as covered.
        covered = ~ideograph
        clipped = np.minimum(offsets, np.uint32(CJK_SPAN))
        rank = index.table[clipped].astype(np.uint32)
        # Two bits per pair of ranks, both in one byte: covers, has homophone words.
        slot = (rank[:-1] * np.uint32(index.ranks) + rank[1:]) << np.uint32(1)
        two = (index.bits[slot >> np.uint32(3)] >> (slot & np.uint32(7)).astype(np.uint8)) & np.uint8(3)
        pair = (two & np.uint8(1)).view(bool)
        covered[:-1] |= pair
        covered[1:] |= pair
        left = ~covered
        if left.any():
            n = len(offsets)
            for length, keys in ((3, index.threes), (4, index.fours)):
                count = n - length + 1
                if count <= 0 or not len(keys):
                    continue
                # The windows of ideographs that hold a character pairs leave.
                asked, whole = left[:count].copy(), ideograph[:count].copy()
                for j in range(1, length):
                    asked |= left[j:j + count]
                    whole &= ideograph[j:j + count]
                starts = np.flatnonzero(asked & whole)
                key = offsets[starts].astype(np.uint64)
                for j in range(1, length):
                    key = (key << np.uint64(15)) | offsets[starts + j]
                found = starts[member(keys, key)]
                for j in range(length):
                    covered[found + j] = True
        # The ideographs right before and after each character, up to three.
        before, after = np.zeros(len(offsets), dtype=np.uint8), np.zeros(len(offsets), dtype=np.uint8)
        run_before, run_after = ideograph.copy(), ideograph.copy()
        for k in range(1, 4):
            run_before[k:] &= ideograph[:-k]
            run_before[:k] = False
            before += run_before.view(np.uint8)
            run_after[:-k] &= ideograph[k:]
            run_after[-k:] = False
            after += run_after.view(np.uint8)
        starts = list(itertools.accumulate([len(text) + 1 for text in texts[:-1]], initial=0)) if texts else []
        # An array of doubles rather than a list: made with one copy, where a list of a million
        # floats takes ten times as long; what is read of it is a few characters' values.
        alone = index.singles[clipped]
        singles = array.array("d")
        singles.frombytes(alone.tobytes())
        bounds = None
        if need is not None:
            examined = ~covered
            if attested is not None:
                marks = np.frombuffer(b"\0".join(a if len(a) == len(t) else bytes(len(t))
                                                 for t, a in zip(texts, attested)), dtype=np.uint8)
                examined &= marks == 0
            bounds = self._bounds(clipped, covered, examined, before, after, alone, need)
        return Prepared(covered.view(np.uint8).tobytes(), np.flatnonzero(two >> np.uint8(1)).tolist(),
                        singles, (before * np.uint8(4) + after).tobytes(), starts, bounds)

    def _bounds(self, clipped, covered, examined, before, after, singles, need: float
                ) -> Bounds | None:
        """``_options``' bounds (its common branch) of every character of ``examined`` (numpy
        bool) that ``candidates`` examines: all windows of all characters at once, asked of the
        masked index's arrays.  ``clipped``: the characters' offsets from U+4E00; ``covered``,
        ``before``, ``after``, ``singles`` (float64): what ``prepare_many`` found.  None when the masked
        index has no arrays (``_masked_index``).

        For each window of ideographs around a character, the completions of the window's
        key whose word's log-probability reaches ``need`` plus the written characters' (one
        search within the key's completions, commonest first), those the character may have
        been typed for (``confusion_pairs``), and the best of them by completion."""
        import numpy as np

        masked = self._index_arrays()
        if masked is None:
            return None
        keys, key_starts, completions, chars = masked
        # Not examined: function characters, and a lone common one between covered ones.
        examined &= ~self._char_table("skip")[clipped]
        edge = np.ones(1, dtype=bool)
        between = np.concatenate((edge, covered[:-1])) & np.concatenate((covered[1:], edge))
        examined &= ~(between & self._char_table("lone")[clipped])
        places = np.flatnonzero(examined)
        done = examined.view(np.uint8).tobytes()
        found: dict[int, dict[str, float]] = {}
        if not len(places) or not len(keys):
            return need, found, done, self._quiet(clipped, places, found, need)
        left, right = before[places], after[places]
        at_all, key_all, written_all = [], [], []
        for a, b in _WINDOWS:
            at = places[(left >= -a) & (right >= b - 1)]
            key = np.full(len(at), _window_key(b - a, -a), dtype=np.uint64)
            written = singles[at + a]
            shift = 30
            for j in range(a, b):
                if j:
                    key |= clipped[at + j].astype(np.uint64) << np.uint64(shift)
                    shift -= 15
                if j > a:
                    written = written + singles[at + j]   # in order: as ``sum`` adds them
            at_all.append(at)
            key_all.append(key)
            written_all.append(written)
        at, key, written = np.concatenate(at_all), np.concatenate(key_all), np.concatenate(written_all)
        hit = search(keys, key)
        hit[hit >= len(keys)] = 0
        known = keys[hit] == key
        at, hit, written = at[known], hit[known], written[known]
        limit = written + need
        # The completions whose minus log-probability is at most minus ``limit``, as float32
        # rounded up (a few more, never fewer: each is compared exactly below).
        bound32 = (-limit).astype(np.float32)
        bound32 = np.where(bound32 < -limit, np.nextafter(bound32, np.float32(np.inf)), bound32)
        bound32 = np.maximum(bound32, np.float32(0))
        lo = key_starts[hit].astype(np.int64)
        cut = np.searchsorted(completions, (hit.astype(np.uint64) << np.uint64(32))
                              | bound32.view(np.uint32).astype(np.uint64), side="right")
        count = np.maximum(cut - lo, 0)
        total = int(count.sum())
        if not total:
            return need, found, done, self._quiet(clipped, places, found, need)
        row = np.repeat(np.arange(len(count)), count)
        source = np.arange(total) + np.repeat(lo - (np.cumsum(count) - count), count)
        logp = -(completions[source] & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.float32).astype(np.float64)
        char = chars[source].astype(np.uint32)
        keep = logp >= limit[row]
        row, char, logp = row[keep], char[keep], logp[keep]
        pair_keys, pair_bits = self.confusion_pairs()
        at_row = at[row]
        keep = member(pair_keys, (clipped[at_row].astype(np.uint32) << np.uint32(15)) | char, pair_bits)
        gains = (logp[keep] - written[row[keep]]).tolist()
        for place, c, gain in zip(at_row[keep].tolist(), char[keep].tolist(), gains):
            bound = found.get(place)
            if bound is None:
                bound = found[place] = {}
            c = chr(CJK_FIRST + c)
            if gain > bound.get(c, -1e18):
                bound[c] = gain
        return need, found, done, self._quiet(clipped, places, found, need)

    def _quiet(self, clipped, places, found: dict[int, dict[str, float]], need: float) -> bytes:
        """A byte per character: 1 at those of ``places`` (numpy) for which ``_best`` gives
        nothing, as it would find: no bounds in ``found``, a commonest confusion alone below
        ``need`` (``_options`` reads the bounds) and no look-alike (``_shape_options``)."""
        import numpy as np

        live = np.zeros(CJK_SPAN + 1, dtype=bool)
        for code in unique(clipped[places]).tolist():
            char = chr(CJK_FIRST + code)
            live[code] = self._alone_of(char) >= need or bool(self._partners(char))
        quiet = np.zeros(len(clipped), dtype=bool)
        quiet[places] = ~live[clipped[places]]
        if found:
            quiet[np.fromiter(found, dtype=np.int64, count=len(found))] = False
        return quiet.view(np.uint8).tobytes()

    def _char_table(self, name: str):
        """numpy bool per CJK ideograph offset (and one more, for any other character): is it
        in ``self.skip`` (``name`` "skip") or ``self.lone`` ("lone")?"""
        table = self._char_tables.get(name)
        if table is None:
            import numpy as np

            table = np.zeros(CJK_SPAN + 1, dtype=bool)
            codes = [ord(c) - CJK_FIRST for c in getattr(self, name) if 0 <= ord(c) - CJK_FIRST < CJK_SPAN]
            table[np.array(codes, dtype=np.int64)] = True
            self._char_tables[name] = table
        return table

    def _index(self) -> _CoverIndex:
        """The index of ``prepare_many`` (see ``_cover_index``), read or built on the first use."""
        index = self._cover_index
        if index is None:
            index = self._cover_index = _cover_index(self)
        return index

    def candidates(self, text: str, cost: dict[str, float], floor: float = 0.0,
                   word_floor: float | None = None, floors: dict[str, float] | None = None,
                   attested: bytes = b"", prepared: Prepared | None = None, index: int = 0,
                   need: float | None = None) -> list[Candidate]:
        """Corrections whose gain beats zero and reaches ``floor`` (``word_floor`` for a whole
        word written for a homophone word, when given).  A character whose byte in ``attested``
        is set (official text writes the trigrams around it: ``trigrams.Scan.run``) is not
        examined, nor a two-character word both of whose characters are.  ``prepared``:
        ``prepare_many``'s answer for texts of which ``text`` is the ``index``-th, when the
        caller has it; ``need``: ``need_for(cost, floor)``, when the caller has it.

        Neighbouring suspicious characters form one cluster (a typo often leaves its
        neighbour uncovered too: 平估 for 评估); a cluster gets its best correction, and
        another only where that one's word does not reach.
        """
        out: list[Candidate] = []
        n = len(text)
        if n < 2:
            return out
        skip = self.skip
        lone = self.lone
        best = self._best
        need = need_for(cost, floor) if need is None else need
        if prepared is None:
            prepared, index = self.prepare_many([text]), 0
        # Positions in the texts prepared together (``at``), and in ``text`` (``at - base``).
        covered, words, singles, reach, starts, bounds, segments, word_options = prepared
        if bounds is not None and bounds[0] != need:
            bounds = None
        quiet = bounds[3] if bounds is not None else b""
        base = starts[index]
        end = base + n
        i = covered.find(0, base, end)
        while i >= 0:
            j = covered.find(1, i, end)
            if j < 0:
                j = end
            found = []
            if j - i == 1 and text[i - base] in lone:
                i = covered.find(0, j, end)
                continue
            for at in range(i, j):
                if quiet and quiet[at]:
                    continue                # (``_best`` would give nothing)
                k = at - base
                if text[k] not in skip and not (attested and attested[k]):
                    cand = best(text, k, cost, floor, need, floors, singles, at, reach[at], bounds, segments)
                    if cand is not None:
                        found.append(cand)
            if found:
                found.sort(key=lambda c: -c.score)
                out += keep_disjoint(found)
            i = covered.find(0, j, end)
        if words:
            first = bisect.bisect_left(words, base)
            words = [w - base for w in words[first:bisect.bisect_left(words, end, first)]]
        if words and attested:
            words = [i for i in words if not (attested[i] and attested[i + 1])]
        if words and "word" in cost:
            self._word_candidates(text, 0, words, cost["word"],
                                  floor if word_floor is None else max(floor, word_floor), out, 0, segments,
                                  word_options, base)
        return out

    def _word_candidates(self, run: str, offset: int, words: list[int], cost: float, floor: float,
                         out: list[Candidate], first: int, segments: dict[str, float] | None = None,
                         known: tuple[float, float, dict[int, list[str]]] | None = None, base: int = 0) -> None:
        """A dictionary word written for a commoner homophone word (平谷 for 评估, 悔意 for 会议).

        The replacement is scored like a character's: the gain of the best segmentation of
        the characters around it, minus the cost of the confusion.  Character-level candidates
        of the run (``out[first:]``) win where they overlap (``segments``: as for ``_gains``;
        ``known``: ``Prepared``'s ``word_options``, for ``run`` at ``base`` in its texts).
        """
        found: list[Candidate] = []
        by_place = known[2] if known is not None and known[:2] == (cost, floor) else None
        for i in words:
            options = by_place.get(base + i) if by_place is not None else None
            if options is None:
                options = self._word_options(run, i, cost, floor)
            if not options:
                continue
            written, values = self._replaced(run, i, 2, options, segments)
            best_gain, best_word = 0.0, ""
            for word, value in zip(options, values):
                gain = value - written - cost
                if gain > best_gain:
                    best_gain, best_word = gain, word
            if best_word and best_gain >= floor:
                wrong = run[i:i + 2]
                found.append(Candidate(offset + i, offset + i + 2, wrong, best_word, wrong,
                                       best_word, best_gain, "word"))
        if not found:
            return
        found.sort(key=lambda c: -c.score)
        out += keep_disjoint(found, out[first:])

    def _word_options(self, run: str, i: int, cost: float, floor: float) -> list[str]:
        """The homophone words of the two-character word at ``run[i]`` (one of ``Prepared``'s
        ``words``) that ``_word_candidates`` scores."""
        logp = self.logp
        written = run[i:i + 2]
        alts = self.alternatives[written]       # (``words``: covering pairs that have some)
        # Most homophone words gain about their frequency ratio; only those near the floor by
        # it, or that make a longer word with a neighbour (联席 in 联席会议), are scored.
        need = cost + floor - WORD_MARGIN + logp[written]
        before, after = run[i - 1:i], run[i + 2:i + 3]
        return [w for w in (alts[k:k + 2] for k in range(0, len(alts), 2))
                if logp[w] >= need or before + w in logp or w + after in logp
                or before + w + after in logp or run[i - 2:i] + w in logp
                or w + run[i + 2:i + 4] in logp]

    def _replaced(self, run: str, i: int, width: int, replacements: Sequence[str],
                  segments: dict[str, float] | None) -> tuple[float, list[float]]:
        """``segment_logp`` of the window around ``run[i:i + width]`` (``_window``), and of the
        window with those characters replaced by each of ``replacements``: from ``segments``
        (``Prepared``'s) when it holds them all, else segmented here (the replaced ones from
        the replacement on, what comes before being the same)."""
        window, at = _window(run, i, width)
        head, tail = window[:at], window[at + width:]
        if segments:
            base = segments.get(window)
            if base is not None:
                found = [segments.get(head + r + tail) for r in replacements]
                if None not in found:
                    return base, found
        table = [0.0] * (len(window) + 1)
        base = self._segment(window, table, 1)
        return base, [self._segment(head + r + tail, table, at + 1) for r in replacements]

    def _options(self, run: str, i: int, cost: dict[str, float], floor: float, need: float,
                 singles: Sequence[float], at: int, reach: int,
                 bounds: Bounds | None = None
                 ) -> list[tuple[str, str]]:
        """The confusions of ``run[i]`` that make a dictionary word with its neighbours (the
        masked index), less those that cannot gain ``floor``, with their kinds.

        A correction's gain is at most, over the words W it makes (or the corrected character
        alone), log P(W) minus the log-probabilities of the written characters under W taken
        one by one: writing those characters singly is a segmentation of the original.  Most corrections fail this bound
        and are dropped before any segmentation is scored.  ``singles``: ``Prepared``'s for
        ``run``, where this character is at ``at``; ``reach``: ``Prepared``'s for it;
        ``bounds``: ``Prepared``'s for ``need``, when the caller has them (``_bounds`` finds
        them for many characters at once, as the loop below does for one).
        """
        char = run[i]
        confusable = self._confusion_sets.get(char)
        if confusable is None:
            confusable = self._confusion_sets[char] = frozenset(self.confusion(char))
        memo = self._masked
        get = self.logp.get
        unknown = self.unknown_logp
        bound: dict[str, float] = {}
        # The up to three characters each side, sliced once: every window's key is one left
        # part (ending in the blank) and one right part.  Only windows of ideographs can be
        # words (and only those are tried: a slice past the start of ``run`` is never used).
        left = ("?", run[i - 1:i] + "?", run[i - 2:i] + "?", run[i - 3:i] + "?")
        right = ("", run[i + 1:i + 2], run[i + 1:i + 3], run[i + 1:i + 4])
        windows = _WINDOWS_AT[reach >> 2][reach & 3]
        # A correction is kept when its bound, less its channel's cost, reaches ``floor``: no
        # bound below ``need`` can.  When the character's commonest confusion standing alone
        # is below ``need`` too, only windows whose commonest word reaches it can give one,
        # and the others are passed over unread (most of them, for a common character).
        alone = self._alone_of(char)
        if alone < need and bounds is not None and bounds[2][at]:
            bound = bounds[1].get(at)
            if bound is None:
                return []
            confusion = self.confusion(char)
            return [(c, confusion[c]) for c in sorted(bound)
                    if bound[c] - cost.get(confusion[c], 99.0) >= floor]
        if alone < need:
            memo_ranked = self._ranked
            for a, b in windows:
                key = left[-a] + right[b - 1]
                ranked = memo_ranked.get(key)
                if ranked is None:
                    ranked = self.ranked(key)
                if not ranked:
                    continue
                written = sum(singles[at + a:at + b])
                # Completions commonest first: the first one short of ``need`` ends the window.
                limit = need + written
                for lp, c in ranked:
                    if lp < limit:
                        break
                    if c in confusable:
                        gain = lp - written
                        if gain > bound.get(c, -1e18):
                            bound[c] = gain
            if not bound:
                return []
            confusion = self.confusion(char)
            return [(c, confusion[c]) for c in sorted(bound)
                    if bound[c] - cost.get(confusion[c], 99.0) >= floor]
        for a, b in windows:
            key = left[-a] + right[b - 1]
            completions = memo.get(key)
            if completions is None:
                completions = self.masked(key)
            # isdisjoint allocates nothing: most windows share no character with the set.
            if not completions or confusable.isdisjoint(completions):
                continue
            hits = confusable & completions
            written = sum(singles[at + a:at + b])
            head, tail = left[-a][:-1], right[b - 1]
            for c in hits:
                gain = get(head + c + tail, unknown) - written
                if gain > bound.get(c, -1e18):
                    bound[c] = gain
        if not bound:
            return []
        # ... or the correction stands alone in the best segmentation.
        written = singles[at]
        for c, gain in bound.items():
            bound[c] = max(gain, get(c, unknown) - written)
        confusion = self.confusion(char)
        return [(c, confusion[c]) for c in sorted(bound)       # sorted: same answer every run
                if bound[c] - cost.get(confusion[c], 99.0) >= floor]

    def _best(self, run: str, i: int, cost: dict[str, float], floor: float, need: float,
              floors: dict[str, float] | None, singles: Sequence[float], at: int, reach: int,
              bounds: Bounds | None = None,
              segments: dict[str, float] | None = None) -> Candidate | None:
        """The best correction of ``run[i]`` that gains more than zero and reaches ``floor`` (its
        channel's, in ``floors``), or None."""
        options = self._options(run, i, cost, floor, need, singles, at, reach, bounds)
        if floors and floors.get("shape", floor) < floor:
            options = self._shape_options(run, i, cost.get("shape", 99.0), floors["shape"], options)
        if not options:
            return None
        best: tuple[float, str, str] | None = None
        for (char, channel), gain in zip(options, self._gains(run, i, options, cost, segments)):
            if floors and gain < floors.get(channel, floor):
                continue                # short of its channel's floor: never the answer
            if best is None or gain > best[0]:
                best = (gain, char, channel)
        if best is None or best[0] <= 0 or best[0] < (floors.get(best[2], floor) if floors else floor):
            return None
        return self._candidate(run, i, *best)

    def correction(self, run: str, i: int, char: str, cost: dict[str, float],
                   floor: float | None = None, segments: dict[str, float] | None = None) -> Candidate | None:
        """``char`` written for ``run[i]`` as a candidate, scored like ``_best`` scores one (its
        gain may be below zero), or None when ``char`` is no confusion of ``run[i]`` or its
        gain is below ``floor``, when given (``segments``: as for ``_gains``)."""
        channel = self.confusion(run[i]).get(char)
        if channel is None:
            return None
        (gain,) = self._gains(run, i, [(char, channel)], cost, segments)
        if floor is not None and gain < floor:
            return None
        return self._candidate(run, i, gain, char, channel)

    def _gains(self, run: str, i: int, options: list[tuple[str, str]], cost: dict[str, float],
               segments: dict[str, float] | None = None) -> list[float]:
        """For each (character, channel) of ``options`` written at ``run[i]``: the gain of the best
        segmentation of the characters around it (WINDOW each side), less the channel's cost.
        ``segments``: ``Prepared``'s, when the caller has them (the same values, found at once)."""
        base, values = self._replaced(run, i, 1, [char for char, _ in options], segments)
        return [value - base - cost.get(channel, 99.0) for value, (_, channel) in zip(values, options)]

    def _candidate(self, run: str, i: int, gain: float, char: str, channel: str) -> Candidate:
        """``char`` for ``run[i]``, reported with the longest dictionary word it makes there."""
        w_lo, w_hi = self._word_span(run, i, char)
        wrong = run[w_lo:w_hi]
        right = wrong[:i - w_lo] + char + wrong[i - w_lo + 1:]
        return Candidate(w_lo, w_hi, wrong, right, run[i], char, gain, channel)

    def _shape_options(self, run: str, i: int, cost: float, floor: float,
                       options: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """``options`` with the look-alikes of ``run[i]`` whose bound (as in ``_options``: the
        word each makes with its neighbours, or the character alone) less ``cost`` reaches
        ``floor``, a floor lower than that of the other channels.  A look-alike is read from
        the dictionary directly: a character has a few, and the masked index's pruning is kept
        at the other channels' floor."""
        char = run[i]
        partners = self._partners(char)
        if not partners:
            return options
        get = self.logp.get
        unknown = self.unknown_logp
        own = get(char, unknown)
        before, after = run[i - 1:i] if i else "", run[i + 1:i + 2]
        # The two-character words it makes with a neighbour (longer ones found nothing more
        # on the dev half), less the written pair as two single characters.
        left = get(before, unknown) + own if before else 0.0
        right = get(after, unknown) + own if after else 0.0
        need = floor + cost
        extra = []
        for c in partners:
            if any(c == o for o, _ in options):
                continue
            bound = get(c, unknown) - own
            if before:
                lp = get(before + c)
                if lp is not None and lp - left > bound:
                    bound = lp - left
            if after:
                lp = get(c + after)
                if lp is not None and lp - right > bound:
                    bound = lp - right
            if bound >= need:
                extra.append((c, "shape"))
        return sorted(options + extra) if extra else options

    def _partners(self, char: str) -> tuple[str, ...]:
        """The look-alikes of ``char`` that are its confusions of kind "shape"."""
        partners = self._shape_partners.get(char)
        if partners is None:
            confusion = self.confusion(char)
            partners = self._shape_partners[char] = tuple(
                c for c in self.shapes.get(char, "") if confusion.get(c) == "shape")
        return partners

    def _word_span(self, run: str, i: int, char: str) -> tuple[int, int]:
        """The longest dictionary word that the correction creates around ``i``."""
        lo = i - 3 if i > 3 else 0            # only the words of up to 4 characters around it
        fixed = run[lo:i] + char + run[i + 1:i + 4]
        at = i - lo
        for length in (4, 3, 2):
            for start in range(max(0, at - length + 1), min(at, len(fixed) - length) + 1):
                if fixed[start:start + length] in self.logp:
                    return lo + start, lo + start + length
        return i, i + 1


# --- loading ------------------------------------------------------------------------------

_LOCK = threading.Lock()
_MODELS: dict[str, StatModel] = {}


def jieba_dict_path() -> Path:
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("jieba is not installed: its dictionary is needed for typo detection")
    return Path(next(iter(spec.submodule_search_locations))) / "dict.txt"


def model_key(data_dir: Path, built_with: tuple = ()) -> str:
    """Changes when jieba's dictionary or a source file in ``data_dir`` changes.

    The data files are hashed by content (they are small), so a copy of patroldata/text/ elsewhere
    shares the cached model; jieba's 5 MB dictionary is identified by path, size and mtime.
    """
    digest = hashlib.sha1(f"v{MODEL_VERSION}".encode())
    dict_path = jieba_dict_path()
    st = dict_path.stat()
    digest.update(f"{dict_path}:{st.st_size}:{st.st_mtime_ns}".encode())
    for name in SOURCE_FILES:
        path = data_dir / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"-")
    digest.update(repr(built_with).encode())          # settings applied when building
    return digest.hexdigest()[:16]


def model_settings(data_dir: Path) -> tuple[tuple[tuple[str, str], ...], float | None, tuple]:
    """The settings of statistical.yaml that shape the model: fuzzy pinyin, cover_min_logp
    and the word-level homophone settings (min_ratio, require_domain)."""
    from checks.text.rules import load_yaml

    path = data_dir / "statistical.yaml"
    data = (load_yaml(path.read_text(encoding="utf-8")) if path.exists() else None) or {}
    pairs = tuple((str(a), str(b)) for a, b in data.get("fuzzy_pinyin") or ())
    threshold = data.get("cover_min_logp")
    words = data.get("word_homophone") or {}
    word_settings = (float(words.get("min_ratio", 1.0)), bool(words.get("require_domain", False)),
                     float(words.get("max_logp", 0.0)))
    return pairs, (float(threshold) if threshold is not None else None), word_settings


def load_model(data_dir: Path) -> StatModel:
    """The statistical model for ``data_dir``, built once and cached on disk and in process."""
    fuzzy, cover_min_logp, word_settings = model_settings(data_dir)
    file_key = model_key(data_dir, word_settings)
    key = file_key + repr((fuzzy, cover_min_logp))      # settings applied when loading
    with _LOCK:
        model = _MODELS.get(key)
        if model is not None:
            return model
        from common.cache import cache_dir
        cache_file = cache_dir() / f"text-model-v{MODEL_VERSION}-{file_key}.bin"
        # Loading allocates hundreds of thousands of strings: garbage collection would only
        # walk them again and again, and none of them can be part of a reference cycle.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            found = _read_cache(cache_file)
            if found is None:
                tables = _build_tables(jieba_dict_path(), data_dir, word_settings)
                _write_cache(cache_file, tables)
                model = _model_from_tables(tables, fuzzy, cover_min_logp)
            else:
                tables, read_buckets = found

                def buckets_from() -> tuple:
                    # A file damaged since it was mapped: built again (and written again).
                    buckets = read_buckets()
                    if buckets is None:
                        built = _build_tables(jieba_dict_path(), data_dir, word_settings)
                        _write_cache(cache_file, built)
                        buckets = (built[7], built[9])
                    return buckets

                model = _model_from_tables(tables, fuzzy, cover_min_logp, buckets_from)
        finally:
            if was_enabled:
                gc.enable()
        model.key = key         # what a matcher derived from the model is cached under
        _MODELS[key] = model
        return model


def _read_cache(path: Path) -> tuple[tuple, Callable[[], tuple | None]] | None:
    """The model's tables as ``_build_tables`` gives them, but for the masked index's buckets
    and their log-probabilities (None in their places), and a function that reads those (None
    when they are damaged); or None when the file is not a whole model of this version.

    The file is mapped, not read: the buckets are most of it (about 25 of 28 MB), and a process
    that finds the index's arrays in the cache never reads them (``StatModel.buckets``)."""
    from common.cache import map_cached

    mapped = map_cached(path)
    if mapped is None:
        return None
    view = memoryview(mapped)
    try:
        head, tail = _CACHE_HEAD.unpack_from(view)
        if _CACHE_HEAD.size + head + tail != len(view):
            return None
        # ``loads`` reads the mapped pages themselves: nothing is copied.
        tables = marshal.loads(view[_CACHE_HEAD.size:_CACHE_HEAD.size + head])
    except (ValueError, EOFError, TypeError, struct.error):
        return None
    if not isinstance(tables, tuple) or len(tables) != 10 or tables[0] != MODEL_VERSION:
        return None

    def read_buckets() -> tuple | None:
        try:
            found = marshal.loads(view[_CACHE_HEAD.size + head:])
        except (ValueError, EOFError, TypeError):
            return None
        if not (isinstance(found, tuple) and len(found) == 2 and isinstance(found[0], dict)
                and isinstance(found[1], tuple) and len(found[1]) == 2):
            return None
        return found

    return tables, read_buckets


def _cache_bytes(tables: tuple) -> bytes:
    """``_build_tables``' tables as the cache file holds them: their lengths, then the tables
    but for the buckets and their log-probabilities, then those two (read when first asked)."""
    head = marshal.dumps(tables[:7] + (None,) + tables[8:9] + (None,))
    tail = marshal.dumps((tables[7], tables[9]))
    return _CACHE_HEAD.pack(len(head), len(tail)) + head + tail


def _write_cache(path: Path, tables: tuple) -> None:
    from common.cache import write_cached

    # Models of earlier versions of this code are never read again, and each change of the
    # data files makes a model of its own (28 MB): the KEEP_MODELS last used are kept.
    current = f"text-model-v{MODEL_VERSION}-"
    write_cached(path, _cache_bytes(tables), "text-model-*", KEEP_MODELS,
                 stale=lambda old: not old.name.startswith(current))


def _model_from_tables(tables: tuple, fuzzy: tuple[tuple[str, str], ...],
                       cover_min_logp: float | None,
                       buckets_from: Callable[[], tuple] | None = None) -> StatModel:
    _, words, logp_bytes, unknown, readings, by_reading, shapes, buckets, alternatives, bucket_logp = tables
    values = array.array("f")
    values.frombytes(logp_bytes)
    word_list = words.split("\n")
    logp = dict(zip(word_list, values.tolist()))
    cover: dict[str, float] | set[str] = logp
    if cover_min_logp is not None:
        # Words are stored commonest first: the covering words are a prefix of the list.
        lo, hi = 0, len(values)
        while lo < hi:
            mid = (lo + hi) // 2
            if values[mid] > cover_min_logp:
                lo = mid + 1
            else:
                hi = mid
        cover = set(word_list[:lo])
    return StatModel(logp, buckets, unknown, readings, by_reading, shapes, fuzzy, cover, alternatives,
                     bucket_logp, ordered=True, buckets_from=buckets_from)


def _build_tables(dict_path: Path, data_dir: Path, word_settings: tuple = (1.0, False, 0.0)) -> tuple:
    freq: dict[str, int] = {}
    with open(dict_path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split(" ")
            if len(parts) < 2:
                continue
            word = parts[0]
            if not 1 <= len(word) <= MAX_WORD or not CJK_RUN.fullmatch(word):
                continue
            try:
                count = int(parts[1])
            except ValueError:
                continue
            freq[word] = freq.get(word, 0) + count
    # Current official vocabulary and website furniture that the 2013 dictionary lacks: as
    # common as a common word.
    for name in EXTRA_WORD_FILES:
        extra_path = data_dir / name
        if not extra_path.exists():
            continue
        for line in extra_path.read_text(encoding="utf-8").splitlines():
            word = line.split("#", 1)[0].strip()
            if word and CJK_RUN.fullmatch(word):
                for piece in ([word] if len(word) <= MAX_WORD else [word[k:k + MAX_WORD]
                              for k in range(len(word) - MAX_WORD + 1)]):
                    freq[piece] = max(freq.get(piece, 0), EXTRA_WORD_FREQ)
    total = float(sum(freq.values()))
    log_total = math.log(total)
    logp: dict[str, float] = {}
    for word, count in freq.items():
        if len(word) == 1 or count >= COVER_MIN_FREQ:
            logp[word] = math.log(count) - log_total
    masked_sets: dict[str, set[str]] = {}
    for word, count in freq.items():
        if len(word) < 2 or count < MASK_MIN_FREQ:
            continue
        for k in range(len(word)):
            masked_sets.setdefault(word[:k] + "?" + word[k + 1:], set()).add(word[k])
    bucket_parts: dict[str, list[str]] = {}
    for key in sorted(masked_sets):
        at = key.index("?")
        # The character that makes the commonest word first (StatModel.ranked).
        chars = sorted(masked_sets[key], key=lambda c: (-freq[key[:at] + c + key[at + 1:]], c))
        bucket_parts.setdefault(_bucket_of(key), []).append(_KEY + key + _VALUE + "".join(chars))
    buckets = {name: "".join(parts) for name, parts in bucket_parts.items()}
    blob = bytearray()
    offsets: dict[str, int] = {}
    for name, text in buckets.items():
        values = array.array("f", bytes(4 * len(text)))
        for start in _find_all(text, _VALUE):
            key_start = text.rfind(_KEY, 0, start)
            key = text[key_start + 1:start]
            at = key.index("?")
            end = text.find(_KEY, start)
            end = len(text) if end < 0 else end
            for pos in range(start + 1, end):
                values[pos] = logp[key[:at] + text[pos] + key[at + 1:]]
        offsets[name] = len(blob)
        blob += values.tobytes()
    bucket_logp = (bytes(blob), offsets)
    readings: dict[str, list[str]] = {}
    main_reading: dict[str, str] = {}
    by_reading_sets: dict[str, set[str]] = {}
    common = {c for w in freq for c in w}
    for line in (data_dir / "pinyin.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or "\t" not in line:
            continue
        reading, chars, main = (line.split("\t") + [""])[:3]
        toneless = reading.rstrip("012345")
        # The written character may show any of its readings; the intended one is typed by its
        # main reading (估 gu for 滑 hua would need 滑's rare reading gu).
        for char in chars:
            lst = readings.setdefault(char, [])
            if toneless not in lst:
                lst.append(toneless)
            if char in common:
                by_reading_sets.setdefault(toneless + "*", set()).add(char)
        for char in main:
            main_reading.setdefault(char, toneless)
            if char in common:
                by_reading_sets.setdefault(toneless, set()).add(char)
    by_reading = {k: "".join(sorted(v)) for k, v in by_reading_sets.items()}
    shapes: dict[str, str] = {}
    for line in (data_dir / "shapes.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for char in line:
            others = shapes.get(char, "") + "".join(c for c in line if c != char)
            shapes[char] = "".join(dict.fromkeys(others))
    alternatives = _homophone_words(freq, logp, readings, main_reading, data_dir, *word_settings)
    unknown = math.log(0.5) - log_total
    # Commonest first, so that the words above any frequency are a prefix of the list.
    words = sorted(logp, key=lambda w: (-logp[w], w))
    return (MODEL_VERSION, "\n".join(words), array.array("f", [logp[w] for w in words]).tobytes(),
            unknown, {k: tuple(v) for k, v in readings.items()}, by_reading, shapes, buckets,
            alternatives, bucket_logp)


def _find_all(text: str, needle: str):
    pos = text.find(needle)
    while pos >= 0:
        yield pos
        pos = text.find(needle, pos + 1)


def _homophone_words(freq: dict[str, int], logp: dict[str, float], readings: dict[str, list[str]],
                     main_reading: dict[str, str], data_dir: Path, min_ratio: float,
                     require_domain: bool, max_logp: float = 0.0) -> dict[str, str]:
    """Two-character word -> the words typed with the same pinyin that are at least
    ``min_ratio`` (natural log) commoner, commonest first, concatenated.

    Both words are read with their characters' main readings: a rare reading (台 yi, 施 yi)
    would make a homophone of nearly any word (主台 for 注意).  A word of
    official-document language (domain.txt) is never a slip; with ``require_domain`` only such
    words are offered as corrections.
    """
    domain: set[str] = set()
    path = data_dir / DOMAIN_FILE
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                domain.add(line.split("\t", 1)[0].strip())
    by_key: dict[tuple[str, str], list[str]] = {}
    for word, count in freq.items():
        if len(word) != 2 or count < MASK_MIN_FREQ or word not in logp:
            continue
        if require_domain and word not in domain:
            continue
        key = (main_reading.get(word[0]), main_reading.get(word[1]))
        if None not in key:
            by_key.setdefault(key, []).append(word)
    result: dict[str, str] = {}
    for word, lp in logp.items():
        if len(word) != 2 or word in domain or lp > max_logp:
            continue
        found = {other for other in by_key.get((main_reading.get(word[0]), main_reading.get(word[1])), ())
                 if other != word and logp[other] - lp >= min_ratio}
        if found:
            best = sorted(found, key=lambda w: (-logp[w], w))[:MAX_ALTERNATIVES]
            result[word] = "".join(best)
    return result
