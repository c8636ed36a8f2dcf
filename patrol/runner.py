"""Running a patrol: crawl the sites in worker processes, check, store, report.

The crawl of each site runs in a separate process (``python -m crawler.run``), several sites
per process and one process per core, so the Twisted reactor is never restarted and both cores
work.  Each crawl writes a JSON-lines file, indexed on disk as it is read (patrol/siteindex.py);
as soon as a site's crawl ends this module runs every site-level check on it (page by page
for the checks that allow it, patrol/sitestream.py; else on the site loaded alone) and stores
the results in one transaction per site (docs/scale.md).
"""
from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from checks.model import CheckContext, CheckOutput, Finding, SiteCrawl
from crawler.jsonlines import JOURNAL_DAMAGED
from patrol import evidence, runlock
from common import thresholds as thresholds_mod
from common.config import Config, ConfigError, Crawl, Site, config_from_dict, load_config
from patrol import sitestream
from patrol.crawling import JournalError, read_journal, start_crawls
from patrol.siteindex import StreamedCrawl
from common.stopping import Interrupted, StopSignals

if TYPE_CHECKING:
    from store import Run, Store

# Site-level checks, in report order: (name, "module:function").  A check whose module is not
# installed is skipped; a check that fails is recorded on the site, never fatal to the run.
SITE_CHECKS: list[tuple[str, str]] = [
    ("links", "checks.links:check_site"),
    ("freshness", "checks.freshness:check_site"),
    ("text", "checks.text:check_site"),
    ("ipv6", "checks.ipv6:check_site"),
    ("availability", "checks.availability:check_site"),
    ("interaction", "checks.interaction:check_site"),
    ("phones", "checks.phones:check_site"),
    # 政务公开 checks (docs/opengov.md)
    ("site_identity", "checks.identity:check_site"),
    ("page_labels", "checks.labels:check_site"),
    ("annual_report", "checks.annualreport:check_site"),
    ("policy_interpretation", "checks.interpretation:check_site"),
]


@dataclass
class RunOutcome:
    run_id: int
    out_dir: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    sites: list[dict[str, Any]] = field(default_factory=list)
    findings: int = 0
    interrupted: Interrupted | None = None      # the stop signal that ended the run early
    status: str = ""                            # the run's stored status at the end


# --- crawling: see patrol/crawling.py ------------------------------------------------------

# --- checking ------------------------------------------------------------------------------

def check_context(cfg: Config, site: Site, today: date, facts: dict[str, Any] | None = None) -> CheckContext:
    return CheckContext(
        site=site.name, department=site.department, today=today.isoformat(),
        thresholds=thresholds_mod.merged(cfg, site),
        leaders=[{"name": x.name, "title": x.title} for x in cfg.leaders],
        columns=[asdict(c) for c in site.columns], facts=facts or {})


def _load_check(spec: str) -> Callable[[SiteCrawl, CheckContext], CheckOutput] | None:
    module, func = spec.split(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise
    return getattr(mod, func, None)


def run_checks(crawl: SiteCrawl, ctx: CheckContext, only: list[str] | None = None) -> CheckOutput:
    """Every site-level check on one crawl; their findings, facts (by check) and vetoes together."""
    total = CheckOutput()
    for name, spec in SITE_CHECKS:
        if only is not None and name not in only:
            continue
        check = _load_check(spec)
        if check is None:
            continue
        try:
            out = check(crawl, ctx)
        except Exception as exc:  # a check's bug must not lose the run's other results
            crawl.errors.append(f"check {name} failed: {exc!r}")
            total.facts[name] = {"error": "".join(traceback.format_exception_only(exc)).strip()}
            continue
        total.findings.extend(out.findings)
        total.facts[name] = out.facts
        total.veto.extend(v for v in out.veto if v not in total.veto)
    return total


def check_site(cfg: Config, site: Site, crawl: SiteCrawl, store: Store, today: date,
               checks: list[str] | None, resolver: Any) -> tuple[CheckOutput, dict[str, Any]]:
    """One crawled site's checks and the summary ``store.save_site`` keeps of it."""
    facts = measure(cfg, site, crawl, store, today, checks, resolver)
    ctx = check_context(cfg, site, today, facts)
    out = run_checks(crawl, ctx, checks)
    return out, site_result(cfg, crawl, out)


def site_result(cfg: Config, crawl: SiteCrawl, out: CheckOutput) -> dict[str, Any]:
    """The summary ``store.save_site`` keeps of a checked site (what happened to its crawl is
    added to the checks' facts)."""
    if crawl.stats.get("restarted"):
        out.facts["crawl"] = {"restarted": crawl.stats["restarted"]}
    damaged = [e for e in crawl.errors if e.startswith(JOURNAL_DAMAGED)]
    if damaged:
        out.facts.setdefault("crawl", {})["journal"] = damaged
    return {
        "status": "failed" if crawl_failed(crawl) else "completed",
        "pages": page_count(crawl), "links": link_count(crawl),
        "broken": out.facts.get("links", {}).get("broken", 0),
        "score": score(out.findings, out.veto, cfg), "veto": out.veto, "stats": out.facts,
        "error": "; ".join(crawl.errors)[:2000],
    }


def site_line(name: str, result: dict[str, Any]) -> dict[str, Any]:
    """A site's line of the summary ``print_summary`` shows, from its stored result."""
    link_facts = (result.get("stats") or {}).get("links", {})
    return {"name": name, **{k: result.get(k) for k in ("pages", "links", "broken", "score", "status")},
            "veto": result.get("veto") or [],
            # Links the servers would not answer (429): not verified.
            "not_verified": link_facts.get("rate_limited", 0),
            # Problems handling pages: each is a page_error finding.
            "page_errors": link_facts.get("page_errors", 0)}


def score(findings: list[Finding], veto: list[str], cfg: Config | None) -> float | None:
    try:
        from checks import scoring
    except ImportError:
        return None
    return scoring.score_site(findings, veto, scoring.load_table(cfg))


# --- a whole run ---------------------------------------------------------------------------

def patrol(cfg: Config, *, sites: list[Site] | None = None, out_dir: Path | None = None,
           period: str | None = None, kind: str = "run", fast: bool = False, progress: bool = False,
           today: date | None = None, store: Store | None = None,
           checks: list[str] | None = None, resume: bool = False) -> RunOutcome:
    """One run: crawl, check, store, report.  SIGINT, SIGTERM and SIGHUP stop it: the crawl
    processes are stopped, what they crawled is stored, the run is recorded as
    ``interrupted`` and its report says 巡检未完成 (``outcome.interrupted``).  ``resume``
    continues the most recent interrupted run of ``kind`` from its journal instead."""
    if checks is None or "text" in checks or "newmedia" in checks:
        # The text checks' data files are read now: a damaged one (DataFileError) stops the
        # run before anything is crawled, rather than failing every site's check after it.
        text_checker(cfg)
    with StopSignals() as stop:
        with runlock.acquire(cfg.database, _config_dir(cfg), what=f"patrol {kind}"):
            return _patrol(cfg, stop, sites=sites, out_dir=out_dir, period=period, kind=kind, fast=fast,
                           progress=progress, today=today, store=store, checks=checks, resume=resume)


def _config_dir(cfg: Config) -> Path | None:
    return Path(cfg.path).parent if cfg.path not in ("", "<none>", "<config>") else None


def journal_root(cfg: Config) -> Path:
    """Where runs keep their crawl journal until they complete: ``<output>/.journal``."""
    return (Path(cfg.output) / ".journal").resolve()


def _patrol(cfg: Config, stop: StopSignals, *, sites: list[Site] | None, out_dir: Path | None,
            period: str | None, kind: str, fast: bool, progress: bool, today: date | None,
            store: Store | None, checks: list[str] | None, resume: bool) -> RunOutcome:
    today = today or date.today()
    period = period or today.strftime("%Y-%m")
    # What the run is started with, kept with it for --resume.
    options: dict[str, Any] = {
        "sites": None if sites is None else [s.name for s in sites] + [a.name for a in cfg.newmedia],
        "checks": checks, "out": str(Path(out_dir).resolve()) if out_dir else None}
    sites = cfg.sites if sites is None else sites
    crawl_cfg = Crawl(**{**asdict(cfg.crawl), "fast": cfg.crawl.fast or fast})
    resolver = asdict(cfg.resolver)
    crawling = None
    run: Run | None = None
    done: set[str] = set()              # sites (and accounts) whose results are stored
    try:
        if resume:
            store = store or open_store(cfg)
            store.lock()
            store.settle_stale_runs()
            run = store.resumable_run(kind)
            if run is None or not run.journal:
                raise ConfigError("--resume: there is no interrupted run to continue"
                                  + (" (the last one left no journal)" if run is not None else ""))
            assert run.id is not None
            journal = Path(run.journal)
            if not journal.is_dir():
                raise ConfigError(f"--resume: the crawl journal of run {run.id} ({journal}) is gone, so "
                                  "the run cannot be continued; `patrol run` starts a new one")
            try:
                read_journal(journal)   # one of another format is refused before anything starts
            except JournalError as exc:
                raise ConfigError(f"--resume: run {run.id}: {exc}; `patrol run` starts a new one") from None
            sites, checks, out_dir = _resumed_options(cfg, run, options, checks, out_dir)
            period = run.period
            today = _local_date(run.started)
            done = store.finished_sites(run.id)
            store.reopen_run(run.id)
            log(progress, f"resuming run {run.id} ({period}) from {journal}")
            crawling = start_crawls([s for s in sites if s.name not in done], crawl_cfg, resolver, journal,
                                    progress=progress, checks=checks, today=today, resume=True, streamed=True)
        else:
            # The crawl processes start first: opening the store and loading the checks overlap
            # their start-up.
            journal = journal_root(cfg) / f"{period}-{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
            if runlock.sqlite_path(cfg.database) is None:
                # Another database: the store's own lock is the writer lock, taken first.
                store = store or open_store(cfg)
                store.lock()
            # A stop signal from here until the run is recorded is taken once it is: the pages
            # crawled meanwhile are then in the journal of a run that can be resumed.
            with stop.held():
                crawling = start_crawls(sites, crawl_cfg, resolver, journal, progress=progress,
                                        checks=checks, today=today, streamed=True)
                store = store or open_store(cfg)
                store.lock()
                store.settle_stale_runs()
                earlier = store.interrupted_runs(period, kind)
                if earlier and kind == "run":
                    print(interrupted_hint(store, earlier[0]), file=sys.stderr)
                run = store.start_run(period, kind=kind, config_path=cfg.path, inspector=cfg.inspector.name,
                                      journal=str(journal.resolve()), options=options)
        stop.on_force = crawling.kill_now
    except BaseException:
        if crawling is not None:
            crawling.kill_now()
            crawling.reap(timeout=5)
        if resume and run is not None and run.id is not None and store is not None:
            store.finish_run(run.id, "interrupted")       # still to be continued
        elif not resume and crawling is not None:
            if run is not None and run.id is not None and store is not None:
                store.finish_run(run.id, "failed")
            _remove_journal(journal)
        raise
    assert run.id is not None and store is not None
    started = time.monotonic()
    out_dir = Path(out_dir) if out_dir else Path(cfg.output) / f"run-{run.id}"
    outcome = RunOutcome(run_id=run.id, out_dir=out_dir)
    status = "interrupted" if resume else "failed"     # a resume that fails can be resumed again
    try:
        stop.check()                    # a signal held while the run started stops it here
        if not resume:
            mark_outputs_running(store, run.id, out_dir, cfg)
        from common.resolver import Resolver
        resolver_obj = Resolver.from_config(cfg.resolver)     # one cache for the whole run
        by_name = {site.name: site for site in sites}

        def check_and_store(name: str, crawl: SiteCrawl) -> None:
            """One site, as soon as its crawl has ended (``Crawls.wait``), or after."""
            site = by_name[name]
            if name in done:
                return
            streamed = isinstance(crawl, StreamedCrawl) and sitestream.streamable(checks)
            if isinstance(crawl, StreamedCrawl) and not streamed:
                crawl.load()            # checks that read the whole site: this site only
            facts = measure(cfg, site, crawl, store, today, checks, resolver_obj)
            ctx = check_context(cfg, site, today, facts)
            result: dict[str, Any] = {}

            def summarise(out: CheckOutput, crawl: SiteCrawl = crawl, result: dict[str, Any] = result
                          ) -> dict[str, Any]:
                result.update(site_result(cfg, crawl, out))
                return result

            with stop.deferred():
                if resume:
                    store.clear_site(run.id, site.name)
                if streamed:
                    assert isinstance(crawl, StreamedCrawl) and checks is not None
                    out, _ = sitestream.check_and_save(
                        store, run.id, crawl, ctx, checks, summarise=summarise,
                        other_checks=lambda names, crawl=crawl, ctx=ctx: run_checks(crawl, ctx, names))
                else:
                    out = run_checks(crawl, ctx, checks)
                    summarise(out)
                    store.save_site(run.id, crawl, out.findings, result)
                done.add(site.name)
            crawl.pages, crawl.links = [], {}   # (a loaded site) stored: not kept for the run
            crawling.release(name)
            outcome.findings += len(out.findings)
            outcome.sites.append(site_line(site.name, result))

        crawls = crawling.wait(on_site=check_and_store)
        for site in sites:
            if site.name not in done:
                check_and_store(site.name, crawls[site.name])
        # Stored as each crawl ended; listed in the configuration's order.
        order = {site.name: n for n, site in enumerate(sites)}
        outcome.sites.sort(key=lambda s: order.get(s["name"], len(order)))
        if checks is None or "newmedia" in checks:
            _newmedia(cfg, store, run.id, today, outcome, resolver_obj, skip=done, stop=stop)
        # The rectification loop's follow-up and the run's end are one step: a stop signal
        # meanwhile is raised after both.
        with stop.deferred():
            follow_up(store, run.id)
            store.finish_run(run.id, "completed")
            status = "completed"
        log(progress, f"checked in {time.monotonic() - started:.1f} s")
    except Interrupted as exc:
        outcome.interrupted = exc
        if status != "completed":       # (else the run is complete, only its report is not)
            status = "interrupted"
            print(f"\npatrol: {exc.name}: stopping the crawl and keeping what was crawled ...", file=sys.stderr)
            partial = crawling.interrupt()
            for site in sites:
                if site.name in done or site.name not in partial:
                    continue
                crawl = partial[site.name]
                store.clear_site(run.id, site.name)
                pages, links = page_count(crawl), link_count(crawl)
                kept = {"status": "interrupted", "pages": pages, "links": links,
                        "error": f"巡检未完成：interrupted by {exc.name} after {pages} pages"}
                if isinstance(crawl, StreamedCrawl) and crawl.index is not None and not crawl.pages:
                    sitestream.save_interrupted(store, run.id, crawl, kept)
                else:
                    store.save_site(run.id, crawl, [], kept)
                outcome.sites.append({"name": site.name, "pages": pages, "links": links,
                                      "broken": 0, "score": None, "veto": [], "status": "interrupted"})
    except BaseException as exc:
        crawling.kill_now()
        if not resume and status == "failed":
            status = _failed_fresh_run(crawling, run.id, journal, exc, kind)
        raise
    finally:
        if status != "completed":
            store.finish_run(run.id, status)
    outcome.status = status
    try:
        if outcome.interrupted is None or status != "completed":
            # A spot check's report is read on screen at once; the monthly report gets the
            # evidence shots.  An interrupted run's report says it is not complete.
            shots = 0 if kind == "check" or status != "completed" else SCREENSHOTS
            if shots:
                evidence.shoot(store, run.id, cfg, limit=shots)     # kept in the store
            outcome.outputs = write_outputs(store, run.id, out_dir, cfg, screenshots=shots)
    except Interrupted as exc:
        outcome.interrupted = outcome.interrupted or exc
        crawling.kill_now()
    finally:
        crawling.reap(timeout=5 if outcome.interrupted else 30.0)
        crawling.close()
        store.unlock()
    if status == "completed" or kind != "run":      # only `patrol run` resumes
        _remove_journal(journal)
    return outcome


def _resumed_options(cfg: Config, run: Run, given: dict[str, Any], checks: list[str] | None,
                     out_dir: Path | None) -> tuple[list[Site], list[str] | None, Path | None]:
    """The sites, checks and output folder of the run that --resume continues: those it was
    started with.  An option given again that says otherwise is refused."""
    kept = run.options or {}
    if not kept:                        # a run stored before its options were
        return ([s for s in cfg.sites if given["sites"] is None or s.name in given["sites"]],
                checks, out_dir)
    conflict = "--resume: run {} was started with {}; resume it without {} (or with the same)"

    def shown(value: Any, every: str) -> str:
        return every if value is None else ",".join(value)
    if given["sites"] is not None and (kept.get("sites") is None or set(given["sites"]) != set(kept["sites"])):
        raise ConfigError(conflict.format(run.id, f"--site {shown(kept.get('sites'), '(every site)')}", "--site"))
    if checks is not None and (kept.get("checks") is None or set(checks) != set(kept["checks"])):
        raise ConfigError(conflict.format(run.id, f"--checks {shown(kept.get('checks'), '(every check)')}",
                                          "--checks"))
    out = kept.get("out") or str((Path(cfg.output) / f"run-{run.id}").resolve())
    if given["out"] is not None and given["out"] != out:
        raise ConfigError(conflict.format(run.id, f"--out {out}", "--out"))
    names = kept.get("sites")
    if names is not None:
        known = {s.name for s in cfg.sites} | {a.name for a in cfg.newmedia}
        gone = [n for n in names if n not in known]
        if gone:
            raise ConfigError(f"--resume: site {gone[0]!r} of run {run.id} is no longer in {cfg.path}")
        cfg.newmedia = [a for a in cfg.newmedia if a.name in names]
    sites = [s for s in cfg.sites if names is None or s.name in names]
    return sites, kept.get("checks"), Path(out)


def interrupted_hint(store: Store, run: Run) -> str:
    """What ``patrol run`` says of an interrupted run of its period: how to continue it, or,
    when ``--resume`` would refuse it, why it cannot be continued."""
    said = f"patrol: run {run.id} of {run.period} was interrupted and is not counted"
    why = not_resumable(run)
    latest = store.resumable_run(run.kind)
    if why is None and latest is not None and latest.id != run.id:
        why = f"`patrol run --resume` continues the later interrupted run {latest.id} ({latest.period})"
    if why is None:
        return f"{said}; `patrol run --resume` continues it (this run starts afresh)"
    return (f"{said} and cannot be continued: {why}.  This run starts afresh and inspects every "
            "page again; it counts once it completes")


def not_resumable(run: Run) -> str | None:
    """Why ``patrol run --resume`` would refuse ``run`` (its journal missing or unreadable);
    None when it can be continued."""
    if (run.options or {}).get("queue"):
        return None                     # its sites are in the store, none in a journal
    if not run.journal:
        return "it left no crawl journal"
    journal = Path(run.journal)
    if not journal.is_dir():
        return f"its crawl journal ({journal}) is gone"
    try:
        read_journal(journal)
    except JournalError as exc:
        return str(exc)
    return None


def _failed_fresh_run(crawling: Any, run_id: int, journal: Path, exc: BaseException, kind: str) -> str:
    """The status of a new run that an error ended: ``interrupted`` (resumable, and said so)
    when its crawl had recorded pages, which ``--resume`` then does not fetch again; otherwise
    (and for a spot check or the demo, which are never resumed) ``failed``, and its journal,
    with nothing in it worth continuing, is removed."""
    if isinstance(exc, KeyboardInterrupt):
        return "failed"
    if kind != "run":
        crawling.reap(timeout=5)
        _remove_journal(journal)
        return "failed"
    try:
        crawling.reap(timeout=5)
        crawling.feed()
        crawled = sum(reader.pages_read for reader in crawling.readers.values())
    except Exception:  # noqa: BLE001 - read nothing: nothing to keep
        crawled = 0
    if crawled:
        print(f"patrol: run {run_id} stopped on an error after {crawled} pages were crawled; what was "
              "crawled is kept: `patrol run --resume` continues the run once the error is mended",
              file=sys.stderr)
        return "interrupted"
    _remove_journal(journal)
    return "failed"


def _remove_journal(journal: Path) -> None:
    shutil.rmtree(journal, ignore_errors=True)
    try:
        journal.parent.rmdir()          # .journal itself, once no run keeps one there
    except OSError:
        pass


def _local_date(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone().date()


def mark_outputs_running(store: Store, run_id: int, out_dir: Path, cfg: Config | None) -> None:
    """A folder that holds an earlier run's report gets this run's at once (巡检未完成, no
    results yet): if this run never finishes, nobody takes the old report for its own."""
    if not any((out_dir / name).exists() for name in ("findings.json", "report.html", "findings.csv")):
        return
    write_outputs(store, run_id, out_dir, cfg, screenshots=0)


# Pages shot as evidence of the most serious findings of a monthly run (none for a spot check).
SCREENSHOTS = 6


def page_count(crawl: SiteCrawl) -> int:
    """How many pages a crawl recorded (on disk or in memory)."""
    return crawl.page_count if isinstance(crawl, StreamedCrawl) else len(crawl.pages)


def link_count(crawl: SiteCrawl) -> int:
    return crawl.link_count if isinstance(crawl, StreamedCrawl) else len(crawl.links)


def crawl_failed(crawl: SiteCrawl) -> bool:
    """True when patrol could not do the crawl (a crashed or interrupted crawl process).

    An unreachable homepage is a finding of a completed inspection, and counts toward the
    yearly quota like any other."""
    return crawl.failed


def measure(cfg: Config, site: Site, crawl: SiteCrawl, store: Store, today: date,
            checks: list[str] | None = None, resolver: Any = None) -> dict[str, Any]:
    """Facts that need the network or the store besides the crawl (IPv6, availability)."""
    facts: dict[str, Any] = {}
    wanted = (lambda name: checks is None or name in checks)
    if crawl.pages and wanted("ipv6"):
        from patrol import ipv6
        try:
            facts["ipv6"] = ipv6.measure(crawl, resolver, timeout=min(cfg.crawl.timeout, 10.0))
        except Exception as exc:   # the measurement's failure is reported, the run goes on
            crawl.errors.append(f"IPv6 measurement failed: {exc!r}")
    if wanted("availability"):
        from patrol import probe
        try:
            facts["availability"] = probe.availability(store, site.name, datetime.now(),
                                                       thresholds_mod.merged(cfg, site),
                                                       url=site.url, department=site.department)
        except Exception as exc:
            crawl.errors.append(f"availability figures failed: {exc!r}")
    return facts


def _newmedia(cfg: Config, store: Store, run_id: int, today: date, outcome: RunOutcome,
              resolver: Any = None, skip: set[str] | None = None, stop: StopSignals | None = None) -> None:
    accounts = [a for a in cfg.newmedia if a.name not in (skip or ())]
    if not accounts:
        return
    from contextlib import nullcontext

    from patrol import newmedia
    for crawl, out in newmedia.inspect_accounts(cfg, accounts, today=today, store=store,
                                                resolver=resolver, text_checker=text_checker(cfg)):
        result = newmedia.site_result(crawl, out)
        # A vanished or broken source is what the inspection found, not a missed inspection.
        result["status"] = "completed"
        result["stats"] = {"newmedia": result["stats"]}
        result["score"] = score(out.findings, out.veto, cfg)
        with stop.deferred() if stop is not None else nullcontext():
            store.clear_site(run_id, crawl.name)
            store.save_site(run_id, crawl, out.findings, result, kind="newmedia")
            if skip is not None:
                skip.add(crawl.name)
        outcome.findings += len(out.findings)
        outcome.sites.append({"name": crawl.name, "kind": "newmedia", "score": result["score"],
                              "veto": out.veto})


def text_checker(cfg: Config) -> Any:
    try:
        from checks.text import TextChecker
    except ImportError:
        return None
    return TextChecker(leaders=[{"name": x.name, "title": x.title} for x in cfg.leaders])


def follow_up(store: Store, run_id: int) -> None:
    try:
        from reports import loop
    except ImportError:
        return
    loop.follow_up(store, run_id)


def write_outputs(store: Store, run_id: int, out_dir: Path, cfg: Config | None,
                  screenshots: int = 6) -> dict[str, Path]:
    from reports import export
    return export.write_outputs(store, run_id, out_dir, cfg, screenshots=screenshots)


def open_store(cfg: Config) -> Store:
    from store import Store
    base = Path(cfg.path).parent if cfg.path not in ("", "<none>", "<config>") else None
    return Store(cfg.database, base_dir=base)


def log(enabled: bool, message: str) -> None:
    if enabled:
        print(message, file=sys.stderr)


# --- commands --------------------------------------------------------------------------------

def _progress(args: argparse.Namespace) -> bool:
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def cmd_run(args: argparse.Namespace, run: Callable[..., RunOutcome] | None = None) -> int:
    """``patrol run``; ``run`` does the run instead of ``patrol`` (``patrol.distributed``
    spreads it over machines)."""
    cfg = load_config(args.config)
    sites = None
    if args.site:
        known = {s.name for s in cfg.sites} | {a.name for a in cfg.newmedia}
        unknown = [n for n in args.site if n not in known]
        if unknown:
            raise ConfigError(f"{cfg.path}: sites: no site or account named {unknown[0]!r}")
        sites = [s for s in cfg.sites if s.name in args.site]
        cfg.newmedia = [a for a in cfg.newmedia if a.name in args.site]
    if args.period:
        _check_period(args.period)
        if getattr(args, "resume", False):
            raise ConfigError("--resume continues a run in the month it started: no --period with it")
    outcome = (run or patrol)(cfg, sites=sites, out_dir=Path(args.out) if args.out else None,
                     period=args.period, fast=args.fast, progress=_progress(args),
                     checks=parse_checks(args.checks), resume=getattr(args, "resume", False))
    print_summary(outcome)
    return finish_message(outcome, f"patrol run --resume{_config_hint(args)}")


def _config_hint(args: argparse.Namespace) -> str:
    return f" --config {args.config}" if getattr(args, "config", None) else ""


def finish_message(outcome: RunOutcome, resume_command: str | None) -> int:
    """The exit status of a run; an interrupted run says what it kept and how to go on."""
    if outcome.interrupted is None:
        return 0
    if outcome.status == "completed":
        print(f"patrol: run {outcome.run_id} completed, but its report was not written "
              f"({outcome.interrupted.name}); rebuild the report with "
              f"`patrol report --run {outcome.run_id} --out {outcome.out_dir}`", file=sys.stderr)
        return outcome.interrupted.exit_code
    pages = sum(s.get("pages") or 0 for s in outcome.sites if s.get("status") == "interrupted")
    print(f"patrol: run {outcome.run_id} interrupted ({outcome.interrupted.name}): 巡检未完成; "
          f"{pages} pages kept", file=sys.stderr)
    if resume_command:
        print(f"patrol: continue it with: {resume_command}", file=sys.stderr)
    return outcome.interrupted.exit_code


def cmd_check(args: argparse.Namespace) -> int:
    url = args.url if "://" in args.url else "http://" + args.url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{args.url}: not an http(s) URL")
    base: dict[str, Any] = {}
    config_path = args.config or os.environ.get("PATROL_CONFIG")
    if config_path:
        loaded = load_config(config_path)
        base = {"crawl": asdict(loaded.crawl), "resolver": asdict(loaded.resolver),
                "thresholds": loaded.thresholds,
                "leaders": [asdict(x) for x in loaded.leaders]}
    out_dir = Path(args.out) if args.out else Path("patrol-out") / f"check-{parts.hostname}"
    site: dict[str, Any] = {"name": parts.hostname, "url": url, "max_pages": args.max_pages}
    if args.max_depth is not None:
        site["max_depth"] = args.max_depth
    if args.render:
        site["render"] = args.render
    cfg = config_from_dict({**base, "database": "sqlite:///" + str((out_dir / "patrol.db").resolve()),
                            "sites": [site], "output": str(out_dir)}, source="patrol check")
    out_dir.mkdir(parents=True, exist_ok=True)
    outcome = patrol(cfg, out_dir=out_dir, kind="check", fast=args.fast, progress=_progress(args),
                     checks=parse_checks(args.checks))
    print_summary(outcome)
    return finish_message(outcome, None)


def parse_checks(value: str | None) -> list[str] | None:
    if not value:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    known = {name for name, _ in SITE_CHECKS} | {"newmedia"}
    for name in names:
        if name not in known:
            raise ConfigError(f"--checks: unknown check {name!r} (known: {', '.join(sorted(known))})")
    return names


def _check_period(period: str) -> None:
    try:
        datetime.strptime(period, "%Y-%m")
    except ValueError:
        raise ConfigError(f"--period: {period!r} is not YYYY-MM") from None


def print_summary(outcome: RunOutcome) -> None:
    for s in outcome.sites:
        if s.get("kind") == "newmedia":
            print(f"  {s['name']}（新媒体）: score {s.get('score')}, veto {', '.join(s['veto']) or '-'}")
            continue
        print(f"  {s['name']}: {s['pages']} pages, {s['links']} links checked, {s['broken']} broken"
              f"{', ' + str(s['not_verified']) + ' not verified (rate limited)' if s.get('not_verified') else ''}"
              f"{', ' + str(s['page_errors']) + ' page errors' if s.get('page_errors') else ''}"
              f"{', veto: ' + ', '.join(s['veto']) if s['veto'] else ''}"
              f"{' (crawl failed)' if s['status'] == 'failed' else ''}"
              f"{' (巡检未完成: interrupted)' if s['status'] == 'interrupted' else ''}")
    print(f"run {outcome.run_id}: {outcome.findings} findings")
    for name, path in outcome.outputs.items():
        print(f"  {name}: {path}")
