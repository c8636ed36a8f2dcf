"""The console's pages and JSON API over HTTP (a real uvicorn server on 127.0.0.1); the browser
walk-through is in test_console_browser.py."""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from consoleserver import ConsoleServer
from reportdata import EVIL_TITLE, make_area, save_run
from test_mail import Inbox, Server, area_for

from console.app import bind_check
from reports.data import load_run
from reports.mail import send_lists
from reports.rectification import items_by_department
from reports.triage import load_marks

pytestmark = pytest.mark.integration

BASE = "http://127.0.0.1:9"


def request(url: str, data: bytes | None = None, headers: dict | None = None,
            method: str | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def post_json(url: str, body: dict, **headers: str) -> tuple[int, dict]:
    code, text = request(url, json.dumps(body).encode(), {"Content-Type": "application/json", **headers}, "POST")
    return code, json.loads(text)


@pytest.fixture()
def served(tmp_path: Path):
    area = make_area(tmp_path, BASE, runs=2)
    with ConsoleServer(area.cfg, area.store, check_root=tmp_path / "checks") as srv:
        yield area, srv


def typo_fp(area, run_id: int) -> str:
    return next(f.fingerprint for f in area.store.findings(run_id) if f.check == "typo")


def test_pages_render_and_escape_crawled_text(served) -> None:
    area, srv = served
    for path in ("/", f"/runs/{area.runs[0]}", "/departments", "/quota?year=2026", "/check"):
        code, html = request(srv.base + path)
        assert code == 200 and "巡检控制台" in html, path
    code, html = request(srv.base + f"/runs/{area.runs[0]}")
    assert "清溪区人民政府" in html and "清溪区教育局" in html
    gov_id = load_run(area.store, area.runs[0]).by_site()["清溪区人民政府"].site.id
    code, html = request(srv.base + f"/runs/{area.runs[0]}/sites/{gov_id}")
    assert code == 200 and "<mark>监菅</mark>" in html
    assert "<script>window" not in html and EVIL_TITLE not in html
    assert "=HYPERLINK(&#34;http://x&#34;)" in html
    code, html = request(srv.base + f"/runs/{area.runs[0]}/sites/{gov_id}?check=typo")
    assert "监菅" in html and "国土资源局" not in html
    assert request(srv.base + "/runs/99")[0] == 404


def test_api_lists_runs_and_findings_and_marks_through_post(served, tmp_path: Path) -> None:
    area, srv = served
    code, text = request(srv.base + "/api/runs")
    runs = json.loads(text)
    assert code == 200 and [r["id"] for r in runs] == sorted(area.runs, reverse=True)
    fp = typo_fp(area, area.runs[0])
    code, body = post_json(srv.base + f"/api/findings/{fp}/triage",
                           {"as": "false_alarm", "note": "引用原文", "by": "api 用户"})
    assert code == 200 and body["triage"]["state"] == "false_alarm" and body["triage"]["source"] == "api"
    code, text = request(srv.base + f"/api/runs/{area.runs[0]}/findings")
    doc = json.loads(text)
    row = next(f for f in doc["findings"] if f["fingerprint"] == fp)
    assert row["state"] == "false_alarm" and row["triage"]["note"] == "引用原文"
    code, text = request(srv.base + f"/api/runs/{area.runs[0]}/findings?state=false_alarm")
    assert [f["fingerprint"] for f in json.loads(text)["findings"]] == [fp]
    # The next run: the mark holds in its lists, score and mail.
    run3 = save_run(area.store, "2026-12", BASE)
    assert fp not in {k for i in items_by_department(area.store, run3, area.cfg)["zfb"] for k in i.fingerprints}
    gov = load_run(area.store, run3, area.cfg).by_site()["清溪区人民政府"]
    assert gov.result.score > gov.stored_score
    # Bad requests: unknown mark, a reason missing, not JSON.
    assert post_json(srv.base + f"/api/findings/{fp}/triage", {"as": "nonsense"})[0] == 400
    assert post_json(srv.base + f"/api/findings/{fp}/triage", {"as": "accepted"})[0] == 400
    assert request(srv.base + f"/api/findings/{fp}/triage", b"as=fixed",
                   {"Content-Type": "application/x-www-form-urlencoded"}, "POST")[0] == 415
    code, body = post_json(srv.base + f"/api/findings/{fp}/triage", {"clear": True})
    assert code == 200 and load_marks(area.store) == {}


def test_api_mark_is_not_mailed(tmp_path: Path) -> None:
    inbox = Inbox()
    with Server(inbox) as smtp:
        area = area_for(tmp_path, smtp.port)
        fp = typo_fp(area, area.runs[0])
        with ConsoleServer(area.cfg, area.store) as srv:
            assert post_json(srv.base + f"/api/findings/{fp}/triage",
                             {"as": "false_alarm", "note": "引用原文"})[0] == 200
        run2 = save_run(area.store, "2026-11", BASE)
        assert send_lists(area.store, run2, area.cfg, backoff_s=0).ok
    zfb = next(m for m in inbox.messages if m["X-Patrol-Department"] == "zfb")
    assert "监菅" not in zfb.get_body(("plain",)).get_content()


def test_cross_site_posts_and_forms_without_the_token_are_refused(served) -> None:
    area, srv = served
    fp = typo_fp(area, area.runs[0])
    code, body = post_json(srv.base + f"/api/findings/{fp}/triage", {"as": "false_alarm"},
                           Origin="http://evil.example")
    assert code == 403 and "cross-site" in body["error"]
    code, _ = post_json(srv.base + f"/api/findings/{fp}/triage", {"as": "false_alarm"},
                        **{"Sec-Fetch-Site": "cross-site"})
    assert code == 403
    form = f"state=false_alarm&note=x&csrf={srv.console.token}&next=/".encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert request(srv.base + f"/findings/{fp}/triage", form, {**headers, "Origin": "http://evil.example"},
                   "POST")[0] == 403
    assert request(srv.base + f"/findings/{fp}/triage", b"state=false_alarm&csrf=wrong", headers, "POST")[0] == 403
    assert load_marks(area.store) == {}
    # The same form from the console's own page is taken.
    assert request(srv.base + f"/findings/{fp}/triage", form, {**headers, "Origin": srv.base}, "POST")[0] == 200
    assert [m.source for m in load_marks(area.store).values()] == ["console"]


def test_password_is_required_off_loopback(tmp_path: Path) -> None:
    assert bind_check("127.0.0.1", {}) is None
    with pytest.raises(ValueError, match="PATROL_CONSOLE_PASSWORD"):
        bind_check("0.0.0.0", {})
    assert bind_check("0.0.0.0", {"PATROL_CONSOLE_PASSWORD": "s3cret"}) == "s3cret"
    area = make_area(tmp_path, BASE, runs=1)
    with ConsoleServer(area.cfg, area.store, password="s3cret") as srv:
        assert request(srv.base + "/api/runs")[0] == 401
        bad = base64.b64encode(b"x:wrong").decode()
        assert request(srv.base + "/api/runs", headers={"Authorization": f"Basic {bad}"})[0] == 401
        good = base64.b64encode("检查员:s3cret".encode()).decode()
        assert request(srv.base + "/api/runs", headers={"Authorization": f"Basic {good}"})[0] == 200


def test_spot_check_form_refuses_what_is_no_web_address(served) -> None:
    area, srv = served
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    for url in ("javascript:alert(1)", "--help", "file:///etc/passwd", ""):
        body = f"csrf={srv.console.token}&url={urllib.request.quote(url)}".encode()
        code, html = request(srv.base + "/check", body, headers, "POST")
        assert code == 400 and 'id="check-error"' in html, url
    assert srv.console.jobs.listing() == []


def test_serve_refuses_another_address_without_a_password(tmp_path: Path, monkeypatch, capsys) -> None:
    from patrol.cli import main
    make_area(tmp_path, BASE, runs=1)
    monkeypatch.delenv("PATROL_CONSOLE_PASSWORD", raising=False)
    assert main(["serve", "--config", str(tmp_path / "patrol.yaml"), "--host", "0.0.0.0"]) == 2
    assert "PATROL_CONSOLE_PASSWORD" in capsys.readouterr().err
