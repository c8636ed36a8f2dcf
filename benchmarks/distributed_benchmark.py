#!/usr/bin/env python3
"""Throughput of a run spread over workers: 200 small sites with 1 and with 2 `patrol worker`.

    .venv/bin/python benchmarks/distributed_benchmark.py                 # 200 sites, 1 then 2 workers
    .venv/bin/python benchmarks/distributed_benchmark.py --sites 40 --workers 1,2,3

What it does:

1. starts a throw-away redis-server and PostgreSQL on loopback (tests/redisserver.py,
   tests/pgserver.py: Debian's redis-server and postgresql packages);
2. builds ``--sites`` small sites (``patrol.demo.samplesite.many``: 18 pages each, dated
   lists, 404 links, a wording mistake on some) and serves them from one threaded server on
   127.0.0.1;
3. for each worker count N: a fresh database, N ``patrol worker --concurrency C`` processes
   started and ready, then ``patrol run --checks links,freshness,text`` (fast crawl) timed from
   its start to its end (report included); every site must be stored once, as completed;
4. prints sites per minute for each N and the ratio to one worker, and writes them to
   ``benchmarks/work/distributed.json``.

Every worker runs on this machine, so the ratio says how well the queue spreads the work over
its cores, not what more machines would add.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for extra in (REPO, REPO / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import pgserver  # noqa: E402
import redisserver  # noqa: E402
import yaml  # noqa: E402

from patrol.demo.samplesite.many import build_many, serve_many, site_names  # noqa: E402

CHECKS = "links,freshness,text"


def fresh_database(server_url: str) -> str:
    return pgserver.new_database(server_url, "bench_")


def start_worker(config: Path, concurrency: int, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "patrol.cli", "worker", "--config", str(config),
                                 "--concurrency", str(concurrency)], cwd=REPO, stdout=out,
                                stderr=subprocess.STDOUT)


def wait_ready(logs: list[Path], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all("taking jobs" in p.read_text(errors="replace") for p in logs):
            return
        time.sleep(0.1)
    raise SystemExit("a worker did not start: " + " ".join(str(p) for p in logs))


def one_round(workers: int, args: argparse.Namespace, base: str, redis_url: str, pg_url: str,
              work: Path) -> dict:
    database = fresh_database(pg_url)
    config = work / f"patrol-{workers}.yaml"
    config.write_text(yaml.safe_dump({
        "database": database, "output": str(work / f"out-{workers}"),
        "crawl": {"fast": True, "timeout": 10, "retries": 0},
        "queue": {"url": redis_url, "name": f"bench{workers}"},
        "sites": [{"name": n, "url": f"{base}/{n}/"} for n in site_names(args.sites)]}), encoding="utf-8")
    logs = [work / f"worker-{workers}-{i}.log" for i in range(workers)]
    procs = [start_worker(config, args.concurrency, log) for log in logs]
    try:
        wait_ready(logs)
        began = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "patrol.cli", "run", "--config", str(config),
                              "--checks", CHECKS, "--quiet"], cwd=REPO, capture_output=True, text=True,
                             timeout=args.timeout, check=False)
        wall = time.monotonic() - began
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
    if run.returncode != 0:
        raise SystemExit(f"patrol run with {workers} workers failed:\n{run.stderr[-3000:]}")
    from store import Store
    store = Store(database)
    run_row = store.runs()[-1]
    results = store.site_results(run_row.id)
    once = Counter(site.name for _, site in results)
    statuses = Counter(r.status for r, _ in results)
    per_worker = [p.read_text(errors="replace").count(" stored (") for p in logs]
    return {"workers": workers, "concurrency": args.concurrency, "sites": args.sites, "wall_s": round(wall, 1),
            "sites_per_min": round(args.sites / wall * 60, 1), "run_status": run_row.status,
            "stored_once": len(once) == args.sites and set(once.values()) == {1},
            "statuses": dict(statuses), "pages": sum(r.pages for r, _ in results),
            "findings": len(store.findings(run_row.id)), "sites_by_worker": per_worker}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--workers", default="1,2", help="worker counts to run, comma-separated (1,2)")
    parser.add_argument("--concurrency", type=int, default=1, help="sites at once per worker (1)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for one run (1800)")
    parser.add_argument("--work", default=str(HERE / "work" / "distributed"))
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    try:
        redis = redisserver.start()
    except redisserver.Unavailable as exc:
        raise SystemExit(f"no Redis server: {exc}") from None
    try:
        pg = pgserver.start()
    except pgserver.Unavailable as exc:
        redis.stop()
        raise SystemExit(f"no PostgreSQL server: {exc}") from None
    rounds = []
    try:
        root = build_many(work / "sites", args.sites, today=date.today())
        with serve_many(root) as base:
            for n in counts:
                rounds.append(one_round(n, args, base, redis.url, pg.url, work))
                print(json.dumps(rounds[-1], ensure_ascii=False), file=sys.stderr)
    finally:
        pg.stop()
        redis.stop()
    first = rounds[0]["sites_per_min"]
    print(f"{args.sites} small sites (18 pages each), checks {CHECKS}, fast crawl, {os.cpu_count()} cores, "
          f"worker concurrency {args.concurrency}")
    print("| workers | wall (s) | sites/min | vs 1 worker | stored once | statuses | findings |")
    print("|---|---|---|---|---|---|---|")
    for r in rounds:
        print(f"| {r['workers']} | {r['wall_s']} | {r['sites_per_min']} | {r['sites_per_min'] / first:.2f}x "
              f"| {'yes' if r['stored_once'] else 'NO'} | {r['statuses']} | {r['findings']} |")
    (work / "distributed.json").write_text(json.dumps(rounds, indent=1), encoding="utf-8")
    return 0 if all(r["stored_once"] and r["run_status"] == "completed" for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
