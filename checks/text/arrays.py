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


def bit_filter(keys, size_log2: int):
    """A ``2 ** size_log2``-bit filter of 32-bit ``keys`` (numpy uint8): a key whose bit is
    clear is certainly not among them."""
    import numpy as np

    slots = (keys.astype(np.uint32) * np.uint32(_MUL32)) >> np.uint32(32 - size_log2)
    marks = np.zeros(1 << size_log2, dtype=bool)
    marks[slots] = True
    return np.packbits(marks, bitorder="little")


def maybe(bits, queries):
    """For each of ``queries`` (32-bit keys): might it be in the filter's keys?"""
    import numpy as np

    size_log2 = (len(bits) * 8).bit_length() - 1
    slots = (queries.astype(np.uint32) * np.uint32(_MUL32)) >> np.uint32(32 - size_log2)
    return ((bits[slots >> np.uint32(3)] >> (slots & np.uint32(7)).astype(np.uint8)) & np.uint8(1)).astype(bool)


def unique(values):
    """The distinct ``values``, sorted (``numpy.unique`` hashes, many times slower on millions)."""
    import numpy as np

    values = np.sort(values)
    if len(values) > 1:
        values = values[np.concatenate(([True], values[1:] != values[:-1]))]
    return values
