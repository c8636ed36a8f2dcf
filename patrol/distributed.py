"""A run spread over machines: one job per site on a Redis queue (Dramatiq), ``patrol worker``
on any machine takes them, and every machine writes to one PostgreSQL store.

``patrol run`` (with ``queue`` in the configuration) records the run, puts one message per
site on the queue and waits, showing sites done (from the store), in progress and queued; once
every site is stored it does what a run on one machine does after its crawl: new-media
accounts, the rectification follow-up, the run's end, evidence shots and the report.

A worker crawls a job's site with the crawl machinery of a run on one machine
(``start_crawls``, one crawl process per job), checks it (``runner.check_site``) and stores it
with ``Store.save_site_once``: a job delivered twice stores its site once.  Dramatiq's Redis
broker acknowledges a message only once its job has returned, and puts the messages of a
worker that stopped sending heartbeats (killed, machine lost) back on the queue, where another
worker takes them (docs/distributed.md).

Each message carries what its site is crawled and checked with (the site's entry and the
run's crawl, resolver, threshold and leader settings), so a worker needs only its own
configuration's ``queue`` and ``database`` (and ``crawl.browser``, the path of its
Chromium), not the run's file.
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.config import Config, ConfigError, Crawl, Queue, Site, config_from_dict, load_config
from common.stopping import Interrupted, StopSignals

if TYPE_CHECKING:
    from store import Store

ACTOR = "patrol_site"               # the one kind of job
NAMESPACE = "patrol"                # prefix of every Redis key patrol's queue uses
POLL_S = 1.0                        # how often a waiting run looks at the store
POLL_MS = 250                       # a worker's longest wait between two looks at an empty queue
MIN_BACKOFF_MS = 1000               # a failed job is tried again after 1, 2, 4 ... s
MAX_BACKOFF_MS = 60000


class WorkerStopping(Exception):
    """The worker was told to stop while a job was crawling: the job goes back to the queue."""


# --- the queue -----------------------------------------------------------------------------

def broker(queue: Queue) -> Any:
    """Dramatiq's Redis broker for ``queue``, with the middleware patrol needs only: retries
    of a failed job (with a short back-off) and the current message (its retry count).
    Dramatiq's default time limit (10 minutes a job) is left out: a site's crawl takes hours.
    Redis is asked at once, so that a wrong URL is said before anything starts."""
    try:
        import dramatiq  # noqa: F401
        import redis
        from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker
        from dramatiq.middleware import CurrentMessage, Retries
    except ImportError:
        raise ConfigError("queue: the queue needs Dramatiq and the Redis client: "
                          "pip install 'patrol[queue]'") from None
    # Maintenance (putting a dead worker's messages back) runs on a share (5 %) of the broker's
    # calls; a worker's two consumers (the queue and its delay queue) call every 0.25 s at most
    # when idle (``POLL_MS``), so a job lost with its worker is back on the queue a few seconds
    # after ``heartbeat_timeout``.
    found = RedisBroker(url=queue.url, namespace=NAMESPACE,
                        heartbeat_timeout=int(queue.heartbeat_timeout * 1000),
                        maintenance_chance=MAINTENANCE_SCALE // 20,
                        middleware=[Retries(max_retries=queue.max_retries, min_backoff=MIN_BACKOFF_MS,
                                            max_backoff=MAX_BACKOFF_MS),
                                    CurrentMessage()])
    try:
        found.client.ping()
    except redis.RedisError as exc:
        raise ConfigError(f"queue.url: cannot reach Redis at {_shown(queue.url)}: {exc}") from None
    found.declare_queue(queue.name)
    return found


def _shown(url: str) -> str:
    """A Redis URL without its password."""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return parts._replace(netloc=netloc).geturl()
    return url


def _key(queue: Queue, run_id: int, what: str) -> str:
    return f"{NAMESPACE}:{queue.name}:run:{run_id}:{what}"


def site_config(cfg: Config, site: Site) -> dict[str, Any]:
    """What a job's site is crawled and checked with: the run's configuration cut to the site
    (no other site, no account, no store, no mail)."""
    data = asdict(cfg)
    for key in ("path", "database", "smtp", "queue", "newmedia", "output"):
        data.pop(key, None)
    data["sites"] = [asdict(site)]
    data["departments"] = [asdict(d) for d in cfg.departments if d.id == site.department]
    return data


def enqueue(found: Any, cfg: Config, run_id: int, sites: list[Site], *, checks: list[str] | None,
            fast: bool, today: date) -> str:
    """One message per site; returns the attempt token they carry.  Messages of an earlier
    attempt of the run (before an interruption) are then skipped by the workers."""
    assert cfg.queue is not None
    attempt = uuid.uuid4().hex
    scoring = _scoring_table(cfg)
    keep_attempt(found, cfg.queue, run_id, attempt)
    found.client.delete(_key(cfg.queue, run_id, "started"))
    for site in sites:
        payload = {"run": run_id, "site": site.name, "attempt": attempt, "checks": checks,
                   "fast": fast, "today": today.isoformat(), "config": site_config(cfg, site),
                   "source": cfg.path, "scoring": scoring}
        found.enqueue(_message(cfg.queue, payload))
    return attempt


def _message(queue: Queue, payload: dict[str, Any]) -> Any:
    from dramatiq import Message
    return Message(queue_name=queue.name, actor_name=ACTOR, args=(payload,), kwargs={}, options={})


def _scoring_table(cfg: Config) -> dict[str, Any] | None:
    """The scoring table the run's machine reads (``scoring.yaml`` beside its configuration, or
    the packaged one): the workers score with it, not with their own machine's."""
    try:
        from checks import scoring
    except ImportError:
        return None
    return scoring.load_table(cfg)


def keep_attempt(found: Any, queue: Queue, run_id: int, attempt: str) -> None:
    """Say (again) that the run waits for the jobs of ``attempt``; kept a day past the last say."""
    found.client.set(_key(queue, run_id, "attempt"), attempt, ex=86400)


def forget_run(found: Any, queue: Queue, run_id: int) -> None:
    """The run waits no more: messages of it still on the queue are skipped by the workers."""
    try:
        found.client.delete(_key(queue, run_id, "attempt"), _key(queue, run_id, "started"))
    except Exception:  # noqa: BLE001 - Redis gone: the keys expire by themselves
        pass


# --- patrol run ----------------------------------------------------------------------------

def cmd_run(args: argparse.Namespace) -> int:
    """``patrol run``: spread over the queue's workers when the configuration names a queue,
    else on this machine (``runner.patrol``)."""
    from patrol import runner
    return runner.cmd_run(args, run=patrol)


def patrol(cfg: Config, **options: Any) -> Any:
    """A run: its sites' jobs on the queue when ``cfg.queue`` is set, else ``runner.patrol``."""
    from patrol import runner
    if cfg.queue is None or options.get("kind", "run") != "run":
        return runner.patrol(cfg, **options)
    with StopSignals() as stop:
        return patrol_queued(cfg, stop, **options)


def patrol_queued(cfg: Config, stop: StopSignals, *, sites: list[Site] | None = None,
                  out_dir: Path | None = None, period: str | None = None, fast: bool = False,
                  progress: bool = False, today: date | None = None, store: Store | None = None,
                  checks: list[str] | None = None, resume: bool = False) -> Any:
    """``runner.patrol`` for a configuration with ``queue``: the sites' jobs go to the queue."""
    from patrol import evidence, runner
    assert cfg.queue is not None
    today = today or date.today()
    period = period or today.strftime("%Y-%m")
    options: dict[str, Any] = {
        "sites": None if sites is None else [s.name for s in sites] + [a.name for a in cfg.newmedia],
        "checks": checks, "out": str(Path(out_dir).resolve()) if out_dir else None,
        "queue": cfg.queue.name, "fast": fast}
    sites = cfg.sites if sites is None else sites
    found = broker(cfg.queue)
    store = store or runner.open_store(cfg)
    store.lock()                        # one `patrol run` at a time; the workers take no lock
    try:
        store.settle_stale_runs()
        if resume:
            run = store.resumable_run("run")
            if run is None:
                raise ConfigError("--resume: there is no interrupted run to continue")
            if not (run.options or {}).get("queue"):
                raise ConfigError(f"--resume: run {run.id} was crawled on this machine alone; remove "
                                  "queue from the configuration to continue it")
            sites, checks, out_dir = runner._resumed_options(cfg, run, options, checks, out_dir)
            fast = bool((run.options or {}).get("fast", fast))
            period = run.period
            today = runner._local_date(run.started)
            assert run.id is not None
            store.reopen_run(run.id)
            runner.log(progress, f"resuming run {run.id} ({period})")
        else:
            earlier = store.interrupted_runs(period, "run")
            if earlier:
                print(runner.interrupted_hint(store, earlier[0]), file=sys.stderr)
            run = store.start_run(period, kind="run", config_path=cfg.path, inspector=cfg.inspector.name,
                                  options=options)
    except BaseException:
        store.unlock()
        raise
    assert run.id is not None
    run_id = run.id
    out_dir = Path(out_dir) if out_dir else Path(cfg.output) / f"run-{run_id}"
    outcome = runner.RunOutcome(run_id=run_id, out_dir=out_dir)
    status = "interrupted"              # whatever stops it early, --resume continues it
    try:
        try:
            stop.check()
            if not resume:
                runner.mark_outputs_running(store, run_id, out_dir, cfg)
            done = store.finished_sites(run_id)
            todo = [s for s in sites if s.name not in done]
            with stop.held():
                attempt = enqueue(found, cfg, run_id, todo, checks=checks, fast=fast, today=today)
            print(f"patrol: run {run_id}: {len(todo)} sites on queue {cfg.queue.name!r} at "
                  f"{_shown(cfg.queue.url)}; `patrol worker` on each machine takes them", file=sys.stderr)
            stop.check()
            wait_for_sites(store, found, cfg.queue, run_id, attempt, [s.name for s in sites], progress)
            done = store.finished_sites(run_id)
            if checks is None or "newmedia" in checks:
                from common.resolver import Resolver
                runner._newmedia(cfg, store, run_id, today, outcome, Resolver.from_config(cfg.resolver),
                                 skip=done, stop=stop)
            with stop.deferred():
                runner.follow_up(store, run_id)
                store.finish_run(run_id, "completed")
                status = "completed"
        except Interrupted as exc:
            outcome.interrupted = exc
            if status != "completed":
                print(f"\npatrol: {exc.name}: run {run_id} stops waiting; the sites stored are kept, "
                      "the jobs still queued are skipped", file=sys.stderr)
        finally:
            forget_run(found, cfg.queue, run_id)
            if status != "completed":
                store.finish_run(run_id, status)
        outcome.status = status
        media = {s["name"] for s in outcome.sites}
        held = {site.name: result for result, site in store.site_results(run_id)}
        outcome.sites[:0] = [runner.site_line(s.name, held[s.name].model_dump()) for s in sites
                             if s.name in held and s.name not in media]
        outcome.findings = len(store.findings(run_id))
        try:
            if outcome.interrupted is None or status != "completed":
                shots = runner.SCREENSHOTS if status == "completed" else 0
                if shots:
                    evidence.shoot(store, run_id, cfg, limit=shots)
                outcome.outputs = runner.write_outputs(store, run_id, out_dir, cfg, screenshots=shots)
        except Interrupted as exc:
            outcome.interrupted = outcome.interrupted or exc
    finally:
        store.unlock()
    return outcome


def wait_for_sites(store: Store, found: Any, queue: Queue, run_id: int, attempt: str, names: list[str],
                   progress: bool) -> None:
    """Until every site of the run is stored; shows sites done, in progress and queued."""
    wanted = set(names)
    shown = None
    started_key = _key(queue, run_id, "started")
    while True:
        done = store.finished_sites(run_id) & wanted
        try:
            keep_attempt(found, queue, run_id, attempt)
            busy = {k.decode() for k in found.client.hkeys(started_key)} & wanted - done
        except Exception as exc:  # noqa: BLE001 - Redis away for a moment: the store still tells
            busy = set()
            print(f"patrol: run {run_id}: queue unreachable ({exc}); still waiting", file=sys.stderr)
        line = (len(done), len(busy), len(wanted) - len(done) - len(busy))
        if line != shown:
            shown = line
            if progress or not sys.stderr.isatty():
                print(f"patrol: run {run_id}: {line[0]} of {len(wanted)} sites done, {line[1]} in progress, "
                      f"{line[2]} queued", file=sys.stderr)
        if len(done) == len(wanted):
            return
        time.sleep(POLL_S)


# --- patrol worker -------------------------------------------------------------------------

class _Worker:
    """What the jobs of this process share: its configuration, its store, the crawls running."""

    def __init__(self, cfg: Config, store: Store, found: Any):
        self.cfg, self.store, self.broker = cfg, store, found
        self.ident = f"{socket.gethostname()}:{os.getpid()}"
        self.stopping = threading.Event()
        self.crawls: dict[int, Any] = {}     # by id(): the crawls running now
        self.lock = threading.Lock()


_WORKER: _Worker | None = None


def say(message: str) -> None:
    print(f"patrol worker: {message}", file=sys.stderr, flush=True)


def run_job(payload: dict[str, Any]) -> None:
    """One site's job (the actor): crawl, check, store once.  A job of a run that waits for it
    no more, or whose site is stored already, is acknowledged without work."""
    w = _WORKER
    assert w is not None and w.cfg.queue is not None
    queue = w.cfg.queue
    run_id, name = int(payload["run"]), str(payload["site"])
    said = w.broker.client.get(_key(queue, run_id, "attempt"))
    if said is None or said.decode() != payload["attempt"]:
        say(f"run {run_id}: {name}: skipped (the run waits for it no more)")
        return
    if w.store.site_stored(run_id, name):
        say(f"run {run_id}: {name}: stored already")
        return
    from dramatiq.middleware import CurrentMessage
    message = CurrentMessage.get_current_message()
    tries = int(message.options.get("retries", 0)) if message is not None else 0
    started_key = _key(queue, run_id, "started")
    w.broker.client.hset(started_key, name, w.ident)
    w.broker.client.expire(started_key, 86400)
    began = time.monotonic()
    try:
        stored, findings, pages = _crawl_and_store(w, payload)
    except WorkerStopping:
        # Back on the queue as a new message (this one is acknowledged): a stopped worker is
        # no failure of the job and uses up none of its tries.
        w.broker.enqueue(_message(queue, payload))
        w.broker.client.hdel(started_key, name)
        say(f"run {run_id}: {name}: stopped; back on the queue")
        return
    except Exception as exc:
        if tries < queue.max_retries:
            say(f"run {run_id}: {name}: failed ({exc!r}); tried again later")
            raise
        # The last try: the site is stored as a crawl that failed, said in the report, and
        # the run goes on.  (A store that cannot be written raises here, and the job is kept
        # on the queue's dead-letter list.)
        _store_failed(w, payload, f"the job failed on {tries + 1} tries, the last on {w.ident}: {exc!r}")
        say(f"run {run_id}: {name}: failed on every try, stored as failed: {exc!r}")
        w.broker.client.hdel(started_key, name)
        return
    w.broker.client.hdel(started_key, name)
    say(f"run {run_id}: {name}: {pages} pages, {findings} findings, "
        f"{'stored' if stored else 'stored already by another worker'} ({time.monotonic() - began:.1f} s)")


def _job_config(w: _Worker, payload: dict[str, Any]) -> tuple[Config, Site, Crawl]:
    cfg = config_from_dict(payload["config"], source=f"run {payload['run']} ({payload.get('source', '')})")
    site = cfg.sites[0]
    crawl = Crawl(**{**asdict(cfg.crawl), "fast": cfg.crawl.fast or bool(payload.get("fast"))})
    if w.cfg.crawl.browser:             # this machine's Chromium
        crawl.browser = w.cfg.crawl.browser
    return cfg, site, crawl


def _crawl_and_store(w: _Worker, payload: dict[str, Any]) -> tuple[bool, int, int]:
    from common.resolver import Resolver
    from patrol import runner
    from patrol.crawling import start_crawls
    cfg, site, crawl_cfg = _job_config(w, payload)
    checks = payload.get("checks")
    today = date.fromisoformat(payload["today"])
    with tempfile.TemporaryDirectory(prefix=f"patrol-job-{payload['run']}-") as tmp:
        if w.stopping.is_set():
            raise WorkerStopping()
        crawling = start_crawls([site], crawl_cfg, asdict(cfg.resolver), Path(tmp), processes=1,
                                checks=checks, today=today)
        with w.lock:
            w.crawls[id(crawling)] = crawling
        try:
            crawl = crawling.wait()[site.name]
        finally:
            with w.lock:
                w.crawls.pop(id(crawling), None)
            crawling.reap(timeout=10)
    if w.stopping.is_set():
        raise WorkerStopping()
    out, result = runner.check_site(cfg, site, crawl, w.store, today, checks, Resolver.from_config(cfg.resolver))
    if payload.get("scoring") is not None:
        from checks import scoring
        result["score"] = scoring.score_site(out.findings, out.veto, payload["scoring"])
    stored = w.store.save_site_once(int(payload["run"]), crawl, out.findings, result)
    return stored, len(out.findings), len(crawl.pages)


def _store_failed(w: _Worker, payload: dict[str, Any], error: str) -> None:
    from checks.model import SiteCrawl
    site = payload["config"]["sites"][0]
    crawl = SiteCrawl(name=site["name"], url=site["url"], department=site.get("department", ""))
    w.store.save_site_once(int(payload["run"]), crawl, [], {"status": "failed", "error": error[:2000]})


def cmd_worker(args: argparse.Namespace) -> int:
    """``patrol worker``: take site jobs from the configuration's queue until stopped."""
    global _WORKER
    cfg = load_config(args.config)
    if cfg.queue is None:
        raise ConfigError(f"{cfg.path}: queue: missing; patrol worker takes its jobs from the queue named "
                          "there (queue: {url: redis://host:6379/0}), see docs/distributed.md")
    concurrency = args.concurrency or os.cpu_count() or 1
    if concurrency < 1:
        raise ConfigError("--concurrency: must be at least 1")
    import dramatiq

    from patrol import runner
    found = broker(cfg.queue)
    store = runner.open_store(cfg)
    _WORKER = _Worker(cfg, store, found)
    dramatiq.actor(run_job, broker=found, actor_name=ACTOR, queue_name=cfg.queue.name,
                   max_retries=cfg.queue.max_retries)
    worker = dramatiq.Worker(found, worker_threads=concurrency, worker_timeout=POLL_MS)
    worker.queue_prefetch = concurrency     # take no more jobs than there are hands for
    worker.delay_prefetch = concurrency
    worker.start()
    say(f"{_WORKER.ident}: taking jobs from {cfg.queue.name!r} at {_shown(cfg.queue.url)}, "
        f"{concurrency} at a time; store {store.engine.url.render_as_string(hide_password=True)}")
    try:
        while True:
            time.sleep(1)
    except Interrupted as exc:
        say(f"{exc.name}: stopping; the jobs in hand go back to the queue")
        _WORKER.stopping.set()
        with _WORKER.lock:
            crawls = list(_WORKER.crawls.values())
        for crawling in crawls:
            crawling.kill_now()
        worker.stop(timeout=30000)
        found.close()
        return exc.exit_code
