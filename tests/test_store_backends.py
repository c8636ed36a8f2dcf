"""The store on PostgreSQL gives what it gives on SQLite: two monthly runs of an area stored on
each, then findings.json, the rectification lists and the quota grid compared (ids and times
aside). PostgreSQL is a throw-away server (tests/pgserver.py), skipped with its reason where
none can start."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports.export import write_outputs
from reports.quota import quota_grid, render_text
from reports.rectification import items_by_department
from tests.reportdata import make_area

pytestmark = pytest.mark.integration

BASE = "http://www.qingxi.test"


def _area_outputs(tmp: Path, database: str | None) -> dict:
    area = make_area(tmp, BASE, runs=2, database=database)
    if database:
        assert area.store.engine.dialect.name == "postgresql"
    area.store.save_screenshot(area.runs[0], "f" * 16, BASE + "/", b"\xff\xd8jpeg", "")
    doc = json.loads(write_outputs(area.store, area.runs[1], tmp / "out", area.cfg, screenshots=0)["json"]
                     .read_text(encoding="utf-8"))
    lists = {dept: sorted((i.key, i.check, i.state, tuple(i.fingerprints)) for i in items)
             for dept, items in items_by_department(area.store, area.runs[1], area.cfg).items()}
    shots = {fp: (row.page, bytes(row.image or b"")) for fp, row in area.store.screenshots(area.runs[0]).items()}
    grid = render_text(quota_grid(area.store, 2026, area.cfg))
    area.store.engine.dispose()
    findings = sorted((f["check"], f["severity"], f["site"], f["url"], f["page"] or "", f["fingerprint"], f["state"])
                      for f in doc["findings"])
    return {"findings": findings, "lists": lists, "shots": shots, "quota": grid,
            "sites": sorted((s["name"], s.get("score"), tuple(s.get("veto") or [])) for s in doc["sites"])}


def test_postgresql_store_gives_what_sqlite_gives(tmp_path: Path, fresh_pg_database: str) -> None:
    (tmp_path / "lite").mkdir()
    (tmp_path / "pg").mkdir()
    on_sqlite = _area_outputs(tmp_path / "lite", None)
    on_pg = _area_outputs(tmp_path / "pg", fresh_pg_database)
    assert on_sqlite["findings"] and on_sqlite["lists"] and on_sqlite["shots"]
    assert on_pg == on_sqlite
