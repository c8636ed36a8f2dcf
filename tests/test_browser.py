"""Finding Chromium (patrol/browser.py): Debian's launcher script is passed over for its binary."""
from __future__ import annotations

import os
from pathlib import Path

from patrol.browser import _past_launcher_script, launch_args


def _executable(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.chmod(path, 0o755)
    return path


def test_launcher_script_is_replaced_by_the_binary_it_starts(tmp_path):
    script = _executable(tmp_path / "bin" / "chromium", b"#!/bin/sh\nexec /usr/lib/chromium/chromium \"$@\"\n")
    binary = _executable(tmp_path / "lib" / "chromium" / "chromium", b"\x7fELF")
    assert _past_launcher_script(str(script), "chromium", tmp_path / "lib") == str(binary)


def test_a_binary_or_a_script_without_its_binary_is_kept(tmp_path):
    binary = _executable(tmp_path / "bin" / "chromium", b"\x7fELF")
    _executable(tmp_path / "lib" / "chromium" / "chromium", b"\x7fELF")
    assert _past_launcher_script(str(binary), "chromium", tmp_path / "lib") == str(binary)
    script = _executable(tmp_path / "bin2" / "chrome", b"#!/bin/sh\n")
    assert _past_launcher_script(str(script), "chrome", tmp_path / "lib") == str(script)


def test_launch_arguments_keep_the_browser_off_the_network_and_root_safe():
    args = launch_args()
    assert "--disable-background-networking" in args
    assert ("--no-sandbox" in args) == (os.geteuid() == 0)
