"""When a rendered page is ready: its own requests done, not a fixed idle timer.

Playwright's ``networkidle`` waits until no request has been in flight for 500 ms: half a
second on every rendered page even when its list is written from data in the page.  A
rendered page is read instead once

* it has loaded (its scripts, parsed with it, have run), and
* the requests its scripts made since are answered and handled: XHR and fetch calls (with
  the body read that follows a fetch), and scripts added to the document (JSONP), each
  counted by a small script that runs before the page's own, and
* nothing of that kind happened for ``QUIET_MS`` (a list filled from a short timer).

A page still busy after the render timeout is a failed render, judged as served (the crawl
says so), never read half-filled.
"""
from __future__ import annotations

from typing import Any

# Runs before the page's scripts: counts the requests they make until each is handled.
TRACKER = """(() => {
  if (window.__patrolPending !== undefined) return;
  let pending = 0, last = Date.now();
  const later = window.setTimeout.bind(window);
  const up = () => { pending++; last = Date.now(); };
  // After the handlers of the event that ended the request have run.
  const down = () => later(() => { pending--; last = Date.now(); }, 0);
  const X = window.XMLHttpRequest && XMLHttpRequest.prototype;
  if (X) {
    const send = X.send;
    X.send = function () {
      up();
      this.addEventListener('loadend', down, {once: true});
      try { return send.apply(this, arguments); } catch (e) { down(); throw e; }
    };
  }
  if (window.fetch) {
    const fetch = window.fetch;
    window.fetch = function () {
      up();
      let answer;
      try { answer = fetch.apply(this, arguments); } catch (e) { down(); throw e; }
      answer.then(down, down);
      return answer;
    };
    for (const name of ['json', 'text', 'arrayBuffer', 'blob', 'formData']) {
      const read = Response.prototype[name];
      if (!read) continue;
      Response.prototype[name] = function () {
        up();
        const body = read.apply(this, arguments);
        body.then(down, down);
        return body;
      };
    }
  }
  const watch = (node) => {
    if (node && node.tagName === 'SCRIPT' && node.src && !node.__patrol) {
      node.__patrol = true;
      up();
      node.addEventListener('load', down, {once: true});
      node.addEventListener('error', down, {once: true});
    }
  };
  for (const name of ['appendChild', 'insertBefore', 'replaceChild']) {
    const add = Node.prototype[name];
    Node.prototype[name] = function (node) { watch(node); return add.apply(this, arguments); };
  }
  window.__patrolPending = () => pending;
  window.__patrolQuietFor = () => Date.now() - last;
})();"""

QUIET_MS = 100
SETTLED = (f"() => document.readyState === 'complete' && (!window.__patrolPending || "
           f"(window.__patrolPending() <= 0 && window.__patrolQuietFor() >= {QUIET_MS}))")


async def track_requests(page: Any, request: Any) -> None:
    """scrapy-playwright's page init callback: the tracker runs before the page's scripts
    (added once to a tab, which renders one page after another)."""
    if getattr(page, "_patrol_tracked", False):
        return
    await page.add_init_script(TRACKER)
    page._patrol_tracked = True


async def settle(page: Any, timeout_ms: float) -> None:
    """A page method: wait until the page's requests are done (see the module docstring);
    raises Playwright's TimeoutError when it is still busy after ``timeout_ms``."""
    await page.wait_for_function(SETTLED, polling=25, timeout=timeout_ms)
