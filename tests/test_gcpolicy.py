"""Batch GC settings (common/gcpolicy.py) for the ``patrol`` command and the crawl processes."""
from __future__ import annotations

import subprocess
import sys

from common.gcpolicy import THRESHOLDS


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_the_command_freezes_its_loaded_modules_and_collects_less_often():
    # The command's own module is loaded before the freeze: a handler sees the policy applied,
    # with more frozen than the command-line parser alone.
    out = _run("import gc, sys\n"
               "from patrol import cli\n"
               "before = gc.get_freeze_count()\n"
               "cli._handler = lambda name: (lambda args: print(gc.get_threshold()[0], gc.get_freeze_count() > before) or 0)\n"
               "sys.argv = ['patrol', 'quota']\n"
               "sys.exit(cli.entry())\n")
    # Only the first threshold is compared: what the others mean changes between CPython versions.
    assert out == f"{THRESHOLDS[0]} True"


def test_main_called_in_process_leaves_the_collector_alone():
    out = _run("import gc, sys\n"
               "from patrol import cli\n"
               "cli._handler = lambda name: (lambda args: 0)\n"
               "cli.main(['quota'])\n"
               "print(gc.get_threshold()[0] != "
               f"{THRESHOLDS[0]}, gc.get_freeze_count() == 0)\n")
    assert out == "True True"


def test_cycles_are_still_collected_under_the_batch_settings():
    out = _run("import gc, weakref\n"
               "from common.gcpolicy import tune_for_batch\n"
               "tune_for_batch()\n"
               "class Node: pass\n"
               "a, b = Node(), Node(); a.other, b.other = b, a\n"
               "probe = weakref.ref(a); del a, b\n"
               "junk = [[] for _ in range(50_000)]\n"        # enough allocations for a collection
               "print(probe() is None)\n")
    assert out == "True"


def test_the_command_leaves_with_its_exit_code_output_and_exit_handlers(tmp_path):
    # The ``patrol`` command skips the interpreter's teardown: what it printed, what its exit
    # handlers write and its exit code must all still come out.
    marker = tmp_path / "handler-ran"
    code = ("import atexit, sys\n"
            "from patrol import cli\n"
            f"atexit.register(lambda: open({str(marker)!r}, 'w').write('ok'))\n"
            "def fake(argv=None, batch=False):\n"
            "    print('printed before leaving')\n"
            "    sys.stderr.write('said on stderr')\n"
            "    return 3\n"
            "cli.main = fake\n"
            "cli.entry()\n"
            "print('never reached')\n")
    with open(tmp_path / "out.txt", "w") as out:       # a file: stdout fully buffered
        proc = subprocess.run([sys.executable, "-c", code], stdout=out, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    assert proc.returncode == 3
    assert (tmp_path / "out.txt").read_text() == "printed before leaving\n"
    assert proc.stderr == "said on stderr"
    assert marker.read_text() == "ok"
