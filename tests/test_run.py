"""`patrol run` through the CLI on a configuration of the sample sites: every check's verdicts.

Crawls the three sample sites (main, navigation-only homepage, stale homepage) once per module,
then asserts the freshness verdicts, the planted wording problems, the report files and that a
second run recognises the same problems by their fingerprints.
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
OPENGOV_CHECKS = "site_identity,page_labels,annual_report,policy_interpretation"


def run_patrol(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "patrol.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def config(sample_site, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    m = sample_site.manifest
    deps = {"main": "zfb", "nav": "jyj", "stale": "dag"}
    cfg = {
        "inspector": {"name": "清溪区政务公开办公室"},
        "database": "sqlite:///patrol.db",
        "output": str(tmp / "out"),
        "departments": [{"id": d, "name": d} for d in deps.values()],
        "sites": [{"name": s["name"], "url": s["url"], "department": deps[s["id"]]} for s in m.sites],
        "leaders": m.leaders,
        "crawl": {"fast": True, "timeout": 4, "retries": 1, "retry_backoff": 0.2, "max_retry_after": 2},
        # The sample site's 开办者标识 links to the external sample server (no conac.cn here).
        "thresholds": {"site_identity": {"badge_hosts": ["conac.cn", f"127.0.0.1:{sample_site.ext_port}"]}},
    }
    path = tmp / "patrol.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def first_run(config, sample_site):
    sample_site.server.reset()
    out = config.parent / "run1"
    proc = run_patrol("run", "--config", str(config), "--out", str(out), "--quiet",
                      "--checks", "links,freshness,text," + OPENGOV_CHECKS)
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "findings.json").read_text(encoding="utf-8")), out


def site_name(sample_site, site_id: str) -> str:
    return sample_site.manifest.site(site_id)["name"]


def test_every_column_gets_its_verdict(first_run, sample_site):
    findings, _ = first_run
    flagged = {(f["check"], f["url"]) for f in findings["findings"] if f["severity"] != "warning"}
    for column in sample_site.manifest.columns:
        stale = ("column_stale", column["url"]) in flagged
        empty = ("column_empty", column["url"]) in flagged
        assert stale == (column["verdict"] == "stale"), column
        assert empty == (column["verdict"] == "empty"), column


def test_stale_homepage_fails_and_navigation_homepage_passes(first_run, sample_site):
    findings, _ = first_run
    stale_sites = {f["site"] for f in findings["findings"] if f["check"] == "homepage_stale"
                   and f["severity"] != "warning"}
    assert stale_sites == {s["name"] for s in sample_site.manifest.sites if s["homepage_verdict"] == "stale"}
    vetoes = {s["name"]: s["veto"] for s in findings["sites"]}
    assert "homepage_stale" in vetoes[site_name(sample_site, "stale")]
    assert "homepage_stale" not in vetoes[site_name(sample_site, "nav")]


def test_planted_wording_problems_are_found_and_correct_text_is_not(first_run, sample_site):
    findings, _ = first_run
    text = [f for f in findings["findings"] if f["check"] in
            ("typo", "wrong_expression", "serious_error", "privacy_leak")]
    for plant in sample_site.manifest.text:
        at_page = [f for f in text if f["page"] == plant["page"] and not f["detail"].get("suspected")]
        if plant["kind"] == "id_number":
            hits = [f for f in at_page if f["check"] == "privacy_leak"]
        else:
            hits = [f for f in at_page if plant["wrong"] in f["detail"].get("context", "")
                    and (f["detail"]["wrong"] in plant["wrong"] or plant["wrong"] in f["detail"]["wrong"])]
        assert bool(hits) == plant["expect_finding"], plant
    serious = [f for f in text if f["check"] == "serious_error"]
    assert {f["detail"]["wrong"] for f in serious} >= {"中华人民共合国"}
    assert "serious_error" in {v for s in findings["sites"] for v in s["veto"]}


def test_report_files_and_rerender_from_the_store(first_run, config):
    findings, out = first_run
    assert (out / "report.html").stat().st_size > 10_000
    assert (out / "findings.csv").read_text(encoding="utf-8-sig").count("\n") >= len(findings["findings"])
    again = config.parent / "rerender"
    proc = run_patrol("report", "--config", str(config), "--run", str(findings["run"]["id"]),
                      "--out", str(again))
    assert proc.returncode == 0, proc.stderr
    rerendered = json.loads((again / "findings.json").read_text(encoding="utf-8"))
    assert [f["fingerprint"] for f in rerendered["findings"]] == [f["fingerprint"] for f in findings["findings"]]


def test_second_run_recognises_the_same_problems(first_run, config, sample_site):
    findings, _ = first_run
    sample_site.server.reset()
    out = config.parent / "run2"
    proc = run_patrol("run", "--config", str(config), "--out", str(out), "--quiet", "--checks", "links",
                      "--site", site_name(sample_site, "main"))
    assert proc.returncode == 0, proc.stderr
    second = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    before = {f["fingerprint"] for f in findings["findings"] if f["check"] == "broken_link"}
    after = {f["fingerprint"]: f for f in second["findings"] if f["check"] == "broken_link"}
    main = site_name(sample_site, "main")
    assert {fp for fp, f in after.items() if f["site"] == main} <= before
    assert all(f["state"] == "open" for f in after.values())


def test_unknown_site_name_is_a_clear_error(config):
    proc = run_patrol("run", "--config", str(config), "--site", "不存在的网站")
    assert proc.returncode == 2
    assert "no site or account named '不存在的网站'" in proc.stderr


# --- 政务公开 checks (docs/opengov.md) ---------------------------------------------------------

def _of(findings, check):
    return [f for f in findings["findings"] if f["check"] == check]


def test_site_identity_verdicts_per_site(first_run, sample_site):
    findings, _ = first_run
    for site_id, items in sample_site.manifest.opengov["identity"].items():
        name = site_name(sample_site, site_id)
        found = {f["detail"]["kind"]: f["detail"]["rule"] for f in _of(findings, "site_identity") if f["site"] == name}
        expected = {item: status for item, status in items.items() if status not in ("present", "not_judged")}
        assert found == expected, site_id
    stale = next(f for f in _of(findings, "site_identity")
                 if f["site"] == site_name(sample_site, "stale") and f["detail"]["kind"] == "site_code")
    assert "5001120002" in stale["message"] and "5001120003" in stale["message"]


def test_page_labels_flag_exactly_the_pages_without_them(first_run, sample_site):
    findings, _ = first_run
    required = yaml.safe_load((ROOT / "patroldata" / "thresholds.yaml").read_text(encoding="utf-8"))["page_labels"]
    planted = {entry["page"]: entry for entry in sample_site.manifest.opengov["labels"]}
    expected = {}
    for page, entry in planted.items():
        missing = [n for n in required[entry["type"]] if n not in entry["present"]]
        if missing:
            expected[page] = (entry["type"], missing)
    found = {f["page"]: (f["detail"]["kind"], f["detail"]["missing"]) for f in _of(findings, "page_labels")
             if f["page"] in planted}
    assert found == expected
    assert all(f["severity"] == "warning" for f in _of(findings, "page_labels"))
    # The planted gaps are among them: a list page, an article page and a bare homepage.
    ghjh = sample_site.url("/zwgk/ghjh/")
    assert found[ghjh] == ("column", ["ColumnDescription", "ColumnKeywords"])
    assert found[sample_site.url("/nav/")] == ("homepage", ["SiteName", "SiteDomain", "SiteIDCode"])
    assert sample_site.url("/") not in found and sample_site.url("/stale/") not in found


def test_annual_reports_on_time_late_and_missing(first_run, sample_site):
    findings, _ = first_run
    plant = sample_site.manifest.opengov["annual_report"]
    rows = _of(findings, "annual_report")
    late = [r for r in plant["reports"] if r["status"] == "late"]
    main = [f for f in rows if f["site"] == site_name(sample_site, "main")]
    assert [(f["url"], f["detail"]["rule"], f["detail"]["published"]) for f in main] == \
        [(r["url"], "late", r["published"]) for r in late]
    assert late[0]["published"] in main[0]["message"] and plant["due"] in main[0]["message"]
    for site_id, kinds in plant["sites"].items():
        name = site_name(sample_site, site_id)
        missing = {f["detail"]["kind"] for f in rows if f["site"] == name and f["detail"]["rule"].startswith("missing")}
        assert missing == {k for k, status in kinds.items() if status == "missing"}, site_id


def test_policy_documents_without_interpretation(first_run, sample_site):
    findings, _ = first_run
    docs = sample_site.manifest.opengov["interpretation"]["documents"]
    flagged = {f["url"] for f in _of(findings, "policy_interpretation")}
    assert flagged == {d["url"] for d in docs if not d["interpreted"]}
    assert all(f["detail"]["column"] == "政策文件" for f in _of(findings, "policy_interpretation"))


def test_opengov_report_part_and_rectification_rows_per_column(first_run, config, sample_site):
    findings, out = first_run
    html = (out / "report.html").read_text(encoding="utf-8")
    for heading in ("网站标识（首页底部与标签）", "网页标签", "政府信息公开工作年度报告", "政策解读"):
        assert heading in html
    rate = sample_site.manifest.opengov["interpretation"]["rate"]
    assert f"{rate * 100:.1f}%" in html
    from store import Store
    from reports.rectification import items_by_department
    store = Store(f"sqlite:///{config.parent / 'patrol.db'}")
    items = [i for rows in items_by_department(store, findings["run"]["id"]).values() for i in rows]
    labels = [i for i in items if i.check == "page_labels"]
    pages = {f["page"] for f in _of(findings, "page_labels")}
    # One row per (site, column); together they carry every page's finding.
    columns = {(f["site"], f["detail"]["column"]) for f in _of(findings, "page_labels")}
    assert len(labels) == len(columns) == len({i.key for i in labels})
    assert {p for i in labels for p in i.pages} == pages
    assert sum(len(i.fingerprints) for i in labels) == len(_of(findings, "page_labels"))
    assert any(i.label == "政策文件缺少解读" for i in items)
