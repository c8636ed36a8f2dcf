"""Overlap tests between spans in O(log n): a long page has thousands of spans and candidates,
and testing each candidate against every span made checking it quadratic."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable


class SpanIndex:
    """A fixed set of ``(start, end)`` spans, which may overlap one another."""

    __slots__ = ("_starts", "_reach")

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [start for start, _ in ordered]
        self._reach: list[int] = []          # the furthest end of the spans up to each one
        top = -1
        for _, end in ordered:
            if end > top:
                top = end
            self._reach.append(top)

    def overlaps(self, start: int, end: int) -> bool:
        """True if some span ``(s, e)`` has ``s < end and start < e``."""
        i = bisect_left(self._starts, end)   # the spans that start before ``end``
        return i > 0 and self._reach[i - 1] > start


class DisjointSpans:
    """Spans added one by one, each only if it overlaps none of those already there."""

    __slots__ = ("_starts", "_ends")

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
