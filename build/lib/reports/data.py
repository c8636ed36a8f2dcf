"""Reading one run back from the store, in the shape every report needs.

Everything in reports/ starts here, so a past run renders exactly like a fresh one: the
report is rebuilt from stored data and never re-measures anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from patrol.store import FindingRow, Run, Site, SiteResult, Store

if TYPE_CHECKING:
    from patrol.config import Config

SEVERITY_ORDER = {"veto": 0, "error": 1, "warning": 2, "info": 3}
# Runs that count as inspections (a `patrol check` spot check of one URL does not).
INSPECTION_KINDS = ("run", "demo")


class ReportError(Exception):
    """The run asked for does not exist or cannot be reported."""


@dataclass
class SiteEntry:
    result: SiteResult
    site: Site
    findings: list[FindingRow] = field(default_factory=list)

    @property
    def stats(self) -> dict[str, Any]:
        return self.result.stats if isinstance(self.result.stats, dict) else {}


@dataclass
class RunData:
    run: Run
    sites: list[SiteEntry]
    findings: list[FindingRow]

    def by_site(self) -> dict[str, SiteEntry]:
        return {e.site.name: e for e in self.sites}


def load_run(store: Store, run_id: int) -> RunData:
    run = store.get_run(run_id)
    if run is None:
        raise ReportError(f"no run with id {run_id} in {store.url}")
    findings = store.findings(run_id)
    findings.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.site, f.check, f.id or 0))
    entries = [SiteEntry(result, site) for result, site in store.site_results(run_id)]
    by_name = {e.site.name: e for e in entries}
    by_id = {e.site.id: e for e in entries}
    for f in findings:
        entry = by_id.get(f.site_id) or by_name.get(f.site)
        if entry is not None:
            entry.findings.append(f)
    return RunData(run, entries, findings)


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
