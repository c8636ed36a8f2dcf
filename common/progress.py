"""The one progress display of patrol: one line on the terminal, rewritten in place, with
pages crawled, links checked and broken links for each site being crawled.

A crawl process shows its own sites' line; the parent of sharded crawls shows the sums of
the shards' counts. Both write through :func:`show`, so they look alike.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable


def site_part(name: str, pages: int, links: int, broken: int, done: bool = False) -> str:
    return f"{name}: {pages} pages, {links} links checked, {broken} broken" + (" (done)" if done else "")


def show(parts: Iterable[str], final: bool = False) -> None:
    """Rewrite the progress line (and end it when ``final``); a closed or broken stderr is no
    reason to stop a crawl."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write("\r" + "; ".join(parts) + ("\n" if final else "   "))
        stream.flush()
    except (OSError, ValueError):
        pass


def end() -> None:
    """End the line a crawl left on the terminal."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write("\n")
        stream.flush()
    except (OSError, ValueError):
        pass
