"""Stopping, killing and resuming `patrol run`: real processes, real signals, the sample site.

A run is started in a process of its own on the sample site (crawled slowly enough to be
stopped mid-crawl), signalled once it has crawled some pages, then resumed.  The sample server
counts the requests it answers, so a resume that fetched again what was recorded shows.
"""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from patrol.demo.samplesite.counting import crawl_requests as sample_requests
from patrol.demo.samplesite.counting import journal_pages
from common.stopping import descendants

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process tree (/proc)")]

CRAWL = {"timeout": 4, "retries": 1, "retry_backoff": 0.2, "max_retry_after": 2}
CHECKS = "links,freshness,text"
# Slow enough to stop mid-crawl, quick enough for a test (about 15 s for the whole site).
SLOW = {**CRAWL, "delay": 0.05, "per_host": 2, "autothrottle": False}


def write_config(tmp: Path, sample_site, crawl: dict, **site: object) -> Path:
    m = sample_site.manifest
    main = next(s for s in m.sites if s["id"] == "main")
    cfg = {"inspector": {"name": "清溪区政务公开办公室"}, "database": "sqlite:///patrol.db",
           "output": str(tmp / "out"), "departments": [{"id": "zfb", "name": "区政府办公室"}],
           "sites": [{"name": main["name"], "url": main["url"], "department": "zfb", **site}],
           "leaders": m.leaders, "crawl": crawl}
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "patrol.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def start_patrol(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "patrol.cli", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run_patrol(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "patrol.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


def journal_state(out: Path) -> tuple[set[str], set[str]]:
    """The URLs a run's journal records as done: pages, and link results other than those of
    pages whose page record is missing (stopped in between: fetched again by design)."""
    pages: set[str] = set()
    links: dict[str, dict] = {}
    for path in (out / ".journal").glob("*/crawl-*.jsonl"):
        for line in path.read_bytes().split(b"\n"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("type") == "page":
                pages.add(record["url"])
            elif record.get("type") == "link":
                links[record["url"]] = record
    return pages, {url for url, r in links.items() if not (r.get("page") and url not in pages)}


def run_until_pages(proc: subprocess.Popen[str], out: Path, pages: int, timeout: float = 120,
                    recorded: Callable[[], bool] | None = None) -> set[int]:
    """Wait until the run's journal holds ``pages`` pages and the run is recorded in its store
    (``recorded``; by default a row in the SQLite store ``patrol.db`` beside ``out``: the crawl
    starts before the store opens, and a busy machine may crawl pages meanwhile); every process
    of the run seen."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    recorded = recorded or (lambda: _recorded(out.parent / "patrol.db"))
    while journal_pages(out) < pages or not recorded():
        assert proc.poll() is None, f"the run ended before it was stopped: {proc.communicate()}"
        assert time.monotonic() < deadline, "the crawl did not get going"
        seen |= descendants([proc.pid])
        time.sleep(0.1)
    seen |= descendants([proc.pid])
    assert seen, "no crawl process"
    return seen


def _recorded(db: Path) -> bool:
    if not db.exists():
        return False
    try:
        return bool(db_rows(db, "SELECT id FROM run WHERE status = 'running'"))
    except sqlite3.OperationalError:        # not created yet, or being written
        return False


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] != b"Z"


def wait_gone(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = {p for p in pids if alive(p)}
        if not left:
            return set()
        time.sleep(0.1)
    return {p for p in pids if alive(p)}


def db_rows(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def findings_of(out: Path) -> set[tuple[str, str, str | None]]:
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return {(f["check"], f["url"], f["page"]) for f in doc["findings"]}


def crawl_requests(sample_site) -> Counter[tuple[str, str]]:
    return sample_requests(sample_site.server)


def fetched_twice(urls: set[str], asked: Counter, reference: Counter,
                  base: str) -> dict[str, tuple[int, int]]:
    """URLs among ``urls`` asked for more often than an uninterrupted run asks for them."""
    host = urlsplit(base).netloc
    twice = {}
    for url in urls:
        try:
            parts = urlsplit(url)
        except ValueError:              # the site's deliberately invalid links
            continue
        if parts.netloc != host:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        n = asked[("GET", path)] + asked[("HEAD", path)]
        ref = reference[("GET", path)] + reference[("HEAD", path)]
        if n > ref:
            twice[url] = (n, ref)
    return twice


@dataclass
class Reference:
    findings: set
    requests: Counter


@pytest.fixture(scope="module")
def reference(sample_site, tmp_path_factory) -> Reference:
    """The findings of an uninterrupted run, and what it asked the site for."""
    tmp = tmp_path_factory.mktemp("reference")
    config = write_config(tmp, sample_site, SLOW)
    sample_site.server.reset()
    proc = run_patrol("run", "--config", str(config), "--out", str(tmp / "report"), "--quiet",
                      "--checks", CHECKS)
    assert proc.returncode == 0, proc.stderr
    return Reference(findings_of(tmp / "report"), crawl_requests(sample_site))


def test_sigterm_stops_every_process_keeps_the_pages_and_resume_fetches_nothing_twice(
        sample_site, tmp_path, reference):
    config = write_config(tmp_path, sample_site, SLOW)
    out, db = tmp_path / "out", tmp_path / "patrol.db"
    sample_site.server.reset()
    proc = start_patrol("run", "--config", str(config), "--quiet", "--checks", CHECKS)
    tree = run_until_pages(proc, out, 12)

    # One writer: a second run on the same database refuses, saying why.
    second = run_patrol("run", "--config", str(config), "--quiet", "--checks", CHECKS)
    assert second.returncode == 2
    assert "another patrol is writing to this database" in second.stderr
    assert f"process {proc.pid}" in second.stderr

    tree |= descendants([proc.pid])
    proc.send_signal(signal.SIGTERM)
    left = wait_gone(tree | {proc.pid}, 10.0)
    assert not left, f"processes of the run still running 10 s after SIGTERM: {left}"
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "patrol run --resume" in stderr

    (run_id, status), = db_rows(db, "SELECT id, status FROM run")
    assert status == "interrupted"
    (result_status, pages), = db_rows(db, "SELECT status, pages FROM siteresult WHERE run_id = ?", run_id)
    stored = [url for url, in db_rows(db, "SELECT url FROM page WHERE run_id = ?", run_id)]
    assert result_status == "interrupted" and pages == len(stored) >= 12
    report = out / f"run-{run_id}"
    doc = json.loads((report / "findings.json").read_text(encoding="utf-8"))
    assert doc["run"]["status"] == "interrupted" and doc["run"]["complete"] is False
    assert "巡检未完成" in (report / "report.html").read_text(encoding="utf-8")

    # Not an inspection until it is finished.
    assert _quota_count(db, config) == 0

    pages_done, links_done = journal_state(out)
    assert set(stored) == pages_done
    resumed = run_patrol("run", "--config", str(config), "--resume", "--quiet", "--checks", CHECKS)
    assert resumed.returncode == 0, resumed.stderr
    assert db_rows(db, "SELECT id, status FROM run") == [(run_id, "completed")]
    assert findings_of(report) == reference.findings

    # Both attempts together asked for nothing recorded more often than one run does; what was
    # in flight at the signal (answered, not recorded) may be asked for again.
    asked = crawl_requests(sample_site)
    assert not fetched_twice(pages_done | links_done, asked, reference.requests, sample_site.base)
    extra = sum(max(0, n - reference.requests[key]) for key, n in asked.items())
    assert extra <= 0.05 * sum(reference.requests.values()) + 3, extra
    assert not (out / ".journal").exists(), "the finished run's journal is removed"
    assert _quota_count(db, config) == 1


def _quota_count(db: Path, config: Path) -> int:
    from datetime import date

    from common.config import load_config
    from store import Store
    from reports.quota import quota_grid
    today = date.today()
    grid = quota_grid(Store(f"sqlite:///{db}"), today.year, load_config(config), today=today)
    return sum(row.counts[today.month - 1] for row in grid.rows)


def test_killed_parent_takes_its_crawl_with_it_and_the_run_resumes(sample_site, tmp_path, reference):
    """kill -9 of patrol: the crawl processes stop by themselves (parent-death signal); the run
    left marked running is taken as interrupted by the next run holding the lock, and resumes."""
    config = write_config(tmp_path, sample_site, SLOW)
    out, db = tmp_path / "out", tmp_path / "patrol.db"
    # The report folder holds last month's report: it must not pass for this run's.
    report = tmp_path / "report"
    report.mkdir()
    (report / "findings.json").write_text('{"run": {"id": 7, "status": "completed"}, "findings": []}')
    (report / "report.html").write_text("<html>上月的报告</html>", encoding="utf-8")
    sample_site.server.reset()
    proc = start_patrol("run", "--config", str(config), "--quiet", "--checks", CHECKS, "--out", str(report))

    def report_marked() -> bool:
        """The run has put its own 巡检未完成 report in the folder (its first step)."""
        try:
            return (json.loads((report / "findings.json").read_text(encoding="utf-8"))["run"]["id"] == 1
                    and "巡检未完成" in (report / "report.html").read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError):
            return False
    tree = run_until_pages(proc, out, 8, recorded=report_marked)
    proc.kill()
    proc.communicate(timeout=30)
    left = wait_gone(tree, 10.0)
    assert not left, f"crawl processes still running 10 s after their parent was killed: {left}"
    assert db_rows(db, "SELECT status FROM run") == [("running",)]
    pages_done, links_done = journal_state(out)
    assert len(pages_done) >= 8
    shown = json.loads((report / "findings.json").read_text(encoding="utf-8"))
    assert shown["run"]["id"] == 1 and shown["run"]["status"] == "running" and not shown["run"]["complete"]
    assert "巡检未完成" in (report / "report.html").read_text(encoding="utf-8")

    resumed = run_patrol("run", "--config", str(config), "--resume", "--quiet", "--checks", CHECKS,
                         "--out", str(report))
    assert resumed.returncode == 0, resumed.stderr
    assert db_rows(db, "SELECT status FROM run") == [("completed",)]
    assert findings_of(report) == reference.findings
    # What the killed run had recorded (synced to disk) is not fetched again.
    assert not fetched_twice(pages_done | links_done, crawl_requests(sample_site), reference.requests,
                             sample_site.base)


def test_second_signal_stops_at_once(sample_site, tmp_path):
    config = write_config(tmp_path, sample_site, SLOW)
    out = tmp_path / "out"
    sample_site.server.reset()
    proc = start_patrol("run", "--config", str(config), "--quiet", "--checks", "links")
    tree = run_until_pages(proc, out, 5)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    tree |= descendants([proc.pid])
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert time.monotonic() - t0 < 3.0
    assert proc.returncode == 128 + signal.SIGINT
    assert not wait_gone(tree, 5.0)


@pytest.mark.parametrize("journal", ["kept", "gone"])
def test_run_without_resume_says_whether_an_interrupted_run_can_be_continued(sample_site, tmp_path, journal):
    from patrol.crawling import write_journal
    from store import Store
    config = write_config(tmp_path, sample_site, {**CRAWL, "fast": True}, max_pages=3, render="never")
    folder = tmp_path / "out" / ".journal" / "earlier"
    if journal == "kept":
        folder.mkdir(parents=True)
        write_journal(folder, {"attempt": 0, "sites": {}})
    store = Store(f"sqlite:///{tmp_path / 'patrol.db'}")
    run = store.start_run(time.strftime("%Y-%m"), journal=str(folder))
    store.finish_run(run.id, "interrupted")
    proc = run_patrol("run", "--config", str(config), "--quiet", "--checks", "links")
    assert proc.returncode == 0, proc.stderr
    assert f"run {run.id} of {run.period} was interrupted" in proc.stderr
    if journal == "kept":
        assert "`patrol run --resume` continues it" in proc.stderr
    else:       # --resume would refuse it: not suggested
        assert "--resume" not in proc.stderr, proc.stderr
        assert f"cannot be continued: its crawl journal ({folder}) is gone" in proc.stderr
        assert "This run starts afresh" in proc.stderr
    assert db_rows(tmp_path / "patrol.db", "SELECT id, status FROM run") == [(run.id, "interrupted"),
                                                                            (run.id + 1, "completed")]


@pytest.mark.parametrize("when", ["before any page", "after the crawl"])
def test_a_new_run_ended_by_an_error_is_failed_without_a_journal_or_resumable_with_its_pages(
        sample_site, tmp_path, monkeypatch, capsys, when):
    """An error before anything was crawled: the run is `failed` and leaves no journal for a
    later --resume to take up.  An error once pages are crawled: they are kept, the run is
    `interrupted` and patrol says that --resume continues it."""
    from patrol import runner
    from common.config import load_config
    config = write_config(tmp_path, sample_site, {**CRAWL, "fast": True}, max_pages=3, render="never")
    step = "mark_outputs_running" if when == "before any page" else "measure"

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(runner, step, broken)
    if step == "mark_outputs_running":       # and no page can have been crawled by then
        real = runner.start_crawls
        monkeypatch.setattr(runner, "start_crawls", lambda sites, *a, **k: real(sites[:0], *a, **k))
    with pytest.raises(OSError, match="No space left"):
        runner.patrol(load_config(config), checks=["links"])
    (status,), = db_rows(tmp_path / "patrol.db", "SELECT status FROM run")
    said = capsys.readouterr().err
    if when == "before any page":
        assert status == "failed" and "--resume" not in said
        assert not (tmp_path / "out" / ".journal").exists()
    else:
        assert status == "interrupted"
        assert re.search(r"run 1 stopped on an error after [1-9]\d* pages were crawled", said), said
        assert "patrol run --resume" in said
        resumed = run_patrol("run", "--config", str(config), "--resume", "--quiet")
        assert resumed.returncode == 0, resumed.stderr
        assert db_rows(tmp_path / "patrol.db", "SELECT status FROM run") == [("completed",)]


def test_a_crashed_crawl_process_is_started_again_from_its_journal(sample_site, tmp_path, reference):
    """The crawl process dies (the browser took it down, an out-of-memory kill): its site is
    crawled again once from what it had written, the run completes, and the report says so."""
    config = write_config(tmp_path, sample_site, SLOW)
    out = tmp_path / "out"
    sample_site.server.reset()
    proc = start_patrol("run", "--config", str(config), "--quiet", "--checks", CHECKS)
    run_until_pages(proc, out, 8)
    crawlers = [pid for pid in descendants([proc.pid])
                if Path(f"/proc/{pid}/comm").read_text().strip().startswith("patrol-crawl")]
    assert crawlers
    pages_done, links_done = journal_state(out)
    os.kill(crawlers[0], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    report = out / "run-1"
    assert findings_of(report) == reference.findings
    assert "重新抓取一次" in (report / "report.html").read_text(encoding="utf-8")
    db = tmp_path / "patrol.db"
    (status, stats), = db_rows(db, "SELECT status, stats FROM siteresult")
    assert status == "completed" and "SIGKILL" in json.loads(stats)["crawl"]["restarted"]
    assert not fetched_twice(pages_done | links_done, crawl_requests(sample_site), reference.requests,
                             sample_site.base)


def test_a_crashed_shard_of_a_fast_run_is_started_again_and_the_report_says_so(sample_site, tmp_path, reference):
    """`patrol run` at full speed splits the site between the cores; kill -9 of the process
    with the start page: it is started again once from its journal, the run completes with
    the uninterrupted run's broken links, and the report says what happened."""
    from crawler.shards import owner
    from crawler.urls import normalize
    config = write_config(tmp_path, sample_site, {**CRAWL, "fast": True, "concurrency": 2})
    out = tmp_path / "out"
    proc = start_patrol("run", "--config", str(config), "--quiet", "--checks", "links")
    run_until_pages(proc, out, 5)
    shards = sorted(pid for pid in descendants([proc.pid])
                    if Path(f"/proc/{pid}/comm").read_text().strip().startswith("patrol-crawl"))
    if len(shards) < 2:
        proc.kill()
        proc.communicate(timeout=30)
        pytest.skip("one core: the site is not split")
    names = {Path(f"/proc/{pid}/comm").read_text().strip(): pid for pid in shards}
    os.kill(names[f"patrol-crawl-{owner(normalize(sample_site.base), len(shards))}"], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    report = out / "run-1"
    assert findings_of(report) == {f for f in reference.findings if f[0] == "broken_link"}
    assert "重新抓取一次" in (report / "report.html").read_text(encoding="utf-8")
    (status, stats), = db_rows(tmp_path / "patrol.db", "SELECT status, stats FROM siteresult")
    restarted = json.loads(stats)["crawl"]["restarted"]
    assert status == "completed" and "SIGKILL" in restarted and f"of the {len(shards)} crawling" in restarted


def test_killed_after_the_crawl_resumes_without_fetching_anything(sample_site, tmp_path, reference):
    """kill -9 once the crawl has finished, while patrol checks, stores or writes the report:
    a resume fetches nothing; a run killed after it was recorded complete re-renders."""
    config = write_config(tmp_path, sample_site, SLOW)
    out, db = tmp_path / "out", tmp_path / "patrol.db"
    sample_site.server.reset()
    proc = start_patrol("run", "--config", str(config), "--quiet", "--checks", CHECKS)
    deadline = time.monotonic() + 180
    while not any(b'{"type":"site"' in p.read_bytes() for p in (out / ".journal").glob("*/crawl-*.jsonl")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    proc.kill()
    proc.communicate(timeout=30)
    (status,), = db_rows(db, "SELECT status FROM run")
    sample_site.server.reset()
    if status == "running":
        resumed = run_patrol("run", "--config", str(config), "--resume", "--quiet", "--checks", CHECKS)
        assert resumed.returncode == 0, resumed.stderr
        assert not crawl_requests(sample_site), "a finished crawl's journal is all a resume needs"
    else:       # killed while writing the report: it is rebuilt from the store
        assert status == "completed"
        again = run_patrol("report", "--config", str(config), "--run", "1", "--out", str(out / "run-1"))
        assert again.returncode == 0, again.stderr
    assert db_rows(db, "SELECT status FROM run") == [("completed",)]
    assert findings_of(out / "run-1") == reference.findings


def _interrupted_run(tmp_path: Path, journal: Path, options: dict | None = None) -> int:
    from store import Store
    store = Store(f"sqlite:///{tmp_path / 'patrol.db'}")
    run = store.start_run(time.strftime("%Y-%m"), journal=str(journal), options=options)
    store.finish_run(run.id, "interrupted")
    return run.id


@pytest.mark.parametrize("journal, message", [
    ({"version": 2, "sites": {"清溪区人民政府": ["crawl-0-0.jsonl"]}}, "a crawl journal of another format (None"),
    ({"format": 1, "attempt": 0, "sites": {"清溪区人民政府": ["crawl-0-0.jsonl"]}},
     '"crawl-0-0.jsonl" is not a crawl output entry'),
    ({"format": 1, "attempt": 0, "sites": {"清溪区人民政府": [{"file": "../../patrol.db"}]}},
     "is not a crawl output entry"),
    (None, "the crawl journal of run 1"),
])
def test_resume_refuses_a_journal_it_cannot_read_and_the_run_stays_resumable(sample_site, tmp_path, journal,
                                                                              message):
    config = write_config(tmp_path, sample_site, {**CRAWL, "fast": True}, max_pages=3, render="never")
    folder = tmp_path / "out" / ".journal" / "run"
    if journal is not None:         # None: the journal folder was removed
        folder.mkdir(parents=True)
        (folder / "journal.json").write_text(json.dumps(journal, ensure_ascii=False), encoding="utf-8")
    run_id = _interrupted_run(tmp_path, folder)
    sample_site.server.reset()
    proc = run_patrol("run", "--config", str(config), "--resume", "--quiet", "--checks", "links")
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert "`patrol run` starts a new one" in proc.stderr
    assert (journal is None) == ("is gone" in proc.stderr)
    assert db_rows(tmp_path / "patrol.db", "SELECT id, status FROM run") == [(run_id, "interrupted")]
    assert not crawl_requests(sample_site), "nothing is crawled"


def test_resume_keeps_the_sites_checks_and_output_folder_the_run_was_started_with(sample_site, tmp_path,
                                                                                  reference):
    config = write_config(tmp_path, sample_site, SLOW)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    main = data["sites"][0]["name"]
    data["sites"].append({**data["sites"][0], "name": "清溪区教育局"})      # in the file, not asked for
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out, db, report = tmp_path / "out", tmp_path / "patrol.db", tmp_path / "report"
    sample_site.server.reset()
    proc = start_patrol("run", "--config", str(config), "--quiet", "--site", main, "--checks", "links",
                        "--out", str(report))
    run_until_pages(proc, out, 5)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert db_rows(db, "SELECT status FROM run") == [("interrupted",)]

    for option, value in (("--checks", "links,text"), ("--site", "清溪区教育局"), ("--out", str(tmp_path / "x"))):
        refused = run_patrol("run", "--config", str(config), "--resume", "--quiet", option, value)
        assert refused.returncode == 2, refused.stderr
        assert f"run 1 was started with {option} " in refused.stderr and "Traceback" not in refused.stderr
        assert db_rows(db, "SELECT status FROM run") == [("interrupted",)]

    # A line of the journal damaged meanwhile: skipped, and the report says so.
    output, = (out / ".journal").glob("*/crawl-*.jsonl")
    lines = output.read_bytes().split(b"\n")
    damaged = [n for n, line in enumerate(lines) if line.startswith(b'{"type":"page"')][1]
    lines[damaged] = b"[1]"
    output.write_bytes(b"\n".join(lines))

    resumed = run_patrol("run", "--config", str(config), "--resume", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert db_rows(db, "SELECT status FROM run") == [("completed",)]
    assert db_rows(db, "SELECT site.name FROM siteresult JOIN site ON site.id = siteresult.site_id") == [(main,)]
    from crawler.jsonlines import journal_damage
    assert journal_damage(output.name, damaged + 1) in (report / "report.html").read_text(encoding="utf-8")
    # Only the link check's findings, though the other checks find more on this site.
    assert {check for check, _, _ in findings_of(report)} == {"broken_link"}
    assert {check for check, _, _ in reference.findings} - {"broken_link"}
    assert not (out / "run-1").exists()


@pytest.mark.parametrize("step", ["follow_up", "write_outputs"])
def test_a_stop_signal_once_the_crawl_is_stored_completes_the_run(sample_site, tmp_path, monkeypatch, capsys,
                                                                  step):
    """SIGTERM while the run follows up the rectification loop or writes its report: the run is
    complete (the follow-up done), and patrol says how to rebuild the report, not to resume."""
    from patrol import runner
    from common.config import load_config
    config = write_config(tmp_path, sample_site, {**CRAWL, "fast": True}, max_pages=3, render="never")
    done: list[tuple[int, str]] = []
    real = getattr(runner, step)

    def stopped_meanwhile(store, run_id, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        if step == "follow_up":
            real(store, run_id)
            done.append((run_id, store.get_run(run_id).status))
        return {}
    monkeypatch.setattr(runner, step, stopped_meanwhile)
    outcome = runner.patrol(load_config(config), checks=["links"])
    assert outcome.status == "completed" and outcome.interrupted.signum == signal.SIGTERM
    if step == "follow_up":
        assert done == [(outcome.run_id, "running")], "the follow-up ran whole, before the run's end"
    assert db_rows(tmp_path / "patrol.db", "SELECT id, status FROM run") == [(outcome.run_id, "completed")]
    assert not (outcome.out_dir / "report.html").exists()
    assert not (tmp_path / "out" / ".journal").exists()
    assert runner.finish_message(outcome, "patrol run --resume") == 128 + signal.SIGTERM
    said = capsys.readouterr().err
    assert f"run {outcome.run_id} completed" in said and "--resume" not in said
    command = said.split("rebuild the report with `")[1].split("`")[0].split()
    rebuilt = run_patrol(*command[1:], "--config", str(config))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads((outcome.out_dir / "findings.json").read_text(encoding="utf-8"))["run"]["status"] == "completed"


def test_a_resume_that_fails_leaves_the_run_resumable(sample_site, tmp_path, monkeypatch):
    """An error while a resumed run goes on (a bug, a full disk): the run is still
    `interrupted`, so it can be resumed again, never `failed` for good."""
    from patrol import crawling, runner
    from common.config import load_config
    config = write_config(tmp_path, sample_site, {**CRAWL, "fast": True}, max_pages=3, render="never")
    folder = tmp_path / "out" / ".journal" / "run"
    folder.mkdir(parents=True)
    crawling.write_journal(folder, {"attempt": 0, "sites": {}})
    run_id = _interrupted_run(tmp_path, folder, {"sites": None, "checks": ["links"], "out": None})

    def broken(self, **_):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(crawling.Crawls, "wait", broken)
    with pytest.raises(OSError, match="No space left"):
        runner.patrol(load_config(config), resume=True)
    assert db_rows(tmp_path / "patrol.db", "SELECT id, status FROM run") == [(run_id, "interrupted")]
    assert (folder / "journal.json").exists()


def test_one_writer_on_postgresql_and_a_killed_run_resumes_there(sample_site, tmp_path, postgres_url):
    """Two `patrol run` on one PostgreSQL database: the second refuses at once, naming the
    first, and writes nothing; the first, killed with SIGKILL, leaves no lock behind (the
    server ends its session) and resumes."""
    from sqlalchemy import create_engine, text
    config = write_config(tmp_path, sample_site, SLOW)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    config.write_text(yaml.safe_dump({**data, "database": postgres_url}, allow_unicode=True), encoding="utf-8")
    engine = create_engine(postgres_url)

    def runs() -> list[tuple]:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text("SELECT id, status FROM run ORDER BY id"))]
    out = tmp_path / "out"
    sample_site.server.reset()
    proc = start_patrol("run", "--config", str(config), "--quiet", "--checks", "links")

    def recorded() -> bool:
        try:
            return bool(runs())
        except Exception:           # noqa: BLE001 - the tables are not created yet
            return False
    try:
        tree = run_until_pages(proc, out, 5, recorded=recorded)
        second = run_patrol("run", "--config", str(config), "--quiet", "--checks", "links")
        assert second.returncode == 2, second.stderr
        assert "another patrol is writing to this database" in second.stderr
        assert f"process {proc.pid}" in second.stderr and "Traceback" not in second.stderr
        assert "postgres@127.0.0.1" in second.stderr
        assert runs() == [(1, "running")], "the refused run wrote nothing"
        assert len(list((out / ".journal").iterdir())) == 1, "the refused run left no journal"
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert not wait_gone(tree, 10.0)
    resumed = run_patrol("run", "--config", str(config), "--resume", "--quiet", "--checks", "links")
    assert resumed.returncode == 0, resumed.stderr
    assert runs() == [(1, "completed")]
    engine.dispose()
