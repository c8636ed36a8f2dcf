"""JSON lines between a crawl process and patrol: orjson when it is installed (it writes and
reads the crawl's outputs, about 10 MB for a 5,000-page site, in a third of the time), the
standard library otherwise.  Both write UTF-8 text as it is (no \\u escapes) and read what
either wrote.  (orjson writes a float NaN as null; crawl records hold none.)"""
from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:             # pragma: no cover - orjson is a dependency; kept optional
    orjson = None  # type: ignore[assignment]


def _std_line(record: Any) -> bytes:
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


if orjson is not None:
    _dumps = orjson.dumps
    _APPEND_NEWLINE = orjson.OPT_APPEND_NEWLINE

    def dumps_line(record: Any) -> bytes:
        """One record as a line of UTF-8 JSON, newline included."""
        try:
            return _dumps(record, option=_APPEND_NEWLINE)
        except TypeError:       # what orjson refuses (a key that is not a string, a huge int)
            return _std_line(record)

    _loads = orjson.loads

    def loads(line: bytes | str) -> Any:
        """One record; ValueError when the line is not one (cut short, garbled)."""
        try:
            return _loads(line)
        except orjson.JSONDecodeError:
            # What only the standard library writes and reads (NaN from the fallback above).
            return json.loads(line)
else:
    dumps_line = _std_line
    loads = json.loads


# The layout of a crawl's outputs, which are also its journal (``journal.json`` and each
# output's ``start`` record carry it): a resume refuses a journal of another layout.
JOURNAL_FORMAT = 1


JOURNAL_DAMAGED = "the crawl journal is damaged"


def journal_damage(name: str, line: int, fetched_again: bool = True) -> str:
    """The error a site's crawl records for a journal line that is not a record: of an earlier
    attempt's output (what it recorded is fetched again), or (``fetched_again=False``) of the
    output being read (what it recorded is missing from the results)."""
    return (f"{JOURNAL_DAMAGED} at line {line} of {name}: that line was skipped "
            + ("(what it recorded is fetched again)" if fetched_again
               else "(what it recorded is missing from the results)"))
