"""The store: SQLModel tables and the few queries the rest of patrol needs.

SQLite by default; any SQLAlchemy URL (``postgresql+psycopg://...``) works the same.
Findings keep their fingerprint, so a later run can tell a fixed problem from a new one.
"""
from __future__ import annotations

import json
import operator
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Callable, Iterator
from typing import Any, Iterable, Optional

from sqlalchemy import JSON, Column, Index, LargeBinary, delete, event, insert, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Field, Session, SQLModel, create_engine, select

from checks.model import Finding, LinkResult, PageSnapshot, SiteCrawl
from store import schema


# Rows of a streamed site written at once (``Store.save_site_streamed``).
STREAM_BATCH = 1000


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class StoreError(Exception):
    """The database could not be opened or written."""


class Run(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    period: str = Field(index=True)                 # YYYY-MM the inspection counts for
    kind: str = "run"                               # run | check | demo
    status: str = "running"                         # running | completed | failed | interrupted
    started: datetime = Field(default_factory=utcnow)
    finished: Optional[datetime] = None
    config_path: str = ""
    inspector: str = ""
    note: str = ""
    journal: str = ""                               # folder of the crawl's journal, for --resume
    # What the run was started with, kept by --resume: sites (None: all), checks, out.
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class Site(SQLModel, table=True):
    """A website or new-media account; one row per name, kept across runs."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    url: str = ""
    kind: str = "website"                           # website | newmedia
    department: str = ""


class SiteResult(SQLModel, table=True):
    """What one run found for one site: counts, score, vetoes and per-check facts."""

    # One result per site and run: a site's job delivered twice (patrol worker) stores it once.
    __table_args__ = (Index("ux_siteresult_run_site", "run_id", "site_id", unique=True),)

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    status: str = "completed"                       # completed | failed | interrupted
    pages: int = 0
    links: int = 0
    broken: int = 0
    score: Optional[float] = None
    veto: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    stats: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    error: str = ""


class Page(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    site_id: int = Field(foreign_key="site.id")
    url: str
    final_url: str = ""
    status: int = 0
    depth: int = 0
    title: str = ""
    rendered: bool = False
    published: Optional[str] = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class Link(SQLModel, table=True):
    """One distinct URL checked in a run, with its result."""

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    site_id: int = Field(foreign_key="site.id")
    url: str
    kind: str = "ok"
    status: Optional[int] = None
    final_url: Optional[str] = None
    redirects: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    elapsed_ms: Optional[int] = None
    error: str = ""
    internal: bool = True


class LinkUse(SQLModel, table=True):
    """Where a broken or redirected link appears: one row per (page, target, tag)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    site_id: int = Field(foreign_key="site.id")
    page: str
    url: str
    tag: str = "a"
    anchor: str = ""


class FindingRow(SQLModel, table=True):
    __tablename__ = "finding"
    __table_args__ = (Index("ix_finding_run_fp", "run_id", "fingerprint"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    site_id: Optional[int] = Field(default=None, foreign_key="site.id")
    fingerprint: str = Field(index=True)
    check: str = Field(index=True)
    severity: str = "error"
    site: str = ""
    department: str = ""
    url: str = ""
    page: Optional[str] = None
    message: str = ""
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    first_seen_run: Optional[int] = None            # the run that first reported it
    state: str = "new"                              # new | open (seen before)

    def to_finding(self) -> Finding:
        return Finding(check=self.check, severity=self.severity, site=self.site, url=self.url,
                       message=self.message, page=self.page, department=self.department,
                       detail=dict(self.detail or {}))


class Screenshot(SQLModel, table=True):
    """A page behind a serious finding as it looked during the run (patrol/evidence.py), so
    every rendering of the report shows the same evidence without touching the network."""

    __table_args__ = (Index("ix_screenshot_run_fp", "run_id", "fingerprint", unique=True),)

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    fingerprint: str
    page: str = ""
    image: Optional[bytes] = Field(default=None, sa_column=Column(LargeBinary))   # JPEG
    error: str = ""                                 # why there is no image
    taken_at: datetime = Field(default_factory=utcnow)


class Mail(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    department: str = Field(index=True)
    recipients: str = ""
    status: str = "pending"                         # pending | sent | failed | dry_run
    attempts: int = 0
    sent_at: Optional[datetime] = None
    message_id: str = ""
    error: str = ""
    fingerprints: list[str] = Field(default_factory=list, sa_column=Column(JSON))


class Probe(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    site: str = Field(index=True)
    url: str = ""
    at: datetime = Field(default_factory=utcnow, index=True)
    ok: bool = False
    status: Optional[int] = None
    elapsed_ms: Optional[int] = None
    error: str = ""


class Rectification(SQLModel, table=True):
    """One mailed rectification item, followed up by later runs (the closed loop)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(index=True)                    # item key: a fingerprint or a link target's
    department: str = Field(default="", index=True)
    site: str = ""
    check: str = ""
    mailed_run: int = Field(foreign_key="run.id", index=True)
    mail_id: Optional[int] = None
    fingerprints: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    deadline: str = ""                              # ISO date
    state: str = "open"                             # open | fixed | overdue
    checked_run: Optional[int] = None               # the last run that looked at it
    closed_run: Optional[int] = None                # the run that found it fixed
    updated: datetime = Field(default_factory=utcnow)


class Mark(SQLModel, table=True):
    """An inspector's (or a department's) word on one finding, by fingerprint: it applies to
    every run that reports the same fingerprint (reports/triage.py)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    fingerprint: str = Field(index=True, unique=True)
    state: str = "false_alarm"                      # false_alarm | accepted | fixed
    note: str = ""
    by: str = ""
    at: datetime = Field(default_factory=utcnow)
    source: str = "cli"                             # cli | console | api | feedback
    run_id: Optional[int] = None                    # the run the finding was marked from
    site: str = ""
    check: str = ""
    department: str = ""


class MarkLog(SQLModel, table=True):
    """Every mark set or cleared, kept for audit (a cleared mark leaves its trace here)."""

    __tablename__ = "mark_log"

    id: Optional[int] = Field(default=None, primary_key=True)
    fingerprint: str = Field(index=True)
    state: str = ""                                 # the state set, or "cleared"
    note: str = ""
    by: str = ""
    at: datetime = Field(default_factory=utcnow)
    source: str = ""


class NewMediaPost(SQLModel, table=True):
    """A post of a new-media account seen by some run, kept so the year's repost total
    survives feeds that only list their latest posts."""

    __tablename__ = "newmedia_post"
    __table_args__ = (Index("ux_newmedia_post_account_key", "account", "key", unique=True),)

    id: Optional[int] = Field(default=None, primary_key=True)
    account: str = Field(index=True)
    key: str                                        # the post URL, or title|day without one
    url: str = ""
    title: str = ""
    day: Optional[str] = Field(default=None, index=True)   # ISO date in China time
    repost: str = ""                                # authoritative source reposted, if any
    origin: str = "feed"
    first_seen: datetime = Field(default_factory=utcnow)


class Store:
    """A thin wrapper over an engine: opens, creates tables, writes a site's results."""

    def __init__(self, url: str, base_dir: Path | None = None):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and base_dir:
            rel = url[len("sqlite:///"):]
            if rel and rel != ":memory:":
                url = "sqlite:///" + str((base_dir / rel).resolve())
        self.url = url
        try:
            self.engine: Engine = create_engine(url)
            if url.startswith("sqlite"):
                event.listen(self.engine, "connect", _sqlite_pragmas)
            self.upgraded_from = schema.prepare(self.engine, self.engine.url.render_as_string(hide_password=True))
        except schema.SchemaError as exc:
            raise StoreError(str(exc)) from None
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(f"cannot open database {url!r}: {exc}") from None
        self._lock_conn: Any = None

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # --- runs ------------------------------------------------------------------------------

    # --- one writer ------------------------------------------------------------------------

    def lock(self) -> None:
        """Hold the store's writer lock until ``unlock`` (or the process ends).

        SQLite: ``patrol.runlock`` on the database file, taken by the runner before this opens.
        PostgreSQL: an advisory lock on a connection kept open for the run."""
        if self.engine.dialect.name != "postgresql" or self._lock_conn is not None:
            return
        conn = self.engine.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": PG_LOCK_KEY}).scalar()
        if not got:
            holder = _pg_lock_holder(conn)
            conn.close()
            raise StoreError(f"{self.engine.url.render_as_string(hide_password=True)}: another patrol is "
                             f"writing to this database{f' ({holder})' if holder else ''}; wait for it to "
                             "finish, or stop it (Ctrl-C or SIGTERM) and continue it later with "
                             "`patrol run --resume`")
        # Who holds the lock, for the message of a patrol that finds it taken.
        name = f"patrol, process {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}"
        conn.execute(text("SELECT set_config('application_name', :name, false)"), {"name": name})
        conn.commit()
        self._lock_conn = conn

    def unlock(self) -> None:
        if self._lock_conn is not None:
            try:
                self._lock_conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})
            finally:
                self._lock_conn.close()
                self._lock_conn = None

    def settle_stale_runs(self) -> list[int]:
        """Runs still marked ``running`` while this process holds the writer lock were stopped
        without a word (killed, power cut): they are ``interrupted``.  Returns their ids."""
        with self.session() as s:
            ids = list(s.exec(select(Run.id).where(Run.status == "running")))
            if ids:
                s.execute(update(Run).where(Run.id.in_(ids))  # type: ignore[union-attr]
                          .values(status="interrupted"))
                s.commit()
        return [i for i in ids if i is not None]

    def interrupted_runs(self, period: str | None = None, kind: str | None = "run") -> list[Run]:
        """Interrupted runs, newest first (of ``period`` and ``kind`` when given)."""
        with self.session() as s:
            q = select(Run).where(Run.status == "interrupted")
            if period:
                q = q.where(Run.period == period)
            if kind:
                q = q.where(Run.kind == kind)
            return list(s.exec(q.order_by(Run.id.desc())))  # type: ignore[union-attr]

    def resumable_run(self, kind: str = "run") -> Run | None:
        """The most recent interrupted run of ``kind``."""
        runs = self.interrupted_runs(kind=kind)
        return runs[0] if runs else None

    def reopen_run(self, run_id: int) -> Run:
        with self.session() as s:
            run = s.get(Run, run_id)
            assert run is not None
            run.status, run.finished = "running", None
            s.add(run)
            s.commit()
            s.refresh(run)
            return run

    def finished_sites(self, run_id: int) -> set[str]:
        """Names of the sites and accounts whose results this run stored as complete."""
        with self.session() as s:
            q = (select(Site.name).join(SiteResult, SiteResult.site_id == Site.id)
                 .where(SiteResult.run_id == run_id, SiteResult.status != "interrupted"))
            return set(s.exec(q))

    def clear_site(self, run_id: int, name: str) -> None:
        """Remove what this run stored for one site (its partial results before a resume)."""
        with self.session() as s:
            site = s.exec(select(Site).where(Site.name == name)).first()
            if site is None:
                return
            _delete_site_rows(s, run_id, site.id)
            s.commit()

    # --- runs ------------------------------------------------------------------------------

    def start_run(self, period: str, kind: str = "run", config_path: str = "", inspector: str = "",
                  journal: str = "", options: dict[str, Any] | None = None) -> Run:
        with self.session() as s:
            run = Run(period=period, kind=kind, config_path=config_path, inspector=inspector,
                      journal=journal, options=options or {})
            s.add(run)
            s.commit()
            s.refresh(run)
            return run

    def finish_run(self, run_id: int, status: str = "completed") -> Run:
        with self.session() as s:
            run = s.get(Run, run_id)
            assert run is not None
            run.status = status
            run.finished = utcnow()
            s.add(run)
            s.commit()
            s.refresh(run)
        self.sync()
        return run

    def sync(self) -> None:
        """Make what is committed durable now: SQLite in WAL mode with synchronous=NORMAL syncs
        at checkpoints only, and a run's journal is removed once its end is recorded."""
        if self.engine.dialect.name != "sqlite":
            return
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except SQLAlchemyError:
            pass

    def get_run(self, run_id: int | None = None, period: str | None = None) -> Run | None:
        with self.session() as s:
            if run_id is not None:
                return s.get(Run, run_id)
            q = select(Run).where(Run.status == "completed")
            if period:
                q = q.where(Run.period == period)
            return s.exec(q.order_by(Run.id.desc())).first()  # type: ignore[union-attr]

    def site_row(self, name: str, url: str = "", kind: str = "website", department: str = "") -> Site:
        with self.session() as s:
            row = s.exec(select(Site).where(Site.name == name)).first()
            if row is None:
                row = Site(name=name, url=url, kind=kind, department=department)
            else:
                row.url, row.kind, row.department = url or row.url, kind, department or row.department
            s.add(row)
            s.commit()
            s.refresh(row)
            return row

    # --- results ---------------------------------------------------------------------------

    def save_site(self, run_id: int, crawl: SiteCrawl, findings: list[Finding],
                  result: dict[str, Any], kind: str = "website") -> SiteResult:
        """Write one site's pages, links, link uses, findings and summary in one transaction."""
        site_id, previous = self._site_to_write(run_id, crawl, kind)
        with self.session() as s:
            summary = self._write_site(s, run_id, site_id, crawl, findings, result, previous)
            s.commit()
            s.refresh(summary)
            return summary

    def _site_to_write(self, run_id: int, crawl: SiteCrawl, kind: str) -> tuple[int, dict[str, int]]:
        """The id of the site's row (made or brought up to date; one another machine added
        meanwhile is read again) and the fingerprints of its earlier findings."""
        try:
            site = self.site_row(crawl.name, crawl.url, kind, crawl.department)
        except IntegrityError:
            site = self.site_row(crawl.name, crawl.url, kind, crawl.department)
        assert site.id is not None
        return site.id, self.previous_fingerprints(site.id, run_id)

    def save_site_streamed(self, run_id: int, crawl: SiteCrawl, pages: Iterable[PageSnapshot],
                           links: Iterable[LinkResult], problem: set[str],
                           finish: Callable[[], tuple[list[Finding], dict[str, Any]]],
                           kind: str = "website") -> SiteResult:
        """``save_site`` for a crawl read from disk one page at a time: the pages and link
        results are written in batches as they come (``problem``: the URLs whose uses are
        kept, those not ``ok`` or redirected), then ``finish()`` gives the findings and the
        summary (the checks that read the pages as they went by have seen them all).  One
        transaction, as ``save_site``."""
        site_id, previous = self._site_to_write(run_id, crawl, kind)
        with self.session() as s:
            conn = s.connection()
            uses: list[dict[str, Any]] = []

            def page_rows() -> Iterator[dict[str, Any]]:
                for p in pages:
                    uses.extend(_use_row(run_id, site_id, p, ref) for ref in p.links if ref.url in problem)
                    yield _page_row(run_id, site_id, p)
            _insert_batched(conn, Page, page_rows())
            _insert_batched(conn, Link, (_link_row(run_id, site_id, r) for r in links))
            _insert_many(conn, LinkUse, uses)
            findings, result = finish()
            return self._finish_site(s, conn, run_id, site_id, previous, findings, result)

    def _finish_site(self, s: Session, conn: Any, run_id: int, site_id: int, previous: dict[str, int],
                     findings: list[Finding], result: dict[str, Any]) -> SiteResult:
        """The findings and the summary of a site whose pages and links are written; commits."""
        _insert_many(conn, FindingRow, _finding_rows(run_id, site_id, previous, findings))
        summary = SiteResult(run_id=run_id, site_id=site_id, **result)
        s.add(summary)
        s.commit()
        s.refresh(summary)
        return summary

    def save_site_once(self, run_id: int, crawl: SiteCrawl, findings: list[Finding],
                       result: dict[str, Any], kind: str = "website") -> bool:
        """``save_site`` for a job that may be delivered twice (``patrol worker``): in one
        transaction, nothing when the run already holds a complete result of the site, else
        what it holds of it (an interrupted crawl's part) replaced.  Two machines storing the
        same site at once: the unique (run, site) index lets one commit and rolls the other
        back.  True when this call stored the site."""
        site_id, previous = self._site_to_write(run_id, crawl, kind)
        with self.session() as s:
            held = s.exec(select(SiteResult.status).where(SiteResult.run_id == run_id,
                                                          SiteResult.site_id == site_id)).first()
            if held is not None and held != "interrupted":
                return False
            _delete_site_rows(s, run_id, site_id)
            try:
                self._write_site(s, run_id, site_id, crawl, findings, result, previous)
                s.commit()
            except IntegrityError:
                s.rollback()
                return False
        return True

    def site_stored(self, run_id: int, name: str) -> bool:
        """True when the run holds a complete result (any status but ``interrupted``) of the site."""
        with self.session() as s:
            q = (select(SiteResult.id).join(Site, Site.id == SiteResult.site_id)
                 .where(SiteResult.run_id == run_id, Site.name == name,
                        SiteResult.status != "interrupted"))
            return s.exec(q).first() is not None

    def _write_site(self, s: Session, run_id: int, site_id: int, crawl: SiteCrawl, findings: list[Finding],
                    result: dict[str, Any], previous: dict[str, int]) -> SiteResult:
        """The rows of one site's results, in the caller's transaction (summary first: the
        unique (run, site) index stops a second writer before its pages are sent)."""
        summary = SiteResult(run_id=run_id, site_id=site_id, **result)
        s.add(summary)
        s.flush()
        conn = s.connection()
        _write_crawl(conn, run_id, site_id, crawl)
        _insert_many(conn, FindingRow, _finding_rows(run_id, site_id, previous, findings))
        return summary

    def previous_fingerprints(self, site_id: int, run_id: int) -> dict[str, int]:
        """Fingerprint -> first run that reported it, over the site's earlier completed runs."""
        with self.session() as s:
            q = (select(FindingRow.fingerprint, FindingRow.first_seen_run)
                 .join(Run, Run.id == FindingRow.run_id)
                 .where(FindingRow.site_id == site_id, FindingRow.run_id < run_id,
                        Run.status == "completed"))
            return {fp: first or 0 for fp, first in s.exec(q)}

    def save_screenshot(self, run_id: int, fingerprint: str, page: str, image: bytes | None,
                        error: str = "") -> None:
        """Keep (or replace) the shot of one finding's page in this run."""
        with self.session() as s:
            s.execute(delete(Screenshot).where(Screenshot.run_id == run_id,
                                            Screenshot.fingerprint == fingerprint))
            s.add(Screenshot(run_id=run_id, fingerprint=fingerprint, page=page, image=image,
                             error=error))
            s.commit()

    def screenshots(self, run_id: int) -> dict[str, Screenshot]:
        """The run's shots by finding fingerprint."""
        with self.session() as s:
            rows = s.exec(select(Screenshot).where(Screenshot.run_id == run_id)).all()
            return {r.fingerprint: r for r in rows}

    def findings(self, run_id: int) -> list[FindingRow]:
        with self.session() as s:
            return list(s.exec(select(FindingRow).where(FindingRow.run_id == run_id)
                               .order_by(FindingRow.id)))

    def site_results(self, run_id: int) -> list[tuple[SiteResult, Site]]:
        with self.session() as s:
            q = (select(SiteResult, Site).join(Site, Site.id == SiteResult.site_id)
                 .where(SiteResult.run_id == run_id).order_by(SiteResult.id))
            return [(r, site) for r, site in s.exec(q)]

    def link_uses(self, run_id: int, urls: Iterable[str]) -> dict[str, list[LinkUse]]:
        wanted = set(urls)
        out: dict[str, list[LinkUse]] = {}
        if not wanted:
            return out
        with self.session() as s:
            q = select(LinkUse).where(LinkUse.run_id == run_id)
            for use in s.exec(q):
                if use.url in wanted:
                    out.setdefault(use.url, []).append(use)
        return out

    def runs(self) -> list[Run]:
        with self.session() as s:
            return list(s.exec(select(Run).order_by(Run.id)))

    # --- new-media posts -------------------------------------------------------------------

    def save_newmedia_posts(self, account: str, posts: list[dict[str, Any]]) -> int:
        """Remember an account's posts (dicts with key, url, title, day, repost, origin);
        returns how many were new."""
        added = 0
        with self.session() as s:
            known = {row.key: row for row in s.exec(select(NewMediaPost).where(NewMediaPost.account == account))}
            for post in posts:
                row = known.get(post["key"])
                if row is None:
                    row = NewMediaPost(account=account, **post)
                    known[row.key] = row
                    added += 1
                else:
                    for name, value in post.items():
                        setattr(row, name, value)
                s.add(row)
            s.commit()
        return added

    def newmedia_posts(self, account: str, since: Any = None) -> list[NewMediaPost]:
        """An account's remembered posts, those dated on or after ``since`` (a date) if given."""
        with self.session() as s:
            q = select(NewMediaPost).where(NewMediaPost.account == account)
            if since is not None:
                q = q.where(NewMediaPost.day >= since.isoformat())  # type: ignore[operator]
            return list(s.exec(q.order_by(NewMediaPost.day)))


# The advisory lock of ``patrol run`` on PostgreSQL ("patrol" in ASCII).
PG_LOCK_KEY = 0x706174726F6C


def _pg_lock_holder(conn: Any) -> str:
    """The application name of the session holding the advisory lock (``patrol, process N,
    since ...``); empty when it cannot be seen (another user's session, a server that hides it)."""
    try:
        return str(conn.execute(text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :hi AND l.objid = :lo "
            "AND l.objsubid = 1 LIMIT 1"),
            {"hi": PG_LOCK_KEY >> 32, "lo": PG_LOCK_KEY & 0xFFFFFFFF}).scalar() or "")
    except SQLAlchemyError:
        return ""


# How long opening a SQLite database waits for another process to let it switch to WAL.
SQLITE_WAL_WAIT_S = 30.0


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # A database in another journal mode (new, or written by another tool) is switched to WAL
    # once.  The switch needs the database to itself and SQLite does not wait for that: while
    # another process opens or upgrades it at the same moment, try again for a while.
    deadline = time.monotonic() + SQLITE_WAL_WAIT_S
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            break
        except Exception as exc:        # sqlite3.OperationalError, without importing the driver here
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _insert_many(conn: Any, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys (every column, the key aside).

    On SQLite (the default store) they go to the driver's ``executemany`` as tuples, JSON
    columns serialised as SQLAlchemy's JSON type does (``json.dumps``): SQLAlchemy's per-row
    parameter processing was most of storing a large site (0.2 s of CPU for 14,000 pages and
    links, at the end of every run).  Other databases get SQLAlchemy's ``executemany``, whose
    drivers need its type handling (a JSON parameter on PostgreSQL)."""
    if not rows:
        return
    table = model.__table__  # type: ignore[attr-defined]
    names = list(rows[0])
    if conn.dialect.name != "sqlite" or any(
            c.default is not None and c.name not in names for c in table.columns):
        # Column defaults are SQLAlchemy's to apply: rows that leave such a column out take
        # its insert.
        conn.execute(insert(model), rows)
        return
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    at = [i for i, name in enumerate(names) if name in json_columns]
    quote = conn.dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
           f"VALUES ({', '.join('?' * len(names))})")
    # The engine's JSON serialiser when one was given to create_engine, as SQLAlchemy uses it.
    dumps_ = getattr(conn.dialect, "_json_serializer", None) or json.dumps
    values_of = operator.itemgetter(*names)     # by name: a missing key raises, order is kept
    params = []
    for row in rows:
        values = values_of(row)
        if len(names) == 1:
            values = (values,)
        if at:
            values = list(values)
            for i in at:
                values[i] = dumps_(values[i])
        params.append(tuple(values))
    conn.exec_driver_sql(sql, params)


def _delete_site_rows(s: Session, run_id: int, site_id: int) -> None:
    """Every row a run stored for one site (in the caller's transaction)."""
    for model in (Page, Link, LinkUse, FindingRow, SiteResult):
        s.execute(delete(model).where(model.run_id == run_id,  # type: ignore[attr-defined]
                                      model.site_id == site_id))  # type: ignore[attr-defined]


def _insert_batched(conn: Any, model: type[SQLModel], rows: Iterable[dict[str, Any]]) -> None:
    """``_insert_many`` for rows that come one at a time: STREAM_BATCH at once."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= STREAM_BATCH:
            _insert_many(conn, model, batch)
            batch = []
    _insert_many(conn, model, batch)


def _write_crawl(conn: Any, run_id: int, site_id: int, crawl: SiteCrawl) -> None:
    """A site's pages, link results and the uses of its problem links (a crawl in memory)."""
    _insert_many(conn, Page, [_page_row(run_id, site_id, p) for p in crawl.pages])
    _insert_many(conn, Link, [_link_row(run_id, site_id, r) for r in crawl.links.values()])
    # Where each problem link appears (page, tag, anchor text).  Working links are not
    # listed: a large site has hundreds of thousands of uses and nothing reads them.
    problem = {url for url, r in crawl.links.items() if not r.ok or r.redirects}
    _insert_many(conn, LinkUse, [_use_row(run_id, site_id, p, ref) for p in crawl.pages for ref in p.links
                                 if ref.url in problem])


def _finding_rows(run_id: int, site_id: int, previous: dict[str, int],
                  findings: list[Finding]) -> list[dict[str, Any]]:
    """The rows of a site's findings, once per fingerprint, each with the run that first
    reported it (``previous``: fingerprint -> first run, over earlier runs)."""
    rows = []
    seen: set[str] = set()
    for f in findings:
        fp = f.fingerprint
        if fp in seen:
            continue
        seen.add(fp)
        first = previous.get(fp)
        rows.append({
            "run_id": run_id, "site_id": site_id, "fingerprint": fp, "check": f.check,
            "severity": f.severity, "site": f.site, "department": f.department,
            "url": f.url, "page": f.page, "message": f.message, "detail": f.detail,
            "first_seen_run": first or run_id, "state": "open" if first else "new",
        })
    return rows


def _page_row(run_id: int, site_id: int, p: PageSnapshot) -> dict[str, Any]:
    data = {"breadcrumb": p.breadcrumb, "list_items": [vars_(i) for i in p.list_items],
            "placeholder": p.placeholder, "encoding": p.encoding, "referer": p.referer,
            "links": len(p.links)}
    return {"run_id": run_id, "site_id": site_id, "url": p.url, "final_url": p.final_url,
            "status": p.status, "depth": p.depth, "title": p.title, "rendered": p.rendered,
            "published": p.published, "data": data}


def _use_row(run_id: int, site_id: int, p: PageSnapshot, ref: Any) -> dict[str, Any]:
    return {"run_id": run_id, "site_id": site_id, "page": p.url, "url": ref.url, "tag": ref.tag,
            "anchor": ref.anchor}


def _link_row(run_id: int, site_id: int, r: LinkResult) -> dict[str, Any]:
    return {"run_id": run_id, "site_id": site_id, "url": r.url, "kind": r.kind, "status": r.status,
            "final_url": r.final_url, "redirects": r.redirects, "elapsed_ms": r.elapsed_ms,
            "error": r.error, "internal": r.internal}


def vars_(obj: Any) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in obj.__slots__} if hasattr(obj, "__slots__") else dict(vars(obj))


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)
