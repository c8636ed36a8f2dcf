"""`patrol demo` as a new user runs it: sample sites served, patrolled, report and lists written."""
from __future__ import annotations

import email
import json
import subprocess
import sys
from email import policy
from pathlib import Path
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent


def test_demo_writes_report_quota_and_dry_run_mails(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "patrol.cli", "demo", "--out", str(out), "--quiet"],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = out / "report" / "report.html"
    assert f"Open the report: {report}" in proc.stdout
    assert "全年12次" in proc.stdout or "12 次" in proc.stdout        # the quota grid was printed
    findings = json.loads((out / "report" / "findings.json").read_text(encoding="utf-8"))
    checks = {f["check"] for f in findings["findings"]}
    assert {"broken_link", "column_stale", "column_empty", "homepage_stale", "serious_error",
            "privacy_leak", "newmedia_stale"} <= checks
    kinds = {f.get("kind", "website") for f in findings["sites"]}
    assert kinds == {"website", "newmedia"}
    emls = sorted((out / "mail").glob("*.eml"))
    assert emls, "no rectification mail written"
    message = email.message_from_bytes(emls[0].read_bytes(), policy=policy.default)
    attachments = [part.get_filename() for part in message.iter_attachments()]
    assert any(name and name.endswith(".xlsx") for name in attachments)
    assert list((out / "rectification").glob("*.xlsx"))
