"""Statistical detection of homophone and look-alike typos that no word list contains.

A noisy-channel check with a unigram word model taken from jieba's bundled dictionary:

1. A character that no dictionary word of two or more characters covers is suspicious
   (a typo usually breaks the word it sits in: 大数局, 人民很行).
2. Candidate corrections come from a *masked index* — every dictionary word with one
   character blanked out (数据 -> ``数?`` and ``?据``) — intersected with the character's
   confusion set (same pinyin from config/text/pinyin.tsv, or look-alike from shapes.txt).
   So a suspicious character costs about ten dictionary look-ups, whatever its confusion set.
3. A candidate is scored by how much it improves the best segmentation of the few characters
   around it (log-probability under the unigram model) minus the cost of the confusion
   (homophone cheaper than look-alike).  The score becomes the flag's confidence.

jieba itself is never imported: only its ``dict.txt`` is read, once, and the derived tables
are cached with ``marshal`` (under ``$PATROL_CACHE_DIR`` or ``~/.cache/patrol``) and in the
process, so a later start costs a fraction of a second.
"""
from __future__ import annotations

import hashlib
import importlib.util
import marshal
import math
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

MODEL_VERSION = 6
MAX_WORD = 4                 # longest dictionary word used by the segmentation window
MASK_MIN_FREQ = 3            # dictionary words rarer than this never suggest a correction
COVER_MIN_FREQ = 3           # ... nor make a character look correct
EXTRA_WORD_FREQ = 2000       # frequency given to the words of config/text/words.txt
SKIP_LOGP = -6.0              # log-probability above which a lone character is not examined
WINDOW = 4                   # characters each side of a suspicious one that are re-segmented

CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


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
    channel: str             # "homophone" | "near_homophone" | "shape"


class StatModel:
    """Word log-probabilities, the masked index and confusion sets (read-only after load)."""

    def __init__(self, logp: dict[str, float], masked: dict[str, str], unknown_logp: float,
                 readings: dict[str, tuple[str, ...]], by_reading: dict[str, str],
                 shapes: dict[str, str]) -> None:
        self.logp = logp
        self.masked = masked
        self.unknown_logp = unknown_logp
        self.readings = readings           # char -> toneless readings
        self.by_reading = by_reading       # toneless reading -> chars
        self.shapes = shapes               # char -> look-alike chars
        self.cover = {w for w, lp in logp.items() if len(w) > 1}
        # Function characters (的, 和, 在 ...) standing alone are far likelier right than wrong;
        # the unigram model cannot judge them, so they are not examined at all.
        self.skip = frozenset(w for w, lp in logp.items() if len(w) == 1 and lp > SKIP_LOGP)
        self._confusion: dict[str, dict[str, str]] = {}

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

    # --- scoring ----------------------------------------------------------------------
    def segment_logp(self, text: str) -> float:
        """Log-probability of the best segmentation of ``text`` into dictionary words."""
        logp = self.logp
        unknown = self.unknown_logp
        n = len(text)
        best = [0.0] + [-1e18] * n
        for end in range(1, n + 1):
            top = best[end - 1] + logp.get(text[end - 1], unknown)
            for length in range(2, min(MAX_WORD, end) + 1):
                lp = logp.get(text[end - length:end])
                if lp is not None:
                    score = best[end - length] + lp
                    if score > top:
                        top = score
            best[end] = top
        return best[n]

    def covered(self, run: str) -> bytearray:
        """1 for every character inside a dictionary word of two or more characters."""
        n = len(run)
        mask = bytearray(n)
        cover = self.cover
        for i in range(n - 1):
            for length in (2, 3, 4):
                if i + length > n:
                    break
                if run[i:i + length] in cover:
                    mask[i:i + length] = b"\x01" * length
        return mask

    def suggest(self, run: str, i: int) -> list[tuple[str, str]]:
        """Corrections for ``run[i]`` that make a dictionary word with its neighbours."""
        masked = self.masked
        n = len(run)
        found: set[str] = set()
        for length in (2, 3, 4):
            for k in range(length):
                start = i - k
                if start < 0 or start + length > n:
                    continue
                chars = masked.get(run[start:i] + "?" + run[i + 1:start + length])
                if chars:
                    found.update(chars)
        if not found:
            return []
        confusion = self.confusion(run[i])
        return [(c, confusion[c]) for c in found.intersection(confusion)]

    def candidates(self, text: str, cost: dict[str, float]) -> list[Candidate]:
        """Corrections whose gain beats zero.

        Neighbouring suspicious characters form one cluster (a typo often leaves its
        neighbour uncovered too: 平估 for 评估); a cluster gets its best correction, and
        another only where that one's word does not reach.
        """
        out: list[Candidate] = []
        for match in CJK_RUN.finditer(text):
            run = match.group()
            n = len(run)
            if n < 2:
                continue
            mask = self.covered(run)
            i = 0
            while i < n:
                if mask[i]:
                    i += 1
                    continue
                j = i
                while j < n and not mask[j]:
                    j += 1
                skip = self.skip
                found = [c for c in (self._best(run, k, cost) for k in range(i, j) if run[k] not in skip)
                         if c is not None]
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
                i = j
        return out

    def _best(self, run: str, i: int, cost: dict[str, float]) -> Candidate | None:
        options = self.suggest(run, i)
        if not options:
            return None
        lo = max(0, i - WINDOW)
        window = run[lo:i + WINDOW + 1]
        base = self.segment_logp(window)
        best: tuple[float, str, str] | None = None
        for char, channel in options:
            changed = window[:i - lo] + char + window[i - lo + 1:]
            gain = self.segment_logp(changed) - base - cost.get(channel, 99.0)
            if best is None or gain > best[0]:
                best = (gain, char, channel)
        if best is None or best[0] <= 0:
            return None
        gain, char, channel = best
        w_lo, w_hi = self._word_span(run, i, char)
        wrong = run[w_lo:w_hi]
        right = wrong[:i - w_lo] + char + wrong[i - w_lo + 1:]
        return Candidate(w_lo, w_hi, wrong, right, run[i], char, gain, channel)

    def _word_span(self, run: str, i: int, char: str) -> tuple[int, int]:
        """The longest dictionary word that the correction creates around ``i``."""
        fixed = run[:i] + char + run[i + 1:]
        best = (i, i + 1)
        best_len = 1
        for length in (4, 3, 2):
            if length <= best_len:
                break
            for start in range(max(0, i - length + 1), min(i, len(run) - length) + 1):
                if fixed[start:start + length] in self.cover:
                    return start, start + length
        return best


# --- loading ------------------------------------------------------------------------------

_LOCK = threading.Lock()
_MODELS: dict[str, StatModel] = {}


def jieba_dict_path() -> Path:
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("jieba is not installed: its dictionary is needed for typo detection")
    return Path(list(spec.submodule_search_locations)[0]) / "dict.txt"


def cache_dir() -> Path:
    env = os.environ.get("PATROL_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "patrol"


def load_model(data_dir: Path) -> StatModel:
    """The statistical model for ``data_dir``, built once and cached on disk and in process."""
    dict_path = jieba_dict_path()
    sources = [dict_path, data_dir / "pinyin.tsv", data_dir / "shapes.txt", data_dir / "words.txt"]
    digest = hashlib.sha1(str(MODEL_VERSION).encode())
    for path in sources:
        st = path.stat()
        digest.update(f"{path}:{st.st_size}:{st.st_mtime_ns}".encode())
    key = digest.hexdigest()[:16]
    with _LOCK:
        model = _MODELS.get(key)
        if model is not None:
            return model
        cache_file = cache_dir() / f"text-model-{key}.marshal"
        tables = None
        try:
            with open(cache_file, "rb") as fh:
                tables = marshal.load(fh)
        except (OSError, ValueError, EOFError, TypeError):
            tables = None
        if tables is None:
            tables = _build_tables(dict_path, data_dir)
            try:
                cache_file.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache_file.with_suffix(f".tmp{os.getpid()}")
                with open(tmp, "wb") as fh:
                    marshal.dump(tables, fh)
                os.replace(tmp, cache_file)
            except OSError:
                pass        # a read-only home only costs the rebuild next time
        logp, masked, unknown, readings, by_reading, shapes = tables
        model = StatModel(logp, masked, unknown, {k: tuple(v) for k, v in readings.items()},
                          by_reading, shapes)
        _MODELS[key] = model
        return model


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
    # Current official vocabulary that the 2013 dictionary lacks: as common as a common word.
    extra_path = data_dir / "words.txt"
    if extra_path.exists():
        for line in extra_path.read_text(encoding="utf-8").splitlines():
            word = line.strip()
            if word and not word.startswith("#") and CJK_RUN.fullmatch(word):
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
    masked = {k: "".join(sorted(v)) for k, v in masked_sets.items()}
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
    return logp, masked, unknown, readings, by_reading, shapes
