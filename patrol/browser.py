"""Finding and launching Chromium for rendering, screenshots and PDF.

Playwright's own browser (``playwright install chromium``) is used when installed; otherwise a
system Chromium through ``executable_path``.  Of the system's, the headless shell (Debian's
``chromium-headless-shell``, the build Playwright itself runs for headless pages) comes first:
it renders the same pages as the full browser at about half its CPU, since it starts no browser
UI, profile or extension machinery.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

SYSTEM_CANDIDATES = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

NO_BROWSER_MESSAGE = (
    "no Chromium found for rendering JavaScript pages: run `playwright install chromium`, "
    "or install a system Chromium (Debian/Ubuntu: `apt-get install chromium`), "
    "or set crawl.browser / $PATROL_CHROMIUM to its path"
)


class BrowserNotFound(RuntimeError):
    pass


def chromium_executable(configured: str = "") -> str | None:
    """The Chromium to launch: configured path, $PATROL_CHROMIUM, Playwright's, then the system's.

    Returns None when Playwright's own download is present (it needs no path)."""
    for candidate in (configured, os.environ.get("PATROL_CHROMIUM", "")):
        if candidate:
            if Path(candidate).exists():
                return candidate
            raise BrowserNotFound(f"Chromium not found at {candidate!r}; {NO_BROWSER_MESSAGE}")
    if _playwright_chromium_installed():
        return None
    for name in SYSTEM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return _past_launcher_script(found, name)
    raise BrowserNotFound(NO_BROWSER_MESSAGE)


def _past_launcher_script(path: str, name: str, lib: Path = Path("/usr/lib")) -> str:
    """Debian's ``/usr/bin/chromium`` is a shell script that checks the CPU and sources
    ``/etc/chromium.d`` before starting ``/usr/lib/chromium/chromium``; a headless browser needs
    none of it, and the script's subshells cost about a second of the browser's start.  The
    binary itself is used when the script is that launcher.  Debian installs the headless shell
    beside the browser, as ``/usr/lib/chromium/chromium-headless-shell``."""
    try:
        with open(path, "rb") as fh:
            is_script = fh.read(2) == b"#!"
    except OSError:
        return path
    if is_script:
        for binary in (lib / name / name, lib / "chromium" / name):
            if binary.is_file() and os.access(binary, os.X_OK):
                return str(binary)
    return path


def _playwright_chromium_installed() -> bool:
    base = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    return base.is_dir() and any(p.name.startswith("chromium") for p in base.iterdir())


def launch_args() -> list[str]:
    args = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-gpu", "--disable-dev-shm-usage"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    return args


def launch_options(configured: str = "") -> dict[str, Any]:
    """Keyword arguments for Playwright's ``chromium.launch`` (and scrapy-playwright's setting)."""
    options: dict[str, Any] = {"headless": True, "args": launch_args()}
    executable = chromium_executable(configured)
    if executable:
        options["executable_path"] = executable
    return options
