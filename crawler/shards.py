"""Crawling one site with several processes: each owns the URLs whose hash falls to it.

One Scrapy process uses one core.  When a site is crawled at full speed, patrol splits it
between processes (shards): a URL belongs to shard ``crc32(url) % shards``.  A shard that finds
a link owned by another shard sends it to the parent (``patrol.runner``), which routes it to the
owner; every URL is still fetched once, by its owner.

The messages are JSON lines: shards write to stdout, the parent writes to each shard's stdin.

    shard → parent   {"url", "depth", "referer"[, "written", "fragments"]}
                                                             a link another shard owns (and the
                                                             form the page wrote it in, the
                                                             #names links point to on it)
                     {"idle": true, "received": n}           nothing left to do, n links received
                     {"progress": [pages, links, broken]}    for the terminal
    parent → shard   {"url", "depth", "referer"[, "written", "fragments"]}
                                                             a link this shard owns
                     {"finish": true}                        every shard idle, nothing in flight

A shard writes the records of its pages to its output before it sends their links on: when
the shard that owns a link crashes before checking it, its replacement finds the link on the
sender's recorded page (see ``crawler.spiders.site``, the frontier of a restarted shard).

Links for other shards are written in batches, at most FLUSH_EVERY_S apart: a write per page
woke the parent and then the other shard for each page, and those wake-ups cost more CPU than
the messages.  Anything else a shard says (idle, closed, a page to render) is written at once,
after whatever links wait, so the parent never hears "idle" before a shard's last links.

The parent ends the crawl when every shard's last report says idle and each has received all
that was routed to it: idle shards with nothing in flight cannot produce more work.
"""
from __future__ import annotations

import asyncio
import sys
import zlib
from collections.abc import Callable
from typing import Any

from crawler import jsonlines

FLUSH_EVERY_S = 0.05     # the longest a link for another shard waits to be sent


def owner(url: str, shards: int) -> int:
    return zlib.crc32(url.encode("utf-8")) % shards


class ShardLink:
    """A shard's side of the conversation with the parent."""

    def __init__(self, shard: int, shards: int, on_url: Callable[[dict[str, Any]], bool],
                 on_finish: Callable[[], None], is_idle: Callable[[], bool],
                 before_send: Callable[[], None] | None = None):
        self.shard = shard
        self.shards = shards
        self.on_url = on_url              # schedules a routed link; False when already known
        self.on_finish = on_finish
        self.is_idle = is_idle
        # Called before each write: the shard's output gets the records of the pages whose
        # links are being sent (a replacement of a crashed shard reads them there).
        self.before_send = before_send
        self.received = 0
        self.sent = 0
        self.finishing = False
        self._last_idle_report: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: list[bytes] = []
        self._flush_later: asyncio.TimerHandle | None = None
        # stdout through a non-blocking transport: a parent that reads late never stalls the
        # crawl (the transport buffers); None until open(), or when stdout is not a pipe.
        self._out: asyncio.WriteTransport | None = None

    def owns(self, url: str) -> bool:
        return owner(url, self.shards) == self.shard

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 24)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        self._task = asyncio.ensure_future(self._read(reader))
        try:
            sys.stdout.flush()
            self._out, _ = await loop.connect_write_pipe(asyncio.Protocol, sys.stdout.buffer)
        except (ValueError, OSError):   # a terminal or a file: plain blocking writes
            self._out = None

    def send(self, message: dict[str, Any]) -> None:
        self.queue(message)
        self.flush()

    def queue(self, message: dict[str, Any]) -> None:
        """Buffer a message; ``flush`` sends what a page produced in one write."""
        self._pending.append(jsonlines.dumps_line(message))

    def flush(self, *, now: bool = True) -> None:
        """Write what is queued: at once, or (``now=False``) within FLUSH_EVERY_S."""
        if not now:
            if self._pending and self._flush_later is None:
                self._flush_later = asyncio.get_running_loop().call_later(FLUSH_EVERY_S, self.flush)
            return
        if self._flush_later is not None:
            self._flush_later.cancel()
            self._flush_later = None
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if self.before_send is not None:
            self.before_send()
        if self._out is not None and not self._out.is_closing():
            self._out.write(data)
        else:
            try:
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
            except (ValueError, OSError):   # the parent went away (and its pipe with it)
                pass

    def send_url(self, url: str, depth: int, referer: str | None, written: str | None = None,
                 fragments: set[str] | None = None) -> None:
        """``written``: the form to request ``url`` in, when the page wrote it otherwise;
        ``fragments``: the #names links point to on that page (its owner keeps its anchors)."""
        self.sent += 1
        message: dict[str, Any] = {"url": url, "depth": depth, "referer": referer}
        if written:
            message["written"] = written
        if fragments:
            message["fragments"] = sorted(fragments)
        self.queue(message)

    def idle(self) -> bool:
        """Report idleness (once per state); True when the spider must stay open."""
        if self.finishing:
            return False
        if self._last_idle_report != self.received:
            self._last_idle_report = self.received
            self.send({"idle": True, "received": self.received, "sent": self.sent})
        return True

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            line = await reader.readline()
            if not line:          # the parent went away: finish with what we have
                self._finish()
                return
            message = jsonlines.loads(line)
            if message.get("finish"):
                self._finish()
                return
            self.received += 1
            scheduled = self.on_url(message)
            if not scheduled and self.is_idle():
                # Nothing new to do (a link already known): say so now, or nobody would.
                self.idle()

    def _finish(self) -> None:
        if not self.finishing:
            self.finishing = True
            self.on_finish()
