"""A throw-away PostgreSQL server for the tests that need one (``postgres_url`` in conftest).

``start()`` makes a cluster with ``initdb`` in a temporary folder, starts it with ``pg_ctl`` on
a free loopback port and returns a ``PgServer`` whose ``url`` names a fresh database; ``stop()``
stops it and removes the folder.  PostgreSQL refuses to run as root: as root, the server runs
as the ``postgres`` user (``runuser``).  ``Unavailable`` says why no server could be started
(no PostgreSQL installed, no driver, no user to run it as), for the tests to skip with.
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from patrol.demo.samplesite import free_port

BIN_DIRS = [Path(f"/usr/lib/postgresql/{v}/bin") for v in (17, 16, 15, 14, 13)]


class Unavailable(Exception):
    """No PostgreSQL server can be started here (the reason is the message)."""


@dataclass
class PgServer:
    folder: Path
    port: int
    bindir: Path
    prefix: list[str]           # runuser ... when the server runs as another user

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/patrol"

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.prefix, str(self.bindir / tool), *args], capture_output=True,
                              text=True, timeout=60, cwd=self.folder)

    def stop(self) -> None:
        try:
            self.run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def start() -> PgServer:
    try:
        import psycopg  # noqa: F401 - the driver patrol's store would use
    except ImportError:
        raise Unavailable("the psycopg driver is not installed (pip install 'patrol[postgres]')") from None
    bindir = next((d for d in BIN_DIRS if (d / "initdb").exists()), None)
    if bindir is None and shutil.which("initdb"):
        bindir = Path(shutil.which("initdb")).parent  # type: ignore[arg-type]
    if bindir is None:
        raise Unavailable("PostgreSQL is not installed (no initdb)")
    prefix: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("running as root and there is no postgres user to run PostgreSQL as") from None
        runuser = shutil.which("runuser")
        if runuser is None:
            raise Unavailable("running as root and there is no runuser to start PostgreSQL as postgres")
        prefix = [runuser, "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="patrol-pg-"))
    if owner is not None:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    port = free_port()
    server = PgServer(folder, port, bindir, prefix)
    data = folder / "data"
    steps = [
        ("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"),
        ("pg_ctl", "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60", "-o",
         f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off", "start"),
        ("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "patrol"),
    ]
    for step in steps:
        try:
            done = server.run(*step)
        except (OSError, subprocess.TimeoutExpired) as exc:
            done = subprocess.CompletedProcess(step, 1, "", repr(exc))
        if done.returncode != 0:
            log = ""
            try:
                log = (folder / "server.log").read_text(errors="replace")[-800:]
            except OSError:
                pass
            server.stop()
            raise Unavailable(f"{step[0]} failed: {(done.stderr or done.stdout).strip()[-800:]} {log}".strip())
    return server


def new_database(server_url: str, prefix: str = "t_") -> str:
    """A new, empty database on the server of ``server_url``; returns its URL."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = prefix + uuid.uuid4().hex[:12]
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)
