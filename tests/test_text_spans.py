"""Overlap indexes of checks/text/spans.py against the pairwise comparison they replace."""
import random
from datetime import date, datetime

import pytest

from checks.text import TextChecker
from dataclasses import dataclass

from checks.text.spans import DisjointSpans, SpanIndex, keep_disjoint, outside


def overlaps(a, b):
    return a[0] < b[1] and b[0] < a[1]


def test_span_index_answers_as_the_pairwise_test():
    rng = random.Random(7)
    for _ in range(300):
        spans = [(s, s + rng.randint(0, 6)) for s in (rng.randint(0, 60) for _ in range(rng.randint(0, 12)))]
        index = SpanIndex(spans)
        for start in range(0, 66):
            for end in range(start + 1, start + 6):
                assert index.overlaps(start, end) == any(overlaps((start, end), s) for s in spans)


def test_disjoint_spans_keep_what_the_pairwise_loop_keeps():
    rng = random.Random(11)
    for _ in range(300):
        candidates = [(s, s + rng.randint(1, 4)) for s in (rng.randint(0, 80) for _ in range(rng.randint(0, 40)))]
        kept_pairwise = []
        for cand in candidates:
            if all(not overlaps(cand, k) for k in kept_pairwise):
                kept_pairwise.append(cand)
        spans = DisjointSpans()
        assert [c for c in candidates if spans.add(*c)] == kept_pairwise


@dataclass
class Item:
    start: int
    end: int


def test_outside_and_keep_disjoint_answer_alike_for_few_and_many_items():
    # Few items are compared pairwise, many through the indexes: the answers are the same.
    rng = random.Random(5)
    for _ in range(200):
        count = rng.choice([2, 5, 40])
        items = [Item(s, s + rng.randint(1, 4)) for s in (rng.randint(0, 120) for _ in range(count))]
        fixed = [Item(s, s + rng.randint(1, 3)) for s in (rng.randint(0, 120) for _ in range(rng.choice([0, 3, 30])))]
        spans = [(f.start, f.end) for f in fixed]
        assert outside(items, spans) == [c for c in items if not any(overlaps((c.start, c.end), s) for s in spans)]
        kept, expected = list(fixed), []
        for c in items:
            if all(not overlaps((c.start, c.end), (k.start, k.end)) for k in kept):
                kept.append(c)
                expected.append(c)
        assert keep_disjoint(items, fixed) == expected


def test_long_texts_give_the_same_flags_as_their_parts(layer_dir):
    # Many candidates in one text take the indexed path; the flags are those of each part.
    checker = TextChecker(data_dir=layer_dir)
    part = "庆祝中华人民共合国成立，提高行政效律，加快大数局产业发展。"     # a rule flag too
    whole = checker.check(part * 40, date(2024, 1, 1))
    one = checker.check(part, date(2024, 1, 1))
    assert len(one) >= 3 and len(whole) == 40 * len(one)
    for k, flag in enumerate(whole):
        ref = one[k % len(one)]
        assert (flag.wrong, flag.suggestion, flag.start - (k // len(one)) * len(part)) == \
            (ref.wrong, ref.suggestion, ref.start)


def test_check_takes_a_datetime_and_refuses_what_is_not_text():
    checker = TextChecker()
    assert checker.check("区国土资源局开展执法检查。", datetime(2024, 1, 1, 8, 30)) == \
        checker.check("区国土资源局开展执法检查。", date(2024, 1, 1))
    with pytest.raises(TypeError, match="str"):
        checker.check(b"\xe5\xa4\xa7")
