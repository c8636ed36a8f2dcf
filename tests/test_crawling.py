"""Crawl processes: how sites are spread over cores, and a site split between shard processes."""
from __future__ import annotations

import json
from pathlib import Path

from checks.links import check_site
from checks.model import CheckContext
from common.config import Crawl, Site
from patrol.crawling import plan
import pytest

pytestmark = pytest.mark.e2e


def sites(n: int) -> list[Site]:
    return [Site(name=f"s{i}", url=f"http://s{i}.example/", max_pages=100 * (i + 1)) for i in range(n)]


def test_polite_crawls_put_whole_sites_on_each_core():
    workers = plan(sites(5), fast=False, cores=2)
    assert len(workers) == 2
    assert sorted(s.name for w in workers for s, _, _ in w.sites) == ["s0", "s1", "s2", "s3", "s4"]
    assert all(shards == 1 for w in workers for _, _, shards in w.sites)


def test_fast_crawl_of_fewer_sites_than_cores_splits_each_site():
    workers = plan(sites(2), fast=True, cores=5)
    shards_of = {}
    for w in workers:
        (site, shard, shards), = w.sites
        shards_of.setdefault(site.name, set()).add((shard, shards))
    assert shards_of == {"s0": {(0, 3), (1, 3), (2, 3)}, "s1": {(0, 2), (1, 2)}}


def test_polite_crawl_is_never_split_so_per_host_limits_hold():
    workers = plan(sites(1), fast=False, cores=4)
    assert len(workers) == 1 and workers[0].sites[0][2] == 1


def test_site_split_between_three_shards_finds_every_broken_link_once(sample_site, tmp_path: Path, monkeypatch):
    """Also: each link a shard sends on comes from a page already in that shard's output, so that
    a crashed owner's replacement finds it there (the frontier of a restarted shard)."""
    from patrol import crawling
    from patrol.crawling import start_crawls
    recorded: dict[str, set[str]] = {}
    read_to: dict[str, int] = {}
    routed: list[dict] = []
    unrecorded: list[dict] = []
    handle = crawling.Router._handle

    def handle_checked(router, w, message):
        if "url" in message and not message.get("render") and message.get("referer"):
            path = w.outputs["清溪"]
            with open(path, "rb") as fh:
                fh.seek(read_to.get(path, 0))
                data = fh.read()
            whole = data[:data.rfind(b"\n") + 1]
            read_to[path] = read_to.get(path, 0) + len(whole)
            for line in whole.split(b"\n"):
                if line.startswith((b'{"type":"page"', b'{"type":"sheet"')):
                    recorded.setdefault(path, set()).add(json.loads(line)["url"])
            routed.append(message)
            if message["referer"] not in recorded.get(path, set()):
                unrecorded.append(message)
        return handle(router, w, message)
    monkeypatch.setattr(crawling.Router, "_handle", handle_checked)
    sample_site.server.reset()
    site = Site(name="清溪", url=sample_site.base, render="auto")
    crawls = start_crawls([site], Crawl(fast=True, timeout=4, retries=1, retry_backoff=0.2, max_retry_after=2),
                          {"nameservers": [], "overrides": {}}, tmp_path, processes=3, checks=["links"])
    crawl = crawls.wait()["清溪"]
    # Every shard said its output was complete; the processes are then waited for apart.
    assert all(w.closed for w in crawls.workers)
    crawls.reap()
    assert all(w.proc.returncode == 0 for w in crawls.workers)
    assert not [e for e in crawl.errors if "partial" in e or "exited" in e], crawl.errors
    urls = [p.url for p in crawl.pages]
    assert len(urls) == len(set(urls)), "a page was crawled by two shards"
    found = {(f.page, f.url, f.detail["kind"]) for f in check_site(crawl, CheckContext(site="清溪")).findings}
    assert found == sample_site.manifest.broken_pairs()
    assert crawl.homepage_url == sample_site.base
    assert len(routed) > 50
    assert not unrecorded, f"{len(unrecorded)} of {len(routed)} links sent before their page was recorded"


# --- reading the crawl processes' outputs while they are written -------------------------------

def _line(record: dict) -> bytes:
    import json
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def _page(url: str, depth: int = 1) -> dict:
    from checks.model import LinkRef, PageSnapshot
    snap = PageSnapshot(url=url, final_url=url, status=200, depth=depth, title="标题",
                        links=[LinkRef(url=url + "a.pdf", tag="a", anchor="附件")])
    return {"type": "page", **snap.to_dict()}


SITE = Site(name="清溪", url="http://www.qx.example/")
DONE = {"type": "site", "name": "清溪", "url": SITE.url, "homepage_url": SITE.url, "errors": [],
        "stats": {"pages": 2}}


def test_output_read_while_written_takes_whole_lines_only(tmp_path: Path):
    from patrol.crawling import OutputReader
    out = tmp_path / "crawl-0-0.jsonl"
    reader = OutputReader([out], SITE)
    reader.feed()                                   # not written yet: nothing, no error
    first = _line(_page(SITE.url, 0))
    with open(out, "wb") as fh:
        fh.write(first[:40])
        fh.flush()
        reader.feed()
        assert reader.crawl.pages == []             # half a record is not read
        fh.write(first[40:] + _line(_page(SITE.url + "x/")))
        fh.flush()
        reader.feed()
        assert [p.url for p in reader.crawl.pages] == [SITE.url, SITE.url + "x/"]
        fh.write(_line({"type": "link", "url": SITE.url + "x/a.pdf", "kind": "http_404", "status": 404}))
        fh.write(_line(DONE))
    crawl = reader.result()
    assert crawl.errors == []
    assert crawl.links[SITE.url + "x/a.pdf"].kind == "http_404"
    assert crawl.pages[0].links[0].anchor == "附件"


def test_a_link_written_again_at_the_end_replaces_its_first_result(tmp_path: Path):
    # A shard writes each link's result when it has it, and again at the end when the page
    # turns out to be the host's not-found page: the later record wins, counted once.
    from patrol.crawling import load_crawl
    out = tmp_path / "crawl-0-0.jsonl"
    page = SITE.url + "x/"
    out.write_bytes(_line(_page(SITE.url, 0))
                    + _line({"type": "link", "url": page, "kind": "ok", "status": 200})
                    + _line({"type": "link", "url": SITE.url + "x/a.pdf", "kind": "ok", "status": 200})
                    + _line({"type": "link", "url": page, "kind": "soft_404", "status": 200,
                             "error": "与该站点“页面不存在”页面相同"})
                    + _line(DONE))
    crawl = load_crawl([out], SITE)
    assert len(crawl.links) == 2
    assert crawl.links[page].kind == "soft_404" and crawl.links[SITE.url + "x/a.pdf"].kind == "ok"


def test_damaged_or_missing_outputs_keep_what_was_written_and_say_so(tmp_path: Path):
    from crawler.jsonlines import journal_damage
    from patrol.crawling import load_crawl
    truncated = tmp_path / "crawl-0-0.jsonl"
    truncated.write_bytes(_line(_page(SITE.url, 0)) + _line(_page(SITE.url + "y/"))[:-30])
    garbled = tmp_path / "crawl-1-0.jsonl"
    garbled.write_bytes(_line(_page(SITE.url + "z/")) + b"\xff\xfe not json\n" + _line(_page(SITE.url + "w/")))
    missing = tmp_path / "crawl-2-0.jsonl"
    crawl = load_crawl([truncated, garbled, missing], SITE)
    # The garbled line is skipped and named; the record after it is read.
    assert [p.url for p in crawl.pages] == [SITE.url, SITE.url + "w/", SITE.url + "z/"]
    assert crawl.errors.count("the crawl output ends early (crawl interrupted)") == 1
    assert journal_damage("crawl-1-0.jsonl", 2, fetched_again=False) in crawl.errors
    assert "a crawl process wrote nothing (it did not start)" in crawl.errors
    assert "the crawl did not finish; results are partial" in crawl.errors


def test_an_output_read_while_written_is_read_past_a_damaged_line_not_a_half_written_one(tmp_path: Path):
    """Damage in the middle of an output still being written: the reader skips the line, says
    which, and reads on; the last line, half written, is no damage: it is read once whole."""
    from crawler.jsonlines import journal_damage
    from patrol.crawling import OutputReader
    out = tmp_path / "crawl-0-0.jsonl"
    reader = OutputReader([out], SITE)
    last = _line(_page(SITE.url + "v/"))
    with open(out, "wb") as fh:
        fh.write(_line(_page(SITE.url, 0)) + b'{"type":"page","url":\xff\n' + b"[1]\n"
                 + _line(_page(SITE.url + "x/")) + last[:25])
        fh.flush()
        reader.feed()
        assert [p.url for p in reader.crawl.pages] == [SITE.url, SITE.url + "x/"]
        assert reader.crawl.errors == [journal_damage("crawl-0-0.jsonl", 2, fetched_again=False),
                                       journal_damage("crawl-0-0.jsonl", 3, fetched_again=False)]
        fh.write(last[25:] + b"\xfe\n" + _line(DONE))
        fh.flush()
        reader.feed()
    crawl = reader.result()
    assert [p.url for p in crawl.pages] == [SITE.url, SITE.url + "v/", SITE.url + "x/"]
    assert crawl.errors == [journal_damage("crawl-0-0.jsonl", n, fetched_again=False) for n in (2, 3, 6)]


# --- crawl processes forked from the parent ------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, timeout: float = 240) -> str:
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_crawl_processes_forked_from_a_single_threaded_parent_find_every_broken_link(sample_site, tmp_path):
    # A patrol command has one thread when it starts its crawls: they are forked from it, after
    # Scrapy is imported once.  (The test process runs servers in threads, so a crawl started
    # here would be spawned: the parent is a separate interpreter.)
    import json
    sample_site.server.reset()
    out = _python(
        "import json\n"
        "from pathlib import Path\n"
        "from checks.links import check_site\n"
        "from checks.model import CheckContext\n"
        "from common.config import Crawl, Site\n"
        "from patrol.crawling import ForkedProcess, start_crawls\n"
        f"site = Site(name='清溪', url={sample_site.base!r}, render='auto')\n"
        "crawls = start_crawls([site], Crawl(fast=True, timeout=4, retries=1, retry_backoff=0.2,"
        " max_retry_after=2), {'nameservers': [], 'overrides': {}},"
        f" Path({str(tmp_path)!r}), processes=3, checks=['links'])\n"
        "import time\n"
        "for _ in range(100):  # each names itself once forked\n"
        "    names = [open(f'/proc/{w.proc.pid}/comm').read().strip() for w in crawls.workers]\n"
        "    if all(n.startswith('patrol-crawl') for n in names): break\n"
        "    time.sleep(0.05)\n"
        "crawl = crawls.wait()['清溪']\n"
        "crawls.reap()\n"
        "found = sorted([f.page, f.url, f.detail['kind']] for f in check_site(crawl, CheckContext(site='清溪')).findings)\n"
        "print(json.dumps({'forked': [isinstance(w.proc, ForkedProcess) for w in crawls.workers],"
        " 'codes': [w.proc.returncode for w in crawls.workers], 'errors': crawl.errors, 'names': names,"
        " 'found': found}, ensure_ascii=False))\n")
    result = json.loads(out.strip().splitlines()[-1])
    assert result["forked"] == [True, True, True]
    assert result["names"] == ["patrol-crawl-0", "patrol-crawl-1", "patrol-crawl-2"]   # for top, ps -o comm
    assert result["codes"] == [0, 0, 0]
    assert not [e for e in result["errors"] if "partial" in e or "exited" in e], result["errors"]
    assert {tuple(f) for f in result["found"]} == sample_site.manifest.broken_pairs()


def test_a_forked_process_is_waited_for_stopped_and_its_exit_code_kept():
    out = _python(
        "import os, signal, subprocess, time\n"
        "from patrol.crawling import ForkedProcess, _end\n"
        "def child(code, sleep):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        time.sleep(sleep); os._exit(code)\n"
        "    return ForkedProcess(pid, None, None)\n"
        "quick = child(3, 0)\n"
        "print('code', quick.wait(timeout=10))\n"
        "slow = child(0, 30)\n"
        "try:\n"
        "    slow.wait(timeout=0.05)\n"
        "except subprocess.TimeoutExpired:\n"
        "    print('timeout', slow.poll())\n"
        "_end(slow)\n"
        "print('ended', slow.returncode == -signal.SIGTERM)\n"
        "blocking = child(5, 0.1)\n"
        "print('blocking', blocking.wait())\n", timeout=60)
    assert out.split("\n")[:4] == ["code 3", "timeout None", "ended True", "blocking 5"]


def test_crawls_are_spawned_when_another_thread_runs_or_when_asked(monkeypatch):
    import threading
    from patrol import crawling
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert crawling._can_fork() is False        # a lock held by the thread could hang a child
    finally:
        stop.set()
        thread.join()
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setenv("PATROL_CRAWL_SPAWN", "1")
    assert crawling._can_fork() is False
    monkeypatch.delenv("PATROL_CRAWL_SPAWN")
    assert crawling._can_fork() is (crawling.sys.platform.startswith("linux"))


def _check_sample_site(sample_site, tmp_path, **run_options) -> dict:
    """``patrol check --fast`` of the sample site's first 40 pages, links only; its findings."""
    import json
    import subprocess
    import sys
    sample_site.server.reset()
    out = tmp_path / "out"
    config = tmp_path / "crawl.yaml"
    config.write_text("crawl: {timeout: 4, retries: 0}\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "patrol.cli", "check", sample_site.base, "--fast", "--quiet",
         "--out", str(out), "--checks", "links", "--max-pages", "40", "--config", str(config)],
        stderr=subprocess.PIPE, text=True, timeout=180, cwd=ROOT, check=False, **run_options)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads((out / "findings.json").read_text(encoding="utf-8"))


def test_a_patrol_started_with_stdin_and_stdout_closed_still_crawls_with_shards(sample_site, tmp_path):
    # cron and some service managers start commands with a standard descriptor closed: the
    # forked shards get streams of their own, talk to the parent and end.
    import os
    findings = _check_sample_site(sample_site, tmp_path, preexec_fn=lambda: (os.close(0), os.close(1)))
    assert findings["sites"][0]["pages"] > 1


def test_patrol_crawl_spawn_starts_fresh_crawl_processes_through_the_cli(sample_site, tmp_path):
    import os
    import subprocess
    findings = _check_sample_site(sample_site, tmp_path, stdout=subprocess.DEVNULL,
                                  env={**os.environ, "PATROL_CRAWL_SPAWN": "1"})
    assert findings["sites"][0]["pages"] > 1


def test_no_fork_from_a_running_event_loop():
    import asyncio
    from patrol import crawling

    async def inside() -> bool:
        return crawling._can_fork()
    assert asyncio.run(inside()) is False


def test_shard_messages_are_sent_together_and_an_idle_report_comes_after_them():
    """Links for other shards are written in batches (one pipe write wakes the parent per
    batch, not per page); saying idle sends what waits first, so the parent never sees a shard
    idle with links still unsent."""
    import asyncio
    import json
    import os

    from crawler.shards import FLUSH_EVERY_S, ShardLink

    async def scenario():
        loop = asyncio.get_running_loop()
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        link = ShardLink(0, 2, on_url=lambda m: True, on_finish=lambda: None, is_idle=lambda: True)
        link._out, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(write_fd, "wb"))

        def written() -> list[dict]:
            try:
                data = os.read(read_fd, 1 << 16)
            except BlockingIOError:
                return []
            return [json.loads(line) for line in data.decode().splitlines()]

        for n in range(3):
            link.send_url(f"http://a/{n}", 1, "http://a/")
            link.flush(now=False)
        await asyncio.sleep(0)
        before = written()
        await asyncio.sleep(FLUSH_EVERY_S * 3)
        batch = written()
        link.send_url("http://a/3", 1, "http://a/")
        link.flush(now=False)
        link.idle()
        await asyncio.sleep(0)
        at_idle = written()
        await asyncio.sleep(FLUSH_EVERY_S * 3)
        after = written()
        link._out.close()
        os.close(read_fd)
        return before, batch, at_idle, after

    before, batch, at_idle, after = asyncio.run(scenario())
    assert before == []
    assert [m["url"] for m in batch] == ["http://a/0", "http://a/1", "http://a/2"]
    assert at_idle == [{"url": "http://a/3", "depth": 1, "referer": "http://a/"},
                       {"idle": True, "received": 0, "sent": 4}]
    assert after == []


# --- a resumed run: the outputs of the interrupted attempt come first -------------------------

def test_resumed_outputs_take_the_earlier_attempts_records_and_only_the_new_end(tmp_path: Path):
    from patrol.crawling import OutputReader
    earlier = tmp_path / "crawl-0-0.jsonl"
    # Stopped by SIGTERM: Scrapy closed the spider with "shutdown"; the last line is cut.
    earlier.write_bytes(_line(_page(SITE.url, 0)) + _line(_page(SITE.url + "a/"))
                        + _line({"type": "link", "url": SITE.url + "a/", "kind": "ok", "status": 200})
                        + _line({**DONE, "reason": "shutdown"}) + _line(_page(SITE.url + "b/"))[:-9])
    again = tmp_path / "crawl-r1-0-0.jsonl"
    again.write_bytes(_line(_page(SITE.url + "a/")) + _line(_page(SITE.url + "c/")) + _line(DONE))
    crawl = OutputReader([again], SITE, previous=[earlier]).result()
    assert sorted(p.url for p in crawl.pages) == [SITE.url, SITE.url + "a/", SITE.url + "c/"]
    assert crawl.links[SITE.url + "a/"].ok
    assert not [e for e in crawl.errors if "partial" in e or "ends early" in e], crawl.errors


def test_an_output_closed_by_a_stop_signal_is_not_a_finished_crawl(tmp_path: Path):
    from patrol.crawling import load_crawl
    out = tmp_path / "crawl-0-0.jsonl"
    out.write_bytes(_line(_page(SITE.url, 0)) + _line({**DONE, "reason": "shutdown"}))
    assert "the crawl did not finish; results are partial" in load_crawl([out], SITE).errors


def test_the_journal_lists_each_attempts_outputs_and_survives_its_own_loss(tmp_path: Path):
    from patrol.crawling import read_journal, write_journal
    write_journal(tmp_path, {"attempt": 0, "sites": {"清溪": [{"file": "crawl-0-0.jsonl", "shard": 0, "shards": 1}]}})
    assert read_journal(tmp_path)["sites"]["清溪"][0]["file"] == "crawl-0-0.jsonl"
    # Lost (a crash before it was written): the outputs say whose they are.
    (tmp_path / "journal.json").unlink()
    (tmp_path / "crawl-0-0.jsonl").write_bytes(_line({"type": "start", "format": 1, "site": "清溪",
                                                      "shard": 1, "shards": 2}))
    (tmp_path / "job-0-0.json").write_text("{}", encoding="utf-8")
    assert read_journal(tmp_path) == {"format": 1, "attempt": 0,
                                      "sites": {"清溪": [{"file": "crawl-0-0.jsonl", "shard": 1, "shards": 2}]}}


def test_site_split_between_shards_stopped_and_resumed_is_crawled_once(sample_site, tmp_path: Path):
    import time
    from collections import Counter
    from urllib.parse import urlsplit

    from patrol.crawling import start_crawls
    sample_site.server.reset()
    site = Site(name="清溪", url=sample_site.base, render="auto")
    cfg = Crawl(fast=True, timeout=4, retries=1, retry_backoff=0.2, max_retry_after=2)
    resolver = {"nameservers": [], "overrides": {}}
    crawls = start_crawls([site], cfg, resolver, tmp_path, processes=2, checks=["links"])
    deadline = time.monotonic() + 60
    while sum(p.read_bytes().count(b'{"type":"page"') for p in tmp_path.glob("crawl-*.jsonl")) < 10:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first = crawls.interrupt()["清溪"]
    assert first.pages and all(w.proc.poll() is not None for w in crawls.workers)

    def page_gets() -> Counter:
        gets: Counter = Counter()
        for (method, path, agent, dest), n in sample_site.server.requests().items():
            if method == "GET" and "patrol/" in agent and dest in ("", "document"):
                gets[path] += n
        return gets
    before = page_gets()
    resumed = start_crawls([site], cfg, resolver, tmp_path, processes=2, checks=["links"], resume=True)
    crawl = resumed.wait()["清溪"]
    resumed.reap()
    assert not [e for e in crawl.errors if "partial" in e or "exited" in e or "ends early" in e], crawl.errors
    urls = [p.url for p in crawl.pages]
    assert len(urls) == len(set(urls))
    found = {(f.page, f.url, f.detail["kind"]) for f in check_site(crawl, CheckContext(site="清溪")).findings}
    assert found == sample_site.manifest.broken_pairs()
    # The pages the stopped attempt recorded were not asked for again (a redirect's end, "/"
    # for one, is asked for by the check of the link that redirects there).
    after = page_gets()
    ends = {r.final_url for r in crawl.links.values() if r.redirects}
    def path(url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    again = [p.url for p in first.pages if p.url not in ends and after[path(p.url)] > before[path(p.url)]]
    assert not again


def test_a_journal_damaged_mid_file_is_read_past_the_damage_and_says_so(sample_site, tmp_path: Path):
    """Lines of the stopped attempt's output garbled in the middle (not JSON, a record of
    another shape, not a record): both the crawl process and this one skip each and read on;
    the pages recorded after them are not fetched again; the site's errors name each line."""
    import json
    import time
    from collections import Counter
    from urllib.parse import urlsplit

    from crawler.jsonlines import journal_damage
    from patrol.crawling import start_crawls
    sample_site.server.reset()
    site = Site(name="清溪", url=sample_site.base, render="auto")
    cfg = Crawl(fast=True, timeout=4, retries=1, retry_backoff=0.2, max_retry_after=2)
    resolver = {"nameservers": [], "overrides": {}}
    crawls = start_crawls([site], cfg, resolver, tmp_path, processes=1, checks=["links"])
    out = tmp_path / "crawl-0-0.jsonl"
    deadline = time.monotonic() + 60
    while not out.exists() or out.read_bytes().count(b'{"type":"page"') < 12:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    crawls.interrupt()
    lines = out.read_bytes().split(b"\n")
    at = [n for n, line in enumerate(lines) if line.startswith(b'{"type":"page"')]
    damaged = {at[3]: b'{"type":"page","url":"%s"}' % json.loads(lines[at[3]])["url"].encode(),
               at[5]: b"[1]", at[7]: b'{"type":"pa\xff\xfe'}
    urls = {n: json.loads(lines[n])["url"] for n in at}
    for n, line in damaged.items():
        lines[n] = line
    out.write_bytes(b"\n".join(lines))
    later = [urls[n] for n in at if n > at[7]]
    assert later

    def page_gets() -> Counter:
        gets: Counter = Counter()
        for (method, path, agent, dest), n in sample_site.server.requests().items():
            if method == "GET" and "patrol/" in agent and dest in ("", "document"):
                gets[path] += n
        return gets

    def path(url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    before = page_gets()
    resumed = start_crawls([site], cfg, resolver, tmp_path, processes=1, checks=["links"], resume=True)
    crawl = resumed.wait()["清溪"]
    resumed.reap()
    after = page_gets()
    for n in damaged:
        assert journal_damage("crawl-0-0.jsonl", n + 1) in crawl.errors, crawl.errors
        assert after[path(urls[n])] > before[path(urls[n])], "a page whose record was lost is fetched again"
    assert not [u for u in later if after[path(u)] > before[path(u)]], "pages after the damage fetched again"
    assert set(later) <= {p.url for p in crawl.pages}
    assert not [e for e in crawl.errors if "partial" in e or "exited" in e or "ends early" in e], crawl.errors
    found = {(f.page, f.url, f.detail["kind"]) for f in check_site(crawl, CheckContext(site="清溪")).findings}
    assert found == sample_site.manifest.broken_pairs()


def test_a_restarted_crawl_process_is_known_to_a_stop_from_its_start(tmp_path: Path, monkeypatch):
    """A stop signal while a crashed crawl process's replacement starts: the replacement is
    among the run's processes, so the stop ends it too."""
    import signal
    import subprocess
    import sys

    import pytest

    from patrol import crawling
    from common.stopping import Interrupted
    crawling.write_journal(tmp_path, {"attempt": 0, "sites": {"清溪": [{"file": "crawl-0-0.jsonl"}]}})
    old = crawling.Worker(0, [(SITE, 0, 1)], outputs={"清溪": str(tmp_path / "crawl-0-0.jsonl")})
    crawls = crawling.Crawls([SITE], [old], start_args={"workdir": tmp_path, "checks": None, "day": "2026-12-01",
                                                       "crawl": Crawl(), "resolver": {}})

    def started_then_stopped(workers, workdir, *args, **kwargs):
        for w in workers:
            w.outputs["清溪"] = str(workdir / "crawl-r1-0-0.jsonl")
            w.proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        raise Interrupted(signal.SIGTERM)
    monkeypatch.setattr(crawling, "_start_workers", started_then_stopped)
    with pytest.raises(Interrupted):
        crawls._restart(old)
    new = crawls.workers[0]
    assert new is not old and new.retried and new.proc is not None
    crawls.interrupt(grace=2)
    assert new.proc.poll() is not None


def test_the_crawl_journal_is_synced_every_second_while_a_page_is_slow(tmp_path: Path):
    """What the crawl recorded reaches the file within about a second even when nothing more
    is written meanwhile (the next page takes seconds to answer)."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from patrol.crawling import start_crawls
    answered = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/":
                body = ('<html><head><title>清溪</title></head><body><a href="/a">快</a>'
                        '<a href="/slow">慢</a></body></html>')
            elif self.path == "/a":
                body = "<html><head><title>快</title></head><body>快</body></html>"
            else:                       # the next page, and the probe for a not-found page
                time.sleep(6)
                answered.set()
                if self.path != "/slow":
                    self.send_error(404)
                    return
                body = "<html><head><title>慢</title></head><body>慢</body></html>"
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}/"
        site = Site(name="清溪", url=base, render="never")
        crawls = start_crawls([site], Crawl(fast=True, timeout=10, retries=0), {"nameservers": [], "overrides": {}},
                              tmp_path, processes=1, checks=["links"])
        out = tmp_path / "crawl-0-0.jsonl"
        deadline = time.monotonic() + 30
        # The start page's and /a's records are written within a second: the second of them
        # is synced by the clock, not by a later write (there is none for six seconds).
        while not (out.exists() and out.read_bytes().count(b'{"type":"page"') == 2):
            assert not answered.is_set(), "a page's record was held back while the next page was slow"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        crawl = crawls.wait()["清溪"]
        crawls.reap()
        assert sorted(p.url for p in crawl.pages) == [base, base + "a", base + "slow"]
    finally:
        server.shutdown()
        server.server_close()


def test_a_crashed_shard_is_started_again_from_its_journal_and_the_other_site_is_untouched(sample_site,
                                                                                           tmp_path: Path):
    """kill -9 of one of the two processes crawling a site at full speed: it is started again
    once from its output; the site is crawled whole (every broken link, each page once, what
    the killed process had recorded not fetched again) and says what happened; the other site
    of the run, crawled by a process of its own, goes on untouched."""
    import os
    import signal
    import threading
    import time
    from collections import Counter
    from urllib.parse import urlsplit

    from crawler.shards import owner
    from crawler.urls import normalize
    from patrol.crawling import start_crawls
    from patrol.demo.samplesite import serve
    other_root = tmp_path / "other"
    other_root.mkdir()
    for n in range(4):
        links = "".join(f'<a href="p{m}.html">第{m}页</a>' for m in range(4) if m != n)
        (other_root / f"p{n}.html").write_text(
            f"<html><head><title>第{n}页</title></head><body>{links}<a href='gone.html'>缺</a></body></html>",
            encoding="utf-8")
    other = serve(other_root)
    try:
        sample_site.server.reset()
        site = Site(name="清溪", url=sample_site.base, render="auto")
        second = Site(name="另一站", url=other.url + "p0.html", render="never")
        cfg = Crawl(fast=True, concurrency=2, timeout=4, retries=1, retry_backoff=0.2, max_retry_after=2)
        work = tmp_path / "work"
        crawls = start_crawls([site, second], cfg, {"nameservers": [], "overrides": {}}, work, processes=3,
                              checks=["links"])
        shards = [w for w in crawls.workers if w.sharded]
        alone, = [w for w in crawls.workers if not w.sharded]
        assert [w.sites[0][1:] for w in shards] == [(0, 2), (1, 2)]
        victim = shards[owner(normalize(sample_site.base), 2)]         # the shard with the start page
        output = Path(victim.outputs["清溪"])

        def page_gets() -> Counter:
            gets: Counter = Counter()
            for (method, path, agent, dest), n in sample_site.server.requests().items():
                if method == "GET" and "patrol/" in agent and dest in ("", "document"):
                    gets[path] += n
            return gets
        seen: dict = {}

        def kill_mid_crawl() -> None:
            """While the parent routes the shards' links: kill -9 once 5 pages are written."""
            deadline = time.monotonic() + 60
            while not output.exists() or output.read_bytes().count(b'{"type":"page"') < 5:
                if victim.proc.poll() is not None or time.monotonic() > deadline:
                    seen["error"] = "the shard finished before it could be killed"
                    return
                time.sleep(0.01)
            os.kill(victim.proc.pid, signal.SIGKILL)
            while victim.proc.poll() is None:
                time.sleep(0.01)
            seen["recorded"] = {json.loads(line)["url"] for line in output.read_bytes().split(b"\n")
                                if line.startswith(b'{"type":"page"') and line.endswith(b"}")}
            seen["before"] = page_gets()
        killer = threading.Thread(target=kill_mid_crawl)
        killer.start()
        try:
            crawled = crawls.wait()
        finally:
            killer.join()
            crawls.reap()
        assert "error" not in seen, seen["error"]
        recorded, before = seen["recorded"], seen["before"]
    finally:
        other.stop()
    crawl = crawled["清溪"]
    shard = victim.sites[0][1]
    assert f"crawl process {shard + 1} of the 2 crawling this site ended with SIGKILL" in crawl.stats["restarted"]
    assert not [e for e in crawl.errors if "partial" in e or "exited" in e or "ends early" in e], crawl.errors
    urls = [p.url for p in crawl.pages]
    assert len(urls) == len(set(urls)), "a page was crawled twice"
    found = {(f.page, f.url, f.detail["kind"]) for f in check_site(crawl, CheckContext(site="清溪")).findings}
    assert found == sample_site.manifest.broken_pairs()
    after = page_gets()
    ends = {r.final_url for r in crawl.links.values() if r.redirects}

    def path(url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    assert recorded and not [u for u in recorded if u not in ends and after[path(u)] > before[path(u)]]
    replacement = next(w for w in crawls.workers if w.sharded and w.sites[0][1] == shard)
    assert replacement is not victim and replacement.retried and replacement.proc.returncode == 0
    # The other site: its process started once, never stopped, its crawl complete.
    assert alone in crawls.workers and not alone.retried and alone.proc.returncode == 0
    untouched = crawled["另一站"]
    assert "restarted" not in untouched.stats and not untouched.errors, untouched.errors
    assert sorted(p.url for p in untouched.pages) == [other.url + f"p{n}.html" for n in range(4)]
    assert untouched.links[other.url + "gone.html"].kind == "http_404"


def _copying_shard(tmp_path: Path, site: Site, n: int, retried: bool = False):
    """Shard ``n`` of two of ``site``, played by a process that copies what the parent sends
    it to ``tmp_path/in-<n>``."""
    import subprocess
    import sys

    from patrol.crawling import Worker
    w = Worker(n, [(site, n % 2, 2)], retried=retried)
    w.proc = subprocess.Popen([sys.executable, "-c", f"import shutil, sys; shutil.copyfileobj("
                               f"sys.stdin.buffer, open({str(tmp_path / f'in-{n}')!r}, 'wb'))"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    return w


def test_links_routed_to_a_shard_that_died_unnoticed_reach_its_replacement(tmp_path):
    """A shard killed while the other shard's links for it are on their way: the parent's write
    fails before it has read the dead shard's end; those links go to its replacement."""
    import signal

    from crawler.shards import owner
    from patrol.crawling import Router
    site = Site(name="清溪", url="http://www.qx.example/")
    first, other, again = (_copying_shard(tmp_path, site, 0), _copying_shard(tmp_path, site, 1),
                           _copying_shard(tmp_path, site, 2, retried=True))
    router = Router([first, other], False, on_crash=lambda w: again)
    for w in (first, other):
        router._register(w)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    links = [{"url": u, "depth": 1, "referer": None}
             for u in (f"http://www.qx.example/{i}.html" for i in range(60)) if owner(u, 2) == 0][:3]
    for link in links:
        router._handle(other, link)             # it looks alive: the write fails
    assert first.alive and first.held == links
    router._gone(first)
    first.restart_at = 0.0
    router._restart_crashed()
    again.proc.stdin.close()
    again.proc.wait(timeout=10)
    assert [json.loads(line) for line in (tmp_path / "in-2").read_bytes().splitlines()] == links
    for w in (other,):
        w.proc.stdin.close()
        w.proc.wait(timeout=10)
    router.sel.close()


def test_the_parent_sends_a_restarted_shard_what_its_crashed_process_was_sent_and_had_not_recorded(tmp_path):
    """The links routed to a crashed shard while it is down, and the pages the other shard had
    sent it to render that it had not recorded (that shard records no result for them), go to
    its replacement; a page it had recorded does not."""
    import signal

    from crawler.shards import owner
    from patrol.crawling import Router
    site = Site(name="清溪", url="http://www.qx.example/")
    first, other, again = (_copying_shard(tmp_path, site, 0), _copying_shard(tmp_path, site, 1),
                           _copying_shard(tmp_path, site, 2, retried=True))
    recorded = {"http://www.qx.example/done.html"}
    router = Router([first, other], False, on_crash=lambda w: again,
                    recorded=lambda name, url: name == "清溪" and url in recorded)
    for w in (first, other):
        router._register(w)

    def render(url: str) -> dict:
        return {"render": True, "url": url, "origin": url, "depth": 1, "referer": None, "chain": [],
                "body": "PGh0bWw+", "ctype": "text/html"}
    for url in ("http://www.qx.example/js.html", "http://www.qx.example/done.html"):
        router._handle(other, render(url))
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    router._gone(first)
    assert first.restart_at is not None and not first.alive
    link = next({"url": u, "depth": 1, "referer": None} for u in (f"http://www.qx.example/{i}.html" for i in range(50))
                if owner(u, 2) == 0)
    router._handle(other, link)                 # while it is down
    router._check_done()
    assert router.finished == set(), "a site waiting for a shard's replacement is not done"
    first.restart_at = 0.0
    router._restart_crashed()
    assert router.workers[0] is again and router.by_site["清溪"][0] is again
    again.proc.stdin.close()
    again.proc.wait(timeout=10)
    sent = [json.loads(line) for line in (tmp_path / "in-2").read_bytes().splitlines()]
    assert sent == [link, render("http://www.qx.example/js.html")]
    assert again.forwarded == 2
    for w in (other, again):
        w.proc.stdin.close()
        w.proc.wait(timeout=10)
    router.sel.close()


def test_a_resumed_crawl_checks_the_links_of_a_stylesheet_read_before_the_stop(tmp_path: Path):
    """The stop came after a stylesheet was read but before its url()s were checked: the resumed
    crawl checks them (a broken background image is found) without fetching the sheet again."""
    from patrol.crawling import start_crawls
    from patrol.demo.samplesite import serve
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text(
        '<html><head><title>首页</title><link rel="stylesheet" href="s.css"></head>'
        '<body><a href="a.html">通知</a></body></html>', encoding="utf-8")
    (root / "a.html").write_text("<html><head><title>通知</title></head><body>正文</body></html>",
                                 encoding="utf-8")
    (root / "s.css").write_text("body { background: url(bg.png) } .x { background: url(gone.png) }",
                                encoding="utf-8")
    (root / "bg.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    server = serve(root)
    try:
        site = Site(name="清溪", url=server.url + "index.html", render="never")
        cfg = Crawl(fast=True, timeout=4, retries=0)
        resolver = {"nameservers": [], "overrides": {}}
        work = tmp_path / "work"
        first = start_crawls([site], cfg, resolver, work, processes=1, checks=["links"])
        first.wait()
        first.reap()
        out = work / "crawl-0-0.jsonl"
        # As if stopped before the sheet's url()s were checked: their results and the end go.
        kept = [line for line in out.read_bytes().split(b"\n")
                if line and not (line.startswith(b'{"type":"link"') and b".png" in line)
                and not line.startswith(b'{"type":"site"')]
        assert any(line.startswith(b'{"type":"sheet"') for line in kept)
        out.write_bytes(b"\n".join(kept) + b"\n")
        server.reset()
        resumed = start_crawls([site], cfg, resolver, work, processes=1, checks=["links"], resume=True)
        crawl = resumed.wait()["清溪"]
        resumed.reap()
        asked = {path for (method, path, _agent, _dest), n in server.requests().items()}
    finally:
        server.stop()
    assert crawl.links[server.url + "gone.png"].kind == "http_404"
    assert crawl.links[server.url + "bg.png"].ok
    assert "/gone.png" in asked and "/s.css" not in asked
