#!/usr/bin/env python3
"""Triage benchmark: what marks cost when a run is read back (reports.data.load_run).

    .venv/bin/python benchmarks/triage_benchmark.py                  # 20,000 findings, 10 % marked
    .venv/bin/python benchmarks/triage_benchmark.py --findings 50000 --marked 0.3

A store in a temporary folder gets one run of one site with ``--findings`` findings (a mix of
broken links over 300 targets and wording findings); then the run is read back, its
rectification items built and its findings.json document made, three times each, with no
marks and again with ``--marked`` of the findings marked (false alarms, accepted and fixed in
turn).  Printed: the best of five times of each step (the machine may be shared) and the counts that show the marks took effect
(items listed, findings marked, the score with and without the marked findings).

Target: marks add at most 25 % to reading a run back.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks.model import Finding, SiteCrawl  # noqa: E402
from store import Mark, Store, utcnow  # noqa: E402
from reports.data import load_run  # noqa: E402
from reports.export import findings_document  # noqa: E402
from reports.rectification import items_by_department  # noqa: E402


def build(store: Store, n: int) -> int:
    run = store.start_run("2026-11")
    assert run.id is not None
    site, base = "基准站点", "http://bench.test"
    findings = []
    for i in range(n):
        page = f"{base}/p/{i}.html"
        if i % 2:
            findings.append(Finding("broken_link", "error", site, f"{base}/gone/{i % 300}.pdf", "附件链接无法访问（404）",
                                    page, "zfb", {"kind": "http_404", "status": 404, "homepage": i < 10}))
        else:
            findings.append(Finding("typo", "error", site, page, f"错别字 {i}", page, "zfb",
                                    {"wrong": f"错{i}", "suggestion": f"对{i}", "context": f"这里有错{i}字"}))
    store.save_site(run.id, SiteCrawl(name=site, url=base + "/", department="zfb"), findings,
                    {"pages": n, "links": n, "broken": 300, "score": 40.0, "veto": [], "stats": {}})
    store.finish_run(run.id)
    return run.id


def mark(store: Store, run_id: int, share: float) -> int:
    rows = store.findings(run_id)
    chosen = rows[:: max(1, round(1 / share))] if share > 0 else []
    states = ("false_alarm", "accepted", "fixed")
    with store.session() as s:
        for i, f in enumerate(chosen):
            s.add(Mark(fingerprint=f.fingerprint, state=states[i % 3], note="基准", by="bench", at=utcnow(),
                       site=f.site, check=f.check, department=f.department, run_id=run_id))
        s.commit()
    return len(chosen)


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def measure(store: Store, run_id: int) -> dict[str, object]:
    t_load, data = timed(lambda: load_run(store, run_id))
    t_items, items = timed(lambda: items_by_department(store, run_id, data=load_run(store, run_id)))
    t_doc, _ = timed(lambda: findings_document(store, run_id))
    entry = data.sites[0]
    return {"load_run_s": t_load, "items_s": t_items, "findings_json_s": t_doc,
            "live": len(data.findings), "marked": len(data.marked),
            "items": sum(len(v) for v in items.values()),
            "score": entry.result.score, "stored_score": entry.stored_score}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--findings", type=int, default=20_000)
    parser.add_argument("--marked", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        run_id = build(store, args.findings)
        before = measure(store, run_id)
        n = mark(store, run_id, args.marked)
        after = measure(store, run_id)
    print(f"findings: {args.findings}, marked: {n} ({args.marked:.0%})")
    print(f"{'step':<18}{'no marks':>12}{'with marks':>12}{'change':>9}")
    for key in ("load_run_s", "items_s", "findings_json_s"):
        a, b = float(before[key]), float(after[key])  # type: ignore[arg-type]
        print(f"{key:<18}{a:>11.3f}s{b:>11.3f}s{(b / a - 1) * 100:>+8.1f}%")
    print(f"live findings: {before['live']} -> {after['live']}; marked: {after['marked']}; "
          f"rectification items: {before['items']} -> {after['items']}")
    print(f"score: stored {after['stored_score']}, without marked findings {after['score']}")
    slower = float(after["load_run_s"]) / float(before["load_run_s"]) - 1  # type: ignore[arg-type]
    print(f"target: marks add at most 25 % to load_run: {'met' if slower <= 0.25 else 'NOT met'} "
          f"({slower * 100:+.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
