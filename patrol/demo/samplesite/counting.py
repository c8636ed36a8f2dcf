"""What a patrol of the sample site asked for, and what its crawl journal holds: the resume
tests (tests/test_stop_resume.py) and the resume benchmark (benchmarks/resume_benchmark.py)
compare runs with these.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from patrol.demo.samplesite.server import SampleServer

PAGE_RECORD = b'{"type":"page"'


def crawl_requests(server: SampleServer) -> Counter[tuple[str, str]]:
    """What the crawl asked the sample server for since its reset, by (method, path): the
    report's evidence shots (a browser of its own, by User-Agent) and the resources a rendered
    page loads (by Sec-Fetch-Dest) are left out, and so are the probes for a not-found page (a
    new random path each time)."""
    asked: Counter[tuple[str, str]] = Counter()
    for (method, path, agent, dest), n in server.requests().items():
        if "patrol/" in agent and dest in ("", "document") and "/patrol-missing-" not in path:
            asked[(method, path)] += n
    return asked


def journal_pages(out: Path) -> int:
    """The page records in the crawl journals under the output folder ``out``
    (``<out>/.journal/<run>/crawl-*.jsonl``), as far as they are written."""
    n = 0
    for path in (out / ".journal").glob("*/crawl-*.jsonl"):
        try:
            n += path.read_bytes().count(PAGE_RECORD)
        except OSError:
            pass
    return n
