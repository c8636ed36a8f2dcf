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

File format: comment lines (``#``), a line ``--``, then a zlib stream of the sorted trigram
keys as little-endian unsigned 64-bit integers, each ``(a << 30) | (b << 15) | c`` for the
offsets ``a, b, c`` of the three characters from U+4E00 (the CJK Unified Ideographs block,
20,992 characters, fits 15 bits).
"""
from __future__ import annotations

import array
import bisect
import hashlib
import mmap
import sys
import threading
import zlib
from collections.abc import Sequence
from pathlib import Path

from checks.text.rules import DataFileError

BASE = 0x4E00
TOP = 0x9FFF
SEPARATOR = b"\n--\n"
_LOCK = threading.Lock()
_CACHE: dict[tuple, Trigrams] = {}


class TrigramFileError(DataFileError):
    """trigrams.bin cannot be read (named with the reason)."""


def key_of(a: str, b: str, c: str) -> int | None:
    """The key of three CJK ideographs, or None when one of them is something else."""
    x, y, z = ord(a) - BASE, ord(b) - BASE, ord(c) - BASE
    if 0 <= x <= TOP - BASE and 0 <= y <= TOP - BASE and 0 <= z <= TOP - BASE:
        return (x << 30) | (y << 15) | z
    return None


def encode(keys, comments: list[str]) -> bytes:
    """The file for ``keys`` (any order, no repeats needed) with ``comments`` as its header."""
    values = array.array("Q", sorted(set(keys)))
    if sys.byteorder != "little":
        values.byteswap()
    header = "".join(f"# {line}\n".replace("# \n", "#\n") for line in comments)
    return header.encode("utf-8") + SEPARATOR[1:] + zlib.compress(values.tobytes(), 9)


def decode(data: bytes, name: str = "trigrams.bin") -> array.array:
    at = data.find(SEPARATOR)
    if data.startswith(SEPARATOR[1:]):
        at, skip = 0, len(SEPARATOR) - 1
    else:
        skip = len(SEPARATOR)
    if at < 0:
        raise TrigramFileError(f"{name}: no '--' line before the data")
    try:
        raw = zlib.decompress(data[at + skip:])
    except zlib.error as exc:
        raise TrigramFileError(f"{name}: the data is damaged ({exc})") from None
    if len(raw) % 8:
        raise TrigramFileError(f"{name}: the data is not a whole number of keys")
    values = array.array("Q")
    values.frombytes(raw)
    if sys.byteorder != "little":
        values.byteswap()
    return values


def _load(path: Path) -> Sequence[int]:
    """The keys of ``path``: mapped from the decompressed copy in patrol's cache (no copy at
    all, about 1 ms), else decompressed (50 ms) and the copy written for the next process."""
    data = path.read_bytes()
    if sys.byteorder != "little":
        return decode(data, path.name)
    from common.cache import cache_dir, write_cached

    cached = cache_dir() / f"trigrams-{hashlib.blake2b(data, digest_size=12).hexdigest()}.bin"
    try:
        with cached.open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if len(mapped) % 8 == 0:
            return memoryview(mapped).cast("Q")
    except (OSError, ValueError):
        pass
    keys = decode(data, path.name)
    write_cached(cached, keys.tobytes(), "trigrams-*", 2)
    return keys


class Trigrams:
    """The set of trigrams official text writes, loaded on the first question."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._keys: Sequence[int] | None = None

    @property
    def keys(self) -> Sequence[int]:
        if self._keys is None:
            if self.path is None or not self.path.exists():
                self._keys = array.array("Q")
            else:
                self._keys = _load(self.path)
        return self._keys

    def __bool__(self) -> bool:
        return self.path is not None and self.path.exists()

    def __contains__(self, trigram: str) -> bool:
        key = key_of(*trigram) if len(trigram) == 3 else None
        if key is None:
            return False
        keys = self.keys
        at = bisect.bisect_left(keys, key)
        return at < len(keys) and keys[at] == key

    def agreeing(self, text: str, start: int, wrong: str, suggestion: str) -> int:
        """How many trigrams across the characters that ``suggestion`` changes (``wrong`` stands
        at ``start`` in ``text``) official text writes as corrected and not as written; -1 when
        one of them speaks against the correction (written, or not written corrected)."""
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
                written, corrected = text[s:s + 3], fixed[s:s + 3]
                if key_of(*written) is None:
                    continue                    # a digit, a comma, a letter: no evidence
                if written in self or corrected not in self:
                    return -1
                agree += 1
        return agree


    def supports(self, text: str, i: int, replacement: str) -> bool:
        """``agreeing`` for ``replacement`` at ``text[i]`` reaches three: the three trigrams
        across it are written in official text with the replacement, and none as they stand.
        The corrected middle one is asked first: most replacements fail there."""
        if i < 2 or i + 2 >= len(text):
            return False
        a, b, d, e = text[i - 2], text[i - 1], text[i + 1], text[i + 2]
        keys = self.keys
        search = bisect.bisect_left
        size = len(keys)
        for x, y, z in ((b, replacement, d), (a, b, replacement), (replacement, d, e)):
            key = key_of(x, y, z)
            if key is None:
                return False
            at = search(keys, key)
            if at == size or keys[at] != key:
                return False
        for x, y, z in ((b, text[i], d), (a, b, text[i]), (text[i], d, e)):
            key = key_of(x, y, z)
            at = search(keys, key)
            if at < size and keys[at] == key:
                return False
        return True


def trigrams_for(data_dir: Path) -> Trigrams:
    """The trigram set of ``data_dir`` (trigrams.bin), shared by the checkers of a process."""
    path = data_dir / "trigrams.bin"
    try:
        stat = path.stat()
        stamp = (str(path), stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = (str(path), 0, 0)
    with _LOCK:
        found = _CACHE.get(stamp)
        if found is None:
            found = _CACHE[stamp] = Trigrams(path if stamp[2] else None)
        return found
