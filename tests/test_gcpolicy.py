"""Batch GC settings (patrol/gcpolicy.py) for the ``patrol`` command and the crawl processes."""
from __future__ import annotations

import subprocess
import sys

from patrol.gcpolicy import THRESHOLDS


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_the_command_entry_freezes_start_up_and_collects_less_often():
    out = _run("import gc, sys\n"
               "from patrol import cli\n"
               "cli.main = lambda: print(gc.get_threshold(), gc.get_freeze_count() > 0) or 0\n"
               "sys.exit(cli.entry())\n")
    assert out == f"{THRESHOLDS} True"


def test_cycles_are_still_collected_under_the_batch_settings():
    out = _run("import gc, weakref\n"
               "from patrol.gcpolicy import tune_for_batch\n"
               "tune_for_batch()\n"
               "class Node: pass\n"
               "a, b = Node(), Node(); a.other, b.other = b, a\n"
               "probe = weakref.ref(a); del a, b\n"
               "junk = [[] for _ in range(50_000)]\n"        # enough allocations for a collection
               "print(probe() is None)\n")
    assert out == "True"
