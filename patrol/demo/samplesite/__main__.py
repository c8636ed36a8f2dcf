"""python -m patrol.demo.samplesite build DIR [--profile P] [--today YYYY-MM-DD] [--min-pages N]
python -m patrol.demo.samplesite serve [--profile P] [--port 8000] [--dir DIR] [--no-build]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from patrol.demo.samplesite import PROFILES, Manifest, build, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m patrol.demo.samplesite",
                                     description="the sample government site of patrol")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write the site and its manifest.json into DIR")
    b.add_argument("dir", type=Path)
    s = sub.add_parser("serve", help="build (unless --dir holds a build) and serve until Ctrl-C")
    s.add_argument("--dir", type=Path, help="build here (default: a temporary folder)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--ext-port", type=int, default=0, help="port of the external site (default: any)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--no-build", action="store_true", help="serve --dir as it is")
    for p in (b, s):
        p.add_argument("--profile", choices=PROFILES, default="demo")
        p.add_argument("--today", type=date.fromisoformat, default=date.today(), help="YYYY-MM-DD")
        p.add_argument("--slow-delay", type=float, default=5.0, help="seconds the slow page sleeps")
        p.add_argument("--min-pages", type=int, default=0, help="grow the site to at least N pages")
    args = parser.parse_args(argv)

    if args.command == "build":
        manifest = build(args.dir, profile=args.profile, today=args.today, slow_delay=args.slow_delay,
                         min_pages=args.min_pages)
        print(f"{args.dir}: {manifest.counts['pages']} pages, {manifest.counts['broken_pairs']} broken links")
        return 0

    root = args.dir or Path(tempfile.mkdtemp(prefix="samplesite-"))
    if args.no_build:
        manifest = Manifest.load(root)
    else:
        manifest = build(root, profile=args.profile, today=args.today, slow_delay=args.slow_delay,
                         min_pages=args.min_pages)
    try:
        server = serve(root, host=args.host, port=args.port, ext_port=args.ext_port)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    with server:
        print(f"{manifest.site_name} ({manifest.profile}, {manifest.counts['pages']} pages) from {root}")
        print(f"  {server.url}")
        if server.url6:
            print(f"  {server.url6}")
        if server.ext:
            print(f"  external site: {server.ext.url}")
        print("Ctrl-C stops.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
