from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from reportdata import make_config, save_run

from patrol.cli import main
from store import Store
from reports.quota import _width, quota_grid, render_text

BASE = "http://127.0.0.1:9"


@pytest.fixture()
def setup(tmp_path: Path):
    cfg = make_config(tmp_path, BASE)
    return cfg, Store(cfg.database)


def _row(grid, name):
    return next(r for r in grid.rows if r.name == name)


def test_each_completed_run_counts_for_its_month(setup) -> None:
    cfg, store = setup
    for period in ("2026-01", "2026-02", "2026-02", "2025-12"):
        save_run(store, period, BASE)
    grid = quota_grid(store, 2026, cfg, today=date(2026, 3, 10))
    gov = _row(grid, "清溪区人民政府")
    assert gov.counts[:3] == [1, 2, 0] and sum(gov.counts) == 3
    assert gov.done == 2                           # two runs in February still count one month
    assert _row(grid, "清溪发布").kind == "newmedia"


def test_no_month_missed_so_far_means_twelve_is_still_reachable(setup) -> None:
    cfg, store = setup
    for m in (1, 2):
        save_run(store, f"2026-{m:02d}", BASE)
    gov = _row(quota_grid(store, 2026, cfg, today=date(2026, 3, 10)), "清溪区人民政府")
    assert gov.missed == [] and gov.remaining == 10 and gov.reachable
    assert "还需 10 次" in gov.verdict


def test_a_missed_month_makes_twelve_unreachable(setup) -> None:
    cfg, store = setup
    for m in (1, 3):
        save_run(store, f"2026-{m:02d}", BASE)
    grid = quota_grid(store, 2026, cfg, today=date(2026, 4, 2))
    gov = _row(grid, "清溪区人民政府")
    assert gov.missed == [2] and gov.done == 2 and gov.remaining == 9
    assert not gov.reachable and "无法完成" in gov.verdict
    text = render_text(grid)
    assert "无法完成全年 12 次的：" in text and "清溪区人民政府" in text.splitlines()[-1]


def test_spot_checks_failed_runs_and_failed_sites_do_not_count(setup) -> None:
    cfg, store = setup
    save_run(store, "2026-01", BASE, kind="check")
    failed = store.start_run("2026-02")
    store.finish_run(failed.id, status="failed")
    grid = quota_grid(store, 2026, cfg, today=date(2026, 3, 1))
    assert all(sum(r.counts) == 0 for r in grid.rows)
    # Configured sites with no inspection at all are on the grid, behind.
    assert {r.name for r in grid.rows} == {"清溪区人民政府", "清溪区教育局", "清溪发布"}
    assert all(r.missed == [1, 2] and not r.reachable for r in grid.rows)


def test_full_year_is_done_and_a_past_year_is_judged_whole(setup) -> None:
    cfg, store = setup
    for m in range(1, 13):
        save_run(store, f"2025-{m:02d}", BASE)
    gov = _row(quota_grid(store, 2025, cfg, today=date(2026, 3, 1)), "清溪区人民政府")
    assert gov.done == 12 and gov.verdict == "已完成" and gov.missed == []
    future = _row(quota_grid(store, 2027, cfg, today=date(2026, 3, 1)), "清溪区人民政府")
    assert future.missed == [] and future.remaining == 12 and future.reachable


def test_text_grid_marks_missed_and_coming_months(setup) -> None:
    cfg, store = setup
    save_run(store, "2026-01", BASE)
    text = render_text(quota_grid(store, 2026, cfg, today=date(2026, 3, 5)))
    line = next(l for l in text.splitlines() if l.startswith("清溪区人民政府"))
    assert "  1  ✗  ·" in line and "1/12" in line
    header = text.splitlines()[1]
    # Columns line up although the names are Chinese (two columns per character).
    assert _width(header[: header.index("完成")]) == _width(line[: line.index(" 1/12")])


def test_patrol_quota_prints_the_grid(setup, tmp_path: Path, capsys) -> None:
    _, store = setup
    save_run(store, "2026-01", BASE)
    assert main(["quota", "--config", str(tmp_path / "patrol.yaml"), "--year", "2026"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2026 年巡检完成情况") and "清溪区教育局" in out
