"""The closed loop: what was mailed to a department, and whether later runs found it fixed.

Items whose findings were all marked 误报 or 确认不整改 (reports/triage.py) since they were
mailed are *dismissed*: neither fixed nor overdue, and out of the department's rate.

When a department's list is sent, each of its items is recorded (``Rectification``).  After
every completed run ``follow_up`` looks again: an item whose findings are all gone from a site
the run covered is *fixed*; one still found is *open*, or *overdue* once its deadline passed.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from store import FindingRow, Rectification, Run, Site, SiteResult, Store, utcnow
from reports.data import INSPECTION_KINDS, run_day
from reports.triage import effective_state, load_marks

if TYPE_CHECKING:
    from reports.rectification import Item


def record_mailed(store: Store, run_id: int, mail_id: int | None, items: Iterable[Item]) -> int:
    """Remember the items of one sent list.

    An item already followed (mailed for this run, or mailed earlier and not yet fixed) is
    not added again: it keeps its first deadline, so a problem left for months stays overdue
    and counts once in the department's rate.
    """
    added = 0
    with store.session() as s:
        known = {r.key for r in s.exec(select(Rectification).where(
            (Rectification.mailed_run == run_id)
            | col(Rectification.state).not_in(("fixed", "dismissed"))))}
        for item in items:
            if item.key in known:
                continue
            known.add(item.key)
            s.add(Rectification(key=item.key, department=item.department, site=item.site,
                                check=item.check, mailed_run=run_id, mail_id=mail_id,
                                fingerprints=list(item.fingerprints), deadline=item.deadline.isoformat()))
            added += 1
        s.commit()
    return added


def follow_up(store: Store, run_id: int) -> dict[str, Any]:
    """Mark each item mailed before this run fixed, open or overdue; return the counts.

    Items of sites this run did not cover (or could not crawl) are left as they were.
    """
    run = store.get_run(run_id)
    if run is None:
        raise ValueError(f"no run with id {run_id}")
    if run.kind not in INSPECTION_KINDS:
        # A spot check of one URL is no inspection: it neither closes nor reopens anything.
        return {"run": run_id, "checked": 0, "fixed": 0, "open": 0, "overdue": 0, "departments": {}}
    today = run_day(run)
    with store.session() as s:
        covered = {site.name for result, site in s.exec(
            select(SiteResult, Site).join(Site, Site.id == SiteResult.site_id)
            .where(SiteResult.run_id == run_id, SiteResult.status == "completed"))}
        present = set(s.exec(select(FindingRow.fingerprint).where(FindingRow.run_id == run_id)))
        # Marked 误报 or 确认不整改 since it was mailed: no longer the department's to fix.
        dismissed = {fp for fp, mark in load_marks(store, present).items()
                     if effective_state(mark, run) in ("false_alarm", "accepted")}
        pending = s.exec(select(Rectification).where(
            Rectification.mailed_run < run_id,
            col(Rectification.state).not_in(("fixed", "dismissed")))).all()
        counts: dict[str, dict[str, int]] = defaultdict(lambda: {"fixed": 0, "open": 0, "overdue": 0,
                                                                 "dismissed": 0})
        for item in pending:
            if item.site not in covered:
                continue
            fps = item.fingerprints or []
            if fps and all(fp in dismissed for fp in fps):
                item.state = "dismissed"
            elif any(fp in present for fp in item.fingerprints or []):
                item.state = "overdue" if _past(item.deadline, today) else "open"
            else:
                item.state = "fixed"
                item.closed_run = run_id
            item.checked_run = run_id
            item.updated = utcnow()
            s.add(item)
            counts[item.department][item.state] += 1
        s.commit()
    total = {k: sum(c[k] for c in counts.values()) for k in ("fixed", "open", "overdue", "dismissed")}
    return {"run": run_id, "checked": sum(total.values()), **total,
            "departments": {dep: dict(c) for dep, c in counts.items()}}


def department_rates(store: Store, run: Run) -> dict[str, dict[str, Any]]:
    """Rectification rate per department as of ``run``: items mailed before it, and how many
    of them a run up to and including it found fixed (a past report stays as it was)."""
    today = run_day(run)
    out: dict[str, dict[str, Any]] = {}
    with store.session() as s:
        items = s.exec(select(Rectification).where(Rectification.mailed_run < run.id)).all()
    for item in items:
        if item.state == "dismissed":           # marked 误报 / 确认不整改: not the department's
            continue
        d = out.setdefault(item.department, {"mailed": 0, "fixed": 0, "open": 0, "overdue": 0})
        d["mailed"] += 1
        if item.closed_run is not None and item.closed_run <= (run.id or 0):
            d["fixed"] += 1
        elif _past(item.deadline, today):
            d["overdue"] += 1
        else:
            d["open"] += 1
    for d in out.values():
        d["rate"] = d["fixed"] / d["mailed"] if d["mailed"] else None
    return out


def _past(deadline: str, today: date) -> bool:
    try:
        return date.fromisoformat(deadline) < today
    except ValueError:
        return False
