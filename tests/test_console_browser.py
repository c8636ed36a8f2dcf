"""The console in real headless Chromium (Playwright): open a run, filter, mark a finding and
see it move to the marked section, refuse a cross-site form, start a spot check of the sample
site and see its report."""
from __future__ import annotations

import http.server
import re
import threading
from pathlib import Path

import pytest
import yaml
from consoleserver import ConsoleServer
from reportdata import make_area

from common.browser import launch_options
from common.config import load_config
from reports.data import load_run
from reports.triage import load_marks

pytestmark = pytest.mark.e2e

BASE = "http://127.0.0.1:9"
CRAWL = {"timeout": 4, "retries": 1, "retry_backoff": 0.2, "max_retry_after": 2}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(**launch_options())
        yield b
        b.close()


class EvilSite:
    """Another origin (localhost, another port) whose page posts a form to the console."""

    def __init__(self, html: str) -> None:
        pages = {"/": html.encode("utf-8"), "/blank": b"<html><body>blank</body></html>"}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(pages.get(self.path, b""))

            def log_message(self, *args: object) -> None:
                pass
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_console_in_a_browser(browser, sample_site, tmp_path: Path) -> None:
    area = make_area(tmp_path, BASE, runs=1)
    conf = tmp_path / "patrol.yaml"
    data = yaml.safe_load(conf.read_text(encoding="utf-8"))
    data["crawl"] = CRAWL
    conf.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cfg = load_config(str(conf))
    run_id = area.runs[0]
    typo = next(f.fingerprint for f in area.store.findings(run_id) if f.check == "typo")
    page = browser.new_page()
    page.set_default_timeout(20_000)
    with ConsoleServer(cfg, area.store, check_root=tmp_path / "checks") as srv:
        # Open the run, then the site.
        page.goto(srv.base + "/")
        page.click(f"#runs a[href='/runs/{run_id}']")
        page.wait_for_url(f"**/runs/{run_id}")
        assert page.locator("#sites tr[data-site='清溪区人民政府']").count() == 1
        page.click("#sites a:text('清溪区人民政府')")
        page.wait_for_selector("#findings")
        every = page.locator("#findings tr[data-fingerprint]").count()
        assert every > 2
        # Filter to one check.
        page.select_option("#filters select[name=check]", "typo")
        page.click("#filters button[type=submit]")
        page.wait_for_url(re.compile(r".*check=typo.*"))
        rows = page.locator("#findings tr[data-fingerprint]")
        assert rows.count() == 1 and rows.first.get_attribute("data-fingerprint") == typo
        assert page.locator(f"#f-{typo} mark").inner_text() == "监菅"
        # Mark it a false alarm: it moves to the marked section, with the note; the score rises.
        row = page.locator(f"#f-{typo}")
        row.locator("select[name=state]").select_option("false_alarm")
        row.locator("input[name=note]").fill("“监菅”是引用的原文")
        row.locator("input[name=by]").fill("王检查")
        row.locator("button[type=submit]").click()
        page.wait_for_selector(f"#m-{typo}")
        assert page.locator(f"#f-{typo}").count() == 0
        assert "“监菅”是引用的原文" in page.locator(f"#m-{typo}").inner_text()
        assert "标记前" in page.locator("body").inner_text()
        assert load_marks(area.store)[typo].by == "王检查"
        gov = load_run(area.store, run_id, cfg).by_site()["清溪区人民政府"]
        assert gov.result.score > gov.stored_score
        # A page of another site posting the console's form (even with its token) is refused.
        other = next(f.fingerprint for f in area.store.findings(run_id) if f.check == "wrong_expression")
        evil = EvilSite(f"""<html><body><form id=f method=post action="{srv.base}/findings/{other}/triage">
            <input name=csrf value="{srv.console.token}"><input name=state value=false_alarm>
            <input name=next value="/"></form>
            <script>document.getElementById('f').submit()</script></body></html>""")
        try:
            page.goto(evil.url)
            page.wait_for_url(srv.base + "/**")
            assert "请求被拒绝" in page.locator("body").inner_text()
            # The API: a cross-origin fetch is refused too.
            page.goto(evil.url + "blank")
            outcome = page.evaluate(f"""async () => {{
                const url = "{srv.base}/api/findings/{other}/triage";
                const body = JSON.stringify({{as: "false_alarm", note: "x"}});
                const out = [];
                try {{ const r = await fetch(url, {{method: "POST", mode: "no-cors",
                         headers: {{"Content-Type": "text/plain"}}, body}}); out.push(r.type); }}
                catch (e) {{ out.push("blocked"); }}
                try {{ const r = await fetch(url, {{method: "POST",
                         headers: {{"Content-Type": "application/json"}}, body}}); out.push(String(r.status)); }}
                catch (e) {{ out.push("blocked"); }}
                return out; }}""")
            assert outcome == ["opaque", "blocked"]
        finally:
            evil.close()
        assert other not in load_marks(area.store)
        # Start a spot check of the sample site and follow it until its report opens.
        page.goto(srv.base + "/check")
        page.fill("#check-form input[name=url]", sample_site.base)
        page.fill("#check-form input[name=max_pages]", "10")
        page.select_option("#check-form select[name=checks]", "links")
        page.click("#check-form button[type=submit]")
        page.wait_for_url(re.compile(r".*/check/[0-9-]+[0-9a-f]+$"))
        assert "检查进行中" in page.locator("#progress").inner_text()
        page.wait_for_url(re.compile(r".*/check/.+/report$"), timeout=240_000)
        assert "巡检报告" in page.title()
        assert "127.0.0.1" in page.locator("body").inner_text()
    page.close()
