"""Time of the 政务公开 checks on a large sample site, read from disk (no crawl, no server).

Builds the sample site (``demo`` profile grown to ``--pages``, default 5,000), reads every
page with the functions the crawl uses (``crawler.pages.snapshot``: decode, parse, page facts
including the 发展指引 labels), then times each site-level check on the whole site:
``freshness`` (for comparison: it finds the columns too) and ``site_identity``,
``page_labels``, ``annual_report``, ``policy_interpretation``.  Prints the seconds and
findings of each, and the time of ``pagefacts.label_meta`` per page on the saved real pages.

Run: ``.venv/bin/python benchmarks/opengov_benchmark.py [--pages N] [--work DIR]``.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks import annualreport, freshness, identity, interpretation, labels  # noqa: E402
from checks.model import CheckContext, LinkRef, SiteCrawl  # noqa: E402
from checks.pagefacts import label_meta  # noqa: E402
from crawler import pages as cp  # noqa: E402
from common import thresholds  # noqa: E402
from patrol.demo.samplesite import build  # noqa: E402

TODAY = date(2026, 12, 5)
BASE = "http://127.0.0.1:8000/"


def read_site(www: Path) -> list:
    snaps = []
    for f in sorted(www.rglob("*.html")):
        rel = f.relative_to(www).as_posix()
        url = BASE + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
        tree = cp.parse_html(cp.decode_html(f.read_bytes(), "text/html")[0])
        if tree is None:
            continue
        links = [LinkRef(cp.join(url, a.get("href")), "a", (a.text_content() or "").strip()[:120])
                 for a in tree.iter("a") if a.get("href")]
        snaps.append(cp.snapshot(tree, url=url, final_url=url, status=200, depth=0 if url == BASE else 1,
                                 links=links, rendered=False, encoding="utf-8", content_type="text/html",
                                 referer=None, fetched_at="", today=TODAY))
    return snaps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--work", type=Path, default=None, help="build folder (default: a temporary one)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="opengov-bench-"))
    try:
        build(work / "site", profile="demo", today=TODAY, min_pages=args.pages)
        started = time.perf_counter()
        pages = read_site(work / "site" / "www")
        print(f"{len(pages)} pages read in {time.perf_counter() - started:.1f} s")
        crawl = SiteCrawl(name="清溪区人民政府", url=BASE, homepage_url=BASE, pages=pages)
        ctx = CheckContext(site=crawl.name, today=TODAY.isoformat(), thresholds=thresholds.defaults())
        for name, module in (("freshness", freshness), ("site_identity", identity), ("page_labels", labels),
                             ("annual_report", annualreport), ("policy_interpretation", interpretation)):
            started = time.perf_counter()
            out = module.check_site(crawl, ctx)
            print(f"{name:22s} {time.perf_counter() - started:6.2f} s  {len(out.findings):5d} findings")
        real = sorted((ROOT.parent / "shared" / "data" / "realpages").glob("*.html"))
        trees = [t for t in (cp.parse_html(cp.decode_html(p.read_bytes(), "text/html")[0]) for p in real) if t is not None]
        if trees:
            started = time.perf_counter()
            for _ in range(20):
                for tree in trees:
                    label_meta(tree)
            per = (time.perf_counter() - started) / 20 / len(trees) * 1000
            print(f"label_meta on {len(trees)} saved real pages: {per:.3f} ms/page")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
