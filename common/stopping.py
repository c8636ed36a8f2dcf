"""Stopping a patrol cleanly: the stop signals, and the processes a run started.

A patrol is stopped by a person (Ctrl-C: SIGINT), by a timer or service manager (SIGTERM), by a
closed terminal (SIGHUP), or killed outright.  The first stop signal raises ``Interrupted`` in
the main thread: the run stops its crawl processes, stores what they crawled and records itself
as ``interrupted``, so that ``patrol run --resume`` can continue it.  A second signal stops at
once: every process of the run is killed and patrol exits without writing more.

A crawl process asks the kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), so a
patrol killed with SIGKILL leaves no crawl running.  Chromium, started by Playwright's driver in
a process group of its own, is found through the process tree (``descendants``).

This module is a leaf: the runner, the crawl processes and the CLI use it, it imports no room.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

PR_SET_NAME = 15
PR_SET_PDEATHSIG = 1


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived: the run stops and keeps what it has."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP while a run is on (a context manager; main thread only).

    The first signal raises ``Interrupted``, at once or, inside ``deferred()`` (a store
    transaction), when the block ends.  Any later signal calls ``on_force`` (kill the run's
    processes) and leaves with ``os._exit``.  Outside the main thread nothing is installed."""

    def __init__(self, on_force: Callable[[], None] | None = None):
        self.on_force = on_force
        self.signum: int | None = None
        self.raised = False
        self._defer = 0
        self._saved: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                try:
                    self._saved[sig] = signal.signal(sig, self._handle)
                except (ValueError, OSError):
                    pass
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._saved.items():
            try:
                signal.signal(sig, old if old is not None else signal.SIG_DFL)
            except (ValueError, OSError):
                pass
        self._saved.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            self.force(signum)
            return
        self.signum = signum
        if self._defer == 0:
            self.raised = True
            raise Interrupted(signum)

    def force(self, signum: int) -> None:
        """The second signal: kill what the run started, leave now."""
        try:
            sys.stderr.write(f"\npatrol: {signal.Signals(signum).name} again: stopping at once\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        try:
            if self.on_force is not None:
                self.on_force()
        finally:
            os._exit(128 + signum)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """A block that a first stop signal does not cut in two (it is raised after it)."""
        self._defer += 1
        try:
            yield
        finally:
            self._defer -= 1
        self.check()

    @contextmanager
    def held(self) -> Iterator[None]:
        """A block that a first stop signal does not cut, and that does not raise it either:
        the next ``check()`` (or ``deferred()`` block) outside it does. For the start of a run,
        where the signal must be taken where the run is recorded and can be resumed."""
        self._defer += 1
        try:
            yield
        finally:
            self._defer -= 1

    def check(self) -> None:
        """Raise ``Interrupted`` now if a signal arrived while it was deferred."""
        if self.signum is not None and not self.raised and self._defer == 0:
            self.raised = True
            raise Interrupted(self.signum)


# --- processes ---------------------------------------------------------------------------------

def prctl(option: int, arg: int | bytes) -> bool:
    """Linux's prctl(2) with one argument; False where there is none."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, arg, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def set_process_name(name: str) -> None:
    """Name this process for ``top`` and ``ps -o comm`` (15 bytes at most)."""
    prctl(PR_SET_NAME, name.encode("ascii", "replace")[:15])


def die_with_parent(parent: int, sig: int = signal.SIGTERM) -> None:
    """Have the kernel send ``sig`` to this process when its parent ``parent`` goes; if it has
    gone already (between the fork and now), leave at once."""
    prctl(PR_SET_PDEATHSIG, int(sig))
    if parent and os.getppid() != parent:
        os._exit(128 + int(sig))


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return children
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        rest = stat[stat.rfind(b")") + 2:].split()
        if len(rest) > 1:
            children.setdefault(int(rest[1]), []).append(int(name))
    return children


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc; empty elsewhere)."""
    return list(_children_map().get(pid, ()))


def descendants(pids: Iterable[int]) -> set[int]:
    """Every process below ``pids`` in the process tree (Linux /proc; empty elsewhere)."""
    children = _children_map()
    found: set[int] = set()
    todo = list(pids)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def kill_all(pids: Iterable[int], sig: int = signal.SIGKILL) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal the process group that ``pid`` leads (a crawl process and Playwright's driver),
    if any of it is left."""
    try:
        os.killpg(pid, sig)
    except OSError:
        pass
