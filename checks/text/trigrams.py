"""Character trigrams of real official text: the trace a slip leaves that a word model misses.

The statistical layer judges a character with jieba's general-language word counts, and only
where no dictionary word covers it.  A slip that makes another word (期获 for 期货, 应激 for 应急)
or that the word model doubts too little leaves a different trace: the three characters around
it, as written, are not something official text writes, while with the correction all of them
are.  ``trigrams.bin`` holds every trigram of CJK ideographs written at least twice in the
official text the lexicon is derived from (laws, regulations, work reports, 新闻联播 transcripts;
see its header).

``Scan`` looks at every character (statistical.yaml ``trigram_scan``, checks/text/checker.py):

- it is examined where official text lacks every trigram of ideographs across it (a character
  inside a run of ideographs has three; at a line's edge or beside a comma, two, or with
  ``one_window`` one), or, with ``one_written`` and three, all but one;
- it is corrected where exactly one of its confusions (same sound, other reading, near sound,
  same shape; the word model's confusion sets) makes every one of those trigrams one official
  text writes.  Two or more would be a guess.  The checker then asks the word model for a
  gain that grows as the trigrams say less (``ScanSettings``).

It also marks the characters two of whose trigrams official text writes as they stand: the
statistical layer leaves those alone.

The scan is vectorised with numpy over all the lines of a document at once.  Every trigram of
the text as written is looked up in a 16 MB bit filter of the set (``_bitmap``, mapped from
patrol's cache).  For each character examined, the characters that complete one of its windows
into a trigram of the set are one range of the keys sorted so that the two known characters
come first (``_orders``: three sorted copies, mapped from the cache), about nine where its
confusions are about 130.  Those that are confusions of the character (every pair of the
model's, one sorted array: ``StatModel.confusion_pairs``) are then asked of the keys for the
other windows.  Questions are asked in sorted order (``arrays.search``).

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
import itertools
import re
import sys
import threading
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from checks.text.arrays import bit_at, bits_at, member, unique
from checks.text.rules import DataFileError

BASE = 0x4E00
TOP = 0x9FFF
SEPARATOR = b"\n--\n"
KEYS_LINE = re.compile(rb"^# keys: (\d+) first: (\d+) last: (\d+)$", re.MULTILINE)
CACHE_KEEP = 4                      # decompressed copies kept in patrol's cache
BITMAP_BITS = 27                    # a 16 MB filter: 1.4 % of absent trigrams pass it
SCAN_BATCH = 65536                  # characters whose candidates the scan tries at once
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
    if not _ascending(values):
        raise TrigramFileError(f"{name}: its keys are not in ascending order, each once (damaged or edited)")
    return values


def _ascending(values: array.array) -> bool:
    """Whether ``values`` rise strictly (the scan reads ranges of them)."""
    import numpy as np

    keys = np.frombuffer(values, dtype=np.uint64)
    return bool(np.all(keys[1:] > keys[:-1]))


def _matches(values: Sequence[int], expected: tuple[int, int, int]) -> bool:
    count, first, last = expected
    return len(values) == count and count > 0 and values[0] == first and values[-1] == last


def _load(path: Path) -> tuple[Sequence[int], str]:
    """The keys of ``path``: mapped from the decompressed copy in patrol's cache (a few ms: the
    file is read and hashed to name the copy, no copy is made), else decompressed (50 ms) and
    the copy written for the next process.  A copy that does not match the file's header (cut
    short, damaged) is written again."""
    data = path.read_bytes()
    name = str(path)
    digest = hashlib.blake2b(data, digest_size=12).hexdigest()
    if sys.byteorder != "little":
        return decode(data, name), digest
    _, expected = _header(data, name)
    from common.cache import cache_dir, map_cached, write_cached

    cached = cache_dir() / f"trigrams-{digest}.bin"
    mapped = map_cached(cached)
    if mapped is not None and len(mapped) % 8 == 0:
        keys = memoryview(mapped).cast("Q")
        if _matches(keys, expected):
            return keys, digest
    keys = decode(data, name)
    write_cached(cached, keys.tobytes(), "trigrams-*", CACHE_KEEP)
    return keys, digest


def _bitmap(keys, digest: str):
    """A 2**BITMAP_BITS-bit filter of ``keys`` (numpy uint8, ``arrays.bits_at``): a trigram
    whose bit is clear is certainly not among them; one whose bit is set very likely is (1.4 %
    of others are).  Mapped from patrol's cache, else built (0.1 s) and written there.  It is
    asked only about the trigrams as the text writes them: a wrong yes can leave a character
    unexamined, never make a correction (those come from the keys themselves)."""
    import numpy as np

    from common.cache import cache_dir, cached_arrays

    def build() -> list:
        low = np.uint64(0x7FFF)
        keys64 = np.frombuffer(keys, dtype=np.uint64)
        return [bits_at(_slots((keys64 >> np.uint64(30)).astype(np.uint32),
                               ((keys64 >> np.uint64(15)) & low).astype(np.uint32),
                               (keys64 & low).astype(np.uint32)), 1 << BITMAP_BITS)]

    # Named by the data and by the hash: a filter of another hash is never read for this one.
    scheme = hashlib.blake2b(repr((BITMAP_BITS, _MUL)).encode(), digest_size=4).hexdigest()
    (bits,) = cached_arrays(cache_dir() / f"trigram-bits-{scheme}-{digest}.bin", "trigram-bits-*",
                            CACHE_KEEP, build, ["|u1"])
    return bits if len(bits) == 1 << (BITMAP_BITS - 3) else build()[0]


def _orders(keys, digest: str):
    """The keys in two more orders (numpy uint64), so that the trigrams that complete two known
    characters are one range of a sorted array whatever the unknown one's place: ``middle``
    holds ``(a << 30) | (c << 15) | b`` and ``right`` ``(b << 30) | (c << 15) | a`` for each key
    ``(a, b, c)``, each sorted (the keys themselves serve the third place).  Mapped from
    patrol's cache, else built (0.2 s) and written there."""
    import numpy as np

    from common.cache import cache_dir, cached_arrays

    keys = np.frombuffer(keys, dtype=np.uint64)

    def build() -> list:
        low = np.uint64(0x7FFF)
        a, b, c = keys >> np.uint64(30), (keys >> np.uint64(15)) & low, keys & low
        return [np.sort((a << np.uint64(30)) | (c << np.uint64(15)) | b),
                np.sort((b << np.uint64(30)) | (c << np.uint64(15)) | a)]

    found = cached_arrays(cache_dir() / f"trigram-orders-{digest}.bin", "trigram-orders-*", CACHE_KEEP, build,
                          ["<u8", "<u8"])
    if any(len(a) != len(keys) for a in found):
        found = build()
    return found[0], found[1]


# The filter's hash: a multiply-add of the three offsets in 32-bit arithmetic (wrapping), its
# top BITMAP_BITS bits (a quarter of the memory traffic of a 64-bit hash of the key).
_MUL = (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D)


def _slots(a, b, c):
    """The filter's bit for the trigrams of offsets ``a``, ``b``, ``c`` (uint32 arrays)."""
    import numpy as np

    x, y, z = (np.uint32(m) for m in _MUL)
    return (a * x + b * y + c * z) >> np.uint32(32 - BITMAP_BITS)


class Trigrams:
    """The set of trigrams official text writes, read on the first question (or by ``keys``)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._keys: Sequence[int] | None = None
        self._digest = ""
        self._bits = None
        self._orders = None
        self._lock = threading.Lock()

    @property
    def keys(self) -> Sequence[int]:
        if self._keys is None:
            with self._lock:
                if self._keys is None:
                    if self.path is None:
                        self._keys = array.array("Q")
                    else:
                        self._keys, self._digest = _load(self.path)
        return self._keys

    def bitmap(self):
        """The filter of the keys (see ``_bitmap``), read or built on the first question."""
        if self._bits is None:
            keys = self.keys
            with self._lock:
                if self._bits is None:
                    self._bits = _bitmap(keys, self._digest or "none")
        return self._bits

    def orders(self):
        """(keys, middle, right): the keys sorted three ways as numpy uint64 (see ``_orders``),
        read or built on the first question."""
        if self._orders is None:
            keys = self.keys
            with self._lock:
                if self._orders is None:
                    import numpy as np

                    self._orders = (np.frombuffer(keys, dtype=np.uint64),
                                    *_orders(keys, self._digest or "none"))
        return self._orders

    def __bool__(self) -> bool:
        return self.path is not None

    def __contains__(self, trigram: str) -> bool:
        key = key_of(*trigram) if len(trigram) == 3 else None
        return key is not None and self._has(key)

    def _has(self, key: int) -> bool:
        keys = self.keys
        at = bisect.bisect_left(keys, key)
        return at < len(keys) and keys[at] == key


class Scanned(NamedTuple):
    """A character the trigram scan corrects."""

    index: int                  # in its text
    replacement: str
    windows: int                # trigrams of ideographs across it (1-3)
    written: int                # ... that official text writes as it stands (0 or 1)


class Scan:
    """The trigram scan for one model's confusion sets.

    A character is examined where official text lacks every trigram of ideographs across it and
    there are two or three of them; with ``one_window``, also where there is only one; with
    ``one_written``, also where there are three and official text writes one of them as it
    stands.  Every trigram across a corrected character must be one official text writes.
    """

    def __init__(self, trigrams: Trigrams, confusion_pairs: Callable[[], object],
                 one_window: bool = False, one_written: bool = False) -> None:
        self.trigrams = trigrams
        # Every (character, confusion) of the model, sorted, and its filter:
        # ``StatModel.confusion_pairs``.
        self.confusion_pairs = confusion_pairs
        self.one_window = one_window
        self.one_written = one_written

    def _written(self, a, b, c):
        """For each trigram of offsets ``a``, ``b``, ``c`` (uint32 arrays) as the text writes
        it: might official text write it?  The filter's answer: no for certain, yes nearly
        always right (a wrong yes only leaves a character unexamined)."""
        return bit_at(self.trigrams.bitmap(), _slots(a, b, c))

    def _exact(self, a, b, c):
        """For each trigram of offsets ``a``, ``b``, ``c`` (uint32 arrays): is it one of the keys?"""
        import numpy as np

        queries = (a.astype(np.uint64) << np.uint64(30)) | (b.astype(np.uint64) << np.uint64(15)) | c
        return member(self.trigrams.orders()[0], queries)

    def __call__(self, texts: Sequence[str]) -> list[list[Scanned]]:
        """For each text, its characters that the trigrams correct."""
        return self.run(texts)[0]

    def run(self, texts: Sequence[str]) -> tuple[list[list[Scanned]], list[bytes]]:
        """For each text, its characters that the trigrams correct, and a byte per character:
        1 where official text writes two or more of the trigrams across it as they stand (as
        the filter says: nearly always right)."""
        out: list[list[Scanned]] = [[] for _ in texts]
        if not self.trigrams or not any(len(t) >= 3 for t in texts):
            return out, [bytes(len(t)) for t in texts]
        import numpy as np

        # One pass over the texts joined by a line break (no trigram spans it).  A lone
        # surrogate keeps its place (it is no ideograph): one code per character.
        joined = "\n".join(texts)
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4") - np.uint32(BASE)
        n = len(codes)
        if n < 3:
            return out, [bytes(len(t)) for t in texts]
        ideograph = codes <= np.uint32(TOP - BASE)          # below BASE wrapped round: large
        # Offsets, 0 for other characters, and two more 0s: u[i + 2] for any i (masked).
        u = np.concatenate((np.where(ideograph, codes, np.uint32(0)), np.zeros(2, dtype=np.uint32)))
        window = ideograph[:-2] & ideograph[1:-1] & ideograph[2:]      # window s: codes[s:s + 3]
        seen = np.zeros(n - 2, dtype=bool)
        starts_at = np.flatnonzero(window)
        seen[starts_at] = self._written(u[starts_at], u[starts_at + 1], u[starts_at + 2])
        # Padded by two on each side: the windows across character i are s = i-2, i-1, i, at
        # padded indices i, i+1, i+2.
        pad = np.zeros(2, dtype=bool)
        valid = np.concatenate((pad, window, pad))
        written = np.concatenate((pad, seen, pad))
        count = valid[:n].astype(np.int8) + valid[1:n + 1] + valid[2:n + 2]
        known = written[:n].astype(np.int8) + written[1:n + 1] + written[2:n + 2]
        starts = list(itertools.accumulate([len(text) + 1 for text in texts], initial=0))
        flags = (known >= 2).view(np.uint8).tobytes()
        attested = [flags[starts[k]:starts[k + 1] - 1] for k in range(len(texts))]
        examined = (known == 0) & (count >= (1 if self.one_window else 2))
        if self.one_written:
            examined |= (known == 1) & (count == 3)
        positions = np.flatnonzero(examined)
        if not len(positions):
            return out, attested
        # In batches of characters: their rows (one per candidate, about nine each, a few
        # hundred at most) are the scan's memory, a few MB a batch whatever the text's length.
        pieces = [self._corrections(u, valid, positions[k:k + SCAN_BATCH])
                  for k in range(0, len(positions), SCAN_BATCH)]
        at = np.concatenate([p[0] for p in pieces])
        rows = np.concatenate([p[1] for p in pieces])
        found = np.concatenate([p[2] for p in pieces])
        good = (found == 0) | ((found == 1) & (count[at] == 3)) if self.one_written else found == 0
        at, rows, found = at[good], rows[good], found[good]
        # Only a character with exactly one such confusion: two would be a guess.
        places = at.tolist()
        times: dict[int, int] = {}
        for i in places:
            times[i] = times.get(i, 0) + 1
        line = 0
        for i, c, known_here, span in zip(places, rows.tolist(), found.tolist(), count[at].tolist()):
            if times[i] != 1:
                continue
            while i >= starts[line + 1]:
                line += 1
            out[line].append(Scanned(i - starts[line], chr(c + BASE), span, known_here))
        return out, attested

    def _corrections(self, u, valid, positions):
        """(index, replacement, windows written as they stand) of each confusion of the
        characters at ``positions`` that makes every trigram across it one official text
        writes."""
        import numpy as np

        keys, middle, right = self.trigrams.orders()
        # Each character's candidates are the characters that complete one of its windows, its
        # "anchor", into a trigram official text writes: one range of a sorted array (about
        # nine characters, where its confusions are about 130).  The middle window when there
        # is one, else the window on the side that has two ideographs.
        rows_at, rows = [], []
        has_middle = valid[positions + 1]
        has_left = valid[positions]
        for table, pick, first, second in (
                (middle, has_middle, -1, 1),
                (keys, ~has_middle & has_left, -2, -1),
                (right, ~has_middle & ~has_left, 1, 2)):
            here = positions[pick]
            if not len(here):
                continue
            prefix = (u[here + first].astype(np.uint64) << np.uint64(30)) \
                | (u[here + second].astype(np.uint64) << np.uint64(15))
            order = np.argsort(prefix)          # sorted questions: a fraction of the misses
            here, prefix = here[order], prefix[order]
            lo = np.searchsorted(table, prefix)
            sizes = np.searchsorted(table, prefix + np.uint64(1 << 15)) - lo
            total = int(sizes.sum())
            # The ranges, one row each: lo repeated, plus the row's place in its range.
            ends = np.cumsum(sizes)
            index = np.repeat(lo - (ends - sizes), sizes) + np.arange(total)
            rows_at.append(np.repeat(here, sizes))
            rows.append((table[index] & np.uint64(0x7FFF)).astype(np.uint32))
        if not rows:
            return (np.zeros(0, dtype=positions.dtype), np.zeros(0, dtype=np.uint32),
                    np.zeros(0, dtype=np.int8))
        at, rows = np.concatenate(rows_at), np.concatenate(rows)
        # Only the confusions of the character written.
        pairs, bits = self.confusion_pairs()
        good = member(pairs, (u[at] << np.uint32(15)) | rows, bits)
        # By position, as the caller reads them, and each candidate once.
        kept = unique((at[good].astype(np.uint64) << np.uint64(15)) | rows[good])
        at, rows = (kept >> np.uint64(15)).astype(positions.dtype), (kept & np.uint64(0x7FFF)).astype(np.uint32)
        found = np.zeros(len(at), dtype=np.int8)         # windows official text writes as written
        for offset in (1, 0, 2):
            windows = valid[at + offset]
            s = np.where(windows, at + offset - 2, 0)            # the window's first character
            corrected = [u[s], u[s + 1], u[s + 2]]
            corrected[2 - offset] = rows
            good = ~windows | self._exact(*corrected)
            found += windows & self._exact(u[s], u[s + 1], u[s + 2])
            at, rows, found = at[good], rows[good], found[good]
        return at, rows, found


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
