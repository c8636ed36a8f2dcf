"""Where patrol keeps what it derives once and reuses (``$PATROL_CACHE_DIR``, else
``$XDG_CACHE_HOME/patrol`` or ``~/.cache/patrol``)."""
from __future__ import annotations

import mmap
import os
import threading
from collections.abc import Callable
from pathlib import Path


def cache_dir() -> Path:
    env = os.environ.get("PATROL_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "patrol"


def read_cached(path: Path) -> bytes | None:
    """A cache file's bytes, or None; reading marks it as used (the last used are kept)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        os.utime(path)
    except OSError:
        pass
    return data


def map_cached(path: Path) -> mmap.mmap | None:
    """A cache file mapped read-only (no copy is made), or None (missing, empty, unreadable);
    mapping it marks it as used, as ``read_cached`` does."""
    try:
        with path.open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    try:
        os.utime(path)
    except OSError:
        pass
    return mapped


def write_cached(path: Path, data: bytes, family: str, keep: int,
                 stale: Callable[[Path], bool] = lambda p: False) -> None:
    """Writes ``path`` whole or not at all, then removes the files of ``family`` (a glob in
    the same directory) that are ``stale`` and all but the ``keep`` last used of the others.
    A read-only cache directory only costs rebuilding next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Per process and thread: two writers of one file never share a half-written copy.
        tmp = path.with_name(f"{path.name}.tmp{os.getpid()}-{threading.get_ident()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        current: list[tuple[float, Path]] = []
        for old in path.parent.glob(family):
            if ".tmp" in old.name or old == path:
                continue
            if stale(old):
                old.unlink(missing_ok=True)
            else:
                current.append((old.stat().st_mtime, old))
        current.sort(reverse=True)
        for _, old in current[keep - 1:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
