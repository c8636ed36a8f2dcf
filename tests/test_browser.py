"""Finding Chromium (common/browser.py): Debian's launcher script is passed over for its binary."""
from __future__ import annotations

import os
from pathlib import Path

from common import browser
from common.browser import _past_launcher_script, launch_args
import pytest

pytestmark = pytest.mark.integration


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


def test_debian_headless_shell_script_is_replaced_by_its_binary_beside_the_browser(tmp_path):
    script = _executable(tmp_path / "bin" / "chromium-headless-shell",
                         b"#!/bin/sh -e\n\n/usr/lib/chromium/chromium-headless-shell \"$@\"\n")
    binary = _executable(tmp_path / "lib" / "chromium" / "chromium-headless-shell", b"\x7fELF")
    assert _past_launcher_script(str(script), "chromium-headless-shell", tmp_path / "lib") == str(binary)


def test_the_headless_shell_is_preferred_to_the_full_browser(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    _executable(bin_dir / "chromium", b"\x7fELF")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("PATROL_CHROMIUM", raising=False)
    monkeypatch.setattr(browser, "_playwright_chromium_installed", lambda: False)
    assert browser.chromium_executable() == str(bin_dir / "chromium")
    shell = _executable(bin_dir / "chromium-headless-shell", b"\x7fELF")
    assert browser.chromium_executable() == str(shell)
    # Pages whose scripts check what runs them (new-media platforms) get the full browser.
    assert browser.chromium_executable(shell=False) == str(bin_dir / "chromium")
    assert browser.launch_options(shell=False)["executable_path"] == str(bin_dir / "chromium")


def test_playwrights_full_browser_is_asked_for_by_channel(tmp_path, monkeypatch):
    monkeypatch.delenv("PATROL_CHROMIUM", raising=False)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))
    (tmp_path / "chromium_headless_shell-1200").mkdir()
    assert "channel" not in browser.launch_options(shell=False)     # only the shell: no choice
    (tmp_path / "chromium-1200").mkdir()
    options = browser.launch_options(shell=False)
    assert options["channel"] == "chromium" and "executable_path" not in options
    assert "channel" not in browser.launch_options()


def test_launch_arguments_keep_the_browser_off_the_network_and_root_safe():
    args = launch_args()
    assert "--disable-background-networking" in args
    assert ("--no-sandbox" in args) == (os.geteuid() == 0)
