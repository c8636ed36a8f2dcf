"""Marks on findings (reports/triage.py) through `patrol triage`: the next run's report,
rectification lists, mails and scores all leave a false alarm out."""
from __future__ import annotations

import json
from pathlib import Path

from reportdata import BASE_SCORE_GOV, make_area, save_run
from test_mail import Inbox, Server, area_for

from patrol.cli import main
from reports.data import load_run
from reports.export import findings_document, write_outputs
from reports.loop import department_rates, follow_up, record_mailed
from reports.mail import send_lists
from reports.rectification import items_by_department
from reports.triage import TriageError, load_marks, set_marks
import pytest

pytestmark = pytest.mark.e2e

BASE = "http://127.0.0.1:9"


def fp_of(store, run_id: int, check: str) -> str:
    return next(f.fingerprint for f in store.findings(run_id) if f.check == check)


def keys(store, run_id, cfg, dep="zfb") -> list[str]:
    return [fp for i in items_by_department(store, run_id, cfg).get(dep, []) for fp in i.fingerprints]


def test_false_alarm_marked_by_cli_stays_out_of_the_next_run(tmp_path: Path, capsys) -> None:
    area = make_area(tmp_path, BASE, runs=1)
    conf = str(tmp_path / "patrol.yaml")
    typo = fp_of(area.store, area.runs[0], "typo")
    assert typo in keys(area.store, area.runs[0], area.cfg)
    assert main(["triage", "--config", conf, typo[:10], "--as", "false_alarm",
                 "--note", "“监菅”是页面引用的原文", "--by", "王检查"]) == 0
    assert "已标记 1 个问题" in capsys.readouterr().out
    # The next run reports the same problem again: it is marked, not live.
    run2 = save_run(area.store, "2026-11", BASE)
    assert typo not in keys(area.store, run2, area.cfg)
    data = load_run(area.store, run2, area.cfg)
    assert [f.fingerprint for f in data.marked] == [typo]
    assert typo not in {f.fingerprint for f in data.findings}
    gov = data.by_site()["清溪区人民政府"]
    # The typo's points are given back (scoring.yaml: typo costs points) on the stored score.
    assert gov.result.score > gov.stored_score == BASE_SCORE_GOV
    out = tmp_path / "r2"
    write_outputs(area.store, run2, out, area.cfg, screenshots=0)
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    row = next(f for f in doc["findings"] if f["fingerprint"] == typo)
    assert row["state"] == "false_alarm"
    assert row["triage"]["note"] == "“监菅”是页面引用的原文" and row["triage"]["by"] == "王检查"
    assert all(f["triage"] is None for f in doc["findings"] if f["fingerprint"] != typo)
    assert next(s for s in doc["sites"] if s["name"] == "清溪区人民政府")["score"] == gov.result.score
    html = (out / "report.html").read_text(encoding="utf-8")
    marked = html[html.index('id="marked"'):html.index('id="method"')]
    assert "“监菅”是页面引用的原文" in marked and "误报" in marked and typo in marked
    rect = html[html.index('id="rectification"'):html.index('id="marked"')]
    assert "监菅" not in rect
    # --list shows it; --clear puts it back in the lists.
    assert main(["triage", "--config", conf, "--list"]) == 0
    listed = capsys.readouterr().out
    assert typo in listed and "王检查" in listed
    assert main(["triage", "--config", conf, typo, "--clear"]) == 0
    assert typo in keys(area.store, run2, area.cfg)
    assert load_marks(area.store) == {}


def test_false_alarm_is_not_mailed(tmp_path: Path) -> None:
    inbox = Inbox()
    with Server(inbox) as srv:
        area = area_for(tmp_path, srv.port)
        typo = fp_of(area.store, area.runs[0], "typo")
        set_marks(area.store, [typo], "false_alarm", note="原文引用", by="t")
        run2 = save_run(area.store, "2026-11", BASE)
        outcome = send_lists(area.store, run2, area.cfg, backoff_s=0)
    assert outcome.ok and len(inbox.messages) == 2
    zfb = next(m for m in inbox.messages if m["X-Patrol-Department"] == "zfb")
    assert "监菅" not in zfb.get_body(("html",)).get_content()
    assert "监菅" not in zfb.get_body(("plain",)).get_content()
    assert "国土资源局" in zfb.get_body(("plain",)).get_content()


def test_fixed_then_found_again_is_reopened(tmp_path: Path) -> None:
    area = make_area(tmp_path, BASE, runs=1)
    typo = fp_of(area.store, area.runs[0], "typo")
    set_marks(area.store, [typo], "fixed", note="已修改", by="区政府办")
    # The run it was marked from: fixed (awaiting the next run), out of the list, still costs points.
    first = load_run(area.store, area.runs[0], area.cfg)
    assert [f.state for f in first.marked] == ["fixed"]
    assert typo not in keys(area.store, area.runs[0], area.cfg)
    gov = first.by_site()["清溪区人民政府"]
    assert gov.result.score == gov.stored_score
    # The next run finds it again: reopened, listed again.
    run2 = save_run(area.store, "2026-11", BASE)
    data = load_run(area.store, run2, area.cfg)
    assert typo in {f.fingerprint for f in data.findings} and not data.marked
    assert next(f.state for f in data.findings if f.fingerprint == typo) == "reopened"
    item = next(i for i in items_by_department(area.store, run2, area.cfg)["zfb"] if i.key == typo)
    assert item.state == "reopened" and "曾标记为已整改，本次巡检仍发现" in item.description
    doc = findings_document(area.store, run2, cfg=area.cfg)
    assert next(f for f in doc["findings"] if f["fingerprint"] == typo)["state"] == "reopened"


def test_mailed_item_marked_false_alarm_leaves_the_rate(tmp_path: Path) -> None:
    area = make_area(tmp_path, BASE, runs=1)
    items = items_by_department(area.store, area.runs[0], area.cfg)
    record_mailed(area.store, area.runs[0], None, items["jyj"])
    empty = fp_of(area.store, area.runs[0], "column_empty")
    set_marks(area.store, [empty], "accepted", note="栏目已撤并，保留历史页面", by="t")
    run2 = save_run(area.store, "2026-11", BASE)
    counts = follow_up(area.store, run2)
    assert counts["dismissed"] == 1 and counts["open"] + counts["overdue"] == 1
    rates = department_rates(area.store, area.store.get_run(run2))
    assert rates["jyj"]["mailed"] == 1


def test_veto_whose_findings_are_all_false_alarms_is_lifted(tmp_path: Path) -> None:
    area = make_area(tmp_path, BASE, runs=1)
    serious = fp_of(area.store, area.runs[0], "serious_error")
    set_marks(area.store, [serious], "false_alarm", note="书名引用", by="t")
    edu = load_run(area.store, area.runs[0], area.cfg).by_site()["清溪区教育局"]
    assert edu.stored_veto == ["serious_error"] and edu.result.veto == []


def test_bad_marks_are_refused_with_the_reason(tmp_path: Path, capsys) -> None:
    area = make_area(tmp_path, BASE, runs=1)
    conf = str(tmp_path / "patrol.yaml")
    typo = fp_of(area.store, area.runs[0], "typo")
    assert main(["triage", "--config", conf, "ffffffffffff", "--as", "false_alarm"]) == 1
    assert "no finding with this fingerprint" in capsys.readouterr().err
    assert main(["triage", "--config", conf, typo, "--as", "accepted"]) == 1
    assert "--note" in capsys.readouterr().err
    assert main(["triage", "--config", conf, typo]) == 2
    assert main(["triage", "--config", conf, typo, "--clear"]) == 1
    assert "no mark" in capsys.readouterr().err
    try:
        set_marks(area.store, [typo], "ignored")
    except TriageError as exc:
        assert "unknown mark" in str(exc)
    else:
        raise AssertionError("an unknown mark was accepted")
    assert load_marks(area.store) == {}


def test_marks_never_change_what_the_store_recorded(tmp_path: Path) -> None:
    area = make_area(tmp_path, BASE, runs=1)
    before = {f.fingerprint: f.state for f in area.store.findings(area.runs[0])}
    typo = fp_of(area.store, area.runs[0], "typo")
    set_marks(area.store, [typo], "false_alarm", note="x", by="t")
    run2 = save_run(area.store, "2026-11", BASE)
    follow_up(area.store, run2)
    load_run(area.store, run2, area.cfg)
    assert {f.fingerprint: f.state for f in area.store.findings(area.runs[0])} == before
    assert {f.state for f in area.store.findings(run2)} == {"open"}
