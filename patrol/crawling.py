"""Running the crawl processes and reading back what they found.

Sites are spread over one process per core.  At full speed (``crawl.fast``) a core is worth
more than politeness, so when there are fewer sites than cores a site is split between several
processes (shards, see ``crawler/shards.py``) and this module routes the links each shard finds
to the shard that owns them, and tells the shards when the crawl is complete.

On Linux a crawl process is forked from this one after Scrapy is imported once (``_fork_crawl``);
elsewhere, or when this process runs other threads, it is a fresh ``python -m crawler.run``.
"""
from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from checks.model import CrawlFailure, LinkResult, PageSnapshot, SiteCrawl
from patrol.siteindex import SiteIndex, StreamedCrawl
from crawler import jsonlines
from crawler.shards import owner
from common import progress as progress_line
from common import stopping
from common.config import ConfigError, Crawl, Site
from common.stdio import flush_std_streams

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Checks that read the per-page facts (text, list items, dates); without them the crawl skips
# extracting those facts.
PAGE_FACT_CHECKS = {"freshness", "text", "site_identity", "page_labels", "annual_report",
                    "policy_interpretation"}
# How often the parent reads what the crawl processes have written so far, in seconds.
READ_EVERY_S = 0.25
# A stopped run gives its crawl processes this long to write what they hold and close their
# browser, then kills what is left: every process of the run is gone within 10 s of the signal.
STOP_GRACE_S = 6.0
# The crawl state of a run, kept beside the crawl outputs, read by ``patrol run --resume``.
JOURNAL_FILE = "journal.json"
# A crashed shard is started again this long after it died: by then the other shards of its
# site have written out (their outputs are flushed every second) the pages whose links they
# had sent it, which its replacement reads for the links it owns.
SHARD_RESTART_DELAY_S = 1.5
# How often the parent forgets the pages sent to be rendered that have been recorded.
RENDERS_PRUNED_EVERY_S = 5.0
# A run of more sites than this, several per crawl process, shows counts of sites instead of
# each site's figures.
SITES_ON_ONE_LINE = 4


@dataclass
class Worker:
    """One crawl process: its sites (with shard numbers), job file and outputs."""

    index: int
    sites: list[tuple[Site, int, int]]                 # (site, shard, shards)
    outputs: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | ForkedProcess | None = None
    log_path: Path | None = None
    # routing state, for a shard
    pending: bytearray = field(default_factory=bytearray)
    inbox: bytearray = field(default_factory=bytearray)
    forwarded: int = 0
    idle_received: int | None = None
    alive: bool = True
    closed: bool = False            # a shard that said its output is complete
    retried: bool = False           # started again after the first process crashed
    progress: list[int] = field(default_factory=lambda: [0, 0, 0])
    # a crashed shard, to be started again at this time (monotonic); links routed to it meanwhile
    restart_at: float | None = None
    held: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sharded(self) -> bool:
        return any(shards > 1 for _, _, shards in self.sites)


def site_job(site: Site, checks: list[str] | None, today: str, shard: int = 0, shards: int = 1) -> dict[str, Any]:
    return {"name": site.name, "url": site.url, "max_pages": site.max_pages, "max_depth": site.max_depth,
            "render": site.render, "allowed_hosts": site.allowed_hosts, "check_external": site.check_external,
            "facts": checks is None or bool(PAGE_FACT_CHECKS & set(checks)), "today": today,
            "shard": shard, "shards": shards}


def plan(sites: list[Site], fast: bool, cores: int) -> list[Worker]:
    """Which process crawls what: sites spread over cores, or split when cores outnumber them."""
    if fast and len(sites) < cores:
        workers: list[Worker] = []
        per_site = [cores // len(sites)] * len(sites)
        for i in range(cores - sum(per_site)):
            per_site[i] += 1
        for site, shards in zip(sites, per_site):
            for shard in range(shards):
                workers.append(Worker(len(workers), [(site, shard, shards)]))
        return workers
    nproc = max(1, min(cores, len(sites)))
    workers = [Worker(n, []) for n in range(nproc)]
    for i, site in enumerate(sorted(sites, key=lambda s: -s.max_pages)):
        workers[i % nproc].sites.append((site, 0, 1))
    return [w for w in workers if w.sites]


def crawl_sites(sites: list[Site], crawl: Crawl, resolver: dict[str, Any], workdir: Path, *,
                progress: bool = False, processes: int | None = None,
                checks: list[str] | None = None, today: date | None = None) -> dict[str, SiteCrawl]:
    """Crawl every site; returns each site's SiteCrawl by name (a failed crawl keeps its errors)."""
    crawls = start_crawls(sites, crawl, resolver, workdir, progress=progress, processes=processes,
                          checks=checks, today=today)
    try:
        return crawls.wait()
    finally:
        crawls.reap()


@dataclass
class Crawls:
    """Crawl processes started by ``start_crawls``: ``wait`` for their results, ``interrupt``
    them (keeping what they wrote), or ``stop`` them."""

    sites: list[Site]
    workers: list[Worker]
    progress: bool = False
    # Outputs of earlier attempts of this run, by site (``patrol run --resume``).
    previous: dict[str, list[Path]] = field(default_factory=dict)
    _readers: dict[str, OutputReader] | None = None
    # How the processes were started (``start_crawls``): a crashed one is started again so.
    start_args: dict[str, Any] = field(default_factory=dict)
    interrupting: bool = False
    # Sites whose crawl process crashed and was started again, with what happened.
    restarted: dict[str, str] = field(default_factory=dict)
    # The outputs are indexed on disk as they are read instead of held in memory: each site's
    # result is a ``StreamedCrawl`` (``patrol/siteindex.py``).  ``close`` removes the indexes.
    streamed: bool = False
    # ``wait``'s ``on_site`` and the sites handed to it.
    on_site: Callable[[str, SiteCrawl], None] | None = None
    handed: dict[str, SiteCrawl] = field(default_factory=dict)
    # Progress as counts of sites (``start_crawls``), shown at most once a second.
    summary: bool = False
    _shown: float = 0.0

    @property
    def readers(self) -> dict[str, OutputReader]:
        if self._readers is None:
            folder = self.start_args.get("workdir") or Path(tempfile.gettempdir())
            self._readers = {site.name: OutputReader([Path(w.outputs[site.name]) for w in self.workers
                                                      if site.name in w.outputs], site,
                                                     previous=self.previous.get(site.name, []),
                                                     index=SiteIndex(Path(folder) / f"index-{n}.sqlite")
                                                     if self.streamed else None)
                             for n, site in enumerate(self.sites)}
        return self._readers

    def release(self, name: str) -> None:
        """A site that is stored: its index is removed and its outputs are not read again."""
        reader = (self._readers or {}).get(name)
        if reader is not None:
            reader.pages_kept = reader.pages_read
            reader.released = True
            if reader.index is not None:
                reader.index.close()

    def close(self) -> None:
        """Remove the on-disk indexes of a streamed crawl (the outputs stay: the journal)."""
        for reader in (self._readers or {}).values():
            if reader.index is not None:
                reader.index.close()

    def feed(self) -> None:
        for name, reader in self.readers.items():
            reader.feed()
            if (self.on_site is not None and name not in self.handed and reader.paths
                    and reader.finished >= len(reader.paths)):
                # Every output of the site has its end: checked and stored now, while the
                # run's other sites crawl on.
                self.handed[name] = crawl = reader.result()
                if name in self.restarted:
                    crawl.stats["restarted"] = self.restarted[name]
                self.on_site(name, crawl)
        if self.summary and time.monotonic() - self._shown >= 1.0:
            self._shown = time.monotonic()
            progress_line.show([self.sites_line()])

    def sites_line(self) -> str:
        """``N sites: D done, C in progress, Q queued; P pages``: a crawl whose outputs all
        have their end is done, one with no output yet is queued."""
        done = crawling = queued = pages = 0
        for name, reader in self.readers.items():
            pages += reader.pages_read
            if name in self.handed or (reader.paths and reader.finished >= len(reader.paths)):
                done += 1
            elif not reader.started:
                queued += 1
            else:
                crawling += 1
        return (f"{len(self.readers)} sites: {done} done, {crawling} in progress, {queued} queued; "
                f"{pages} pages")

    def wait(self, on_site: Callable[[str, SiteCrawl], None] | None = None) -> dict[str, SiteCrawl]:
        """Each site's results, once every process has exited or (a shard) said its output is
        complete: a shard still closing its browser is left to ``reap``.  The outputs are read
        while the crawl runs, so little is left to read when it ends.

        ``on_site(name, crawl)``: called with each site as soon as its crawl has ended (every
        output of it has its end record), while the others crawl on; such a site is in the
        result as it was handed over."""
        self.on_site = on_site
        try:
            return self._wait()
        finally:
            self.on_site = None
            if self.summary:
                progress_line.show([self.sites_line()], final=True)

    def _wait(self) -> dict[str, SiteCrawl]:
        readers = self.readers
        feed = self.feed
        sharded = [w for w in self.workers if w.sharded]
        if sharded:
            Router(sharded, self.progress, on_tick=feed, on_crash=self._restart_shard,
                   recorded=self._recorded).run()
        restarted = self.restarted
        for i, w in enumerate(list(self.workers)):
            while True:
                assert w.proc is not None
                while not w.closed:
                    try:
                        w.proc.wait(timeout=READ_EVERY_S)
                        break
                    except subprocess.TimeoutExpired:
                        feed()
                code = w.proc.returncode
                if not code or w.sharded or w.retried or not self.start_args:
                    break
                # A crawl process that crashed (the browser took it down, the kernel killed it
                # for memory): its sites start again once, from what it had written.
                note = (f"the crawl process ended with {_exit_reason(code)}; its sites were crawled again "
                        "from its journal")
                tail = _tail(w.log_path) if w.log_path else ""
                w = self._restart(w)
                self.workers[i] = w
                for site, _, _ in w.sites:
                    restarted[site.name] = note + (f" ({tail})" if tail else "")
        self.on_site = None
        results: dict[str, SiteCrawl] = {}
        for site in self.sites:
            if site.name in self.handed:
                results[site.name] = self.handed[site.name]
                continue
            crawl_result = readers[site.name].result()
            for w in self.workers:
                if site.name not in w.outputs:
                    continue
                code = w.proc.returncode if w.proc else None
                if code:
                    tail = _tail(w.log_path) if w.log_path else ""
                    crawl_result.fail(CrawlFailure.PROCESS_EXITED, f"crawl process exited with code {code}"
                                      + (f": {tail}" if tail else ""))
            if site.name in restarted:
                crawl_result.stats["restarted"] = restarted[site.name]
            results[site.name] = crawl_result
        return results

    def _recorded(self, site: str, url: str) -> bool:
        """Whether a page record of ``url`` was read from the site's outputs."""
        reader = self.readers.get(site)
        return reader is not None and reader.has_page(url)

    def _restart_shard(self, old: Worker) -> Worker | None:
        """A shard process that crashed: started again once, from its output so far (see
        ``_restart``); None when it is not (a second crash, a run being stopped)."""
        if old.retried or not self.start_args or self.interrupting:
            return None
        assert old.proc is not None
        (site, shard, shards), = old.sites
        tail = _tail(old.log_path) if old.log_path else ""
        new = self._restart(old)
        self.restarted[site.name] = (
            f"crawl process {shard + 1} of the {shards} crawling this site ended with "
            f"{_exit_reason(old.proc.returncode or 0)}; its part was crawled again from its journal"
            + (f" ({tail})" if tail else ""))
        return new

    def _restart(self, old: Worker) -> Worker:
        """A new crawl process for the sites of ``old``, which replays their outputs so far.
        A shard's replacement also reads the other shards' outputs for the links it owns on
        their pages: those they had sent the crashed process are not sent again."""
        self.feed()
        if old.proc is not None:
            stopping.kill_group(old.proc.pid)       # Playwright's driver, left without its process
        args = self.start_args
        workdir: Path = args["workdir"]
        journal = read_journal(workdir)
        attempt = int(journal.get("attempt", 0)) + 1
        names = {site.name for site, _, _ in old.sites}
        earlier = {name: files for name, files in journal.get("sites", {}).items() if name in names}
        new = Worker(old.index, list(old.sites), retried=True)
        # Known to ``interrupt`` before it starts: a stop meanwhile stops it too.
        self.workers[self.workers.index(old)] = new
        _start_workers([new], workdir, args["checks"], args["day"], args["crawl"], args["resolver"],
                       self.progress, _can_fork(), attempt=attempt, earlier=earlier, frontier=new.sharded)
        for site, shard, shards in new.sites:
            journal.setdefault("sites", {}).setdefault(site.name, []).append(
                {"file": Path(new.outputs[site.name]).name, "shard": shard, "shards": shards})
            self.readers[site.name].replace(Path(old.outputs[site.name]), Path(new.outputs[site.name]))
        journal["attempt"] = attempt
        write_journal(workdir, journal)
        return new

    def interrupt(self, grace: float = STOP_GRACE_S) -> dict[str, SiteCrawl]:
        """Stop the crawl processes and return what they had crawled.

        Each is asked to stop (SIGTERM: Scrapy closes the spider, which writes its last
        records, and the browser); whatever is still running after ``grace`` seconds, with the
        browsers the crawl processes started, is killed.  The outputs are read meanwhile."""
        self.interrupting = True
        pids = [w.proc.pid for w in self.workers if w.proc is not None and w.proc.poll() is None]
        tree = stopping.descendants(pids)
        for w in self.workers:
            if w.proc is not None and w.proc.poll() is None:
                w.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(
                w.proc is not None and w.proc.poll() is None for w in self.workers):
            self._feed_quietly()
            time.sleep(0.1)
        self.kill_now(tree)
        for w in self.workers:
            if w.proc is not None:
                try:
                    w.proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass
        results = {}
        for name, reader in self.readers.items():
            try:
                results[name] = reader.result()
            except Exception as exc:  # noqa: BLE001 - a stopped run keeps what it can read
                crawl = SiteCrawl(name=name, url=reader.site.url, department=reader.site.department)
                crawl.errors.append(f"the crawl output could not be read: {exc!r}")
                results[name] = crawl
        return results

    def _feed_quietly(self) -> None:
        try:
            self.feed()
        except Exception:  # noqa: BLE001 - read again by result()
            pass

    def kill_now(self, known: set[int] | None = None) -> None:
        """Kill every crawl process, its process group and what it started (the browser)."""
        pids = [w.proc.pid for w in self.workers if w.proc is not None and w.proc.poll() is None]
        tree = set(known or ()) | stopping.descendants(pids)
        for pid in pids:
            stopping.kill_group(pid)
        stopping.kill_all(set(pids) | tree)

    def reap(self, timeout: float = 30.0) -> None:
        """Wait for the processes to exit (a shard closing its browser); stop those that hang."""
        deadline = time.monotonic() + timeout
        for w in self.workers:
            if w.proc is None:
                continue
            try:
                w.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _end(w.proc)
            for pipe in (w.proc.stdin, w.proc.stdout):
                if pipe is not None:
                    try:
                        pipe.close()
                    except OSError:
                        pass

    def stop(self) -> None:
        """End the crawl processes (the run failed before their results were read)."""
        for w in self.workers:
            if w.proc is not None and w.proc.poll() is None:
                _end(w.proc)


def _end(proc: subprocess.Popen[bytes] | ForkedProcess) -> None:
    """SIGTERM first, so that Scrapy closes the browser it started; then SIGKILL."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _can_fork() -> bool:
    """Crawl processes are forked from this one when that is safe: on Linux, from a process with
    no other thread (a thread holding a lock at the fork would leave the child stuck on it),
    no running event loop and no Twisted reactor (the child starts its own).
    ``PATROL_CRAWL_SPAWN=1`` starts them as fresh interpreters instead."""
    if os.environ.get("PATROL_CRAWL_SPAWN", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    if not (hasattr(os, "fork") and sys.platform.startswith("linux")):
        return False
    if threading.active_count() != 1 or "twisted.internet.reactor" in sys.modules:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


def _fork_crawl(job: dict[str, Any], log_path: Path, *, sharded: bool, keep_stderr: bool,
                name: str = "patrol-crawl") -> ForkedProcess:
    """Fork a crawl process for ``job``, wired as ``start_crawls`` wires a spawned one: a shard
    talks to this process through its stdin and stdout; another process writes its stdout and
    stderr to its log.  Scrapy, Twisted and lxml are imported once, here (``preload``), instead
    of once per process: 0.3 s of CPU each.  No reactor or event loop exists yet in this
    process, and the child leaves with ``os._exit``, never through this process's exit handlers
    (they would remove this run's temporary directory)."""
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    if sharded:
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
    else:
        in_r, in_w = os.open(os.devnull, os.O_RDONLY), -1
        out_r, out_w = -1, log_fd
    # No Ctrl-C between the fork and the child's own handling of it: the child would unwind
    # through this process's frames (removing the run's temporary directory on the way).
    stop_signals = set(stopping.STOP_SIGNALS)
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    parent = os.getpid()
    try:
        pid = os.fork()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)
        for fd in {in_r, in_w, out_r, out_w, log_fd} - {-1}:
            os.close(fd)
        raise
    if pid == 0:                                            # the crawl process
        _crawl_in_child(job, in_r, out_w, log_fd, keep_stderr, stop_signals, name, parent)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)
    for fd in {in_r, out_w, log_fd}:
        os.close(fd)
    return ForkedProcess(pid, os.fdopen(in_w, "wb", buffering=0) if in_w >= 0 else None,
                         os.fdopen(out_r, "rb", buffering=0) if out_r >= 0 else None)


_INHERITED: list[Any] = []      # objects of the parent a forked child must never finalise


def _crawl_in_child(job: dict[str, Any], in_r: int, out_w: int, log_fd: int, keep_stderr: bool,
                    stop_signals: set[signal.Signals], name: str = "patrol-crawl", parent: int = 0) -> None:
    """The forked crawl process: wire its descriptors and streams, run the job, leave."""
    import fcntl                  # POSIX only, as is forking
    code = 1
    try:
        try:
            # The parent's stop handlers are the parent's: here the defaults until Scrapy's,
            # a process group of its own (the parent stops it and Playwright's driver
            # together), and SIGTERM when the parent goes.
            for sig in stop_signals:
                signal.signal(sig, signal.SIG_DFL)
            _own_group()
            stopping.die_with_parent(parent)
            stopping.set_process_name(name)
            # Above the standard descriptors first: a parent started with one of them closed
            # gets it back from os.pipe.
            in_r, out_w, log_fd = (fcntl.fcntl(fd, fcntl.F_DUPFD, 3) for fd in (in_r, out_w, log_fd))
            os.dup2(in_r, 0)
            os.dup2(out_w, 1)
            if not keep_stderr:
                os.dup2(log_fd, 2)
            # The parent's event loop (set, not running) and its wakeup descriptor are not the
            # child's: kept referenced, so that nothing closes a descriptor number reused here.
            _INHERITED.append(asyncio.get_event_loop_policy())
            asyncio.set_event_loop_policy(None)
            signal.set_wakeup_fd(-1)
            _close_inherited_fds()
            # Fresh streams on the wired descriptors: the parent's may be None (a parent started
            # with a closed stdin or stdout) or replaced (a caller capturing output).
            _INHERITED.extend((sys.stdin, sys.stdout, sys.stderr))
            sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
            sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
            sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", errors="backslashreplace",  # noqa: SIM115
                                               buffering=1, closefd=False)
            os.chdir(PROJECT_ROOT)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)
        from crawler.run import run_job
        code = run_job(job)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        code = 130
    except BaseException:                                   # noqa: BLE001 - reported in the log
        traceback.print_exc()
    finally:
        try:
            from crawler.spiders.site import close_outputs
            close_outputs()                                 # what a spider left open is kept
            logging.shutdown()
            flush_std_streams()
        except BaseException:                               # noqa: BLE001 - leaving regardless
            pass
        os._exit(code)


def _own_group() -> None:
    try:
        os.setpgid(0, 0)
    except OSError:
        pass


def _close_inherited_fds() -> None:
    """Close every descriptor above stderr: another crawl process's pipe ends held open here
    would keep it from seeing its parent go away."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        os.closerange(3, 65536)
        return
    for fd in fds:
        if fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass


class ForkedProcess:
    """A crawl process forked by ``_fork_crawl``: what ``Crawls`` and ``Router`` use of Popen."""

    def __init__(self, pid: int, stdin: IO[bytes] | None, stdout: IO[bytes] | None):
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:                       # reaped already: nothing to report
                self.returncode = 0
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            while self.poll() is None:
                try:
                    _, status = os.waitpid(self.pid, 0)
                    self.returncode = os.waitstatus_to_exitcode(status)
                except ChildProcessError:
                    self.returncode = 0
            return self.returncode
        deadline = time.monotonic() + timeout
        delay = 0.0005
        while self.poll() is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise subprocess.TimeoutExpired("crawler.run (forked)", timeout)
            time.sleep(min(delay, remaining, 0.05))
            delay *= 2
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def start_crawls(sites: list[Site], crawl: Crawl, resolver: dict[str, Any], workdir: Path, *,
                 progress: bool = False, processes: int | None = None,
                 checks: list[str] | None = None, today: date | None = None,
                 resume: bool = False, streamed: bool = False) -> Crawls:
    """Start the crawl processes and return at once, so that the caller's own set-up (opening
    the store, loading the checks) overlaps their start-up.

    ``workdir`` keeps the crawl outputs and ``journal.json``, which lists them by site.  With
    ``resume`` the outputs an earlier attempt left there are the crawl's journal: each crawl
    process reads its site's, fetches nothing recorded there again and continues from the
    links that were found but not yet checked; the readers take the old outputs and the new."""
    workdir = workdir.resolve()         # the crawl processes work in the project's folder
    workdir.mkdir(parents=True, exist_ok=True)
    if resume:
        wait_for_earlier_crawls(workdir)
    journal = read_journal(workdir) if resume else {"attempt": -1, "sites": {}}
    attempt = int(journal.get("attempt", -1)) + 1
    earlier: dict[str, list[dict[str, Any]]] = {name: list(files)
                                                for name, files in journal.get("sites", {}).items()}
    if not sites:
        return Crawls([], [], progress)
    workers = plan(sites, crawl.fast, processes or os.cpu_count() or 1)
    day = (today or date.today()).isoformat()
    fork = _can_fork()
    if fork:
        from crawler.run import preload
        preload()
        flush_std_streams()                # nothing buffered here is written twice
        # Nothing collectable is handed to the children: a collection there could finalise an
        # object of this process and close a descriptor number the child has reused.
        gc.collect()
        gc.freeze()
    previous = {site.name: [workdir / f["file"] for f in earlier.get(site.name, [])] for site in sites}
    # More sites than a line holds (several per crawl process): the parent shows how many are
    # done, in progress and queued, and the crawl processes show nothing.
    summary = progress and len(sites) > len(workers) > 0 and len(sites) > SITES_ON_ONE_LINE
    if summary:
        progress = False
    crawls = Crawls(sites, workers, progress, previous=previous,
                    start_args={"workdir": workdir, "checks": checks, "day": day, "crawl": crawl,
                                "resolver": resolver}, streamed=streamed, summary=summary)
    try:
        _start_workers(workers, workdir, checks, day, crawl, resolver, progress, fork,
                       attempt=attempt, earlier=earlier)
    except BaseException:
        crawls.kill_now()           # nothing crawled yet: nothing to wait for
        raise
    files = dict(earlier)
    for w in workers:
        for site, shard, shards in w.sites:
            files.setdefault(site.name, []).append(
                {"file": Path(w.outputs[site.name]).name, "shard": shard, "shards": shards})
    write_journal(workdir, {"attempt": attempt, "sites": files})
    return crawls


JOURNAL_LOCK = ".crawling"


def wait_for_earlier_crawls(workdir: Path, timeout: float = 15.0) -> None:
    """Wait until no crawl process of an earlier attempt holds the journal (a patrol killed
    with SIGKILL: its crawl processes take a few seconds to stop after it)."""
    try:
        import fcntl
        fd = os.open(workdir / JOURNAL_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except (OSError, ImportError):
        return
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                return
            except OSError:
                if time.monotonic() > deadline:
                    from patrol.runlock import LockBusy
                    raise LockBusy(f"{workdir}: crawl processes of the interrupted run are still "
                                   "running; stop them, then resume") from None
                time.sleep(0.1)
    finally:
        os.close(fd)


class JournalError(ConfigError):
    """A run's crawl journal that cannot be resumed (of another format, or damaged)."""


def read_journal(workdir: Path) -> dict[str, Any]:
    """The crawl outputs of a run's earlier attempts (``journal.json``), by site.  A journal of
    another format, or whose entries are not what patrol writes, raises JournalError."""
    path = workdir / JOURNAL_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if data is None:
        # No list (a crash before it was written): the outputs found are taken as they are.
        sites: dict[str, list[dict[str, Any]]] = {}
        for output in sorted(workdir.glob("crawl-*.jsonl")):
            head = _first_record(output)
            if not head.get("site"):
                continue
            if head.get("format") != jsonlines.JOURNAL_FORMAT:
                raise JournalError(f"{output}: a crawl output of another format "
                                   f"({head.get('format')!r}, this patrol reads "
                                   f"{jsonlines.JOURNAL_FORMAT}): it cannot be resumed")
            sites.setdefault(head["site"], []).append(
                {"file": output.name, "shard": head.get("shard", 0), "shards": head.get("shards", 1)})
        attempts = [int(p.name.split("-")[1]) for p in workdir.glob("job-*-*.json")
                    if p.name.split("-")[1].isdigit()]
        data = {"format": jsonlines.JOURNAL_FORMAT, "attempt": max(attempts, default=0), "sites": sites}
    _check_journal(path, data)
    return data


def _check_journal(path: Path, data: Any) -> None:
    fmt = data.get("format") if isinstance(data, dict) else None
    if fmt != jsonlines.JOURNAL_FORMAT:
        raise JournalError(f"{path}: a crawl journal of another format ({fmt!r}, this patrol "
                           f"reads {jsonlines.JOURNAL_FORMAT}): it cannot be resumed")
    attempt, sites = data.get("attempt", 0), data.get("sites")
    if not isinstance(attempt, int) or isinstance(attempt, bool) or not isinstance(sites, dict):
        raise JournalError(f"{path}: not a crawl journal (no attempt number or list of sites)")
    for name, entries in sites.items():
        if not isinstance(entries, list):
            raise JournalError(f"{path}: site {name!r}: not a list of crawl outputs")
        for entry in entries:
            file = entry.get("file") if isinstance(entry, dict) else None
            shard = entry.get("shard", 0) if isinstance(entry, dict) else None
            shards = entry.get("shards", 1) if isinstance(entry, dict) else None
            if (not isinstance(file, str) or Path(file).name != file or not file.endswith(".jsonl")
                    or not all(isinstance(n, int) and not isinstance(n, bool) for n in (shard, shards))
                    or not 0 <= shard < shards):
                raise JournalError(f"{path}: site {name!r}: {json.dumps(entry, ensure_ascii=False)[:200]} "
                                   "is not a crawl output entry")


def _first_record(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            line = fh.readline()
        record = jsonlines.loads(line)
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) and record.get("type") == "start" else {}


def write_journal(workdir: Path, data: dict[str, Any]) -> None:
    """Written whole and renamed into place, and synced: it must survive a power cut."""
    tmp = workdir / (JOURNAL_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({**data, "format": jsonlines.JOURNAL_FORMAT}, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, workdir / JOURNAL_FILE)
    _sync_dir(workdir)


def _sync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _earlier_outputs(earlier: list[dict[str, Any]], workdir: Path, shard: int,
                     shards: int) -> list[dict[str, Any]]:
    """The earlier outputs a shard replays: its own shard's when the split is the same,
    every one otherwise (the spider then keeps the URLs it owns)."""
    same = all(int(f.get("shards", 1)) == shards for f in earlier)
    return [{"path": str(workdir / f["file"]), "shard": int(f.get("shard", 0)),
             "shards": int(f.get("shards", 1))}
            for f in earlier if not same or int(f.get("shard", 0)) == shard]


def _start_workers(workers: list[Worker], workdir: Path, checks: list[str] | None, day: str,
                   crawl: Crawl, resolver: dict[str, Any], progress: bool, fork: bool,
                   attempt: int = 0, earlier: dict[str, list[dict[str, Any]]] | None = None,
                   frontier: bool = False) -> None:
    """Start a crawl process for each of ``workers``.  ``earlier``: each site's outputs so far,
    which its crawl replays (a resume, a restart).  ``frontier``: a restarted shard also gets
    the site's other outputs, for the links it owns on the pages they hold."""
    earlier = earlier or {}
    prefix = "crawl-" if attempt == 0 else f"crawl-r{attempt}-"
    for w in workers:
        jobs = []
        for n, (site, shard, shards) in enumerate(w.sites):
            w.outputs[site.name] = str(workdir / f"{prefix}{w.index}-{n}.jsonl")
            job = site_job(site, checks, day, shard, shards)
            if site.name in earlier:
                job["journal"] = _earlier_outputs(earlier[site.name], workdir, shard, shards)
                if frontier:
                    own = {f["path"] for f in job["journal"]}
                    job["frontier"] = [str(workdir / f["file"]) for f in earlier[site.name]
                                       if str(workdir / f["file"]) not in own]
            jobs.append(job)
        job = {"sites": jobs, "outputs": w.outputs, "crawl": asdict(crawl), "resolver": resolver,
               "progress": progress and not w.sharded, "parent": os.getpid(),
               "journal_lock": str(workdir / JOURNAL_LOCK)}
        job_path = workdir / f"job-{attempt}-{w.index}.json"
        job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        w.log_path = workdir / f"{prefix}{w.index}.log"
        if fork:
            w.proc = _fork_crawl(job, w.log_path, sharded=w.sharded, keep_stderr=progress and not w.sharded,
                                 name=f"patrol-crawl-{w.index}")
            continue
        with open(w.log_path, "wb") as log:
            pipe = subprocess.PIPE if w.sharded else log
            w.proc = subprocess.Popen([sys.executable, "-m", "crawler.run", str(job_path)],
                                      stdin=subprocess.PIPE if w.sharded else subprocess.DEVNULL,
                                      stdout=pipe, stderr=None if progress and not w.sharded else log,
                                      cwd=str(PROJECT_ROOT), process_group=0)


class Router:
    """Routes links between the shards of each site and ends each site's crawl when it is done."""

    def __init__(self, workers: list[Worker], progress: bool, on_tick: Callable[[], None] | None = None,
                 on_crash: Callable[[Worker], Worker | None] | None = None,
                 recorded: Callable[[str, str], bool] | None = None):
        self.workers = workers
        self.progress = progress
        self.on_tick = on_tick              # called every READ_EVERY_S while the crawl runs
        # A shard that crashed: its replacement, started by this (None: not started again).
        self.on_crash = on_crash
        # Whether a site's outputs hold a page (read so far); with it, the pages sent to the
        # first shard to render are kept until it has recorded them: if it crashes, they are
        # sent to its replacement (the shard that sent one does not record it).
        self.recorded = recorded
        self.renders: dict[str, dict[str, dict[str, Any]]] = {}
        self._pruned = time.monotonic()
        self._ticked = time.monotonic()
        self.by_site: dict[str, list[Worker]] = {}
        for w in workers:
            self.by_site.setdefault(w.sites[0][0].name, []).append(w)
        for shards in self.by_site.values():
            shards.sort(key=lambda w: w.sites[0][1])
        self.finished: set[str] = set()
        self.sel = selectors.DefaultSelector()
        self._shown = 0.0

    def run(self) -> None:
        for w in self.workers:
            self._register(w)
        # Until every shard has written its output (it says "closed") or has gone, and no
        # crashed one waits to be started again.
        while any((w.alive and not w.closed) or w.restart_at is not None for w in self.workers):
            for key, events in self.sel.select(timeout=1.0 if self._restarts_due() is None else 0.2):
                w = key.data
                if events & selectors.EVENT_READ and key.fileobj is w.proc.stdout:
                    self._read(w)
                elif events & selectors.EVENT_WRITE:
                    self._flush(w)
            self._restart_crashed()
            self._check_done()
            self._show()
            now = time.monotonic()
            if self.on_tick is not None and now - self._ticked >= READ_EVERY_S:
                self._ticked = now
                self.on_tick()
            if now - self._pruned >= RENDERS_PRUNED_EVERY_S:
                self._pruned = now
                self._prune_renders()
        if self.progress:
            progress_line.end()
        self.sel.close()

    def _register(self, w: Worker) -> None:
        assert w.proc is not None and w.proc.stdout is not None and w.proc.stdin is not None
        os.set_blocking(w.proc.stdin.fileno(), False)
        self.sel.register(w.proc.stdout, selectors.EVENT_READ, w)

    def _restarts_due(self) -> float | None:
        times = [w.restart_at for w in self.workers if w.restart_at is not None]
        return min(times) if times else None

    def _restart_crashed(self) -> None:
        """Start again the crashed shards whose time has come; the links routed to each while
        it was down are sent to its replacement."""
        now = time.monotonic()
        for i, w in enumerate(list(self.workers)):
            if w.restart_at is None or w.restart_at > now:
                continue
            w.restart_at = None
            new = self.on_crash(w) if self.on_crash is not None else None
            if new is None:
                continue
            name = w.sites[0][0].name
            self.workers[i] = new
            shards = self.by_site[name]
            shards[shards.index(w)] = new
            self.finished.discard(name)     # (it crashed while the site was finishing)
            self._register(new)
            resend = [m for m in w.held if not m.get("render")]
            if new.sites[0][1] == 0:        # the shard that renders: what it had not recorded
                self._prune_renders()
                resend += list(self.renders.get(name, {}).values())
            for message in resend:
                new.forwarded += 1
                self._send(new, message)
            w.held.clear()

    def _prune_renders(self) -> None:
        """Forget the pages to render that the rendering shard has recorded."""
        if self.recorded is None:
            return
        for name, pending in self.renders.items():
            for url in [u for u in pending if self.recorded(name, u)]:
                del pending[url]

    def _read(self, w: Worker) -> None:
        data = os.read(w.proc.stdout.fileno(), 1 << 16)  # type: ignore[union-attr]
        if not data:
            self._gone(w)
            return
        w.inbox.extend(data)
        *lines, rest = w.inbox.split(b"\n")
        w.inbox = bytearray(rest)
        for line in lines:
            if line.strip():
                self._handle(w, jsonlines.loads(line))

    def _handle(self, w: Worker, message: dict[str, Any]) -> None:
        if "url" in message:
            shards = self.by_site[w.sites[0][0].name]
            target = shards[0] if message.get("render") else shards[owner(message["url"], len(shards))]
            if message.get("render") and self.recorded is not None:
                self.renders.setdefault(w.sites[0][0].name, {})[message["origin"]] = message
            if target.alive:
                target.forwarded += 1
                target.idle_received = None
                self._send(target, message)
            elif target.restart_at is not None:
                target.held.append(message)     # for its replacement
        elif message.get("idle"):
            w.idle_received = int(message.get("received", 0))
        elif message.get("closed"):
            w.closed = True
        elif "progress" in message:
            w.progress = message["progress"]

    def _send(self, w: Worker, message: dict[str, Any]) -> None:
        w.pending.extend(jsonlines.dumps_line(message))
        self._flush(w)

    def _flush(self, w: Worker) -> None:
        stdin: IO[bytes] = w.proc.stdin  # type: ignore[union-attr, assignment]
        try:
            written = os.write(stdin.fileno(), w.pending) if w.pending else 0
        except BlockingIOError:
            written = 0
        except (BrokenPipeError, OSError):
            # The process is gone, and the parent has not read its end yet: what was routed to
            # it is kept for its replacement (the first message's head may have reached the
            # dead process; the rest is whole).
            unsent = bytes(w.pending)
            w.pending.clear()
            if not w.retried and not w.closed:
                for line in unsent.split(b"\n"):
                    if line.strip():
                        try:
                            w.held.append(jsonlines.loads(line))
                        except (ValueError, TypeError):
                            pass
            return
        del w.pending[:written]
        if w.pending:
            try:
                self.sel.register(stdin, selectors.EVENT_WRITE, w)
            except KeyError:
                pass
        else:
            try:
                self.sel.unregister(stdin)
            except (KeyError, ValueError):
                pass

    def _gone(self, w: Worker) -> None:
        w.alive = False
        for fileobj in (w.proc.stdout, w.proc.stdin):  # type: ignore[union-attr]
            try:
                self.sel.unregister(fileobj)
            except (KeyError, ValueError):
                pass
        if self.on_crash is None or w.closed or w.retried:
            return
        try:
            code = w.proc.wait(timeout=2.0)  # type: ignore[union-attr]
        except subprocess.TimeoutExpired:    # its output closed, the process not gone: no crash
            return
        if code:
            # Killed (by the kernel for memory, by its browser's crash): started again once.
            w.restart_at = time.monotonic() + SHARD_RESTART_DELAY_S

    def _check_done(self) -> None:
        for name, shards in self.by_site.items():
            if name in self.finished or any(w.restart_at is not None for w in shards):
                continue
            live = [w for w in shards if w.alive]
            if all(w.idle_received is not None and w.idle_received >= w.forwarded and not w.pending
                   for w in live):
                self.finished.add(name)
                for w in live:
                    self._send(w, {"finish": True})

    def _show(self) -> None:
        now = time.monotonic()
        if not self.progress or now - self._shown < 1.0:
            return
        self._shown = now
        parts = []
        for name, shards in self.by_site.items():
            pages, links, broken = (sum(w.progress[i] for w in shards) for i in range(3))
            parts.append(progress_line.site_part(name, pages, links, broken))
        progress_line.show(parts)


def load_crawl(paths: list[Path], site: Site) -> SiteCrawl:
    """Read a site's JSON-lines outputs (one per shard); a truncated file keeps what was written."""
    return OutputReader(paths, site).result()


class OutputReader:
    """A site's JSON-lines outputs (one per crawl process), read while they are written: ``feed``
    takes the complete lines written so far, ``result`` the rest.  A garbled line is skipped
    and the records after it are read; a file cut short keeps what was written; the site's
    errors say which line was skipped, or that the output ends early.

    ``previous``: the outputs of the run's earlier attempts (a resumed run), read first; their
    pages and link results count, their end records do not (a later record of a URL wins).

    ``index``: the pages and link results are not kept in memory but indexed on disk
    (``patrol/siteindex.py``); ``result`` is then a ``StreamedCrawl`` that reads them back."""

    def __init__(self, paths: list[Path], site: Site, previous: list[Path] | None = None,
                 index: SiteIndex | None = None):
        self.paths = paths
        self.previous = list(previous or [])
        self.site = site
        self.index = index
        if index is not None:
            self.crawl: SiteCrawl = StreamedCrawl(name=site.name, url=site.url, department=site.department,
                                                  index=index)
        else:
            self.crawl = SiteCrawl(name=site.name, url=site.url, department=site.department)
        self.finished = 0
        # How far each output has been read.  No file stays open between feeds: a run of
        # a thousand sites holds no thousand descriptors.
        self._read: dict[Path, int] = {}
        self.released = False                   # stored: nothing more to read (Crawls.release)
        self.pages_kept = 0                     # the pages it had then
        self._rest: dict[Path, bytes] = {path: b"" for path in paths}
        self._lines: dict[Path, int] = {path: 0 for path in paths}     # whole lines read so far
        self._offsets: dict[Path, int] = {path: 0 for path in paths}   # where _rest starts in the file
        self._pages: dict[str, int] = {}        # page URL -> its index in crawl.pages
        self._at: tuple[Path, int, bytes] | None = None     # the record being taken: file, offset, line
        self._reading_previous = False
        if self.previous:
            self._read_previous()

    def _read_previous(self) -> None:
        self._reading_previous = True
        try:
            for path in self.previous:
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                lines = data.split(b"\n")
                if not data.endswith(b"\n"):
                    lines = lines[:-1]          # a line cut by the stop is not a record
                offset = 0
                for n, line in enumerate(lines, 1):
                    self._at = (path, offset, line)
                    offset += len(line) + 1
                    # A damaged line is skipped and said; the records after it count.
                    if line.strip() and not self._record(line, quiet=True):
                        message = jsonlines.journal_damage(path.name, n)
                        if message not in self.crawl.errors:
                            self.crawl.errors.append(message)
        finally:
            self._reading_previous = False

    def feed(self) -> None:
        """Take the whole lines written since the last call.  A damaged line (not a record) is
        skipped and said, as in an earlier attempt's output; a line still being written (no
        newline yet) waits for the next call, or for ``result``."""
        if self.released:
            return
        for path in self.paths:
            done = self._read.get(path, 0)
            try:
                if os.stat(path).st_size <= done:
                    self._read.setdefault(path, done)
                    continue
                with open(path, "rb") as fh:
                    fh.seek(done)
                    data = fh.read()
            except FileNotFoundError:
                continue
            self._read[path] = done + len(data)
            if not data:
                continue
            *lines, self._rest[path] = (self._rest[path] + data).split(b"\n")
            first = self._lines[path] + 1
            self._lines[path] += len(lines)
            offset = self._offsets[path]
            for n, line in enumerate(lines, first):
                self._at = (path, offset, line)
                offset += len(line) + 1
                if line.strip() and not self._record(line, quiet=True):
                    message = jsonlines.journal_damage(path.name, n, fetched_again=False)
                    if message not in self.crawl.errors:
                        self.crawl.errors.append(message)
            self._offsets[path] = offset
        if self.index is not None:
            self.index.flush()

    def result(self) -> SiteCrawl:
        if self.released:
            return self.crawl
        self.feed()
        crawl = self.crawl
        for path in self.paths:
            if path not in self._read and not path.exists():
                crawl.fail(CrawlFailure.NO_OUTPUT, "a crawl process wrote nothing (it did not start)")
                continue
            rest = self._rest[path]
            if rest.strip():
                self._at = (path, self._offsets[path], rest)
                self._record(rest)          # a last line without its newline: whole, or cut
        if self.finished < len(self.paths):
            crawl.fail(CrawlFailure.UNFINISHED, "the crawl did not finish; results are partial")
        crawl.pages.sort(key=lambda p: (p.depth, p.url))
        if not crawl.homepage_url:
            crawl.homepage_url = _norm(self.site.url)
        if not self.pages_read:
            home = (self.index.link(_norm(self.site.url)) if self.index is not None
                    else crawl.links.get(_norm(self.site.url)))
            why = f"{home.kind} {home.error}".strip() if home else "no answer"
            crawl.errors.append(f"首页无法访问：the homepage could not be crawled ({why})")
        return crawl

    def has_page(self, url: str) -> bool:
        """Whether a page record of ``url`` has been read."""
        if self.index is not None:
            return self.index.has_page(url)
        return url in self._pages

    @property
    def started(self) -> bool:
        """Whether any output of the site has been written (its crawl has begun)."""
        return bool(self._read) or bool(self.previous) or self.released

    @property
    def pages_read(self) -> int:
        """How many distinct pages have been read."""
        if self.released:
            return self.pages_kept
        return self.index.page_count() if self.index is not None else len(self.crawl.pages)

    def replace(self, old: Path, new: Path) -> None:
        """A crashed crawl process's output becomes an earlier attempt's (its records are
        kept, its missing end is no error), and its replacement's output is read instead."""
        self.feed()
        if old in self.paths:
            self.paths.remove(old)
            self.previous.append(old)
        self._rest.pop(old, None)
        self._lines.pop(old, None)
        self._offsets.pop(old, None)
        self.paths.append(new)
        self._rest[new] = b""
        self._lines[new] = 0
        self._offsets[new] = 0

    def _record(self, line: bytes, quiet: bool = False) -> bool:
        """Take one record; False when the line is not one (the output ends early)."""
        try:
            return self._take(jsonlines.loads(line))
        except (ValueError, TypeError, AttributeError, KeyError):
            # JSON or UTF-8 broken mid-record, or a record of another shape
            if not quiet:
                self.crawl.errors.append("the crawl output ends early (crawl interrupted)")
            return False

    def _take(self, record: dict[str, Any]) -> bool:
        crawl = self.crawl
        kind = record.pop("type", None)
        if self.index is not None and kind in ("page", "link"):
            assert self._at is not None
            path, offset, line = self._at
            if kind == "page":
                self.index.add_page(record, path, offset, len(line))
            else:
                self.index.add_link(record, line)
        elif kind == "page":
            page = PageSnapshot.from_dict(record)
            at = self._pages.get(page.url)
            if at is None:
                self._pages[page.url] = len(crawl.pages)
                crawl.pages.append(page)
            else:                           # fetched again after a resume: the later one
                crawl.pages[at] = page
        elif kind == "sheet":
            crawl.sheets.append(PageSnapshot.from_dict(record))
        elif kind == "link":
            result = LinkResult.from_dict(record)
            crawl.links[result.url] = result
        elif kind == "site" and not self._reading_previous:
            # A crawl stopped by a signal closes with "shutdown": its output is not complete.
            if record.get("reason") != "shutdown":
                self.finished += 1
            if record.get("owns_start", True):
                crawl.homepage_url = record.get("homepage_url", "")
            crawl.errors.extend(e for e in record.get("errors", []) if e not in crawl.errors)
            _merge_stats(crawl.stats, record.get("stats", {}))
        elif kind == "site" and record.get("owns_start", True) and record.get("homepage_url"):
            crawl.homepage_url = crawl.homepage_url or record["homepage_url"]
        return True


def _merge_stats(total: dict[str, Any], stats: dict[str, Any]) -> None:
    for key, value in stats.items():
        if key == "duration_s":
            total[key] = max(total.get(key, 0), value)
        elif isinstance(value, bool):
            total[key] = total.get(key, False) or value
        elif isinstance(value, (int, float)):
            total[key] = total.get(key, 0) + value
        elif isinstance(value, dict):
            total.setdefault(key, {}).update(value)
        else:
            total[key] = value


def _norm(url: str) -> str:
    from crawler.urls import InvalidURL, normalize
    try:
        return normalize(url)
    except InvalidURL:
        return url


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])[-600:]
