"""The store's schema version (store/schema.py): a new database gets the current version, one of
an earlier patrol is upgraded in place with its rows kept (a SQLite file copied first), one of a
newer patrol is refused with a message that says so, and two processes that open an old database
at once upgrade it once.  On SQLite and on PostgreSQL."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from store import Store, StoreError, schema

pytestmark = pytest.mark.integration

# The run table as the first release wrote it (no journal, no options), with one run.
FIRST_RELEASE_RUN = (
    "CREATE TABLE run (id {key}, period VARCHAR NOT NULL, kind VARCHAR NOT NULL,"
    " status VARCHAR NOT NULL, started TIMESTAMP NOT NULL, finished TIMESTAMP,"
    " config_path VARCHAR NOT NULL, inspector VARCHAR NOT NULL, note VARCHAR NOT NULL)")
FIRST_RUN_ROW = ("INSERT INTO run (period, kind, status, started, finished, config_path, inspector, note)"
                 " VALUES ('2026-10', 'run', 'completed', '2026-10-01 00:00:00',"
                 " NULL, '/etc/patrol.yaml', '张三', '')")


def _first_release_database(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        key = "SERIAL PRIMARY KEY" if conn.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
        conn.execute(text(FIRST_RELEASE_RUN.format(key=key)))
        conn.execute(text(FIRST_RUN_ROW))
    engine.dispose()


def test_a_new_database_gets_the_current_version(store_url: str) -> None:
    store = Store(store_url)
    assert schema.version(store.engine) == schema.SCHEMA_VERSION
    assert store.upgraded_from == 0
    # Opened again: nothing to do.
    again = Store(store_url)
    assert again.upgraded_from == schema.SCHEMA_VERSION
    store.engine.dispose()
    again.engine.dispose()


def test_a_database_of_the_first_release_is_upgraded_with_its_rows_kept(store_url: str) -> None:
    _first_release_database(store_url)
    store = Store(store_url)
    assert store.upgraded_from == 0
    assert schema.version(store.engine) == schema.SCHEMA_VERSION
    old = store.get_run(1)
    assert (old.period, old.status, old.inspector, old.config_path) == ("2026-10", "completed", "张三",
                                                                        "/etc/patrol.yaml")
    assert old.journal == "" and not old.options
    run = store.start_run("2026-11", journal="/var/lib/patrol/j", options={"sites": ["清溪"]})
    assert store.get_run(run.id).options == {"sites": ["清溪"]}
    assert [r.id for r in store.runs()] == [1, run.id]
    store.engine.dispose()


def test_sqlite_is_copied_before_it_is_upgraded(tmp_path: Path) -> None:
    db = tmp_path / "patrol.db"
    with sqlite3.connect(db) as conn:
        conn.execute(FIRST_RELEASE_RUN.format(key="INTEGER PRIMARY KEY"))
        conn.execute(FIRST_RUN_ROW)
    conn.close()
    Store(f"sqlite:///{db}").engine.dispose()
    copy = tmp_path / "patrol.db.schema-0.bak"
    assert copy.is_file()
    with sqlite3.connect(copy) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(run)")]
        assert "journal" not in columns
        assert conn.execute("SELECT inspector FROM run").fetchall() == [("张三",)]
    conn.close()
    # A new database is not copied: there is nothing to keep.
    Store(f"sqlite:///{tmp_path / 'new.db'}").engine.dispose()
    assert not list(tmp_path.glob("new.db*.bak"))


def test_a_database_of_a_newer_patrol_is_refused_with_the_reason(store_url: str) -> None:
    store = Store(store_url)
    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE {schema.VERSION_TABLE} SET version = :v"), {"v": schema.SCHEMA_VERSION + 3})
    store.engine.dispose()
    with pytest.raises(StoreError) as caught:
        Store(store_url)
    message = str(caught.value)
    assert f"schema version {schema.SCHEMA_VERSION + 3}" in message
    assert "newer patrol" in message and "upgrade patrol" in message


def test_a_database_of_a_newer_patrol_stops_the_command_with_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "patrol.db"
    Store(f"sqlite:///{db}").engine.dispose()
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE {schema.VERSION_TABLE} SET version = 99")
    conn.close()
    (tmp_path / "patrol.yaml").write_text(
        f"database: sqlite:///{db}\nsites:\n  - name: 清溪\n    url: http://127.0.0.1:9/\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "patrol.cli", "report", "--config", str(tmp_path / "patrol.yaml"),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "newer patrol (schema version 99" in done.stderr
    assert "Traceback" not in done.stderr


def test_two_processes_opening_an_old_database_at_once_upgrade_it_once(store_url: str, tmp_path: Path) -> None:
    _first_release_database(store_url)
    script = textwrap.dedent(f"""
        import sys, time
        from store import Store
        start = float(sys.argv[1])
        while time.time() < start:
            time.sleep(0.001)
        store = Store({store_url!r})
        print(store.upgraded_from)
    """)
    import time
    start = f"{time.time() + 1.5:.3f}"
    procs = [subprocess.Popen([sys.executable, "-c", script, start], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parent.parent) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    # One of them upgraded from 0; the other found the current version (or waited and read it).
    assert sorted(int(out.strip()) for out, _ in outs) == [0, schema.SCHEMA_VERSION]
    store = Store(store_url)
    with store.engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {schema.VERSION_TABLE}")).scalar() == 1
    assert store.get_run(1).inspector == "张三"
    store.engine.dispose()


def test_the_tables_are_those_recorded_for_the_schema_version() -> None:
    """A change of the models (a column, an index, a unique constraint) comes with a new step in
    store/schema.py STEPS and its fingerprint recorded in FINGERPRINTS; otherwise stores made by
    the previous version would never get it."""
    assert schema.FINGERPRINTS.get(schema.SCHEMA_VERSION) == schema.tables_fingerprint(), (
        "the store's tables changed: append a step to store/schema.py STEPS (raising SCHEMA_VERSION), "
        "record FINGERPRINTS[new version] = tables_fingerprint(), and test opening a database of the "
        "previous version")


def test_a_version_1_store_keeps_the_last_of_a_sites_duplicate_results(store_url: str) -> None:
    """Version 2 holds one result per run and site (a job delivered twice stores it once); an
    earlier store that holds two keeps the last."""
    from store import SiteResult
    store = Store(store_url)
    run = store.start_run("2026-11")
    site = store.site_row("清溪", "http://127.0.0.1/")
    with store.engine.begin() as conn:
        conn.execute(text("DROP INDEX ux_siteresult_run_site"))
        conn.execute(text(f"UPDATE {schema.VERSION_TABLE} SET version = 1"))
    with store.session() as s:
        s.add(SiteResult(run_id=run.id, site_id=site.id, status="interrupted", pages=3))
        s.add(SiteResult(run_id=run.id, site_id=site.id, status="completed", pages=40))
        s.commit()
    store.engine.dispose()
    again = Store(store_url)
    assert again.upgraded_from == 1
    assert [(r.status, r.pages) for r, _ in again.site_results(run.id)] == [("completed", 40)]
    from sqlalchemy.exc import IntegrityError
    with pytest.raises(IntegrityError):
        with again.session() as s:
            s.add(SiteResult(run_id=run.id, site_id=site.id, status="completed"))
            s.commit()
    again.engine.dispose()
