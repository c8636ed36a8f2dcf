"""The store's bulk insert (store/__init__.py ``_insert_many``) of pages, links, link uses and
findings: on SQLite the rows go to the driver directly; they must be stored exactly as
SQLAlchemy's insert stores them."""
from __future__ import annotations

import sqlite3

from sqlalchemy import insert
from sqlmodel import select

from checks.model import Finding, LinkRef, LinkResult, ListItem, PageSnapshot, SiteCrawl
import store as store_module
from store import Link, Page, Store


def _crawl() -> SiteCrawl:
    pages = [
        PageSnapshot(url="http://127.0.0.1/", final_url="http://127.0.0.1/", status=200, depth=0,
                     title="清溪区人民政府", links=[LinkRef("http://127.0.0.1/a.html", "a", "通知"),
                                                   LinkRef("http://127.0.0.1/old", "a", "旧栏目")],
                     encoding="utf-8", breadcrumb=["首页", "政务公开"], published="2026-11-01",
                     list_items=[ListItem("关于“十五五”规划的通知", "http://127.0.0.1/a.html", "2026-11-01", "list")]),
        PageSnapshot(url="http://127.0.0.1/js.html", final_url="http://127.0.0.1/js.html", status=200,
                     depth=1, title="工作动态", rendered=True, placeholder=True, referer=None),
    ]
    links = {
        "http://127.0.0.1/a.html": LinkResult("http://127.0.0.1/a.html", status=200, method="GET",
                                              final_url="http://127.0.0.1/a.html", elapsed_ms=3),
        "http://127.0.0.1/old": LinkResult("http://127.0.0.1/old", kind="http_404", status=404,
                                           redirects=["http://127.0.0.1/新址", "http://127.0.0.1/x"],
                                           error="页面不存在", internal=False),
        "http://127.0.0.1/t": LinkResult("http://127.0.0.1/t", kind="timeout", status=None, final_url=None),
    }
    return SiteCrawl(name="清溪", url="http://127.0.0.1/", pages=pages, links=links)


def _findings() -> list[Finding]:
    return [Finding(check="broken_link", severity="error", site="清溪", url="http://127.0.0.1/old",
                    message="链接无法访问（404）", page="http://127.0.0.1/", department="区政府办",
                    detail={"kind": "http_404", "anchor": "旧栏目", "redirects": ["http://127.0.0.1/新址"]})]


def _rows(path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


def _save(path) -> Store:
    store = Store(f"sqlite:///{path}")
    run = store.start_run("2026-11")
    store.save_site(run.id, _crawl(), _findings(), {"pages": 2})
    return store


def test_pages_and_links_are_stored_as_sqlalchemy_stores_them(tmp_path, monkeypatch):
    _save(tmp_path / "fast.db")
    monkeypatch.setattr(store_module, "_insert_many",
                        lambda conn, model, rows: rows and conn.execute(insert(model), rows))
    _save(tmp_path / "sqlalchemy.db")
    expected = {"page": len(_crawl().pages), "link": len(_crawl().links), "linkuse": 1, "finding": 1}
    for table, count in expected.items():
        fast, reference = _rows(tmp_path / "fast.db", table), _rows(tmp_path / "sqlalchemy.db", table)
        assert len(fast) == count
        assert fast == reference


def test_stored_rows_read_back_through_the_models(store_url):
    store = Store(store_url)
    run = store.start_run("2026-11")
    store.save_site(run.id, _crawl(), _findings(), {"pages": 2})
    from sqlmodel import Session, select
    with Session(store.engine) as s:
        pages = s.exec(select(Page).order_by(Page.id)).all()
        links = {link.url: link for link in s.exec(select(Link))}
    assert pages[0].data["breadcrumb"] == ["首页", "政务公开"]
    assert pages[0].data["list_items"][0]["title"] == "关于“十五五”规划的通知"
    assert pages[1].rendered is True and pages[1].published is None
    assert links["http://127.0.0.1/old"].redirects == ["http://127.0.0.1/新址", "http://127.0.0.1/x"]
    assert links["http://127.0.0.1/old"].internal is False
    assert links["http://127.0.0.1/t"].status is None


def test_rows_that_leave_out_a_defaulted_column_still_get_its_default(tmp_path):
    from store import LinkUse, _insert_many
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    run = store.start_run("2026-11")
    site = store.site_row("清溪", "http://127.0.0.1/", "website", "")
    with store.session() as s:
        _insert_many(s.connection(), LinkUse, [{"run_id": run.id, "site_id": site.id, "page": "p", "url": "u"}])
        s.commit()
    assert _rows(tmp_path / "s.db", "linkuse") == [(1, run.id, site.id, "p", "u", "a", "")]


# --- runs that stop: interrupted, resumed, and stores of an earlier version ---------------------

def test_a_store_without_the_journal_column_gets_it(tmp_path):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE run (id INTEGER PRIMARY KEY, period VARCHAR NOT NULL, kind VARCHAR NOT NULL,"
                     " status VARCHAR NOT NULL, started DATETIME NOT NULL, finished DATETIME,"
                     " config_path VARCHAR NOT NULL, inspector VARCHAR NOT NULL, note VARCHAR NOT NULL)")
        conn.execute("INSERT INTO run VALUES (1, '2026-10', 'run', 'completed', '2026-10-01 00:00:00',"
                     " NULL, '', '', '')")
    store = Store(f"sqlite:///{db}")
    assert store.get_run(1).journal == ""
    assert not store.get_run(1).options
    run = store.start_run("2026-11", journal="/tmp/j", options={"sites": ["清溪"], "checks": None, "out": None})
    assert store.get_run(run.id).journal == "/tmp/j"
    assert store.get_run(run.id).options == {"sites": ["清溪"], "checks": None, "out": None}


def test_a_runs_end_is_in_the_database_file_once_recorded(tmp_path):
    """SQLite in WAL mode with synchronous=NORMAL syncs at checkpoints: the end of a run (after
    which its journal is removed) is checkpointed into the database file, synced, at once."""
    db = tmp_path / "p.db"
    store = Store(f"sqlite:///{db}")
    run = store.start_run("2026-11", journal=str(tmp_path))
    store.save_site(run.id, _crawl(), _findings(), {"status": "completed", "pages": 2})
    wal = tmp_path / "p.db-wal"
    assert wal.stat().st_size > 0
    store.finish_run(run.id, "completed")
    assert wal.stat().st_size == 0
    with sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True) as conn:   # the file alone
        assert conn.execute("SELECT status FROM run").fetchall() == [("completed",)]


def test_stale_running_runs_are_interrupted_and_a_resume_replaces_partial_results(store_url, tmp_path):
    store = Store(store_url)
    done = store.start_run("2026-11")
    store.finish_run(done.id, "completed")
    killed = store.start_run("2026-11", journal=str(tmp_path))
    assert store.resumable_run() is None
    assert store.settle_stale_runs() == [killed.id]
    assert store.resumable_run().id == killed.id
    assert [r.id for r in store.interrupted_runs("2026-11")] == [killed.id]
    assert store.interrupted_runs("2026-12") == []
    store.save_site(killed.id, _crawl(), [], {"status": "interrupted", "pages": 2})
    assert store.finished_sites(killed.id) == set()
    store.clear_site(killed.id, "清溪")
    store.save_site(killed.id, _crawl(), _findings(), {"status": "completed", "pages": 2})
    assert store.finished_sites(killed.id) == {"清溪"}
    with store.session() as s:
        assert len(s.exec(select(Page).where(Page.run_id == killed.id)).all()) == 2
    store.reopen_run(killed.id)
    assert store.get_run(killed.id).status == "running"
