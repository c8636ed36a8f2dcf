"""A run spread over machines: Redis and PostgreSQL on loopback, two `patrol worker` processes,
20 small sites; one worker is killed (SIGKILL) in the middle of a site.  Every site must be
stored once, with the findings a run on one machine finds.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import yaml

from checks.model import SiteCrawl
from patrol.demo.samplesite.many import build_many, serve_many, site_names

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux processes")]

SITES = 20
CHECKS = "links,freshness,text"
CRAWL = {"fast": True, "timeout": 5, "retries": 0}


def fresh_database(postgres_url: str) -> str:
    import pgserver
    return pgserver.new_database(postgres_url, "dist_")


def patrol(*args: str, **kw) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "patrol.cli", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def stored(url: str) -> tuple[int, dict[str, str], dict[str, set[str]], Counter[str]]:
    """The store's last run: id, each site's result status, its findings' fingerprints, and how
    many result rows each site has."""
    from store import Store
    store = Store(url)
    run = store.runs()[-1]
    assert run.id is not None
    results = store.site_results(run.id)
    rows = Counter(site.name for _, site in results)
    fingerprints: dict[str, set[str]] = {}
    for f in store.findings(run.id):
        fingerprints.setdefault(f.site, set()).add(f.fingerprint)
    return run.id, {site.name: (r.status, r.pages) for r, site in results}, fingerprints, rows


def test_two_workers_one_killed_store_every_site_once_as_one_machine(tmp_path, redis_url, postgres_url):
    database = fresh_database(postgres_url)
    root = build_many(tmp_path / "sites", SITES, today=date.today())
    with serve_many(root) as base:
        sites = [{"name": n, "url": f"{base}/{n}/"} for n in site_names(SITES)]
        one = {"database": f"sqlite:///{tmp_path / 'one.db'}", "output": str(tmp_path / "one"),
               "crawl": CRAWL, "sites": sites}
        many = {**one, "database": database, "output": str(tmp_path / "many"),
                "queue": {"url": redis_url, "heartbeat_timeout": 2}}
        (tmp_path / "one.yaml").write_text(yaml.safe_dump(one), encoding="utf-8")
        (tmp_path / "many.yaml").write_text(yaml.safe_dump(many), encoding="utf-8")

        workers = [patrol("worker", "--config", str(tmp_path / "many.yaml"), "--concurrency", "2")
                   for _ in range(2)]
        try:
            run = patrol("run", "--config", str(tmp_path / "many.yaml"), "--checks", CHECKS)
            victim = workers[0]
            # Kill the first worker while it crawls its fourth site: that job is taken but not
            # acknowledged, so it must come back and be done by the other worker.
            import redis
            client = redis.Redis.from_url(redis_url)
            taken: set[str] = set()
            killed_site = None
            deadline = time.monotonic() + 60
            while killed_site is None and time.monotonic() < deadline and run.poll() is None:
                for key in client.keys("patrol:patrol:run:*:started"):
                    for name, who in client.hgetall(key).items():
                        if who.decode().endswith(f":{victim.pid}"):
                            taken.add(name.decode())
                            if len(taken) >= 4:
                                killed_site = name.decode()
                time.sleep(0.02)
            assert killed_site is not None, "the worker took no job"
            os.kill(victim.pid, signal.SIGKILL)
            _, err = run.communicate(timeout=120)
            assert run.returncode == 0, err
        finally:
            for w in workers:
                if w.poll() is None:
                    w.send_signal(signal.SIGTERM)
            logs = [w.communicate(timeout=60)[1] for w in workers]
        assert f"{SITES} of {SITES} sites done" in err
        # The killed worker's site was finished by the other one.
        assert any(line.startswith("patrol worker: run ") and f" {killed_site}: " in line and "stored" in line
                   for line in logs[1].splitlines()), logs[1]

        single = subprocess.run([sys.executable, "-m", "patrol.cli", "run", "--config", str(tmp_path / "one.yaml"),
                                 "--checks", CHECKS], check=False, cwd=ROOT, capture_output=True,
                                text=True, timeout=300)
        assert single.returncode == 0, single.stderr

    run_id, status, found, rows = stored(database)
    _, status_one, found_one, _ = stored(f"sqlite:///{tmp_path / 'one.db'}")
    from store import Store
    assert Store(database).get_run(run_id).status == "completed"
    names = set(site_names(SITES))
    assert set(rows) == names and set(rows.values()) == {1}          # every site stored once
    assert status == status_one
    assert {st for st, _ in status.values()} == {"completed"}
    assert sum(len(v) for v in found.values()) > SITES               # something found on each
    assert found == found_one                                        # the same findings


def test_a_job_delivered_twice_stores_its_site_once(tmp_path):
    from store import Store
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    run = store.start_run("2026-12")
    assert run.id is not None
    crawl = SiteCrawl(name="s", url="http://127.0.0.1/")
    assert not store.site_stored(run.id, "s")
    assert store.save_site_once(run.id, crawl, [], {"status": "interrupted", "pages": 1})
    assert not store.site_stored(run.id, "s")            # an interrupted part is replaced
    assert store.save_site_once(run.id, crawl, [], {"status": "completed", "pages": 2})
    assert not store.save_site_once(run.id, crawl, [], {"status": "completed", "pages": 3})
    results = store.site_results(run.id)
    assert [(r.status, r.pages) for r, _ in results] == [("completed", 2)]
    assert store.site_stored(run.id, "s")


@pytest.mark.parametrize("queue, database, said", [
    ({"url": "redis://127.0.0.1:6379/0"}, "sqlite:///patrol.db", "is a SQLite file on this machine"),
    ({"url": "http://127.0.0.1:6379/0"}, "postgresql+psycopg://u@db/patrol", "is not a Redis URL"),
    ({}, "postgresql+psycopg://u@db/patrol", "queue.url: '' is not a Redis URL"),
    ({"url": "redis://127.0.0.1:x/0"}, "postgresql+psycopg://u@db/patrol", "the port is not a number"),
    ({"url": "redis://h/0", "heartbeat_timeout": 0}, "postgresql+psycopg://u@db/patrol",
     "queue.heartbeat_timeout: must be positive"),
    ({"url": "redis://h/0", "name": "a b"}, "postgresql+psycopg://u@db/patrol", "queue.name: 'a b'"),
])
def test_queue_settings_are_checked(queue, database, said):
    from common.config import ConfigError, config_from_dict
    with pytest.raises(ConfigError, match=re.escape(said)):
        config_from_dict({"database": database, "queue": queue}, source="p.yaml")


def test_a_worker_needs_a_queue_and_a_reachable_redis(tmp_path, capsys):
    from patrol.cli import main
    from patrol.demo.samplesite import free_port
    site = {"name": "s", "url": "http://127.0.0.1:1/"}
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump({"sites": [site]}), encoding="utf-8")
    assert main(["worker", "--config", str(plain)]) == 2
    assert "queue: missing" in capsys.readouterr().err
    closed = tmp_path / "closed.yaml"
    closed.write_text(yaml.safe_dump({"sites": [site], "database": "postgresql+psycopg://u@127.0.0.1:1/p",
                                      "queue": {"url": f"redis://127.0.0.1:{free_port()}/0"}}), encoding="utf-8")
    for command in (["worker"], ["run"]):
        assert main([*command, "--config", str(closed)]) == 2
        assert "queue.url: cannot reach Redis at redis://127.0.0.1:" in capsys.readouterr().err


def test_a_waiting_run_stopped_is_interrupted_and_resumes_on_the_workers(tmp_path, redis_url, postgres_url):
    from store import Store
    database = fresh_database(postgres_url)
    root = build_many(tmp_path / "sites", 3, today=date.today())
    with serve_many(root) as base:
        config = tmp_path / "p.yaml"
        config.write_text(yaml.safe_dump({
            "database": database, "output": str(tmp_path / "out"), "crawl": CRAWL,
            "queue": {"url": redis_url, "name": "stops", "heartbeat_timeout": 2},
            "sites": [{"name": n, "url": f"{base}/{n}/"} for n in site_names(3)]}), encoding="utf-8")
        run = patrol("run", "--config", str(config), "--checks", CHECKS)
        seen = ""
        while "0 of 3 sites done" not in seen:           # no worker yet: the run waits
            line = run.stderr.readline()
            assert line, "patrol run ended early"
            seen += line
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=60)
        assert run.returncode == 128 + signal.SIGTERM, err
        assert "stops waiting" in err and "patrol run --resume" in err
        store = Store(database)
        first = store.runs()[-1]
        assert first.status == "interrupted" and not store.site_results(first.id)
        assert "巡检未完成" in (tmp_path / "out" / f"run-{first.id}" / "report.html").read_text(encoding="utf-8")

        worker = patrol("worker", "--config", str(config), "--concurrency", "2")
        try:
            resumed = subprocess.run([sys.executable, "-m", "patrol.cli", "run", "--config", str(config),
                                      "--resume"], check=False, cwd=ROOT, capture_output=True, text=True,
                                     timeout=120)
        finally:
            worker.send_signal(signal.SIGTERM)
            log = worker.communicate(timeout=60)[1]
        assert resumed.returncode == 0, resumed.stderr
    # The jobs of the stopped attempt were skipped; the resumed run's were done, once each.
    assert log.count("skipped (the run waits for it no more)") == 3, log
    assert store.get_run(first.id).status == "completed" and len(store.runs()) == 1
    assert sorted(site.name for _, site in store.site_results(first.id)) == site_names(3)


def test_a_worker_stopped_mid_site_puts_its_job_back_for_another(tmp_path, redis_url, postgres_url):
    from store import Store
    database = fresh_database(postgres_url)
    root = build_many(tmp_path / "sites", 2, today=date.today())
    with serve_many(root, delay=0.2) as base:        # slow enough to be stopped mid-site
        config = tmp_path / "p.yaml"
        config.write_text(yaml.safe_dump({
            "database": database, "output": str(tmp_path / "out"), "crawl": CRAWL,
            "queue": {"url": redis_url, "name": "term"},
            "sites": [{"name": n, "url": f"{base}/{n}/"} for n in site_names(2)]}), encoding="utf-8")
        first = patrol("worker", "--config", str(config), "--concurrency", "1")
        run = patrol("run", "--config", str(config), "--checks", CHECKS)
        import redis
        client = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 60
        while not client.keys("patrol:term:run:*:started") and time.monotonic() < deadline:
            time.sleep(0.02)
        first.send_signal(signal.SIGTERM)
        stopped = first.communicate(timeout=60)[1]
        assert first.returncode == 128 + signal.SIGTERM, stopped
        assert "stopped; back on the queue" in stopped
        second = patrol("worker", "--config", str(config), "--concurrency", "2")
        try:
            _, err = run.communicate(timeout=120)
        finally:
            second.send_signal(signal.SIGTERM)
            log = second.communicate(timeout=60)[1]
        assert run.returncode == 0, err
    assert log.count(" stored (") == 2, log
    store = Store(database)
    assert sorted(site.name for _, site in store.site_results(store.runs()[-1].id)) == site_names(2)
