"""`patrol report`, `patrol mail` and `patrol schedule` through the real command line."""
from __future__ import annotations

import json
from pathlib import Path

from reportdata import make_area

from patrol.cli import main
from reports.cli import schedule_text
import pytest

pytestmark = pytest.mark.e2e

BASE = "http://127.0.0.1:9"


def test_report_rerenders_a_past_run_from_the_store(tmp_path: Path, capsys) -> None:
    area = make_area(tmp_path, BASE, runs=2)
    conf = str(tmp_path / "patrol.yaml")
    assert main(["report", "--config", conf, "--period", "2026-10", "--out", str(tmp_path / "r")]) == 0
    doc = json.loads((tmp_path / "r" / "findings.json").read_text(encoding="utf-8"))
    assert doc["run"]["id"] == area.runs[0]
    assert (tmp_path / "r" / "report.html").is_file()
    assert (tmp_path / "r" / "rectification" / "rectification-zfb.xlsx").is_file()
    # Default: the latest completed run, into the config's output folder.
    assert main(["report", "--config", conf]) == 0
    assert json.loads((tmp_path / "out" / f"run-{area.runs[1]}" / "findings.json")
                      .read_text(encoding="utf-8"))["run"]["period"] == "2026-11"
    assert "report.html" in capsys.readouterr().out


def test_report_pdf_format(tmp_path: Path) -> None:
    make_area(tmp_path, BASE, runs=1)
    out = tmp_path / "r"
    assert main(["report", "--config", str(tmp_path / "patrol.yaml"), "--run", "1", "--out", str(out),
                 "--format", "pdf"]) == 0
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")


def test_report_of_unknown_run_is_a_clear_error(tmp_path: Path, capsys) -> None:
    make_area(tmp_path, BASE, runs=1)
    assert main(["report", "--config", str(tmp_path / "patrol.yaml"), "--run", "99"]) == 1
    assert "no run with id 99" in capsys.readouterr().err


def test_mail_dry_run_writes_eml_files(tmp_path: Path, capsys) -> None:
    make_area(tmp_path, BASE, runs=1)
    out = tmp_path / "eml"
    assert main(["mail", "--config", str(tmp_path / "patrol.yaml"), "--dry-run", "--out", str(out),
                 "--department", "jyj"]) == 0
    assert [p.name for p in out.glob("*.eml")] == ["mail-jyj.eml"]
    assert "区教育局" in capsys.readouterr().out


def test_mail_failure_exits_non_zero(tmp_path: Path, capsys) -> None:
    make_area(tmp_path, BASE, runs=1, smtp={"host": "127.0.0.1", "port": 9, "ssl": False, "retries": 1})
    assert main(["mail", "--config", str(tmp_path / "patrol.yaml")]) == 1
    assert "发送失败" in capsys.readouterr().out


def test_schedule_prints_crontab_lines_for_run_probe_and_mail(tmp_path: Path) -> None:
    conf = tmp_path / "patrol.yaml"
    text = schedule_text(conf, workdir=tmp_path)
    jobs = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(jobs) == 3
    run, probe, mail = jobs
    assert run.startswith("0 2 1 * * ") and " run --config " in run and str(conf) in run
    assert probe.startswith("7 * * * * ") and " probe --config " in probe
    assert mail.startswith("0 9 3 * * ") and " mail --config " in mail


def test_schedule_systemd_prints_a_service_and_timer_per_job(tmp_path: Path, capsys) -> None:
    assert main(["schedule", "--config", str(tmp_path / "patrol.yaml"), "--systemd"]) == 0
    out = capsys.readouterr().out
    assert out.count("[Timer]") == 3 and out.count("[Service]") == 3
    assert "OnCalendar=*-*-* *:07:00" in out and "OnCalendar=*-*-01 02:00:00" in out
    assert out.count("ExecStart=") == 3


def test_spot_check_report_says_it_does_not_count_toward_the_quota(tmp_path: Path) -> None:
    from reportdata import save_run

    area = make_area(tmp_path, BASE, runs=1)
    check = save_run(area.store, "2026-11", BASE, kind="check")
    assert main(["report", "--config", str(tmp_path / "patrol.yaml"), "--run", str(check),
                 "--out", str(tmp_path / "c")]) == 0
    html = (tmp_path / "c" / "report.html").read_text(encoding="utf-8")
    assert "即时检查（不计入全年巡检次数）" in html and "本年度第" not in html
