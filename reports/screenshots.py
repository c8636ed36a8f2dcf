"""Screenshots of the pages behind the most serious findings, as evidence in the report.

Bounded in number; a page that cannot be shot is noted and skipped, and no failure here ever
fails the report.  Files are saved next to the report (``screenshots/``) and reused when the
report is rendered again.
"""
from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from patrol.store import FindingRow
from reports.data import SEVERITY_ORDER

if TYPE_CHECKING:
    from patrol.config import Config

# Checks whose evidence is visible on the page itself (a link target that 404s is not).
VISUAL_CHECKS = ("serious_error", "privacy_leak", "homepage_stale", "column_stale", "column_empty",
                 "typo", "wrong_expression", "broken_link", "newmedia_stale")

# Marks the wrong words on the page before the shot; harmless when the text is not found.
_MARK_JS = """(word) => {
  if (!word) return false;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const at = node.data.indexOf(word);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at); range.setEnd(node, at + word.length);
    const mark = document.createElement('mark');
    mark.style.outline = '3px solid #d00'; mark.style.background = '#ff0';
    range.surroundContents(mark);
    mark.scrollIntoView({block: 'center'});
    return true;
  }
  return false;
}"""


@dataclass
class Shot:
    fingerprint: str
    page: str
    path: Path | None = None
    error: str = ""

    def data_uri(self) -> str:
        if self.path is None or not self.path.is_file():
            return ""
        return "data:image/jpeg;base64," + base64.b64encode(self.path.read_bytes()).decode("ascii")


def pick(findings: list[FindingRow], limit: int) -> list[FindingRow]:
    """The most serious findings with a web page to show, one per page."""
    chosen: list[FindingRow] = []
    pages: set[str] = set()
    ranked = sorted((f for f in findings if f.check in VISUAL_CHECKS and f.severity in ("veto", "error")),
                    key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), VISUAL_CHECKS.index(f.check),
                                   not (f.detail or {}).get("homepage"), f.id or 0))
    for f in ranked:
        page = f.page or f.url
        if not page.startswith(("http://", "https://")) or page in pages:
            continue
        pages.add(page)
        chosen.append(f)
        if len(chosen) >= limit:
            break
    return chosen


def take(findings: list[FindingRow], folder: Path, cfg: Config | None = None,
         limit: int = 6, timeout_s: float = 15.0) -> dict[str, Shot]:
    """Screenshots for up to ``limit`` findings, by fingerprint.  Never raises."""
    chosen = pick(findings, limit)
    shots = {f.fingerprint: Shot(f.fingerprint, f.page or f.url, folder / f"{f.fingerprint}.jpg")
             for f in chosen}
    missing = [f for f in chosen if not shots[f.fingerprint].path.is_file()]  # type: ignore[union-attr]
    if missing:
        # Playwright's sync API refuses to run inside an asyncio loop; a thread has none.
        worker = threading.Thread(target=_shoot, args=(missing, shots, folder, cfg, timeout_s), daemon=True)
        worker.start()
        worker.join(timeout=timeout_s * (len(missing) + 2) + 30)
        if worker.is_alive():
            for f in missing:
                if not shots[f.fingerprint].path.is_file():  # type: ignore[union-attr]
                    shots[f.fingerprint].error = "截图超时"
    for shot in shots.values():
        if shot.path is not None and not shot.path.is_file():
            shot.error = shot.error or "截图失败"
            shot.path = None
    return shots


def _shoot(findings: list[FindingRow], shots: dict[str, Shot], folder: Path,
           cfg: Config | None, timeout_s: float) -> None:
    try:
        from playwright.sync_api import sync_playwright

        from patrol.browser import launch_options

        options = launch_options(cfg.crawl.browser if cfg else "")
        options["args"] = list(options.get("args", [])) + resolver_args(cfg)
        folder.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(**options)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 800},
                                              ignore_https_errors=True, java_script_enabled=True)
                for f in findings:
                    shot = shots[f.fingerprint]
                    page = context.new_page()
                    try:
                        page.goto(shot.page, timeout=timeout_s * 1000, wait_until="load")
                        # Mark the wrong words, or the broken link's text, where a reader sees them.
                        word = (f.detail or {}).get("wrong") or (f.detail or {}).get("anchor")
                        if isinstance(word, str) and word:
                            page.evaluate(_MARK_JS, word)
                        page.screenshot(path=str(shot.path), type="jpeg", quality=60,
                                        timeout=timeout_s * 1000)
                    except Exception as exc:  # noqa: BLE001 - any page failure is just noted
                        shot.error = _short(exc)
                    finally:
                        page.close()
            finally:
                browser.close()
    except Exception as exc:  # noqa: BLE001 - no browser, launch failure: the report goes on
        for f in findings:
            shots[f.fingerprint].error = shots[f.fingerprint].error or _short(exc)


def resolver_args(cfg: Config | None) -> list[str]:
    """Chromium's host mapping from ``resolver.overrides``, so shots reach the same servers."""
    if cfg is None or not cfg.resolver.overrides:
        return []
    rules = []
    for host, addresses in cfg.resolver.overrides.items():
        if addresses:
            addr = addresses[0]
            rules.append(f"MAP {host} {'[' + addr + ']' if ':' in addr else addr}")
    return [f"--host-resolver-rules={', '.join(rules)}"] if rules else []


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:200]

