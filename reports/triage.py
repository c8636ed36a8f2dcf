"""Marks on findings (triage): 误报, 确认不整改 and 已整改, kept by fingerprint.

A mark applies to every run that reports the same fingerprint.  ``split`` is the one place
that reads them: ``reports.data.load_run`` calls it, and the report, the rectification lists,
the mail, findings.json, the scores and the console all start from what it returns.

- ``false_alarm`` (误报) and ``accepted`` (确认不整改): the finding is *marked*: it is not
  mailed, not in a rectification list, costs no points; the report lists it with the note.
- ``fixed`` (已整改): marked too, until a run started after the mark finds it again: then it
  is ``reopened`` and counts, lists and mails like any open problem.
"""
from __future__ import annotations

import getpass
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlmodel import col, select

from store import FindingRow, Mark, MarkLog, Run, Store, utcnow

MARK_STATES = {"false_alarm": "误报", "accepted": "确认不整改", "fixed": "已整改"}
# States a finding can have: today's new/open, the marks, and a fixed mark found again.
STATE_LABELS = {"new": "新发现", "open": "此前已发现", **MARK_STATES, "fixed": "已整改（待复核）",
                "reopened": "整改后复现"}
HIDDEN = frozenset({"false_alarm", "accepted", "fixed"})    # marked: out of lists, mails, scores
MIN_PREFIX = 6


class TriageError(ValueError):
    """A mark could not be set: unknown state or fingerprint, a reason missing."""


class _HasFingerprint(Protocol):
    fingerprint: str
    state: str


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def effective_state(mark: Mark, run: Run | None) -> str:
    """The mark as it reads for ``run``: a ``fixed`` mark set before the run started, on a
    finding the run reports again, is ``reopened``."""
    if mark.state == "fixed" and run is not None:
        started, at = _naive_utc(run.started), _naive_utc(mark.at)
        if started is not None and at is not None and at < started:
            return "reopened"
    return mark.state


@dataclass
class Split:
    live: list[Any]          # counted, listed, mailed (their ``state`` is new, open or reopened)
    marked: list[Any]        # false_alarm, accepted, fixed (their ``state`` says which)
    marks: dict[str, Mark]   # fingerprint -> mark, for every finding of either list with one


def split(findings: Sequence[_HasFingerprint], marks: dict[str, Mark], run: Run | None) -> Split:
    """Partition findings into live and marked, setting each marked or reopened one's ``state``.

    The rows are changed in memory only (the store keeps what the run found)."""
    live: list[Any] = []
    marked: list[Any] = []
    used: dict[str, Mark] = {}
    for f in findings:
        mark = marks.get(f.fingerprint)
        if mark is None:
            live.append(f)
            continue
        used[f.fingerprint] = mark
        state = effective_state(mark, run)
        f.state = state
        (marked if state in HIDDEN else live).append(f)
    return Split(live, marked, used)


def load_marks(store: Store, fingerprints: Iterable[str] | None = None) -> dict[str, Mark]:
    """Marks by fingerprint (of these fingerprints only, when given).  The marks table is
    read whole: it holds hundreds of rows where a run holds tens of thousands of findings."""
    with store.session() as s:
        marks = {m.fingerprint: m for m in s.exec(select(Mark))}
    if fingerprints is None or not marks:
        return marks
    return {fp: marks[fp] for fp in set(fingerprints) if fp in marks}


def default_by() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return os.environ.get("USER", "")


def resolve(store: Store, given: Iterable[str]) -> dict[str, FindingRow]:
    """Fingerprints (or unique prefixes of at least 6 characters) -> the latest stored finding
    of each.  Unknown or ambiguous ones raise TriageError naming them."""
    out: dict[str, FindingRow] = {}
    problems = []
    with store.session() as s:
        for text in given:
            fp = text.strip().lower()
            if len(fp) < MIN_PREFIX:
                problems.append(f"{text!r}: too short (give the fingerprint, at least {MIN_PREFIX} characters)")
                continue
            rows = list(s.exec(select(FindingRow).where(col(FindingRow.fingerprint).startswith(fp, autoescape=True))
                               .order_by(col(FindingRow.id).desc())))
            found = {r.fingerprint for r in rows}
            if not rows:
                problems.append(f"{text!r}: no finding with this fingerprint in the store")
            elif len(found) > 1:
                problems.append(f"{text!r}: matches {len(found)} fingerprints ({', '.join(sorted(found)[:4])} …)")
            else:
                out[rows[0].fingerprint] = rows[0]
    if problems:
        raise TriageError("; ".join(problems))
    return out


def set_marks(store: Store, fingerprints: Iterable[str], state: str, note: str = "", by: str = "",
              source: str = "cli", run_id: int | None = None) -> list[Mark]:
    """Mark each fingerprint; a mark already there is replaced (and the change logged)."""
    if state not in MARK_STATES:
        raise TriageError(f"unknown mark {state!r} (choose {', '.join(MARK_STATES)})")
    note = (note or "").strip()
    if state == "accepted" and not note:
        raise TriageError("a finding accepted without rectification (accepted) needs the reason: --note")
    rows = resolve(store, fingerprints)
    by = (by or "").strip() or default_by()
    now = utcnow()
    out = []
    with store.session() as s:
        for fp, row in rows.items():
            mark = s.exec(select(Mark).where(Mark.fingerprint == fp)).first() or Mark(fingerprint=fp)
            mark.state, mark.note, mark.by, mark.at, mark.source = state, note, by, now, source
            mark.run_id = run_id if run_id is not None else row.run_id
            mark.site, mark.check, mark.department = row.site, row.check, row.department
            s.add(mark)
            s.add(MarkLog(fingerprint=fp, state=state, note=note, by=by, at=now, source=source))
            out.append(mark)
        s.commit()
        for mark in out:
            s.refresh(mark)
    return out


def clear_marks(store: Store, fingerprints: Iterable[str], by: str = "", source: str = "cli") -> int:
    """Remove the marks of these fingerprints (exactly as given, or unique prefixes)."""
    wanted = [f.strip().lower() for f in fingerprints]
    by = (by or "").strip() or default_by()
    removed = 0
    with store.session() as s:
        marks = list(s.exec(select(Mark)))
        problems = []
        for fp in wanted:
            hits = [m for m in marks if m.fingerprint.startswith(fp)] if len(fp) >= MIN_PREFIX else []
            if len(hits) != 1:
                problems.append(f"{fp!r}: " + ("no mark with this fingerprint" if not hits else "ambiguous"))
                continue
            s.add(MarkLog(fingerprint=hits[0].fingerprint, state="cleared", by=by, source=source))
            s.delete(hits[0])
            marks.remove(hits[0])
            removed += 1
        if problems:
            s.rollback()
            raise TriageError("; ".join(problems))
        s.commit()
    return removed


def mark_doc(mark: Mark | None) -> dict[str, Any] | None:
    """A mark as findings.json and the API give it."""
    if mark is None:
        return None
    return {"state": mark.state, "label": MARK_STATES.get(mark.state, mark.state), "note": mark.note,
            "by": mark.by, "at": (_naive_utc(mark.at) or mark.at).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "source": mark.source, "run": mark.run_id}


def list_text(store: Store) -> str:
    """``patrol triage --list``: every mark, newest first."""
    marks = sorted(load_marks(store).values(), key=lambda m: (_naive_utc(m.at) or datetime.min), reverse=True)
    if not marks:
        return "没有已标记的问题。\n"
    lines = [f"{'fingerprint':<16}  {'标记':<10} {'网站/账号':<12} {'检查项':<16} {'标记人':<10} {'时间':<16}  说明"]
    for m in marks:
        at = _naive_utc(m.at)
        lines.append(f"{m.fingerprint:<16}  {MARK_STATES.get(m.state, m.state):<10} {m.site:<12} {m.check:<16} "
                     f"{m.by:<10} {at.strftime('%Y-%m-%d %H:%M') if at else '':<16}  {m.note}")
    return "\n".join(lines) + "\n"
