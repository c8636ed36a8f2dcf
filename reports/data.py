"""Reading one run back from the store, in the shape every report needs.

Everything in reports/ starts here, so a past run renders exactly like a fresh one: the
report is rebuilt from stored data and never re-measures anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from store import FindingRow, Run, Site, SiteResult, Store

if TYPE_CHECKING:
    from common.config import Config

SEVERITY_ORDER = {"veto": 0, "error": 1, "warning": 2, "info": 3}
# Runs that count as inspections (a `patrol check` spot check of one URL does not).
INSPECTION_KINDS = ("run", "demo")


class ReportError(Exception):
    """The run asked for does not exist or cannot be reported."""


@dataclass
class SiteEntry:
    result: SiteResult
    site: Site
    findings: list[FindingRow] = field(default_factory=list)      # live: counted and listed
    marked: list[FindingRow] = field(default_factory=list)        # marked (reports/triage.py)
    stored_score: float | None = None                             # the score the run stored
    stored_veto: list[str] = field(default_factory=list)

    @property
    def stats(self) -> dict[str, Any]:
        return self.result.stats if isinstance(self.result.stats, dict) else {}


@dataclass
class RunData:
    run: Run
    sites: list[SiteEntry]
    findings: list[FindingRow]                       # live findings: counted, listed, mailed
    marked: list[FindingRow] = field(default_factory=list)
    marks: dict[str, Any] = field(default_factory=dict)     # fingerprint -> Mark

    @property
    def all_findings(self) -> list[FindingRow]:
        return sorted(self.findings + self.marked, key=_order)

    def by_site(self) -> dict[str, SiteEntry]:
        return {e.site.name: e for e in self.sites}


def _order(f: FindingRow) -> tuple:
    return (SEVERITY_ORDER.get(f.severity, 9), f.site, f.check, f.id or 0)


def load_run(store: Store, run_id: int, cfg: Config | None = None) -> RunData:
    """A run's sites and findings, split by the marks (reports/triage.py) into live findings
    and marked ones; a site with marked findings is scored on its live ones (``cfg``: whose
    scoring table)."""
    from reports.triage import load_marks, split

    run = store.get_run(run_id)
    if run is None:
        raise ReportError(f"no run with id {run_id} in {store.url}")
    findings = store.findings(run_id)
    findings.sort(key=_order)
    parts = split(findings, load_marks(store, (f.fingerprint for f in findings)), run)
    entries = [SiteEntry(result, site, stored_score=result.score, stored_veto=list(result.veto or []))
               for result, site in store.site_results(run_id)]
    by_name = {e.site.name: e for e in entries}
    by_id = {e.site.id: e for e in entries}
    for rows, attr in ((parts.live, "findings"), (parts.marked, "marked")):
        for f in rows:
            entry = by_id.get(f.site_id) or by_name.get(f.site)
            if entry is not None:
                getattr(entry, attr).append(f)
    if parts.marked:
        _rescore([e for e in entries if e.marked], cfg)
    return RunData(run, entries, parts.live, parts.marked, parts.marks)


def _rescore(entries: list[SiteEntry], cfg: Config | None) -> None:
    """Score sites without their marked findings (in memory; the store keeps the run's score).

    The points the marked findings cost are given back (each check's cap applied as the run
    did), and a veto whose every finding is marked is lifted.  A finding marked ``fixed`` still
    costs its points: the problem was there when the run looked."""
    from checks import scoring

    table = scoring.load_table(cfg)
    full = float(table.get("full_score", 100))
    cap = table.get("veto_cap")
    for e in entries:
        counted = e.findings + [f for f in e.marked if f.state == "fixed"]
        live_checks = {f.check for f in counted if f.severity == "veto"}
        marked_checks = {f.check for f in e.marked}
        veto = [v for v in e.stored_veto if v in live_checks or v not in marked_checks]
        e.result.veto = veto
        if e.stored_score is None:
            continue
        # Deductions are capped check by check: only the checks with marked findings change.
        # (Stored rows carry what scoring reads: check, severity, url, detail.)
        changed = {f.check for f in e.marked if f.state != "fixed"}
        every = sum(scoring.deductions([f for f in e.findings + e.marked if f.check in changed],
                                       table).values())
        live = sum(scoring.deductions([f for f in counted if f.check in changed], table).values())
        if e.stored_veto and not veto:
            score = full - sum(scoring.deductions(counted, table).values())   # no veto cap now
        else:
            score = min(full, e.stored_score + every - live)
            if veto and cap is not None:
                score = min(score, float(cap))
        e.result.score = round(max(0.0, score), 1)


def resolve_run(store: Store, run_id: int | None = None, period: str | None = None) -> Run:
    """The run a command asked for: by id, else the latest completed one (of a month)."""
    run = store.get_run(run_id=run_id, period=period)
    if run is None:
        if run_id is not None:
            raise ReportError(f"no run with id {run_id} in {store.url}")
        where = f" for {period}" if period else ""
        raise ReportError(f"no completed run{where} in {store.url}: run `patrol run` first")
    return run


def previous_run(store: Store, run: Run) -> Run | None:
    """The latest completed inspection before this one, for 'change since the last run'."""
    with store.session() as s:
        q = (select(Run).where(Run.id < run.id, Run.status == "completed",
                               Run.kind.in_(INSPECTION_KINDS))  # type: ignore[attr-defined]
             .order_by(Run.id.desc()))  # type: ignore[union-attr]
        return s.exec(q).first()


def inspection_number(store: Store, run: Run) -> int | None:
    """本年度第 N 次巡检: months of this year up to this run's month with a completed inspection;
    None for a spot check, which does not count."""
    if run.kind not in INSPECTION_KINDS:
        return None
    year = run.period[:4]
    with store.session() as s:
        q = select(Run.period).where(Run.status == "completed",
                                     Run.kind.in_(INSPECTION_KINDS))  # type: ignore[attr-defined]
        periods = {p for p in s.exec(q) if p.startswith(year) and p <= run.period}
    if run.status != "completed":
        periods.add(run.period)
    return len(periods)


def run_day(run: Run) -> date:
    """The day the run's findings were established (deadlines count from it)."""
    when = run.finished or run.started or datetime.now(UTC)
    return when.date()


def department_names(cfg: Config | None) -> dict[str, str]:
    return {d.id: d.name for d in cfg.departments} if cfg else {}


def fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""
