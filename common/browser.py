"""Finding and launching Chromium for rendering, screenshots and PDF.

Playwright's own browser (``playwright install chromium``) is used when installed; otherwise a
system Chromium through ``executable_path``.  For the crawl's rendering, screenshots and PDF the
headless shell comes first (Debian's ``chromium-headless-shell``, the build Playwright itself
runs for headless pages): it lays out and runs a page's scripts like the full browser at about
half its CPU, since it starts no browser UI, profile or extension machinery.  It does not look
like a desktop browser to a page's scripts, though (no plugins, no ``window.chrome``), which
bot checks notice: new-media platforms' pages are rendered with the full browser
(``shell=False``), and a site that refuses the shell can be given the full browser with
``crawl.browser``.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SHELL_CANDIDATES = ("chromium-headless-shell",)
BROWSER_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

NO_BROWSER_MESSAGE = (
    "no Chromium found for rendering JavaScript pages: run `playwright install chromium`, "
    "or install a system Chromium (Debian: `apt-get install chromium chromium-headless-shell`, "
    "Ubuntu: `apt-get install chromium-browser`), or set crawl.browser / $PATROL_CHROMIUM to its path"
)


class BrowserNotFound(RuntimeError):
    pass


def chromium_executable(configured: str = "", shell: bool = True) -> str | None:
    """The Chromium to launch: configured path, $PATROL_CHROMIUM, Playwright's, then the system's
    (its headless shell first when ``shell``, never when not).

    Returns None when Playwright's own download is present (it needs no path)."""
    for candidate in (configured, os.environ.get("PATROL_CHROMIUM", "")):
        if candidate:
            if Path(candidate).exists():
                return candidate
            raise BrowserNotFound(f"Chromium not found at {candidate!r}; {NO_BROWSER_MESSAGE}")
    if _playwright_chromium_installed():
        return None
    for name in (SHELL_CANDIDATES if shell else ()) + BROWSER_CANDIDATES:
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


def _playwright_browsers() -> list[str]:
    base = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    return [p.name for p in base.iterdir()] if base.is_dir() else []


def _playwright_chromium_installed() -> bool:
    return any(name.startswith("chromium") for name in _playwright_browsers())


def _playwright_full_chromium_installed() -> bool:
    """Playwright's full browser (``chromium-NNNN``), not only its headless shell."""
    return any(name.startswith("chromium-") for name in _playwright_browsers())


def launch_args() -> list[str]:
    args = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-gpu", "--disable-dev-shm-usage"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    return args


def launch_options(configured: str = "", shell: bool = True, *, resolver: Any = None,
                   hosts: Iterable[str] = ()) -> dict[str, Any]:
    """Keyword arguments for Playwright's ``chromium.launch`` (and scrapy-playwright's setting):
    the one way patrol launches a browser.

    ``shell=False``: the full browser, for pages whose scripts check what runs them.
    ``resolver`` (a ``common.resolver.Resolver``, the configuration's ``resolver`` section or
    its dict) and ``hosts``: the browser resolves names itself, so it is given the answers the
    rest of the run uses (overrides and configured nameservers) for those hosts and the
    overridden ones."""
    options: dict[str, Any] = {"headless": True, "args": launch_args()}
    executable = chromium_executable(configured, shell=shell)
    if executable:
        options["executable_path"] = executable
    elif not shell and _playwright_full_chromium_installed():
        # Playwright runs its headless shell for headless pages unless told the channel.
        options["channel"] = "chromium"
    rules = host_resolver_rules(resolver, hosts)
    if rules:
        options["args"].append(f"--host-resolver-rules={rules}")
    return options


@contextmanager
def launched(configured: str = "", *, shell: bool = True, resolver: Any = None,
             hosts: Iterable[str] = ()) -> Iterator[Any]:
    """A Playwright (sync API) browser launched with :func:`launch_options`, closed on leaving:
    how the new-media page reader, the evidence screenshots and the PDF printer get theirs
    (the crawl's rendering passes the same options to scrapy-playwright). Raises
    BrowserNotFound before anything starts when there is no Chromium. Call it outside an
    asyncio loop (Playwright's sync API refuses to run inside one): in a thread of its own."""
    options = launch_options(configured, shell, resolver=resolver, hosts=hosts)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**options)
        try:
            yield browser
        finally:
            browser.close()


def host_resolver_rules(resolver: Any, hosts: Iterable[str] = ()) -> str:
    """Chromium's ``--host-resolver-rules`` for ``hosts`` from the run's resolver; "" when the
    resolver is the system's (nothing configured) or cannot answer."""
    if resolver is None:
        return ""
    from common.resolver import Resolver
    if not isinstance(resolver, Resolver):
        conf = resolver if isinstance(resolver, dict) else vars(resolver)
        try:
            resolver = Resolver(nameservers=conf.get("nameservers") or (),
                                overrides=conf.get("overrides") or {}, timeout=conf.get("timeout", 5.0))
        except ValueError:
            return ""
    if not resolver.nameservers and not resolver.overrides:
        return ""
    names = list(dict.fromkeys([*(h for h in hosts if h), *resolver.overrides]))
    try:
        return resolver.host_resolver_rules(names)
    except Exception:  # noqa: BLE001 - a resolver failure leaves the browser to its own lookups
        return ""
