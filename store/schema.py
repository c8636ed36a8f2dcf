"""The store's schema version and its upgrades.

A database records the version of the schema it was written with (table ``patrol_schema``, one
row).  Opening it with this patrol:

- a new, empty database gets every table and the current version;
- an older one (or one from before versions were recorded: version 0) is upgraded in place, in
  one transaction, step by step (``STEPS``).  A SQLite file is first copied beside itself
  (``patrol.db.schema-0.bak``) so that the earlier patrol can still be used with the copy;
  for PostgreSQL, take a ``pg_dump`` first (docs/architecture.md, "Upgrading the store");
- a newer one is refused with a message that says so: this patrol would not know its tables.

Two processes that open an old database at once (workers of one run) upgrade it once: the
upgrade holds the database's write lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a
transaction-scoped advisory lock) and reads the version again under it.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

VERSION_TABLE = "patrol_schema"
# Key of the advisory lock held while a PostgreSQL store is upgraded (not the writer lock's).
PG_UPGRADE_LOCK_KEY = 0x70617472_6F6C5550     # "patrolUP"


class SchemaError(Exception):
    """The database's schema cannot be used by this patrol (the message says why)."""


def add_missing_columns(conn: Connection) -> None:
    """Columns added to a table since a database was created are added to it, with their default
    (``Run.journal`` and ``Run.options``, added for resuming runs, are such columns)."""
    found = inspect(conn)
    for table in SQLModel.metadata.sorted_tables:
        if not found.has_table(table.name):
            continue
        have = {c["name"] for c in found.get_columns(table.name)}
        for column in table.columns:
            if column.name in have or column.primary_key:
                continue
            kind = column.type.compile(dialect=conn.dialect)
            given = column.default
            default = given.arg if given is not None and not callable(given.arg) else None
            sql = f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"
            if isinstance(default, str):
                sql += " DEFAULT '" + default.replace("'", "''") + "'"
            elif isinstance(default, (int, float)) and not isinstance(default, bool):
                sql += f" DEFAULT {default}"
            conn.execute(text(sql))


def one_result_per_site(conn: Connection) -> None:
    """A run holds one result per site (the unique index ``ux_siteresult_run_site``): of the
    results an earlier version may have stored twice for a run and site, the last is kept."""
    if not inspect(conn).has_table("siteresult"):
        return
    conn.execute(text(
        "DELETE FROM siteresult WHERE id NOT IN "
        "(SELECT max_id FROM (SELECT max(id) AS max_id FROM siteresult GROUP BY run_id, site_id) AS kept)"))
    conn.execute(text("CREATE UNIQUE INDEX IF NOT EXISTS ux_siteresult_run_site "
                      "ON siteresult (run_id, site_id)"))


# Version n is reached by running STEPS[n - 1] on a database of version n - 1.  Tables that did not
# exist are made by ``create_all`` after the steps; a step only changes tables that existed.
STEPS: list[tuple[str, Callable[[Connection], None]]] = [
    ("columns added since the first release, with their defaults", add_missing_columns),
    ("one result per run and site", one_result_per_site),
]
SCHEMA_VERSION = len(STEPS)
# The tables each version has (``tables_fingerprint``): a change of the models without a new
# step fails tests/test_store_schema.py instead of reaching users' stores half-done.
FINGERPRINTS = {1: "bb01c2cc77d4a916", 2: "7ace7eab8b1b7d81"}


def tables_fingerprint() -> str:
    """A digest of the tables as the models define them: columns (type, null), indexes, unique
    constraints."""
    import hashlib

    from sqlalchemy import UniqueConstraint
    from sqlalchemy.dialects import sqlite
    parts: list[str] = []
    for table in sorted(SQLModel.metadata.sorted_tables, key=lambda t: t.name):
        parts.append(f"{table.name}")
        for column in table.columns:
            parts.append(f"{table.name} C {column.name} {column.type.compile(dialect=sqlite.dialect())} "
                         f"{'null' if column.nullable else 'notnull'} {'pk' if column.primary_key else ''}")
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            unique = "unique" if index.unique else ""
            parts.append(f"{table.name} I {index.name} {unique} {[c.name for c in index.columns]}")
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                parts.append(f"{table.name} U {sorted(c.name for c in constraint.columns)}")
    return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:16]


def prepare(engine: Engine, url: str) -> int:
    """Make the database at ``engine`` ready for this patrol: create, upgrade or refuse it.
    Returns the version it had before (``SCHEMA_VERSION`` for a database that needed nothing)."""
    with engine.connect() as conn:
        before = _read_version(conn)
    if before == SCHEMA_VERSION:
        SQLModel.metadata.create_all(engine)     # tables a version adds without a step
        return before
    if before > SCHEMA_VERSION:
        raise SchemaError(_newer_message(url, before))
    with engine.begin() as conn:
        _take_upgrade_lock(conn)
        before = _read_version(conn)             # another process may have upgraded meanwhile
        if before > SCHEMA_VERSION:
            raise SchemaError(_newer_message(url, before))
        if before < SCHEMA_VERSION and (before > 0 or _has_patrol_tables(conn)):
            _backup_sqlite(engine, before)
        for number in range(before, SCHEMA_VERSION):
            STEPS[number][1](conn)
        SQLModel.metadata.create_all(conn)
        _write_version(conn)
    return before


def version(engine: Engine) -> int:
    with engine.connect() as conn:
        return _read_version(conn)


def _read_version(conn: Connection) -> int:
    if not inspect(conn).has_table(VERSION_TABLE):
        return 0
    value = conn.execute(text(f"SELECT max(version) FROM {VERSION_TABLE}")).scalar()
    return int(value or 0)


def _write_version(conn: Connection) -> None:
    conn.execute(text(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL)"))
    conn.execute(text(f"DELETE FROM {VERSION_TABLE}"))
    conn.execute(text(f"INSERT INTO {VERSION_TABLE} (version) VALUES (:v)"), {"v": SCHEMA_VERSION})


def _take_upgrade_lock(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_UPGRADE_LOCK_KEY})


def _has_patrol_tables(conn: Connection) -> bool:
    names = set(inspect(conn).get_table_names())
    return bool(names & {t.name for t in SQLModel.metadata.sorted_tables})


def _backup_sqlite(engine: Engine, before: int) -> Path | None:
    """A copy of a SQLite file as it was, beside it, before it is upgraded (kept, not replaced,
    when one of that version is there already)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    source = Path(database)
    copy = source.with_name(f"{source.name}.schema-{before}.bak")
    if copy.exists():
        return copy
    partial = copy.with_name(copy.name + ".part")
    with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
        src.backup(dst)
    partial.replace(copy)
    return copy


def _newer_message(url: Any, found: int) -> str:
    return (f"the database {url} was written by a newer patrol (schema version {found}; this patrol "
            f"knows versions up to {SCHEMA_VERSION}): upgrade patrol (pip install -U patrol), or "
            "use another database")
