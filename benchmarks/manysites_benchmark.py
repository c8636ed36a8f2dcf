#!/usr/bin/env python3
"""Many sites at once: wall time and peak memory of `patrol run` over N small sites in polite
mode (issue 21, part 2).

    .venv/bin/python benchmarks/manysites_benchmark.py                 # 10 and 200 sites
    .venv/bin/python benchmarks/manysites_benchmark.py --sites 10,50

Each site is the link-check benchmark's generated site (800 pages, served once by the Python
sample server on 127.0.0.1, under another name per site), crawled politely (delay 0.25 s, 2
requests at a time per site) to 20 pages, links checked only.  If the sites of a run kept
their polite rate at once, the wall time stays about the same however many sites there are;
if they waited for each other, it would grow with them.  Memory is measured by the link-check
benchmark's wrapper (peak RSS of the process tree without the browser: the monthly run's
evidence screenshots start one).
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import scale_benchmark  # noqa: E402  (the link-check benchmark, loaded once)

lc = scale_benchmark.lc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", default="10,200", help="numbers of sites, comma-separated (10,200)")
    parser.add_argument("--pages", type=int, default=20, help="pages crawled per site (20)")
    parser.add_argument("--work", type=Path, default=HERE / "work" / "manysites", help="work folder")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.sites.split(",") if n.strip()]
    work = args.work.resolve()
    root = work / "site"
    if not (root / "manifest.json").exists():
        print("building the site ...", file=sys.stderr)
        lc.build_site(root, pages=800, today=date.today())
    from patrol.demo.samplesite import serve
    server = serve(root, also_ipv6=False)
    base = f"http://127.0.0.1:{server.port}/"
    lines = ["| sites | pages each | wall s | CPU s | peak RSS MB no browser | where (MB) | sites with all pages |",
             "|---|---|---|---|---|---|---|"]
    try:
        for n in counts:
            run = work / f"run-{n}"
            run.mkdir(parents=True, exist_ok=True)
            for old in ("patrol.db", "patrol.db-wal", "patrol.db-shm"):
                (run / old).unlink(missing_ok=True)
            sites = "\n".join(f"  - {{name: s{i}, url: '{base}', max_pages: {args.pages}, render: never}}"
                              for i in range(n))
            config = run / "patrol.yaml"
            config.write_text(f"database: sqlite:///{run}/patrol.db\noutput: {run}/out\n"
                              "crawl: {delay: 0.25, per_host: 2, timeout: 4}\n"
                              f"sites:\n{sites}\n", encoding="utf-8")
            exe = REPO / ".venv" / "bin" / "patrol"
            print(f"patrol run over {n} sites ...", file=sys.stderr)
            m = lc.run_measured([str(exe), "run", "--config", str(config), "--checks", "links", "--quiet"],
                                timeout=1800, log=run / "patrol.log", cwd=REPO)
            text = (run / "patrol.log").read_text(encoding="utf-8", errors="replace")
            full = sum(1 for line in text.splitlines() if f": {args.pages} pages," in line)
            where = ", ".join(f"{k} {v:.0f}" for k, v in list(m.peak_by_name_mb.items())[:4])
            lines.append(f"| {n} | {args.pages} | {m.wall_s:.1f} | {m.cpu_s:.1f} | {m.peak_rss_no_browser_mb:.0f} "
                         f"| {where} | {full} / {n} |")
    finally:
        server.stop()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
