"""Character trigrams of real official text: evidence for a correction the word model doubts.

The statistical layer scores a correction with jieba's general-language word counts.  Below
the 疑似 floor its flags are mostly right words, so they are not listed.  A slip, though, leaves
a trace the word model cannot see: the three characters around it, as written, are not
something official text writes, while with the correction all three are.  ``trigrams.bin``
holds every trigram of CJK ideographs written at least three times in the official text the
lexicon is derived from (laws, regulations, work reports, 新闻联播 transcripts; see its
header), and a correction from ``trigram_evidence.floor`` up is listed as 疑似 when every
trigram across the character it changes agrees:

- as corrected, official text writes it (三人民法院 → 人民法院: 人民法, 民法院 …);
- as written, official text does not (or at most twice).

Only ``min_windows`` or more agreeing windows count (a character with text on both sides has
three): at a line's edge, or next to a digit or a comma, there is too little to go on.

File format: comment lines (``#``), among them ``# keys: N first: A last: B``, a line
``--``, then a zlib stream of the N sorted trigram keys as little-endian unsigned 64-bit
integers, each ``(a << 30) | (b << 15) | c`` for the offsets ``a, b, c`` of the three
characters from U+4E00 (the CJK Unified Ideographs block, 20,992 characters, fits 15 bits).
The keys line lets a decompressed copy in patrol's cache be checked before it is used.
"""
from __future__ import annotations

import array
import bisect
import hashlib
import mmap
import os
import re
import sys
import threading
import zlib
from collections.abc import Sequence
from pathlib import Path

from checks.text.rules import DataFileError

BASE = 0x4E00
TOP = 0x9FFF
SEPARATOR = b"\n--\n"
KEYS_LINE = re.compile(rb"^# keys: (\d+) first: (\d+) last: (\d+)$", re.MULTILINE)
CACHE_KEEP = 4                      # decompressed copies kept in patrol's cache
_LOCK = threading.Lock()
_CACHE: dict[tuple, Trigrams] = {}
_CACHE_MAX = 8                      # trigram sets kept per process (one per data folder version)


class TrigramFileError(DataFileError):
    """trigrams.bin cannot be read (named with its path and the reason)."""


def key_of(a: str, b: str, c: str) -> int | None:
    """The key of three CJK ideographs, or None when one of them is something else."""
    x, y, z = ord(a) - BASE, ord(b) - BASE, ord(c) - BASE
    if 0 <= x <= TOP - BASE and 0 <= y <= TOP - BASE and 0 <= z <= TOP - BASE:
        return (x << 30) | (y << 15) | z
    return None


def encode(keys, comments: list[str]) -> bytes:
    """The file for ``keys`` (any order, repeats allowed) with ``comments`` as its header."""
    values = array.array("Q", sorted(set(keys)))
    if not values:
        raise ValueError("no trigrams to write")
    line = f"keys: {len(values)} first: {values[0]} last: {values[-1]}"
    if sys.byteorder != "little":
        values.byteswap()
    header = "".join(f"# {text}\n".replace("# \n", "#\n") for text in [*comments, line])
    return header.encode("utf-8") + SEPARATOR[1:] + zlib.compress(values.tobytes(), 9)


def _header(data: bytes, name: str) -> tuple[int, tuple[int, int, int]]:
    """(where the data starts, (count, first, last)) of a trigrams file."""
    if data.startswith(SEPARATOR[1:]):
        head, start = b"", len(SEPARATOR) - 1
    else:
        at = data.find(SEPARATOR)
        if at < 0:
            raise TrigramFileError(f"{name}: no '--' line before the data")
        head, start = data[:at + 1], at + len(SEPARATOR)
    found = KEYS_LINE.search(head)
    if not found:
        raise TrigramFileError(f"{name}: no '# keys: N first: A last: B' line in its header")
    count, first, last = (int(g) for g in found.groups())
    return start, (count, first, last)


def decode(data: bytes, name: str = "trigrams.bin") -> array.array:
    """The sorted keys of a trigrams file; TrigramFileError (naming ``name``) when it is not one."""
    start, expected = _header(data, name)
    inflate = zlib.decompressobj()
    try:
        raw = inflate.decompress(data[start:]) + inflate.flush()
    except zlib.error as exc:
        raise TrigramFileError(f"{name}: the data is damaged ({exc})") from None
    if not inflate.eof or inflate.unused_data:
        raise TrigramFileError(f"{name}: the data is damaged (cut short, or bytes after its end)")
    if len(raw) % 8:
        raise TrigramFileError(f"{name}: the data is not a whole number of keys")
    values = array.array("Q")
    values.frombytes(raw)
    if sys.byteorder != "little":
        values.byteswap()
    if not _matches(values, expected):
        raise TrigramFileError(f"{name}: holds {len(values)} keys, its header says "
                               f"{expected[0]} (damaged or edited)")
    return values


def _matches(values: Sequence[int], expected: tuple[int, int, int]) -> bool:
    count, first, last = expected
    return len(values) == count and count > 0 and values[0] == first and values[-1] == last


def _load(path: Path) -> Sequence[int]:
    """The keys of ``path``: mapped from the decompressed copy in patrol's cache (a few ms: the
    file is read and hashed to name the copy, no copy is made), else decompressed (50 ms) and
    the copy written for the next process.  A copy that does not match the file's header (cut
    short, damaged) is written again."""
    data = path.read_bytes()
    name = str(path)
    if sys.byteorder != "little":
        return decode(data, name)
    _, expected = _header(data, name)
    from common.cache import cache_dir, write_cached

    cached = cache_dir() / f"trigrams-{hashlib.blake2b(data, digest_size=12).hexdigest()}.bin"
    try:
        with cached.open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if len(mapped) % 8 == 0:
            keys = memoryview(mapped).cast("Q")
            if _matches(keys, expected):
                try:
                    os.utime(cached)           # used: the last used copies are kept
                except OSError:
                    pass
                return keys
    except (OSError, ValueError):
        pass
    keys = decode(data, name)
    write_cached(cached, keys.tobytes(), "trigrams-*", CACHE_KEEP)
    return keys


class Trigrams:
    """The set of trigrams official text writes, read on the first question (or by ``keys``)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._keys: Sequence[int] | None = None
        self._lock = threading.Lock()

    @property
    def keys(self) -> Sequence[int]:
        if self._keys is None:
            with self._lock:
                if self._keys is None:
                    self._keys = array.array("Q") if self.path is None else _load(self.path)
        return self._keys

    def __bool__(self) -> bool:
        return self.path is not None

    def __contains__(self, trigram: str) -> bool:
        key = key_of(*trigram) if len(trigram) == 3 else None
        return key is not None and self._has(key)

    def _has(self, key: int) -> bool:
        keys = self.keys
        at = bisect.bisect_left(keys, key)
        return at < len(keys) and keys[at] == key

    def agreeing(self, text: str, start: int, wrong: str, suggestion: str) -> int:
        """How many trigrams across the characters that ``suggestion`` changes (``wrong`` stands
        at ``start`` in ``text``) official text writes as corrected and not as written; -1 when
        one of them speaks against the correction (written as it stands, or not written
        corrected).  Trigrams with a character other than an ideograph say nothing."""
        fixed = text[:start] + suggestion + text[start + len(wrong):]
        if len(fixed) != len(text):
            return -1
        n = len(text)
        seen: set[int] = set()
        agree = 0
        for k, (a, b) in enumerate(zip(wrong, suggestion)):
            if a == b:
                continue
            i = start + k
            for s in range(i - 2, i + 1):
                if s < 0 or s + 3 > n or s in seen:
                    continue
                seen.add(s)
                verdict = self._window(text[s:s + 3], fixed[s:s + 3])
                if verdict < 0:
                    return -1
                agree += verdict
        return agree

    def _window(self, written: str, corrected: str) -> int:
        """1: the window agrees; 0: it says nothing (not all ideographs); -1: it disagrees."""
        key = key_of(*written)
        fixed = key_of(*corrected)
        if key is None or fixed is None:
            return 0
        return 1 if self._has(fixed) and not self._has(key) else -1

    def supports(self, text: str, i: int, replacement: str, min_windows: int = 3) -> bool:
        """``agreeing`` for ``replacement`` written at ``text[i]`` reaches ``min_windows`` (the
        same rule, for one character, with an early way out: the trigram it is the middle of is
        asked first, and most replacements fail there)."""
        n = len(text)
        windows = [s for s in (i - 1, i - 2, i) if s >= 0 and s + 3 <= n]
        if len(windows) < min_windows:
            return False
        agree = 0
        for s in windows:
            written = text[s:s + 3]
            verdict = self._window(written, written[:i - s] + replacement + written[i - s + 1:])
            if verdict < 0:
                return False
            agree += verdict
        return agree >= min_windows


def trigrams_for(data_dir: Path) -> Trigrams:
    """The trigram set of ``data_dir`` (trigrams.bin; an empty file is a damaged one), shared by
    the checkers of a process."""
    path = data_dir / "trigrams.bin"
    try:
        stat = path.stat()
        stamp = (str(path), stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = (str(path), 0, -1)
    with _LOCK:
        found = _CACHE.get(stamp)
        if found is None:
            while len(_CACHE) >= _CACHE_MAX:
                _CACHE.pop(next(iter(_CACHE)))
            found = _CACHE[stamp] = Trigrams(path if stamp[2] >= 0 else None)
        return found
