#!/usr/bin/env python3
"""Scale benchmark: peak memory, wall and CPU time of patrol and linkinator on generated sites
of growing size (issue 21: a 100,000-page portal in flat memory).

    .venv/bin/python benchmarks/scale_benchmark.py                    # 10,000 and 100,000 pages
    .venv/bin/python benchmarks/scale_benchmark.py --sizes 2000       # quick run

Everything but the sizes is the link-check benchmark's (``linkcheck_benchmark.py``, imported,
not copied): the sample site's generator rescaled to each size, nginx on 127.0.0.1, the same
commands (``patrol check BASE --fast --checks links``, linkinator ``--recurse``) at the same
concurrency, and its measuring wrapper, which is the child subreaper of the tool and samples
the RSS of the whole process tree every 0.1 s.  Browser processes (command names starting
with ``chrom`` or ``headless_shell``, and their descendants) are left out of the figure the
target is judged on (``peak RSS MB no browser``); the whole tree's figure is shown beside it,
and ``where`` gives the peak RSS by command name: ``patrol`` is the parent process (the
store, the checks), ``patrol-crawl`` the crawl processes together.

The table goes to ``benchmarks/work/scale/results.md`` and the standard output; the figures to
``benchmarks/work/scale/results.json``.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import signal
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _linkcheck() -> Any:
    """The link-check benchmark as a module (benchmarks/ is not a package)."""
    name = "linkcheck_benchmark"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "linkcheck_benchmark.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


lc = _linkcheck()
TOOLS = ("patrol", "linkinator")
# The target of issue 21, for the table's verdict line.
TARGET_MB = 500.0
GROWTH = 1.10


def run_size(size: int, tools: list[str], work: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    root = work / f"site-{size}"
    from patrol.demo.samplesite.manifest import Manifest
    if args.keep_site and (root / "manifest.json").exists() and not (root / lc.TOKENS_FILLED).exists():
        manifest = Manifest.load(root)
    else:
        print(f"building the {size}-page site ...", file=sys.stderr)
        manifest = lc.build_site(root, pages=size, today=args.today or date.today())
    pages = manifest.counts.get("pages", len(manifest.pages))
    server = lc.Server()
    rows: list[dict[str, Any]] = []
    try:
        server.start(root, work / f"serve-{size}", use_nginx=not args.python_server)
        base = server.url
        known = lc.known_broken(manifest.resolve(base, server.ext_url))
        print(f"site: {pages} pages served by {server.kind} at {base}", file=sys.stderr)
        run_work = work / f"run-{size}"
        (run_work / "runs").mkdir(parents=True, exist_ok=True)
        for name in tools:
            if name == "patrol":
                tool = lc.patrol_tool(base, run_work, concurrency=args.concurrency, max_pages=max(pages * 2, 1000))
            else:
                (lc.HERE / "work" / "runs").mkdir(parents=True, exist_ok=True)   # its output's folder
                tool = lc.linkinator_tool(base, lc.HERE / "work", concurrency=args.concurrency)
            print(f"running {name} on {pages} pages ...", file=sys.stderr)
            m = lc.run_measured(tool.command, timeout=args.timeout, log=run_work / "runs" / f"{name}.log",
                                cwd=REPO, env=tool.env)
            print(f"  {m.wall_s:.1f} s wall, {m.cpu_s:.1f} s CPU, {m.peak_rss_no_browser_mb:.0f} MB "
                  f"peak RSS without the browser", file=sys.stderr)
            try:
                found, false, *_ = lc.score(tool.parse(), known)
                error = ""
            except (OSError, ValueError, KeyError) as exc:
                found, false, error = 0, 0, f"no readable output: {exc}"
            rows.append({"size": size, "pages": pages, "tool": name, "known": len(known.urls),
                         "found": found, "false_alarms": false, "error": error,
                         "server": server.kind, "measurement": dataclasses.asdict(m)})
    finally:
        server.stop()
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| pages | tool | wall s | CPU s | peak RSS MB no browser | peak PSS MB no browser | peak RSS MB tree | where (MB, by process name) "
             "| broken found / known | false alarms |", "|" + "---|" * 10]
    for r in rows:
        m = r["measurement"]
        flag = " (timed out)" if m["timed_out"] else (f" (exit {m['exit_code']})" if m["exit_code"] not in (0, 1) else "")
        where = ", ".join(f"{k} {v:.0f}" for k, v in list(m["peak_by_name_mb"].items())[:4])
        lines.append(f"| {r['pages']} | {r['tool']}{flag} | {m['wall_s']:.1f} | {m['cpu_s']:.1f} | "
                     f"{m['peak_rss_no_browser_mb']:.0f} | {m['peak_pss_no_browser_mb']:.0f} | {m['peak_rss_mb']:.0f} | {where} | "
                     f"{r['found']} / {r['known']} | {r['false_alarms']} |")
    patrol = sorted((r for r in rows if r["tool"] == "patrol"), key=lambda r: r["pages"])
    if patrol:
        big, small = patrol[-1], patrol[0]
        peak = big["measurement"]["peak_rss_no_browser_mb"]
        verdict = f"patrol's peak at {big['pages']} pages: {peak:.0f} MB (target <= {TARGET_MB:.0f} MB"
        if big is not small:
            base = small["measurement"]["peak_rss_no_browser_mb"]
            verdict += (f"; {peak / base:.2f}x the {small['pages']}-page figure, target <= {GROWTH:.2f}x"
                        if base else "")
        lines += ["", verdict + ")"]
    for size in sorted({r["pages"] for r in rows}):
        by_tool = {r["tool"]: r["measurement"]["wall_s"] for r in rows if r["pages"] == size}
        if "patrol" in by_tool and "linkinator" in by_tool and by_tool["linkinator"]:
            lines.append(f"{size} pages: patrol's wall time is {by_tool['patrol'] / by_tool['linkinator']:.2f}x "
                         "linkinator's")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", metavar="N,N...",
                        help="site sizes in pages, comma-separated (10000,100000)")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated ({','.join(TOOLS)})")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight, every tool (16)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds each tool may run (3600)")
    parser.add_argument("--work", type=Path, default=HERE / "work" / "scale", help="work folder")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="the site's today, YYYY-MM-DD")
    parser.add_argument("--keep-site", action="store_true", help="reuse a site built by an earlier run")
    parser.add_argument("--python-server", action="store_true",
                        help="serve with the Python sample server instead of nginx")
    parser.add_argument("--patrol-src", type=Path, default=None, metavar="DIR",
                        help="run patrol with the code in DIR (another checkout) instead of this one's")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes: {args.sizes!r} is not a comma-separated list of numbers")
    if not sizes or min(sizes) < 1:
        parser.error("--sizes: give at least one size above 0")
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for name in tools:
        if name not in TOOLS:
            parser.error(f"--tools: unknown tool {name!r} (known: {', '.join(TOOLS)})")
    if args.patrol_src is not None:
        lc.PATROL_SRC = args.patrol_src.resolve()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for size in sizes:
        rows += run_size(size, tools, work, args)
    text = table(rows)
    info = {"machine": lc.machine(), "when": time.strftime("%Y-%m-%d %H:%M %Z"),
            "concurrency": args.concurrency, "load": os.getloadavg()[0]}
    (work / "results.json").write_text(json.dumps({"info": info, "rows": rows}, indent=1), encoding="utf-8")
    (work / "results.md").write_text(f"{info['machine']}, {info['when']}\n\n{text}\n", encoding="utf-8")
    print(text)
    return 0 if all(not r["error"] and not r["measurement"]["timed_out"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
