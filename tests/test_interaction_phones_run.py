"""`patrol run` on the sample sites: 互动回应 (interaction_poor) and 联系电话 (contact_phone).

One run of the three sample sites with the two checks (and the text check, whose privacy rule
decides which mobile numbers are citizens'), then every planted case of the manifest:
each message's verdict, each site's channel, every number on the planted pages, the numbers
that must not be read as numbers, the report section and the rectification sheet.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
FINDING_OF = {"unanswered": ("veto", "unanswered"), "late": ("warning", "late_reply")}


@pytest.fixture(scope="module")
def run(sample_site, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("interaction")
    m = sample_site.manifest
    deps = {"main": "zfb", "nav": "jyj", "stale": "dag"}
    cfg = {
        "inspector": {"name": "清溪区政务公开办公室"},
        "database": f"sqlite:///{tmp / 'patrol.db'}",
        "departments": [{"id": d, "name": d} for d in deps.values()],
        "sites": [{"name": s["name"], "url": s["url"], "department": deps[s["id"]]} for s in m.sites],
        "crawl": {"fast": True, "timeout": 4, "retries": 1, "retry_backoff": 0.2, "max_retry_after": 2},
    }
    path = tmp / "patrol.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    sample_site.server.reset()
    out = tmp / "out"
    proc = subprocess.run([sys.executable, "-m", "patrol.cli", "run", "--config", str(path),
                           "--out", str(out), "--quiet", "--checks", "interaction,phones,text"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "findings.json").read_text(encoding="utf-8")), out


def _site_name(sample_site, site_id: str) -> str:
    return sample_site.manifest.site(site_id)["name"]


def test_every_message_gets_its_verdict(run, sample_site):
    findings, _ = run
    main = _site_name(sample_site, "main")
    board = next(x for x in sample_site.manifest.interaction if x["site"] == "main")
    ours = {f["url"]: f for f in findings["findings"]
            if f["check"] == "interaction_poor" and f["site"] == main}
    for msg in board["messages"]:
        expected = FINDING_OF.get(msg["verdict"])
        got = ours.get(msg["url"])
        if expected is None:
            assert got is None, msg
            continue
        assert got is not None, msg
        assert (got["severity"], got["detail"]["rule"]) == expected
        assert got["detail"]["asked"] == msg["asked"] and got["detail"]["replied"] == msg["replied"]
        assert got["page"] == msg["url"] and got["department"] == "zfb"
    # Nothing else: the channel works (在线咨询, 我要写信 answer).
    assert set(ours) == {m["url"] for m in board["messages"] if m["verdict"] in FINDING_OF}
    site = next(s for s in findings["sites"] if s["name"] == main)
    assert "interaction_poor" in site["veto"]
    late = next(f for f in ours.values() if f["detail"]["rule"] == "late_reply")
    assert late["detail"]["working_days"] > late["detail"]["limit"] == 15


def test_the_report_lists_every_message_with_its_dates_and_state(run, sample_site):
    _, out = run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "互动回应" in html and "未扣除法定节假日" in html
    board = next(x for x in sample_site.manifest.interaction if x["site"] == "main")
    for msg in board["messages"]:
        assert msg["title"] in html and msg["asked"] in html
    for label in ("超过3个月未答复", "答复超期", "办理中（未超期）", "超出统计期", "无效留言"):
        assert label in html


@pytest.mark.parametrize("site_id, rule", [("nav", "no_channel"), ("stale", "submit_unreachable")])
def test_a_site_without_a_working_channel_fails(run, sample_site, site_id, rule):
    findings, _ = run
    name = _site_name(sample_site, site_id)
    planted = next(x for x in sample_site.manifest.interaction if x["site"] == site_id)
    ours = [f for f in findings["findings"] if f["check"] == "interaction_poor" and f["site"] == name]
    assert [(f["severity"], f["detail"]["rule"]) for f in ours] == [("veto", rule)]
    if planted["submit"]:
        assert ours[0]["url"] == planted["submit"] and ours[0]["page"] == planted["board"]
    site = next(s for s in findings["sites"] if s["name"] == name)
    assert "interaction_poor" in site["veto"]


def test_every_published_number_once_and_nothing_else(run, sample_site):
    findings, _ = run
    main = _site_name(sample_site, "main")
    phones = [f for f in findings["findings"] if f["check"] == "contact_phone" and f["site"] == main]
    by_number = {f["detail"]["number"]: f for f in phones}
    assert len(by_number) == len(phones)                      # one finding per distinct number
    planted_pages = {p for x in sample_site.manifest.phones for p in x["pages"]}
    on_planted = {n: sorted(set(f["detail"]["pages"]) & planted_pages) for n, f in by_number.items()}
    on_planted = {n: pages for n, pages in on_planted.items() if pages}
    assert on_planted == {x["number"]: sorted(x["pages"]) for x in sample_site.manifest.phones}
    for x in sample_site.manifest.phones:
        f = by_number[x["number"]]
        assert f["severity"] == "info" and f["detail"]["kind"] == x["kind"]
        assert f["url"] == "tel:" + x["number"]
        assert f["detail"]["columns"]                          # the column of the page that shows it
    for wrong in sample_site.manifest.not_phones:
        assert wrong not in by_number, wrong
    # Nothing on these pages is a citizen's data: the office mobile after 联系电话 is an office
    # line for the privacy rule too, and the citizen's number is masked.
    assert not [f for f in findings["findings"]
                if f["check"] == "privacy_leak" and f["page"] in planted_pages]


def _visible(book) -> list[str]:
    """The sheets a department sees (the hidden one is patrol's own, for `patrol feedback`)."""
    return [ws.title for ws in book.worksheets if ws.sheet_state == "visible"]


def test_the_rectification_lists_have_the_phone_sheet(run, sample_site):
    from openpyxl import load_workbook
    findings, out = run
    proc = subprocess.run([sys.executable, "-m", "patrol.cli", "report", "--config",
                           str(out.parent / "patrol.yaml"), "--run", str(findings["run"]["id"]),
                           "--out", str(out.parent / "report")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lists = out.parent / "report" / "rectification"
    book = load_workbook(lists / "rectification-zfb.xlsx")
    assert _visible(book) == ["整改清单", "联系电话核查"]
    rows = [[c.value for c in r] for r in book["联系电话核查"].iter_rows()]
    assert rows[1][:3] == ["序号", "网站", "电话号码"]
    main = _site_name(sample_site, "main")
    listed = {r[2] for r in rows[2:] if r[1] == main}
    published = {f["detail"]["number"] for f in findings["findings"]
                 if f["check"] == "contact_phone" and f["site"] == main}
    assert listed == published and {x["number"] for x in sample_site.manifest.phones} <= listed
    # The message-board findings are rows of the list itself.
    items = [[c.value for c in r] for r in book["整改清单"].iter_rows()][2:]
    assert sum(1 for r in items if r[2] == "互动回应差") == 2
    html = (lists / "rectification-zfb.html").read_text(encoding="utf-8")
    assert "联系电话核查" in html and "023-87654321转8001" in html
    # A department whose sites publish no number gets no such sheet; one whose do gets it.
    with_numbers = {f["department"] for f in findings["findings"] if f["check"] == "contact_phone"}
    books = {p.stem.removeprefix("rectification-"): _visible(load_workbook(p)) for p in lists.glob("*.xlsx")}
    assert any(dep not in with_numbers for dep in books), books
    for dep, sheets in books.items():
        assert sheets == (["整改清单", "联系电话核查"] if dep in with_numbers else ["整改清单"]), (dep, sheets)


def test_patrol_check_runs_them_too(sample_site, tmp_path):
    stale = sample_site.manifest.site("stale")["url"]
    proc = subprocess.run([sys.executable, "-m", "patrol.cli", "check", stale, "--out", str(tmp_path / "out"),
                           "--fast", "--quiet", "--checks", "interaction,phones"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    findings = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert [(f["check"], f["detail"]["rule"]) for f in findings["findings"]] == [
        ("interaction_poor", "submit_unreachable")]
    assert findings["sites"][0]["veto"] == ["interaction_poor"]
