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
from urllib.parse import urlsplit

from store import FindingRow
from reports.data import SEVERITY_ORDER

if TYPE_CHECKING:
    from common.config import Config

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


# Pages that are not web pages to look at: feeds, data and attachments download or show markup.
NOT_A_PAGE = (".rss", ".atom", ".xml", ".json", ".csv", ".xlsx", ".xls", ".pdf", ".doc", ".docx",
              ".zip", ".rar", ".jpg", ".jpeg", ".png", ".gif", ".txt")
PER_SITE = 3            # so one bad site does not take every screenshot of the report


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
    per_site: dict[str, int] = {}
    ranked = sorted((f for f in findings if f.check in VISUAL_CHECKS and f.severity in ("veto", "error")),
                    key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), VISUAL_CHECKS.index(f.check),
                                   not (f.detail or {}).get("homepage"), f.id or 0))
    for f in ranked:
        page = f.page or f.url
        if not page.startswith(("http://", "https://")) or page in pages or not _is_web_page(page):
            continue
        if per_site.get(f.site, 0) >= PER_SITE:
            continue
        pages.add(page)
        per_site[f.site] = per_site.get(f.site, 0) + 1
        chosen.append(f)
        if len(chosen) >= limit:
            break
    return chosen


def _is_web_page(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return not path.endswith(NOT_A_PAGE)


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

        from common.browser import launch_options

        options = launch_options(cfg.crawl.browser if cfg else "", resolver=cfg.resolver if cfg else None,
                                 hosts=[urlsplit(shots[f.fingerprint].page).hostname or "" for f in findings])
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
                        clip = None
                        if isinstance(word, str) and word and page.evaluate(_MARK_JS, word):
                            clip = _around_mark(page)
                        page.screenshot(path=str(shot.path), type="jpeg", quality=70,
                                        timeout=timeout_s * 1000, clip=clip, full_page=clip is not None)
                    except Exception as exc:  # noqa: BLE001 - any page failure is just noted
                        shot.error = _short(exc)
                    finally:
                        page.close()
            finally:
                browser.close()
    except Exception as exc:  # noqa: BLE001 - no browser, launch failure: the report goes on
        for f in findings:
            shots[f.fingerprint].error = shots[f.fingerprint].error or _short(exc)


def _around_mark(page: object) -> dict[str, float] | None:
    """The part of the page around the marked words: the whole width, the mark a third of the
    way down, so a reader sees the words and what surrounds them at a legible size."""
    box = page.evaluate("""() => { const m = document.querySelector('mark');
        if (!m) return null; const r = m.getBoundingClientRect();
        return {y: r.top + window.scrollY, w: document.documentElement.scrollWidth,
                h: document.documentElement.scrollHeight}; }""")  # type: ignore[attr-defined]
    if not box:
        return None
    height = 520.0
    top = max(0.0, min(float(box["y"]) - height / 3, float(box["h"]) - height))
    return {"x": 0, "y": top, "width": min(float(box["w"]), 1280.0), "height": height}


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:200]

