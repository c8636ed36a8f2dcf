"""One writer at a time: the lock a run holds on its SQLite database file.

Two ``patrol run`` on one database at once would interleave their results and each take the
other's half-written run for a crashed one.  The runner takes this lock before it starts
crawling; a second run refuses at once, naming the process that holds it.  The lock is an
``flock`` on ``<database>.lock``: the kernel releases it when the process ends, however it
ends, so a killed run never leaves the database locked.  (PostgreSQL stores are locked by the
store itself, with an advisory lock.)  A leaf module: it imports no database code, so the lock
is taken before the crawl processes start.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


class LockBusy(Exception):
    """Another patrol is writing to this database."""


class RunLock:
    def __init__(self, path: Path | None, fd: int | None):
        self.path = path
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            try:
                os.close(self.fd)                  # closing the descriptor drops the flock
            finally:
                self.fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def sqlite_path(url: str, base_dir: Path | None = None) -> Path | None:
    """The database file of a ``sqlite:///`` URL, resolved as the store resolves it; None for
    another database or an in-memory one."""
    if not url.startswith("sqlite:///"):
        return None
    rel = url[len("sqlite:///"):].split("?", 1)[0]
    if not rel or rel == ":memory:":
        return None
    path = Path(rel)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path.resolve()


def acquire(url: str, base_dir: Path | None = None, what: str = "patrol run") -> RunLock:
    """Take the writer lock of the database at ``url``, or raise LockBusy saying who holds it."""
    db = sqlite_path(url, base_dir)
    if db is None:
        return RunLock(None, None)
    import fcntl
    path = db.with_name(db.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return RunLock(None, None)     # a read-only folder: the store will say what is wrong
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = _holder(fd)
        os.close(fd)
        who = (f" ({holder.get('what', 'patrol')}, process {holder.get('pid')}, since {holder.get('since')})"
               if holder.get("pid") else "")
        raise LockBusy(f"{db}: another patrol is writing to this database{who}; wait for it to "
                       "finish, or stop it (Ctrl-C or SIGTERM) and continue it later with "
                       "`patrol run --resume`") from None
    info = json.dumps({"pid": os.getpid(), "what": what,
                       "since": time.strftime("%Y-%m-%d %H:%M:%S")}, ensure_ascii=False).encode("utf-8")
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, info, 0)
    except OSError:
        pass
    return RunLock(path, fd)


def _holder(fd: int) -> dict[str, Any]:
    try:
        data = os.pread(fd, 4096, 0)
        info = json.loads(data.decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}
