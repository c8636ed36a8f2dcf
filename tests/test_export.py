from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from reportdata import EVIL_TITLE, make_area

from reports.export import write_outputs


@pytest.fixture()
def area(tmp_path: Path):
    # No page server: screenshots are off in these tests, nothing is fetched.
    return make_area(tmp_path, "http://127.0.0.1:9", runs=2)


def test_findings_json_has_the_documented_shape(area, tmp_path: Path) -> None:
    paths = write_outputs(area.store, area.runs[0], tmp_path / "o", area.cfg, screenshots=0)
    doc = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert set(doc) == {"run", "sites", "findings"}
    assert {"id", "period", "started", "finished"} <= set(doc["run"])
    assert doc["run"]["id"] == area.runs[0] and doc["run"]["period"] == "2026-10"
    site = next(s for s in doc["sites"] if s["name"] == "清溪区教育局")
    assert {"name", "url", "pages", "score", "veto"} <= set(site)
    assert site["veto"] == ["serious_error"] and site["score"] == 96.0
    assert len(doc["findings"]) == len(area.store.findings(area.runs[0]))
    f = next(f for f in doc["findings"] if f["check"] == "broken_link" and f["detail"].get("homepage"))
    assert {"check", "severity", "site", "department", "url", "page", "message", "detail"} <= set(f)
    assert f["url"].endswith("/files/plan.pdf") and f["page"] == area.base + "/"
    assert f["department"] == "zfb" and len(f["fingerprint"]) == 16


def test_findings_keep_fingerprints_and_state_across_runs(area, tmp_path: Path) -> None:
    first = json.loads(write_outputs(area.store, area.runs[0], tmp_path / "a", area.cfg,
                                     screenshots=0)["json"].read_text(encoding="utf-8"))
    second = json.loads(write_outputs(area.store, area.runs[1], tmp_path / "b", area.cfg,
                                      screenshots=0)["json"].read_text(encoding="utf-8"))
    before = {f["fingerprint"] for f in first["findings"]}
    assert all(f["state"] == "new" for f in first["findings"])
    for f in second["findings"]:
        assert (f["state"] == "open") == (f["fingerprint"] in before)
    # The typo was fixed between the runs, so its fingerprint is gone.
    typo = next(f["fingerprint"] for f in first["findings"] if f["check"] == "typo")
    assert typo not in {f["fingerprint"] for f in second["findings"]}


def test_findings_csv_has_every_finding_and_keeps_formulas_as_text(area, tmp_path: Path) -> None:
    paths = write_outputs(area.store, area.runs[0], tmp_path / "o", area.cfg, screenshots=0)
    raw = paths["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")      # BOM, so Excel reads UTF-8
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert len(rows) == len(area.store.findings(area.runs[0]))
    wrong = next(r for r in rows if r["check"] == "wrong_expression")
    assert wrong["message"].startswith("'=HYPERLINK")
    assert json.loads(rows[0]["detail"]) is not None


def test_rendering_twice_gives_the_same_findings(area, tmp_path: Path) -> None:
    a = write_outputs(area.store, area.runs[0], tmp_path / "a", area.cfg, screenshots=0)
    b = write_outputs(area.store, area.runs[0], tmp_path / "b", area.cfg, screenshots=0)
    assert a["json"].read_text(encoding="utf-8") == b["json"].read_text(encoding="utf-8")
    assert a["csv"].read_bytes() == b["csv"].read_bytes()


def test_report_html_escapes_crawled_text(area, tmp_path: Path) -> None:
    html = write_outputs(area.store, area.runs[0], tmp_path / "o", area.cfg,
                         screenshots=0)["html"].read_text(encoding="utf-8")
    assert EVIL_TITLE not in html
    assert "&lt;script&gt;window.__pwned" in html
    assert "<script" not in html.lower()
    # Self-contained: nothing is loaded from elsewhere when the file is opened.
    assert 'src="http' not in html and "<link " not in html and "@import" not in html


def test_findings_json_lists_each_sites_columns(area, tmp_path: Path) -> None:
    paths = write_outputs(area.store, area.runs[0], tmp_path / "o", area.cfg, screenshots=0)
    doc = json.loads(paths["json"].read_text(encoding="utf-8"))
    site = next(s for s in doc["sites"] if s["name"] == "清溪区人民政府")
    by_name = {c["name"]: c for c in site["columns"]}
    assert set(by_name) == {"要闻", "政策文件", "通知公告"}
    assert by_name["要闻"] == {"name": "要闻", "url": area.base + "/news/", "category": "dynamic",
                              "newest": "2026-10-01", "newest_source": "list", "newest_title": "清溪区召开常务会议",
                              "days": 20, "status": "stale", "found_by": []}
    assert (by_name["政策文件"]["status"], by_name["政策文件"]["newest"]) == ("empty", None)
    assert all(s["columns"] == [] for s in doc["sites"] if s["name"] != "清溪区人民政府")
