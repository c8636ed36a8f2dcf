"""互动回应 and 联系电话 checks: time on a large site, and what they find on planted and real pages.

Builds the sample site (profile "demo", grown to ``--pages`` pages), reads every page of the
main site from disk into snapshots (as the crawler would), and times ``checks.interaction``
and ``checks.phones`` over them; compares their findings with the manifest (every message's
verdict, every planted number, the numbers that must not be found); then lists the numbers
found on the saved real government pages (``tests/fixtures/realpages``, and
``/work/shared/data/realpages`` when present) for a reader to judge.

    .venv/bin/python benchmarks/interaction_phones_benchmark.py [--pages 5000]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks import interaction, phones  # noqa: E402
from checks.model import CheckContext, SiteCrawl  # noqa: E402
from patrol.extract import read_page  # noqa: E402
from patrol.demo.samplesite import build  # noqa: E402

BASE = "http://127.0.0.1:8000/"
REAL = [ROOT / "tests" / "fixtures" / "realpages", Path("/work/shared/data/realpages")]


def snapshots(root: Path, today: date) -> list:
    pages = []
    for path in sorted((root / "www").rglob("*.html")):
        rel = path.relative_to(root / "www").as_posix()
        if rel.startswith(("nav/", "stale/")):
            continue
        url = BASE + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
        snap = read_page(path.read_bytes(), url, today=today)
        if snap is not None:
            pages.append(snap)
    return pages


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=5000)
    args = ap.parse_args()
    today = date.today()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        manifest = build(root, profile="demo", today=today, min_pages=args.pages).resolve(BASE, "http://ext/")
        started = time.perf_counter()
        pages = snapshots(root, today)
        read_s = time.perf_counter() - started
    crawl = SiteCrawl(name=manifest.site_name, url=BASE, homepage_url=BASE, pages=pages)
    ctx = CheckContext(site=crawl.name, today=today.isoformat())
    t0 = time.perf_counter()
    ia = interaction.check_site(crawl, ctx)
    t1 = time.perf_counter()
    ph = phones.check_site(crawl, ctx)
    t2 = time.perf_counter()
    print(f"pages read from disk: {len(pages)} in {read_s:.1f} s (extraction, not part of the checks)")
    print(f"interaction check: {(t1 - t0) * 1000:.0f} ms ({(t1 - t0) / len(pages) * 1e6:.0f} µs a page)")
    print(f"phones check:      {(t2 - t1) * 1000:.0f} ms ({(t2 - t1) / len(pages) * 1e6:.0f} µs a page)")

    board = next(x for x in manifest.interaction if x["site"] == "main")
    got = {m["url"]: m["verdict"] for m in ia.facts["messages"]}
    right = sum(1 for m in board["messages"] if got.get(m["url"]) == m["verdict"])
    print(f"messages: {right} / {len(board['messages'])} planted verdicts right; "
          f"{len(got)} message pages found; channel {ia.facts['channel']}")
    found = {f.detail["number"]: set(f.detail["pages"]) for f in ph.findings}
    planted = {p for x in manifest.phones for p in x["pages"]}
    hits = sum(1 for x in manifest.phones if set(x["pages"]) <= found.get(x["number"], set()))
    known = {x["number"] for x in manifest.phones}
    extra = sorted(n for n, where in found.items() if where & planted and n not in known)
    wrong = sorted(n for n in manifest.not_phones if n in found)
    print(f"numbers: {hits} / {len(manifest.phones)} planted found; {len(extra)} others on the planted pages "
          f"{extra}; {len(wrong)} non-numbers taken for numbers {wrong}; {len(found)} distinct on the site")

    print("real pages (numbers found, with the text around them):")
    seen = set()
    for folder in REAL:
        for path in sorted(folder.glob("*.html")) if folder.is_dir() else []:
            if path.name in seen:
                continue
            seen.add(path.name)
            snap = read_page(path.read_bytes(), "http://example.gov.cn/")
            if snap is None:
                continue
            for text in [snap.text, *snap.blocks]:
                for hit in phones.find_numbers(text):
                    around = text[max(0, hit["start"] - 14):hit["end"] + 6].replace("\n", " ")
                    print(f"  {path.name}: {hit['number']} ({hit['kind']}) … {around} …")
    print(f"  {len(seen)} real pages read")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
