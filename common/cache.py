"""Where patrol keeps what it derives once and reuses (``$PATROL_CACHE_DIR``, else
``$XDG_CACHE_HOME/patrol`` or ``~/.cache/patrol``)."""
from __future__ import annotations

import mmap
import os
import threading
from collections.abc import Callable, Sequence
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


_ARRAYS_MAGIC = b"patrol-arrays-1\n"


def cached_arrays(path: Path, family: str, keep: int, build: Callable[[], Sequence],
                  dtypes: Sequence[str] | None = None) -> list:
    """numpy arrays kept together in one cache file: mapped read-only (no copy is made) when
    the file is whole, else ``build()`` and written for the next process (see ``write_cached``
    for ``family`` and ``keep``).  The file names the dtype and length of each array, so a file
    cut short or of another layout (with ``dtypes``, e.g. ``["<u4", "|u1"]``: another number
    of arrays or another dtype) is built again rather than misread.  Its contents are not
    checked further: like the other cache files, a copy damaged in place is trusted."""
    import numpy as np

    mapped = map_cached(path)
    if mapped is not None:
        found = _read_arrays(mapped)
        if found is not None and (dtypes is None or [a.dtype.str for a in found] == list(dtypes)):
            return found
    arrays = [np.ascontiguousarray(a) for a in build()]
    header = [_ARRAYS_MAGIC, np.array([len(arrays)], dtype="<u8").tobytes()]
    body = []
    for a in arrays:
        header.append(a.dtype.str.encode("ascii").ljust(8, b" ") + np.array([a.size], dtype="<u8").tobytes())
        data = a.tobytes()
        body.append(data + b"\0" * (-len(data) % 8))
    write_cached(path, b"".join(header + body), family, keep)
    return arrays


def _read_arrays(mapped) -> list | None:
    """The arrays of a ``cached_arrays`` file, or None when it is not one whole."""
    import numpy as np

    start = len(_ARRAYS_MAGIC)
    if len(mapped) < start + 8 or mapped[:start] != _ARRAYS_MAGIC:
        return None
    (count,) = np.frombuffer(mapped, dtype="<u8", count=1, offset=start).tolist()
    at = start + 8 + 16 * count
    if count > 64 or len(mapped) < at:
        return None
    layout = []
    for k in range(count):
        entry = start + 8 + 16 * k
        try:
            dtype = np.dtype(bytes(mapped[entry:entry + 8]).decode("ascii").strip())
        except (TypeError, ValueError, UnicodeDecodeError):
            return None
        (size,) = np.frombuffer(mapped, dtype="<u8", count=1, offset=entry + 8).tolist()
        if dtype.hasobject or dtype.itemsize == 0 or dtype.kind not in "biuf":
            return None
        layout.append((dtype, size))
    arrays = []
    for dtype, size in layout:
        length = dtype.itemsize * size
        if at + length > len(mapped):
            return None
        arrays.append(np.frombuffer(mapped, dtype=dtype, count=size, offset=at) if size
                      else np.zeros(0, dtype=dtype))
        at += length + (-length % 8)
    return arrays if at == len(mapped) else None
