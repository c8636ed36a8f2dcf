"""Statistical detection of homophone and look-alike typos that no word list contains.

A noisy-channel check with a unigram word model taken from jieba's bundled dictionary:

1. A character that no dictionary word of two or more characters covers is suspicious
   (a typo usually breaks the word it sits in: 大数局, 人民很行).
2. Candidate corrections come from a *masked index* — every dictionary word with one
   character blanked out (数据 -> ``数?`` and ``?据``) — intersected with the character's
   confusion set (same pinyin from config/text/pinyin.tsv, or look-alike from shapes.txt).
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
import gc
import hashlib
import importlib.util
import marshal
import math
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

MODEL_VERSION = 9
MAX_WORD = 4                 # longest dictionary word used by the segmentation window
MASK_MIN_FREQ = 3            # dictionary words rarer than this never suggest a correction
COVER_MIN_FREQ = 3           # ... nor make a character look correct
EXTRA_WORD_FREQ = 2000       # frequency given to the words of config/text/words.txt
SKIP_LOGP = -6.0             # log-probability above which a lone character is not examined
WINDOW = 3                   # characters each side of a suspicious one that are re-segmented
# Files of config/text/ whose words join jieba's dictionary (current official vocabulary,
# website furniture such as 尾页 / 返回顶部).
EXTRA_WORD_FILES = ("words.txt", "ui_words.txt")
SOURCE_FILES = ("pinyin.tsv", "shapes.txt") + EXTRA_WORD_FILES

CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_KEY = "\x01"                # starts a masked key inside a bucket string
_VALUE = "\x02"              # separates the key from its characters
_NOTHING: frozenset[str] = frozenset()
# (first, stop) offsets from a character of every 2-4 character window that contains it.
_WINDOWS = tuple((a, b) for length in (2, 3, 4) for a in range(1 - length, 1) for b in (a + length,))


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
    channel: str             # "homophone" | "other_reading" | "near_homophone" | "shape"


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


def _bucket_of(key: str) -> str:
    """Masked keys are grouped by their first known character (``数?x`` -> 数, ``?据`` -> ?据)."""
    return key[:2] if key[0] == "?" else key[0]


class StatModel:
    """Word log-probabilities, the masked index and confusion sets (read-only after load)."""

    def __init__(self, logp: dict[str, float], buckets: dict[str, str], unknown_logp: float,
                 readings: dict[str, tuple[str, ...]], by_reading: dict[str, str],
                 shapes: dict[str, str], fuzzy: tuple[tuple[str, str], ...] = (),
                 cover: dict[str, float] | set[str] | None = None) -> None:
        self.logp = logp                   # words (1-4 characters) -> log-probability
        self.buckets = buckets             # masked-index buckets, see _bucket_of
        self.unknown_logp = unknown_logp
        self.readings = readings           # char -> toneless readings
        self.by_reading = by_reading       # toneless reading -> chars
        self.shapes = shapes               # char -> look-alike chars
        self.fuzzy = fuzzy                 # (initial or final, its near-homophone) pairs
        # The words (two characters or more) that make their characters look right.  A word
        # rarer than statistical.yaml's cover_min_logp does not: a typo often makes a rare
        # real word (应激 for 应急), and such a character is examined like any other.
        self.cover = logp if cover is None else cover
        # Function characters (的, 和, 在 ...) standing alone are far likelier right than wrong;
        # the unigram model cannot judge them, so they are not examined at all.
        self.skip = frozenset(w for w, lp in logp.items() if len(w) == 1 and lp > SKIP_LOGP)
        self._confusion: dict[str, dict[str, str]] = {}
        self._confusion_sets: dict[str, frozenset[str]] = {}
        self._masked: dict[str, frozenset[str]] = {}

    # --- confusion sets ---------------------------------------------------------------
    def confusion(self, char: str) -> dict[str, str]:
        """Characters ``char`` may have been typed for, with the kind of confusion."""
        found = self._confusion.get(char)
        if found is not None:
            return found
        result: dict[str, str] = {}
        for other in self.shapes.get(char, ""):
            result[other] = "shape"
        for reading in self.readings.get(char, ()):
            for near in near_readings(reading, self.fuzzy):
                for other in self.by_reading.get(near, ""):
                    result[other] = "near_homophone"
        for reading in self.readings.get(char, ()):
            # "reading*" lists every character with the reading, "reading" those whose main
            # reading it is (typed far more often by it).
            for other in self.by_reading.get(reading + "*", ""):
                result[other] = "other_reading"
        for reading in self.readings.get(char, ()):
            for other in self.by_reading.get(reading, ""):
                result[other] = "homophone"
        result.pop(char, None)
        self._confusion[char] = result
        return result

    # --- masked index -----------------------------------------------------------------
    def masked(self, key: str) -> frozenset[str]:
        """Characters that complete ``key`` (one ``?``) into a dictionary word."""
        found = self._masked.get(key)
        if found is not None:
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

    def covered(self, run: str) -> bytearray:
        """1 for every character inside a dictionary word of two or more characters."""
        n = len(run)
        mask = bytearray(n)
        cover = self.cover
        # Two-character words cover most text; only what they leave is tried with longer words.
        for i in range(n - 1):
            if run[i:i + 2] in cover:
                mask[i] = mask[i + 1] = 1
        i = mask.find(0)
        while i >= 0:
            for length in (3, 4):
                for start in range(max(0, i - length + 1), min(i, n - length) + 1):
                    if run[start:start + length] in cover:
                        mask[start:start + length] = b"\x01" * length
                        break
                if mask[i]:
                    break
            i = mask.find(0, i + 1)
        return mask

    def suggest(self, run: str, i: int) -> list[tuple[str, str]]:
        """Corrections for ``run[i]`` that make a dictionary word with its neighbours."""
        n = len(run)
        char = run[i]
        confusable = self._confusion_sets.get(char)
        if confusable is None:
            confusable = self._confusion_sets[char] = frozenset(self.confusion(char))
        # Every window of 2-4 characters around i, with i blanked out.
        keys = [run[start:i] + "?" + run[i + 1:stop] for start, stop in
                ((i + a, i + b) for a, b in _WINDOWS) if start >= 0 and stop <= n]
        memo = self._masked
        found: set[str] = set()
        for key in keys:
            completions = memo.get(key)
            if completions is None:
                completions = self.masked(key)
            if completions:
                found |= confusable & completions
        if not found:
            return []
        confusion = self.confusion(char)
        return [(c, confusion[c]) for c in sorted(found)]       # sorted: same answer every run

    def candidates(self, text: str, cost: dict[str, float], floor: float = 0.0) -> list[Candidate]:
        """Corrections whose gain beats zero and reaches ``floor``.

        Neighbouring suspicious characters form one cluster (a typo often leaves its
        neighbour uncovered too: 平估 for 评估); a cluster gets its best correction, and
        another only where that one's word does not reach.
        """
        out: list[Candidate] = []
        skip = self.skip
        for match in CJK_RUN.finditer(text):
            run = match.group()
            n = len(run)
            if n < 2:
                continue
            mask = self.covered(run)
            i = mask.find(0)
            while i >= 0:
                j = i
                while j < n and not mask[j]:
                    j += 1
                found = [c for c in (self._best(run, k, cost, floor) for k in range(i, j)
                                          if run[k] not in skip)
                         if c is not None]
                if found:
                    found.sort(key=lambda c: -c.score)
                    kept: list[Candidate] = []
                    for cand in found:
                        if all(cand.end <= k.start or cand.start >= k.end for k in kept):
                            kept.append(cand)
                    offset = match.start()
                    for cand in kept:
                        out.append(Candidate(cand.start + offset, cand.end + offset, cand.wrong,
                                             cand.suggestion, cand.char, cand.replacement, cand.score,
                                             cand.channel))
                i = mask.find(0, j)
        return out

    def _options(self, run: str, i: int, cost: dict[str, float], floor: float) -> list[tuple[str, str]]:
        """Like ``suggest``, without the corrections that cannot gain ``floor``.

        A correction's gain is at most, over the words W it makes (or the corrected character
        alone), log P(W) minus the log-probabilities of the written characters under W taken
        one by one: writing those characters singly is a segmentation of the original.  Most corrections fail this bound
        and are dropped before any segmentation is scored.
        """
        n = len(run)
        char = run[i]
        confusable = self._confusion_sets.get(char)
        if confusable is None:
            confusable = self._confusion_sets[char] = frozenset(self.confusion(char))
        memo = self._masked
        get = self.logp.get
        unknown = self.unknown_logp
        lo = i - 3 if i > 3 else 0
        singles: list[float] | None = None       # computed for the few that get this far
        bound: dict[str, float] = {}
        for a, b in _WINDOWS:
            start, stop = i + a, i + b
            if start < 0 or stop > n:
                continue
            head, tail = run[start:i], run[i + 1:stop]
            key = head + "?" + tail
            completions = memo.get(key)
            if completions is None:
                completions = self.masked(key)
            if not completions:
                continue
            hits = confusable & completions
            if not hits:
                continue
            if singles is None:
                singles = [get(c, unknown) for c in run[lo:i + 4]]
            written = sum(singles[start - lo:stop - lo])
            for c in hits:
                gain = get(head + c + tail, unknown) - written
                if gain > bound.get(c, -1e18):
                    bound[c] = gain
        if singles is None:
            return []
        # ... or the correction stands alone in the best segmentation.
        written = singles[i - lo]
        for c, gain in bound.items():
            bound[c] = max(gain, get(c, unknown) - written)
        confusion = self.confusion(char)
        return [(c, confusion[c]) for c in sorted(bound)       # sorted: same answer every run
                if bound[c] - cost.get(confusion[c], 99.0) >= floor]

    def _best(self, run: str, i: int, cost: dict[str, float], floor: float = 0.0) -> Candidate | None:
        options = self._options(run, i, cost, floor)
        if not options:
            return None
        lo = i - WINDOW if i > WINDOW else 0
        window = run[lo:i + WINDOW + 1]
        at = i - lo
        table = [0.0] * (len(window) + 1)
        base = self._segment(window, table, 1)
        head, tail = window[:at], window[at + 1:]
        best: tuple[float, str, str] | None = None
        for char, channel in options:
            gain = self._segment(head + char + tail, table, at + 1) - base - cost.get(channel, 99.0)
            if best is None or gain > best[0]:
                best = (gain, char, channel)
        if best is None or best[0] <= 0 or best[0] < floor:
            return None
        gain, char, channel = best
        w_lo, w_hi = self._word_span(run, i, char)
        wrong = run[w_lo:w_hi]
        right = wrong[:i - w_lo] + char + wrong[i - w_lo + 1:]
        return Candidate(w_lo, w_hi, wrong, right, run[i], char, gain, channel)

    def _word_span(self, run: str, i: int, char: str) -> tuple[int, int]:
        """The longest dictionary word that the correction creates around ``i``."""
        fixed = run[:i] + char + run[i + 1:]
        for length in (4, 3, 2):
            for start in range(max(0, i - length + 1), min(i, len(run) - length) + 1):
                if fixed[start:start + length] in self.logp:
                    return start, start + length
        return i, i + 1


# --- loading ------------------------------------------------------------------------------

_LOCK = threading.Lock()
_MODELS: dict[str, StatModel] = {}


def jieba_dict_path() -> Path:
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("jieba is not installed: its dictionary is needed for typo detection")
    return Path(next(iter(spec.submodule_search_locations))) / "dict.txt"


def cache_dir() -> Path:
    env = os.environ.get("PATROL_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "patrol"


def model_key(data_dir: Path) -> str:
    """Changes when jieba's dictionary or a source file in ``data_dir`` changes.

    The data files are hashed by content (they are small), so a copy of config/text/ elsewhere
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
    return digest.hexdigest()[:16]


def model_settings(data_dir: Path) -> tuple[tuple[tuple[str, str], ...], float | None]:
    """The settings of statistical.yaml that shape the model: fuzzy pinyin, cover_min_logp."""
    import yaml

    path = data_dir / "statistical.yaml"
    data = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None) or {}
    pairs = tuple((str(a), str(b)) for a, b in data.get("fuzzy_pinyin") or ())
    threshold = data.get("cover_min_logp")
    return pairs, (float(threshold) if threshold is not None else None)


def load_model(data_dir: Path) -> StatModel:
    """The statistical model for ``data_dir``, built once and cached on disk and in process."""
    fuzzy, cover_min_logp = model_settings(data_dir)
    file_key = model_key(data_dir)
    key = file_key + repr((fuzzy, cover_min_logp))      # settings applied when loading
    with _LOCK:
        model = _MODELS.get(key)
        if model is not None:
            return model
        cache_file = cache_dir() / f"text-model-v{MODEL_VERSION}-{file_key}.bin"
        # Loading allocates hundreds of thousands of strings: garbage collection would only
        # walk them again and again, and none of them can be part of a reference cycle.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            tables = _read_cache(cache_file)
            if tables is None:
                tables = _build_tables(jieba_dict_path(), data_dir)
                _write_cache(cache_file, tables)
            model = _model_from_tables(tables, fuzzy, cover_min_logp)
        finally:
            if was_enabled:
                gc.enable()
        _MODELS[key] = model
        return model


def _read_cache(path: Path) -> tuple | None:
    try:
        # One read and ``loads``: ``marshal.load`` on a file object is three times slower.
        tables = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(tables, tuple) or len(tables) != 8 or tables[0] != MODEL_VERSION:
        return None
    return tables


def _write_cache(path: Path, tables: tuple) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as fh:
            marshal.dump(tables, fh)
        os.replace(tmp, path)
        # Models of earlier versions of this code are never read again.
        for old in path.parent.glob("text-model-*"):
            if not old.name.startswith(f"text-model-v{MODEL_VERSION}-") and ".tmp" not in old.name:
                old.unlink(missing_ok=True)
    except OSError:
        pass        # a read-only home only costs the rebuild next time


def _model_from_tables(tables: tuple, fuzzy: tuple[tuple[str, str], ...],
                       cover_min_logp: float | None) -> StatModel:
    _, words, logp_bytes, unknown, readings, by_reading, shapes, buckets = tables
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
    return StatModel(logp, buckets, unknown, readings, by_reading, shapes, fuzzy, cover)


def _build_tables(dict_path: Path, data_dir: Path) -> tuple:
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
        bucket_parts.setdefault(_bucket_of(key), []).append(
            _KEY + key + _VALUE + "".join(sorted(masked_sets[key])))
    buckets = {name: "".join(parts) for name, parts in bucket_parts.items()}
    readings: dict[str, list[str]] = {}
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
    unknown = math.log(0.5) - log_total
    # Commonest first, so that the words above any frequency are a prefix of the list.
    words = sorted(logp, key=lambda w: (-logp[w], w))
    return (MODEL_VERSION, "\n".join(words), array.array("f", [logp[w] for w in words]).tobytes(),
            unknown, {k: tuple(v) for k, v in readings.items()}, by_reading, shapes, buckets)
