"""Sorted numpy arrays asked many questions at once (the trigram scan, the word cover)."""
from __future__ import annotations


def search(table, queries):
    """``numpy.searchsorted(table, queries)``, asked in sorted order: from one question to the
    next the search stays near, which on a table of millions is several times faster."""
    import numpy as np

    order = np.argsort(queries)
    found = np.empty(len(queries), dtype=np.intp)
    found[order] = np.searchsorted(table, queries[order])
    return found


def member(table, queries, bits=None):
    """For each of ``queries``: is it in ``table`` (sorted, same dtype)?  With ``bits``, the
    ``bit_filter`` of a table of 32-bit keys, only the queries it lets through are searched."""
    import numpy as np

    if not len(table) or not len(queries):
        return np.zeros(len(queries), dtype=bool)
    if bits is not None:
        found = maybe(bits, queries)
        asked = np.flatnonzero(found)
        found[asked] = member(table, queries[asked])
        return found
    at = search(table, queries)
    at[at >= len(table)] = 0
    return table[at] == queries


_MUL32 = 0x9E3779B1             # the filter's hash: a multiply of the key, its top bits


def bits_at(indices, size: int):
    """``size`` bits (numpy uint8: bit i is bit ``i & 7`` of byte ``i >> 3``) with those at
    ``indices`` set."""
    import numpy as np

    bits = np.zeros((size + 7) // 8, dtype=np.uint8)
    np.bitwise_or.at(bits, indices >> 3, np.left_shift(np.uint8(1), (indices & 7).astype(np.uint8)))
    return bits


def bit_at(bits, indices):
    """For each of ``indices``: is its bit of ``bits`` (see ``bits_at``) set?"""
    import numpy as np

    return ((bits[indices >> 3] >> (indices & 7).astype(np.uint8)) & np.uint8(1)).astype(bool)


def _slots(keys, size_log2: int):
    import numpy as np

    return (keys.astype(np.uint32) * np.uint32(_MUL32)) >> np.uint32(32 - size_log2)


def bit_filter(keys, size_log2: int):
    """A ``2 ** size_log2``-bit filter of 32-bit ``keys`` (numpy uint8): a key whose bit is
    clear is certainly not among them."""
    return bits_at(_slots(keys, size_log2), 1 << size_log2)


def maybe(bits, queries):
    """For each of ``queries`` (32-bit keys): might it be in the filter's keys?"""
    return bit_at(bits, _slots(queries, (len(bits) * 8).bit_length() - 1))


def unique(values):
    """The distinct ``values``, sorted (``numpy.unique`` hashes, many times slower on millions)."""
    import numpy as np

    values = np.sort(values)
    if len(values) > 1:
        values = values[np.concatenate(([True], values[1:] != values[:-1]))]
    return values
