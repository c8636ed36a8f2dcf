#!/usr/bin/env python3
"""Resume benchmark: how much of a stopped and resumed `patrol run` is fetched twice.

    .venv/bin/python benchmarks/resume_benchmark.py                 # the link-check site, SIGTERM at 40 %
    .venv/bin/python benchmarks/resume_benchmark.py --signal KILL   # kill -9 of patrol instead
    .venv/bin/python benchmarks/resume_benchmark.py --pages 800 --stop-at 0.5
    .venv/bin/python benchmarks/resume_benchmark.py --crash         # kill -9 of a crawl process

What it does:

1. builds the link-check benchmark's site (``linkcheck_benchmark.build_site``: the sample
   government site, profile "bench", rescaled to ``--pages``) under ``benchmarks/work/resume-site``
   and serves it with the Python sample server, which counts every request it answers by
   method and path;
2. runs ``patrol run --checks links`` over it once, uninterrupted, with the link-check
   benchmark's crawl settings (fast, concurrency 16, any depth): the reference requests and
   broken links;
3. runs it again on a fresh store, sends the signal once the journal holds ``--stop-at`` of the
   reference's pages, waits for patrol to exit, then runs ``patrol run --resume``; with
   ``--crash`` it kills one crawl process instead (SIGKILL, as the kernel's out-of-memory
   killer does; at full speed one of the processes the site is split between) and lets the
   run start it again from its journal and finish, with no resume;
4. compares the requests of the two attempts together with the reference's, per method and
   path: a request beyond the reference's count for its path was fetched twice.  The probes for
   a host's not-found page (a new random path each time) and what rendered pages load (scripts,
   by Sec-Fetch-Dest) are left out; the report's evidence shots are not taken (``--checks
   links`` of a run takes them: they are counted out by their User-Agent).

The target (issue "Nothing lost"): at most 5 % of the requests fetched twice, and the same
broken links as the uninterrupted run.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

import linkcheck_benchmark as lcb  # noqa: E402

from patrol.demo.samplesite.counting import crawl_requests, journal_pages  # noqa: E402


def write_config(run_dir: Path, base: str, max_pages: int, concurrency: int) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    config = run_dir / "patrol.yaml"
    config.write_text(json.dumps({
        "database": "sqlite:///patrol.db", "output": str(run_dir / "out"),
        "sites": [{"name": "bench", "url": base, "max_pages": max_pages, "max_depth": 10000}],
        "crawl": {"fast": True, "concurrency": concurrency},
    }), encoding="utf-8")
    return config


def patrol_cmd(config: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "patrol.cli", "run", "--config", str(config), "--quiet",
            "--checks", "links", *extra]


def env() -> dict[str, str]:
    paths = [str(REPO), os.environ.get("PYTHONPATH")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def broken(out: Path) -> set[str]:
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return {f["url"] for f in doc["findings"] if f["check"] == "broken_link"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=5300,
                        help="site size (5300, as the link-check benchmark)")
    parser.add_argument("--stop-at", type=float, default=0.4,
                        help="stop when this share of the pages is crawled (0.4)")
    parser.add_argument("--signal", choices=["TERM", "INT", "HUP", "KILL"], default="TERM")
    parser.add_argument("--crash", action="store_true",
                        help="kill -9 one crawl process instead of patrol; the run starts it again")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "resume")
    parser.add_argument("--keep-site", action="store_true", help="reuse the last build")
    args = parser.parse_args(argv)

    from patrol.demo.samplesite import serve
    from patrol.demo.samplesite.manifest import Manifest
    work = args.work.resolve()
    root = work / "site"
    if args.keep_site and (root / "manifest.json").exists():
        manifest = Manifest.load(root)
    else:
        print("building the site ...", file=sys.stderr)
        manifest = lcb.build_site(root, pages=args.pages, today=date.today())
    pages = manifest.counts.get("pages", len(manifest.pages))
    server = serve(root)
    try:
        base = server.url
        print(f"site: {pages} pages at {base} (Python sample server)", file=sys.stderr)
        max_pages = max(pages * 2, 1000)

        ref_dir = work / "reference"
        for p in (ref_dir / "patrol.db", ref_dir / "patrol.db-wal", ref_dir / "patrol.db-shm"):
            p.unlink(missing_ok=True)
        config = write_config(ref_dir, base, max_pages, args.concurrency)
        server.reset()
        t0 = time.monotonic()
        ref = subprocess.run(patrol_cmd(config, "--out", str(ref_dir / "report")), env=env(), cwd=REPO,
                             capture_output=True, text=True)
        ref_wall = time.monotonic() - t0
        if ref.returncode != 0:
            print(ref.stderr, file=sys.stderr)
            return 1
        reference = crawl_requests(server)
        ref_broken = broken(ref_dir / "report")

        run_dir = work / "stopped"
        import shutil
        shutil.rmtree(run_dir, ignore_errors=True)
        config = write_config(run_dir, base, max_pages, args.concurrency)
        out = run_dir / "out"
        server.reset()
        proc = subprocess.Popen(patrol_cmd(config, "--out", str(run_dir / "report")), env=env(), cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        want = int(args.stop_at * pages)
        while journal_pages(out) < want and proc.poll() is None:
            time.sleep(0.02)
        if proc.poll() is not None:
            print("the run ended before it could be stopped; try a lower --stop-at", file=sys.stderr)
            return 1
        at_signal = journal_pages(out)
        t0 = time.monotonic()
        if args.crash:
            from common.stopping import descendants
            crawlers = sorted(pid for pid in descendants([proc.pid]) if _comm(pid).startswith("patrol-crawl"))
            if not crawlers:
                print("no crawl process to kill", file=sys.stderr)
                return 1
            os.kill(crawlers[0], signal.SIGKILL)
            what = f"killed crawl process {_comm(crawlers[0]) or crawlers[0]} of {len(crawlers)} with SIGKILL"
        else:
            proc.send_signal(getattr(signal, "SIG" + args.signal))
            what = f"stopped with SIG{args.signal}"
        _, stderr = proc.communicate()
        stop_wall = time.monotonic() - t0
        first = crawl_requests(server)
        if args.crash:
            if proc.returncode != 0:
                print(stderr, file=sys.stderr)
                return 1
            restarted = _restarted(run_dir / "patrol.db")
        else:
            resumed = subprocess.run(patrol_cmd(config, "--resume", "--out", str(run_dir / "report")),
                                     env=env(), cwd=REPO, capture_output=True, text=True)
            if resumed.returncode != 0:
                print(stderr, resumed.stderr, file=sys.stderr)
                return 1
        both = crawl_requests(server)
        res_broken = broken(run_dir / "report")
    finally:
        server.stop()

    total_ref = sum(reference.values())
    total = sum(both.values())
    twice = sum(max(0, n - reference[key]) for key, n in both.items())
    pct = 100.0 * twice / total_ref if total_ref else 0.0
    lines = [
        f"site: {pages} pages (link-check benchmark site, --pages {args.pages}); patrol run --checks links, "
        f"fast, concurrency {args.concurrency}",
        f"uninterrupted run: {total_ref} requests, {len(ref_broken)} broken links, {ref_wall:.1f} s",
        f"{what} at {at_signal} pages in the journal"
        + (f"; the run went on and exited {proc.returncode} {stop_wall:.1f} s later; report: {restarted}"
           if args.crash else
           f" ({sum(first.values())} requests); patrol exited {proc.returncode} after {stop_wall:.1f} s"),
        f"{'crashed + restarted' if args.crash else 'stopped + resumed'}: {total} requests; "
        f"fetched twice: {twice} ({pct:.2f} % of the uninterrupted run's)",
        f"broken links equal to the uninterrupted run's: {'yes' if res_broken == ref_broken else 'NO'}"
        + ("" if res_broken == ref_broken else
           f" (only uninterrupted: {sorted(ref_broken - res_broken)[:5]}, "
           f"only resumed: {sorted(res_broken - ref_broken)[:5]})"),
        f"target (at most 5 % fetched twice): {'met' if pct <= 5.0 else 'NOT met'}",
    ]
    print("\n".join(lines))
    return 0 if pct <= 5.0 and res_broken == ref_broken else 1


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _restarted(db: Path) -> str:
    """What the run recorded of the crawl process started again (the report shows it)."""
    import sqlite3
    with sqlite3.connect(db) as conn:
        said = [json.loads(stats or "{}").get("crawl", {}).get("restarted", "")
                for stats, in conn.execute("SELECT stats FROM siteresult")]
    return ("; ".join(s for s in said if s) or "nothing said")[:110]

if __name__ == "__main__":
    sys.exit(main())
