"""The link-check benchmark's own parts: URL matching, output parsing, scoring, the measuring
wrapper, and the nginx configuration serving the sample site's routes (real nginx, skipped
when it is not installed).  The peers themselves are not run here: that is the benchmark."""
from __future__ import annotations

import http.client
import importlib.util
import json
import shutil
import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("linkcheck_benchmark",
                                               REPO / "benchmarks" / "linkcheck_benchmark.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules["linkcheck_benchmark"] = bench
_spec.loader.exec_module(bench)

BASE = "http://127.0.0.1:8080/"


def test_normalise_makes_spellings_of_one_url_equal():
    same = [
        "http://127.0.0.1:8080/uploads/附件 1.pdf",
        "HTTP://127.0.0.1:8080/uploads/%E9%99%84%E4%BB%B6%201.pdf",
        "http://127.0.0.1:8080/uploads/%e9%99%84%e4%bb%b6%201.pdf#page=2",
    ]
    assert len({bench.normalise(u) for u in same}) == 1
    assert bench.normalise("http://Example.GOV.cn:80") == "http://example.gov.cn/"
    assert bench.normalise("http://127.0.0.1:8080/a?x=1") != bench.normalise("http://127.0.0.1:8080/a?x=2")


def test_invalid_url_is_kept_as_written_instead_of_crashing():
    assert bench.normalise("http://[::1") == "http://[::1"


def _manifest(broken, js_only=()):
    return SimpleNamespace(broken=broken, js_only_links=[{"url": u, "page": BASE + "list/"} for u in js_only])


def test_links_on_pages_only_a_script_lists_count_as_behind_javascript():
    manifest = _manifest(
        broken=[
            {"url": BASE + "a.pdf", "page": BASE + "x.html", "kind": "http_404"},
            {"url": BASE + "js-row.html", "page": BASE + "list/", "kind": "http_404"},
            {"url": BASE + "att.pdf", "page": BASE + "js-article.html", "kind": "http_404"},
            {"url": BASE + "old/", "page": BASE + "x.html", "kind": "soft_404"},
        ],
        js_only=[BASE + "js-row.html", BASE + "js-article.html"])
    known = bench.known_broken(manifest)
    assert known.js_only == {BASE + "js-row.html", BASE + "att.pdf"}
    assert known.soft_404 == {BASE + "old/"}
    assert len(known.urls) == 4


def test_score_counts_found_false_alarms_and_misses_by_kind():
    manifest = _manifest(
        broken=[
            {"url": BASE + "a.pdf", "page": BASE + "x.html", "kind": "http_404"},
            {"url": BASE + "b.pdf", "page": BASE + "x.html", "kind": "http_404"},
            {"url": BASE + "old/", "page": BASE + "x.html", "kind": "soft_404"},
            {"url": BASE + "js-row.html", "page": BASE + "list/", "kind": "http_404"},
        ],
        js_only=[BASE + "js-row.html"])
    known = bench.known_broken(manifest)
    reported = {BASE + "a.pdf", BASE + "not-in-manifest.html"}
    found, false, js, soft, missed, examples = bench.score(reported, known)
    assert (found, false, js, soft) == (1, 1, 0, 0)
    assert missed == {"http_404": 1, "soft_404": 1, "behind JavaScript": 1}
    assert examples == [BASE + "not-in-manifest.html"]


def test_patrol_findings_give_only_broken_link_targets(tmp_path):
    path = tmp_path / "findings.json"
    path.write_text(json.dumps({"findings": [
        {"check": "broken_link", "url": BASE + "a.pdf", "page": BASE},
        {"check": "column_stale", "url": BASE + "xwzx/", "page": BASE + "xwzx/"},
    ]}), encoding="utf-8")
    assert bench.parse_patrol(path) == {BASE + "a.pdf"}


def test_linkchecker_csv_gives_invalid_urls_resolved_against_their_page(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text(
        "# created by LinkChecker\n"
        "urlname;parentname;base;result;warningstring;infostring;valid;url;line;column;name;dltime;size;"
        "checktime;cached;level;modified\n"
        f"/a.pdf;{BASE}x.html;;404 Not Found;;;False;{BASE}a.pdf;1;1;附件;-1;0;0.1;0;1;\n"
        f"/ok.html;{BASE}x.html;;200 OK;;;True;{BASE}ok.html;1;1;;-1;0;0.1;0;1;\n"
        f"b.pdf;{BASE}dir/x.html;;404 Not Found;;;False;;1;1;;-1;0;0.1;0;1;\n"
        "# Stopped checking at 2026-11-22\n", encoding="utf-8")
    assert bench.parse_linkchecker(path) == {BASE + "a.pdf", BASE + "dir/b.pdf"}


def test_linkinator_json_gives_broken_links(tmp_path):
    path = tmp_path / "out.json"
    path.write_text(json.dumps({"links": [
        {"url": BASE + "a.pdf", "status": 404, "state": "BROKEN", "parent": BASE},
        {"url": BASE, "status": 200, "state": "OK"},
        {"url": "mailto:x@example.gov.cn", "status": 0, "state": "SKIPPED"},
    ], "passed": False}), encoding="utf-8")
    assert bench.parse_linkinator(path) == {BASE + "a.pdf"}


def test_measuring_wrapper_waits_for_orphaned_grandchildren(tmp_path):
    marker = tmp_path / "grandchild-done"
    # The child exits at once; its child (re-parented to the wrapper) works, then writes.
    # It lives half a second, so the memory sampler (every 0.1 s) sees it on a loaded machine too.
    script = (f"import os, sys, time\nif os.fork() == 0:\n    sum(i * i for i in range(300000))\n"
              f"    time.sleep(0.5)\n"
              f"    open({str(marker)!r}, 'w').write('done')\n    os._exit(0)\nos._exit(0)\n")
    m = bench.run_measured([sys.executable, "-c", script], timeout=120, log=tmp_path / "run.log")
    assert marker.read_text() == "done"
    assert m.exit_code == 0 and not m.timed_out
    assert m.cpu_s > 0
    assert m.peak_rss_mb > 0


def test_measuring_wrapper_stops_a_tool_that_overruns_its_timeout(tmp_path):
    m = bench.run_measured([sys.executable, "-c", "import time; time.sleep(600)"], timeout=1,
                           log=tmp_path / "run.log")
    assert m.timed_out
    assert m.exit_code != 0


def test_results_table_has_one_row_per_tool_and_the_targets(tmp_path):
    manifest = _manifest(broken=[{"url": BASE + "a.pdf", "page": BASE, "kind": "http_404"}])
    known = bench.known_broken(manifest)

    def row(tool, wall, found):
        m = bench.Measurement(wall_s=wall, cpu_s=wall, user_s=wall, sys_s=0.0, peak_rss_mb=100,
                              peak_pss_mb=90, max_process_rss_mb=80, exit_code=0, timed_out=False)
        return bench.Row(tool, tool, m, found=found, known=1, command=f"{tool} BASE")

    rows = [row("patrol", 2.0, 1), row("linkchecker", 20.0, 1), row("linkinator", 3.0, 0)]
    info = {"pages": 1, "files": 1, "known": 1, "kinds": "http_404 1", "server": "nginx", "concurrency": 16,
            "machine": "test", "when": "now", "warning": "", "repeat": 1}
    text = bench.write_results(tmp_path / "results.md", rows, known, info)
    assert text == (tmp_path / "results.md").read_text(encoding="utf-8")
    table_rows = [line for line in text.splitlines() if line.startswith("| ") and "wall s" not in line]
    assert [r.split("|")[1].strip() for r in table_rows] == ["patrol", "linkchecker", "linkinator"]
    assert "at least as fast as linkinator in wall time: met" in text
    assert "at least 5x faster than LinkChecker: met (10.0x)" in text
    assert "every known broken link found: met" in text


# ----------------------------------------------------------------------------- real nginx

def _get(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def nginx_site(tmp_path_factory):
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("nginx is not installed")
    from patrol.demo.samplesite import build
    root = tmp_path_factory.mktemp("bench") / "site"
    manifest = build(root, profile="test", today=date(2026, 11, 22))
    server = bench.Server()
    server.start(root, root.parent / "work")
    try:
        yield server, root, manifest
    finally:
        server.stop()


def test_nginx_serves_pages_with_the_header_that_lifts_linkchecker_throttle(nginx_site):
    server, _, _ = nginx_site
    assert server.kind == "nginx"
    status, headers, body = _get(server.port, "/")
    assert status == 200
    assert "linkchecker" in headers
    assert b"__PORT__" not in body and b"__EXT_PORT__" not in body
    assert f"127.0.0.1:{server.ext_port}/".encode() in body


def test_nginx_answers_missing_pages_with_404_and_the_site_not_found_page(nginx_site):
    server, root, _ = nginx_site
    status, _, body = _get(server.port, "/no/such/page.html")
    assert status == 404
    assert body == (root / "www" / "404.html").read_bytes()


def test_nginx_answers_soft_404_prefix_with_200_and_the_not_found_page(nginx_site):
    server, root, _ = nginx_site
    status, _, body = _get(server.port, "/old/zwgk/2015/notice.html")
    assert status == 200
    assert body == (root / "www" / "404.html").read_bytes()


def test_nginx_redirect_loop_and_chain_follow_routes(nginx_site):
    server, _, _ = nginx_site
    status, headers, _ = _get(server.port, "/loop/a")
    assert (status, headers["location"]) == (302, "/loop/b")
    status, headers, _ = _get(server.port, "/loop/b")
    assert (status, headers["location"]) == (302, "/loop/a")
    hops, path = 0, "/chain/0"
    while path.startswith("/chain/") and hops < 50:
        status, headers, _ = _get(server.port, path)
        assert status == 302
        path, hops = headers["location"], hops + 1
    assert (path, hops) == ("/", 15)


def test_nginx_status_routes_answer_their_code(nginx_site):
    server, _, _ = nginx_site
    assert _get(server.port, "/api/error500")[0] == 500
    assert _get(server.port, "/api/maintenance")[0] == 503


def test_nginx_query_paged_list_serves_the_numbered_file(nginx_site):
    server, root, _ = nginx_site
    status, _, body = _get(server.port, "/zwgk/tzgg/?page=2")
    assert status == 200
    assert body == (root / "www" / "zwgk" / "tzgg" / "index_p2.html").read_bytes()
    assert _get(server.port, "/zwgk/tzgg/")[2] == (root / "www" / "zwgk" / "tzgg" / "index.html").read_bytes()


def test_routes_nginx_cannot_express_reach_the_python_server_behind_it(nginx_site):
    server, _, _ = nginx_site
    assert _get(server.port, "/api/nohead", "HEAD")[0] == 405
    assert _get(server.port, "/api/nohead")[0] == 200
    first, headers, _ = _get(server.port, "/api/busy/report")
    assert (first, headers.get("retry-after")) == (429, "1")
    assert _get(server.port, "/api/busy/report")[0] == 200
    status, _, body = _get(server.port, "/calendar/?month=2026-11")
    assert status == 200 and "2026-11" in body.decode("utf-8")


def test_nginx_config_listens_on_loopback_only(nginx_site):
    _, root, _ = nginx_site
    conf = root.parent / "work" / "nginx" / "nginx.conf"
    text = conf.read_text(encoding="utf-8")
    assert "add_header LinkChecker" in text
    assert "127.0.0.1:" in text and "listen [" not in text   # loopback only


def test_filling_port_tokens_marks_the_build_so_it_is_not_reused_for_another_port(tmp_path):
    www = tmp_path / "site" / "www"
    www.mkdir(parents=True)
    (www / "index.html").write_text('<a href="http://127.0.0.1:__EXT_PORT__/">x</a>'
                                    '<a href="https://127.0.0.1:__PORT__/">y</a>', encoding="utf-8")
    (www / "plain.html").write_text("<p>nothing to fill</p>", encoding="utf-8")
    assert bench.fill_tokens(www, None, 8080, 8081) == 1
    assert (www / "index.html").read_text(encoding="utf-8") == (
        '<a href="http://127.0.0.1:8081/">x</a><a href="https://127.0.0.1:8080/">y</a>')
    assert json.loads((www.parent / bench.TOKENS_FILLED).read_text()) == {"port": 8080, "ext_port": 8081}
