"""Many sites in one crawl process: each at once while the files they could hold fit the
process's limit of open files (raised to its hard limit first); past it, as many as fit at a
time, the others starting as sites end, every site crawled."""
from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from common.config import Site
from crawler.run import FILES_OF_PROCESS, FILES_PER_SITE, site_slots
from patrol.crawling import site_job
from tests.routeserver import served

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.unit
def test_every_site_at_once_while_its_files_fit_the_limit():
    assert site_slots(200, 16, 1 << 20) == 200
    fits = (1024 - FILES_OF_PROCESS) // (16 + FILES_PER_SITE)
    assert site_slots(200, 16, 1024) == fits
    assert site_slots(3, 16, 1024) == 3
    assert site_slots(5, 16, 10) == 1


@pytest.mark.unit
def test_the_open_files_limit_is_raised_to_the_hard_limit():
    script = ("import resource; from common.limits import open_files_limit; "
              "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE); "
              "print(soft, open_files_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(256, hard)

    def lowered() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                         preexec_fn=lowered, check=True).stdout.split()
    before, given, after, top = map(int, out)
    assert before == low
    assert given == after == (top if top != resource.RLIM_INFINITY else 1 << 20)


@pytest.mark.integration
def test_sites_past_the_limit_wait_their_turn_and_all_are_crawled(tmp_path):
    """A crawl process whose hard limit of open files holds two sites at a time crawls the
    twelve it is given two at a time, each whole, none failing for want of a file."""
    def route(path: str) -> tuple[int, str, str]:
        if path.endswith("/index.html"):
            base = path.rsplit("/", 1)[0]
            return 200, "text/html; charset=utf-8", (
                '<html><head><title>首页</title></head><body>'
                + "".join(f'<a href="{base}/p{n}.html">第{n}篇</a>' for n in range(4))
                + f'<a href="{base}/gone.html">已删除</a></body></html>')
        if re.search(r"/p\d\.html$", path):
            return 200, "text/html; charset=utf-8", (
                f"<html><head><title>关于做好{path}工作的通知</title></head><body><h1>关于做好工作的通知</h1>"
                "<p>各乡镇人民政府，区直各单位：为进一步做好相关工作，现将有关事项通知如下。</p></body></html>")
        return 404, "text/html", "<html><body>404</body></html>"

    with served(route) as base:
        sites = [Site(name=f"s{n:02d}", url=f"{base}/s{n:02d}/index.html", render="never") for n in range(12)]
        outputs = {s.name: str(tmp_path / f"{s.name}.jsonl") for s in sites}
        job = {"sites": [site_job(s, ["links"], "2026-11-22") for s in sites], "outputs": outputs,
               "crawl": {"concurrency": 4, "timeout": 4, "retries": 0, "fast": True},
               "resolver": {"nameservers": [], "overrides": {}}}
        path = tmp_path / "job.json"
        path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        # Room for the process and two sites (4 sockets and a few files each).
        limit = FILES_OF_PROCESS + 2 * (4 + FILES_PER_SITE) + 1

        def limited() -> None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
        proc = subprocess.run([sys.executable, "-m", "crawler.run", str(path)], cwd=ROOT, capture_output=True,
                              text=True, timeout=240, preexec_fn=limited)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "12 sites in this crawl process, 2 at a time" in proc.stderr
    for name, out in outputs.items():
        records = [json.loads(line) for line in Path(out).read_text(encoding="utf-8").splitlines()]
        links = {r["url"].rsplit("/", 1)[1]: r["kind"] for r in records if r["type"] == "link"}
        assert links == {"index.html": "ok", **{f"p{n}.html": "ok" for n in range(4)}, "gone.html": "http_404"}, name
        assert [r["reason"] for r in records if r["type"] == "site"] == ["finished"], name
