"""``patrol extract FILE|URL``: what patrol reads from one page, as a person would check it."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from patrol.cli import main

pytestmark = pytest.mark.e2e

PAGES = Path(__file__).resolve().parent / "fixtures" / "realpages"
KEYS = {"url", "title", "publish_date", "date_source", "text", "items", "columns"}


def run_json(capsys, *argv):
    assert main(["extract", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_saved_yearless_homepage_years_later(capsys):
    label = json.loads((PAGES / "bjgjj-home.json").read_text(encoding="utf-8"))
    data = run_json(capsys, str(PAGES / "bjgjj-home.html"), "--url", "http://www.bjgjj.gov.cn/",
                    "--today", "2026-03-18")
    assert KEYS <= set(data)
    assert data["url"] == "http://www.bjgjj.gov.cn/"
    dates = [i["date"] for i in data["items"] if i["date"]]
    assert dates == sorted(dates, reverse=True)                      # newest first
    assert dates[0] == label["newest_item"]["date"]                  # 2018, not 2026
    names = {c["name"] for c in data["columns"]}
    assert {"新闻发布", "政务公开", "行政处罚"} <= names
    assert all(set(c) >= {"name", "url"} for c in data["columns"])


def test_an_article_file_gives_headline_visible_date_and_its_source(capsys):
    label = json.loads((PAGES / "wanzai-article-2015.json").read_text(encoding="utf-8"))
    data = run_json(capsys, str(PAGES / "wanzai-article-2015.html"))
    assert data["url"].startswith("http://www.wanzai.gov.cn/wzxrmzf/tjgb/201705/")   # the browser's note
    assert (data["title"], data["publish_date"], data["date_source"]) == (label["title"], "2017-05-15", "label")
    assert "".join(label["body_end"].split()) in "".join(data["text"].split())


def test_text_format_and_errors(capsys, tmp_path):
    assert main(["extract", str(PAGES / "govcn-article-2021.html")]) == 0
    out = capsys.readouterr().out
    assert "王勇在河北检查指导防汛减灾工作" in out and "2021-08-01" in out
    assert main(["extract", str(tmp_path / "missing.html")]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert main(["extract", str(PAGES / "bjgjj-home.html"), "--today", "18.03.2026"]) == 2
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"   ")
    assert main(["extract", str(empty)]) == 1


@pytest.fixture
def server():
    body = (PAGES / "govcn-article.html").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path != "/gongbao/content/2007/content_5.htm":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_url_is_fetched_and_read_whole_past_a_stray_html_end_tag(capsys, server):
    label = json.loads((PAGES / "govcn-article.json").read_text(encoding="utf-8"))
    data = run_json(capsys, server + "/gongbao/content/2007/content_5.htm")
    assert data["url"] == server + "/gongbao/content/2007/content_5.htm"
    text = "".join(data["text"].split())
    assert "".join(label["body_start"].split()) in text and "".join(label["body_end"].split()) in text
    # no publish date is shown to readers: the meta's is reported as such
    assert data["date_source"] in ("meta", None)
    assert main(["extract", server + "/missing.html"]) == 1
    assert "HTTP 404" in capsys.readouterr().err


def test_a_column_page_lists_its_menus_columns_and_itself(capsys):
    label = json.loads((PAGES / "ordos-egb-column.json").read_text(encoding="utf-8"))
    url = "http://www.example.gov.cn/xxgk/xxgknb/"
    data = run_json(capsys, str(PAGES / "ordos-egb-column.html"), "--url", url, "--today", "2020-10-01")
    columns = {c["url"]: c["name"] for c in data["columns"]}
    assert columns[url] == "信息公开年报"                                   # the page itself
    assert columns["http://www.example.gov.cn/xxgk/xxgkgd/"] == "信息公开规定"
    assert data["items"][0]["date"] == label["newest_item"]["date"]


def test_a_browser_saved_file_is_read_at_the_address_it_was_saved_from(capsys, tmp_path):
    page = tmp_path / "home.html"
    page.write_bytes(b"<!-- saved from url=(0027)http://www.qx.gov.cn/ -->\n"
                     + '<html><body><div class="nav"><a href="/zwgk/tzgg/">通知公告</a></div></body></html>'
                     .encode("utf-8"))
    data = run_json(capsys, str(page))
    assert data["url"] == "http://www.qx.gov.cn/"
    assert data["columns"] == [{"name": "通知公告", "url": "http://www.qx.gov.cn/zwgk/tzgg/"}]


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    # `patrol extract page.html | head -c 20`: the pipe closes early; no traceback.
    import subprocess
    import sys

    page = tmp_path / "p.html"
    page.write_text("<html><head><meta charset='utf-8'><title>通知</title></head><body>"
                    + "".join(f"<p>发布日期：2026-11-01</p><a href='a{i}.html'>一条链接 {i}</a>" for i in range(3000))
                    + "</body></html>",
                    encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "patrol.cli", "extract", str(page), "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parent.parent)
    assert proc.stdout is not None and proc.stdout.read(20)
    proc.stdout.close()                 # the reader goes away
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    assert proc.wait(timeout=60) in (0, 141)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
