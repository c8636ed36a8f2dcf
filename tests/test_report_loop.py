"""The closed loop: mailed items are followed up by the next run (reports/loop.py)."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from reportdata import make_area, save_run
from sqlmodel import select

from store import Rectification, Run
from reports.loop import department_rates, follow_up, record_mailed
from reports.rectification import items_by_department


def _mail_all(area, run_id: int) -> dict:
    lists = items_by_department(area.store, run_id, area.cfg)
    for items in lists.values():
        record_mailed(area.store, run_id, None, items)
    return lists


def _states(area) -> dict[tuple[str, str], str]:
    with area.store.session() as s:
        return {(r.check, r.key): r.state for r in s.exec(select(Rectification))}


def test_next_run_marks_fixed_and_still_open_items(tmp_path: Path) -> None:
    area = make_area(tmp_path, "http://127.0.0.1:9", runs=2)
    lists = _mail_all(area, area.runs[0])
    result = follow_up(area.store, area.runs[1])
    zfb = {i.key: i for i in lists["zfb"]}
    states = {key: state for (_, key), state in _states(area).items()}
    typo = next(k for k, i in zfb.items() if i.check == "typo")
    template = next(k for k, i in zfb.items() if i.check == "broken_link" and i.url.endswith("plan.pdf"))
    still = next(k for k, i in zfb.items() if i.check == "broken_link" and i.url.endswith("gone.html"))
    assert states[typo] == "fixed" and states[template] == "fixed"
    # Run 2 finished on 2026-11-20, after the 15-day deadline of the timeout link.
    assert states[still] == "overdue"
    assert result["fixed"] == 2 and result["checked"] == sum(len(v) for v in lists.values())
    assert result["departments"]["zfb"]["fixed"] == 2


def test_item_before_its_deadline_is_open_not_overdue(tmp_path: Path) -> None:
    area = make_area(tmp_path, "http://127.0.0.1:9", runs=1)
    _mail_all(area, area.runs[0])
    soon = save_run(area.store, "2026-10", area.base, finished=datetime(2026, 10, 22, tzinfo=UTC))
    follow_up(area.store, soon)
    states = _states(area)
    assert states[next(k for k in states if k[0] == "column_empty")] == "open"
    assert states[next(k for k in states if k[0] == "serious_error")] == "overdue"   # 1-day deadline


def test_sites_the_run_did_not_cover_are_left_alone(tmp_path: Path) -> None:
    area = make_area(tmp_path, "http://127.0.0.1:9", runs=1)
    _mail_all(area, area.runs[0])
    empty = area.store.start_run("2026-11")
    area.store.finish_run(empty.id)
    assert follow_up(area.store, empty.id)["checked"] == 0
    assert set(_states(area).values()) == {"open"}


def test_department_rates_as_of_each_run(tmp_path: Path) -> None:
    area = make_area(tmp_path, "http://127.0.0.1:9", runs=2)
    _mail_all(area, area.runs[0])
    follow_up(area.store, area.runs[1])
    with area.store.session() as s:
        first, second = s.get(Run, area.runs[0]), s.get(Run, area.runs[1])
    # As of run 1 nothing had been mailed before it.
    assert department_rates(area.store, first) == {}
    rates = department_rates(area.store, second)
    assert rates["zfb"]["fixed"] == 2 and rates["zfb"]["mailed"] == 6
    assert rates["zfb"]["rate"] == 2 / 6
    assert rates["jyj"]["fixed"] == 0 and rates["jyj"]["overdue"] == 2


def test_recording_the_same_list_twice_does_not_double_it(tmp_path: Path) -> None:
    area = make_area(tmp_path, "http://127.0.0.1:9", runs=1)
    items = items_by_department(area.store, area.runs[0], area.cfg)["zfb"]
    assert record_mailed(area.store, area.runs[0], None, items) == len(items)
    assert record_mailed(area.store, area.runs[0], None, items) == 0


def test_spot_check_neither_closes_nor_reopens_items(tmp_path: Path) -> None:
    area = make_area(tmp_path, "http://127.0.0.1:9", runs=1)
    _mail_all(area, area.runs[0])
    check = save_run(area.store, "2026-11", area.base, fixed=True, kind="check")
    assert follow_up(area.store, check)["checked"] == 0
    assert set(_states(area).values()) == {"open"}


def test_problem_mailed_again_next_month_is_followed_once_with_its_first_deadline(tmp_path: Path) -> None:
    area = make_area(tmp_path, "http://127.0.0.1:9", runs=2)
    first = _mail_all(area, area.runs[0])
    follow_up(area.store, area.runs[1])
    _mail_all(area, area.runs[1])
    with area.store.session() as s:
        rows = s.exec(select(Rectification)).all()
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys)) == sum(len(v) for v in first.values())
    gone = next(r for r in rows if r.check == "broken_link" and r.state == "overdue")
    assert gone.mailed_run == area.runs[0] and gone.deadline == "2026-11-04"
