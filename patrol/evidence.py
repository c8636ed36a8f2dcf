"""Screenshots of the pages behind the most serious findings, taken during the run and kept
in the store, so that every later rendering of the report (``patrol report``) shows the page
as it was on the day of the inspection and never touches the network.

Bounded in number (``reports.screenshots.pick``); a page that cannot be shot is stored with
its reason, and no failure here ever fails the run.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from reports.screenshots import pick
from store import FindingRow, Store

if TYPE_CHECKING:
    from common.config import Config

TIMEOUT_S = 15.0

# Marks the wrong words on the page before the shot; harmless when the text is not found.
MARK_JS = """(word) => {
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


def shoot(store: Store, run_id: int, cfg: Config | None = None, limit: int = 6,
          timeout_s: float = TIMEOUT_S) -> int:
    """Shoot the pages of up to ``limit`` findings of the run that have none stored yet;
    return how many were shot. Never raises (a failure is stored as the shot's error)."""
    if limit <= 0:
        return 0
    chosen = pick(store.findings(run_id), limit)
    have = store.screenshots(run_id)
    missing = [f for f in chosen if f.fingerprint not in have or have[f.fingerprint].image is None]
    if not missing:
        return 0
    results: dict[str, tuple[bytes | None, str]] = {}
    # Playwright's sync API refuses to run inside an asyncio loop; a thread has none.
    worker = threading.Thread(target=_shoot, args=(missing, results, cfg, timeout_s), daemon=True)
    worker.start()
    worker.join(timeout=timeout_s * (len(missing) + 2) + 30)
    taken = 0
    for f in missing:
        image, error = results.get(f.fingerprint, (None, "截图超时" if worker.is_alive() else "截图失败"))
        store.save_screenshot(run_id, f.fingerprint, f.page or f.url, image, "" if image else (error or "截图失败"))
        taken += image is not None
    return taken


def _shoot(findings: list[FindingRow], results: dict[str, tuple[bytes | None, str]],
           cfg: Config | None, timeout_s: float) -> None:
    try:
        from common.browser import launched

        with launched(cfg.crawl.browser if cfg else "", resolver=cfg.resolver if cfg else None,
                      hosts=[urlsplit(f.page or f.url).hostname or "" for f in findings]) as browser:
            context = browser.new_context(viewport={"width": 1280, "height": 800},
                                          ignore_https_errors=True, java_script_enabled=True)
            for f in findings:
                page = context.new_page()
                try:
                    page.goto(f.page or f.url, timeout=timeout_s * 1000, wait_until="load")
                    # Mark the wrong words, or the broken link's text, where a reader sees them.
                    word = (f.detail or {}).get("wrong") or (f.detail or {}).get("anchor")
                    clip = None
                    if isinstance(word, str) and word and page.evaluate(MARK_JS, word):
                        clip = _around_mark(page)
                    image = page.screenshot(type="jpeg", quality=70, timeout=timeout_s * 1000,
                                            clip=clip, full_page=clip is not None)
                    results[f.fingerprint] = (image, "")
                except Exception as exc:  # noqa: BLE001 - any page failure is just noted
                    results[f.fingerprint] = (None, short_error(exc))
                finally:
                    page.close()
    except Exception as exc:  # noqa: BLE001 - no browser, launch failure: the run goes on
        for f in findings:
            results.setdefault(f.fingerprint, (None, short_error(exc)))


def _around_mark(page: Any) -> dict[str, float] | None:
    """The part of the page around the marked words: the whole width, the mark a third of the
    way down, so a reader sees the words and what surrounds them at a legible size."""
    box = page.evaluate("""() => { const m = document.querySelector('mark');
        if (!m) return null; const r = m.getBoundingClientRect();
        return {y: r.top + window.scrollY, w: document.documentElement.scrollWidth,
                h: document.documentElement.scrollHeight}; }""")
    if not box:
        return None
    height = 520.0
    top = max(0.0, min(float(box["y"]) - height / 3, float(box["h"]) - height))
    return {"x": 0, "y": top, "width": min(float(box["w"]), 1280.0), "height": height}


def short_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:200]
