"""The pieces of a clean stop: stop signals, the writer lock, reports written whole."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from patrol import runlock
from common.stopping import Interrupted, StopSignals

ROOT = Path(__file__).resolve().parent.parent


def test_first_signal_raises_after_a_deferred_block_and_handlers_are_restored():
    before = signal.getsignal(signal.SIGTERM)
    finished = False
    with StopSignals() as stop:
        with pytest.raises(Interrupted) as caught:
            with stop.deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)           # the handler runs here: nothing is raised inside
                finished = True
        assert caught.value.signum == signal.SIGTERM and caught.value.exit_code == 143
        assert caught.value.name == "SIGTERM"
    assert finished
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_signal_while_a_run_starts_is_held_until_the_run_can_take_it():
    # The run's start (crawl processes started, the run recorded) is held: the signal is
    # raised at the next check, where the run is recorded and can be resumed.
    with StopSignals() as stop:
        with stop.held():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            recorded = True
        assert recorded
        with pytest.raises(Interrupted) as caught:
            stop.check()
        assert caught.value.signum == signal.SIGTERM
        stop.check()                        # raised once only


def test_second_signal_leaves_at_once_after_killing_what_the_run_started(tmp_path):
    marker = tmp_path / "forced"
    code = (
        "import os, signal, time, pathlib\n"
        "from common.stopping import StopSignals, Interrupted\n"
        f"stop = StopSignals(on_force=lambda: pathlib.Path({str(marker)!r}).write_text('x'))\n"
        "with stop:\n"
        "    try:\n"
        "        os.kill(os.getpid(), signal.SIGHUP); time.sleep(1)\n"
        "    except Interrupted:\n"
        "        print('stopping', flush=True)\n"
        "        os.kill(os.getpid(), signal.SIGHUP); time.sleep(5)\n"
        "        print('not reached')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.stdout == "stopping\n"
    assert proc.returncode == 128 + signal.SIGHUP
    assert marker.read_text() == "x"
    assert "SIGHUP again: stopping at once" in proc.stderr


def test_the_writer_lock_is_held_by_one_process_and_freed_when_it_dies(tmp_path):
    url = "sqlite:///patrol.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\nfrom patrol import runlock\n"
         f"lock = runlock.acquire({url!r}, Path({str(tmp_path)!r}), what='patrol run')\n"
         "print('held', flush=True); time.sleep(60)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(runlock.LockBusy) as busy:
            runlock.acquire(url, tmp_path)
        message = str(busy.value)
        assert "another patrol is writing to this database" in message
        assert f"process {holder.pid}" in message and "patrol run --resume" in message
        assert str(tmp_path / "patrol.db") in message
    finally:
        holder.kill()
        holder.wait()
    with runlock.acquire(url, tmp_path) as lock:       # killed: the kernel freed it
        assert json.loads((tmp_path / "patrol.db.lock").read_text())["pid"] == os.getpid()
        assert lock.fd is not None
    assert runlock.acquire("sqlite:///:memory:").fd is None
    assert runlock.acquire("postgresql+psycopg://localhost/patrol").fd is None


def test_a_report_file_is_replaced_whole_or_not_at_all(tmp_path):
    from reports.export import replacing, write_text
    path = tmp_path / "findings.json"
    write_text(path, '{"run": {"id": 1}}')
    with pytest.raises(Interrupted):
        with replacing(path) as fh:
            fh.write('{"run": {"id": 2}, "findings": [')
            raise Interrupted(signal.SIGTERM)
    assert path.read_text() == '{"run": {"id": 1}}'
    assert [p.name for p in tmp_path.iterdir()] == ["findings.json"]
    write_text(path, '{"run": {"id": 2}}')
    assert json.loads(path.read_text())["run"]["id"] == 2


def test_on_another_database_the_stores_lock_is_taken_before_any_crawl_starts(tmp_path, monkeypatch):
    """PostgreSQL has no lock file: the store's advisory lock is the writer lock, and a run
    that cannot take it starts no crawl process."""
    from patrol import runner
    from common.config import config_from_dict
    from store import StoreError
    started = []

    class Held:
        def lock(self) -> None:
            raise StoreError("another patrol is writing to the database")

    monkeypatch.setattr(runner, "start_crawls", lambda *args, **kwargs: started.append(args))
    cfg = config_from_dict({"database": "postgresql+psycopg://127.0.0.1:9/patrol", "output": str(tmp_path),
                            "sites": [{"name": "清溪", "url": "http://127.0.0.1:9/"}]}, source="test")
    with pytest.raises(StoreError, match="another patrol"):
        runner.patrol(cfg, store=Held())
    assert started == []
