"""Overlap tests between spans in O(log n): a long page has thousands of spans and candidates,
and testing each candidate against every span made checking it quadratic."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

# Up to this many pairs are compared one by one (a line of text has a few candidates and
# spans; building an index would cost more); more (a long page) go through the indexes.
PAIRWISE_MAX = 64


class Span(Protocol):
    start: int
    end: int


S = TypeVar("S", bound=Span)


class SpanIndex:
    """A fixed set of ``(start, end)`` spans, which may overlap one another."""

    __slots__ = ("_reach", "_starts")

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [start for start, _ in ordered]
        self._reach: list[int] = []          # the furthest end of the spans up to each one
        top = -1
        for _, end in ordered:
            top = max(top, end)
            self._reach.append(top)

    def overlaps(self, start: int, end: int) -> bool:
        """True if some span ``(s, e)`` has ``s < end and start < e``."""
        i = bisect_left(self._starts, end)   # the spans that start before ``end``
        return i > 0 and self._reach[i - 1] > start


class DisjointSpans:
    """Spans added one by one, each only if it overlaps none of those already there."""

    __slots__ = ("_ends", "_starts")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_right(self._starts, start)
        return (i > 0 and self._ends[i - 1] > start) or (i < len(self._starts) and self._starts[i] < end)

    def add(self, start: int, end: int) -> bool:
        """Adds the span and returns True, unless it overlaps one already there."""
        if self.overlaps(start, end):
            return False
        i = bisect_right(self._starts, start)
        self._starts.insert(i, start)
        self._ends.insert(i, end)
        return True


def outside(items: Sequence[S], spans: Sequence[tuple[int, int]]) -> list[S]:
    """The ``items`` (with ``start`` and ``end``) that overlap none of ``spans``, in order."""
    if len(items) * len(spans) <= PAIRWISE_MAX:
        return [c for c in items if not any(s < c.end and c.start < e for s, e in spans)]
    index = SpanIndex(spans)
    return [c for c in items if not index.overlaps(c.start, c.end)]


def keep_disjoint(items: Sequence[S], fixed: Sequence[S] = ()) -> list[S]:
    """The ``items``, in order, each kept if it overlaps none of ``fixed`` and of the items
    kept before it."""
    if (len(items) + len(fixed)) * len(items) <= PAIRWISE_MAX:
        kept = list(fixed)
        new: list[S] = []
        for c in items:
            if all(c.end <= k.start or c.start >= k.end for k in kept):
                kept.append(c)
                new.append(c)
        return new
    index = SpanIndex((k.start, k.end) for k in fixed)
    added = DisjointSpans()
    return [c for c in items if not index.overlaps(c.start, c.end) and added.add(c.start, c.end)]


def matches_by_text(automaton, joined: str, starts: Sequence[int]):
    """(index of the text, end of the match in it, value) for each match of an Aho-Corasick
    ``automaton`` (pyahocorasick, made) in texts ``joined`` by a character none of its words
    holds, scanned once; ``starts``: where each text starts in ``joined``."""
    text, last = 0, len(starts) - 1
    for end, value in automaton.iter(joined):
        while text < last and end >= starts[text + 1]:
            text += 1
        yield text, end + 1 - starts[text], value


def texts_matched(automaton, joined: str, starts: Sequence[int]) -> set[int]:
    """The indexes of the texts in which ``automaton`` matches (``matches_by_text``)."""
    return {text for text, _, _ in matches_by_text(automaton, joined, starts)}
