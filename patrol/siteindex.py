"""A site's crawl output indexed on disk while the crawl writes it, so that the run never holds
the whole crawl in memory (docs/scale.md).

The crawl processes write JSON lines (the run's journal, ``crawler/jsonlines.py``); the
parent reads them as they are written (``patrol.crawling.OutputReader``) and, for a run that
streams, keeps here, in a SQLite file beside the journal, where each page record is (file,
offset, length) with the few fields the order and the checks need, and each checked URL's
record.  When the site's crawl ends, its pages are read back one at a time in the crawl's order
(depth, then URL), checked and stored; the results of the URLs that are not ``ok`` (the only
ones findings need) fit in memory, however large the site.

A later record of a URL replaces an earlier one (a page fetched again after a resume), as it
does in memory.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from checks.model import LinkResult, PageSnapshot, SiteCrawl
from crawler import jsonlines

# Rows written at once (each ``feed`` also writes what it has).
BATCH = 2000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS pages (url TEXT PRIMARY KEY, depth INTEGER, final_url TEXT,
    rendered INTEGER, file INTEGER, offset INTEGER, length INTEGER, anchors TEXT);
CREATE INDEX IF NOT EXISTS pages_order ON pages (depth, url);
CREATE INDEX IF NOT EXISTS pages_final ON pages (final_url);
CREATE TABLE IF NOT EXISTS links (url TEXT PRIMARY KEY, problem INTEGER, data BLOB);
CREATE INDEX IF NOT EXISTS links_problem ON links (problem);
"""


class SiteIndex:
    """Where a site's page and link records are in its crawl outputs (see the module's text)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.unlink(missing_ok=True)
        # Scratch data, rebuilt from the journal whenever needed: no rollback journal, no sync.
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-1000")          # 1 MB of page cache at most
        self.db.executescript(_SCHEMA)
        self._files: dict[Path, int] = {}
        self._paths: dict[int, Path] = {}
        self._open: dict[int, IO[bytes]] = {}
        self._pages: list[tuple[Any, ...]] = []
        self._links: list[tuple[Any, ...]] = []

    # --- writing ---------------------------------------------------------------------------

    def file_id(self, path: Path) -> int:
        fid = self._files.get(path)
        if fid is None:
            fid = self.db.execute("INSERT OR IGNORE INTO files (path) VALUES (?)", (str(path),)).lastrowid
            fid = self.db.execute("SELECT id FROM files WHERE path = ?", (str(path),)).fetchone()[0]
            self._files[path] = fid
            self._paths[fid] = path
        return fid

    def add_page(self, record: dict[str, Any], path: Path, offset: int, length: int) -> None:
        anchors = record.get("anchors")
        self._pages.append((record["url"], int(record.get("depth", 0)), record.get("final_url", ""),
                            1 if record.get("rendered") else 0, self.file_id(path), offset, length,
                            None if anchors is None else json.dumps(anchors, ensure_ascii=False)))
        if len(self._pages) >= BATCH:
            self.flush()

    def add_link(self, record: dict[str, Any], line: bytes) -> None:
        problem = record.get("kind", "ok") != "ok" or bool(record.get("redirects"))
        self._links.append((record["url"], 1 if problem else 0, line))
        if len(self._links) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self._pages and not self._links:
            return
        self.db.execute("BEGIN")
        try:
            if self._pages:
                self.db.executemany("INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self._pages)
            if self._links:
                self.db.executemany("INSERT OR REPLACE INTO links VALUES (?, ?, ?)", self._links)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self._pages.clear()
        self._links.clear()

    # --- reading ---------------------------------------------------------------------------

    def page_count(self) -> int:
        self.flush()
        return self.db.execute("SELECT COUNT(*) FROM pages").fetchone()[0]

    def link_count(self) -> int:
        self.flush()
        return self.db.execute("SELECT COUNT(*) FROM links").fetchone()[0]

    def rendered_count(self) -> int:
        self.flush()
        return self.db.execute("SELECT COUNT(*) FROM pages WHERE rendered = 1").fetchone()[0]

    def has_page(self, url: str) -> bool:
        self.flush()
        return self.db.execute("SELECT 1 FROM pages WHERE url = ?", (url,)).fetchone() is not None

    def link(self, url: str) -> LinkResult | None:
        self.flush()
        row = self.db.execute("SELECT data FROM links WHERE url = ?", (url,)).fetchone()
        return _link(row[0]) if row else None

    def problem_links(self) -> dict[str, LinkResult]:
        """The results that are not ``ok`` or that were redirected, by URL: all that findings
        and the stored link uses need to know of the checked URLs."""
        self.flush()
        return {r.url: r for r in (_link(row[0]) for row in
                                   self.db.execute("SELECT data FROM links WHERE problem = 1"))}

    def links(self) -> Iterator[LinkResult]:
        """Every checked URL's result, in the order first recorded."""
        self.flush()
        for (data,) in self.db.execute("SELECT data FROM links ORDER BY rowid"):
            yield _link(data)

    def anchors(self, url: str) -> set[str] | None:
        """The names a crawled page offers to #fragment links: the page crawled at ``url``,
        else the first (in the crawl's order) that ``url`` redirected to; None when not read."""
        self.flush()
        row = self.db.execute("SELECT anchors FROM pages WHERE url = ? AND anchors IS NOT NULL", (url,)).fetchone()
        if row is None:
            row = self.db.execute("SELECT anchors FROM pages WHERE final_url = ? AND anchors IS NOT NULL "
                                  "ORDER BY depth, url LIMIT 1", (url,)).fetchone()
        return None if row is None else set(json.loads(row[0]))

    def pages(self) -> Iterator[PageSnapshot]:
        """Every page, read back from the crawl outputs one at a time, by depth then URL."""
        self.flush()
        rows = self.db.execute("SELECT file, offset, length FROM pages ORDER BY depth, url")
        while True:
            batch = rows.fetchmany(500)
            if not batch:
                return
            for fid, offset, length in batch:
                yield self._read_page(fid, offset, length)

    def _read_page(self, fid: int, offset: int, length: int) -> PageSnapshot:
        fh = self._open.get(fid)
        if fh is None:
            path = self._paths.get(fid)
            if path is None:
                path = Path(self.db.execute("SELECT path FROM files WHERE id = ?", (fid,)).fetchone()[0])
                self._paths[fid] = path
            fh = self._open[fid] = open(path, "rb")  # noqa: SIM115 - closed by close()
        fh.seek(offset)
        record = jsonlines.loads(fh.read(length))
        record.pop("type", None)
        return PageSnapshot.from_dict(record)

    def load(self, crawl: SiteCrawl) -> SiteCrawl:
        """The whole crawl in memory, for the checks that read every page together."""
        crawl.pages = list(self.pages())
        crawl.links = {r.url: r for r in self.links()}
        return crawl

    def close(self, remove: bool = True) -> None:
        for fh in self._open.values():
            fh.close()
        self._open.clear()
        try:
            self.db.close()
        except sqlite3.Error:
            pass
        if remove:
            self.path.unlink(missing_ok=True)


def _link(data: bytes) -> LinkResult:
    record = jsonlines.loads(data)
    record.pop("type", None)
    return LinkResult.from_dict(record)


@dataclass
class StreamedCrawl(SiteCrawl):
    """A site's crawl whose pages and link results stay on disk (``index``): ``pages`` and
    ``links`` are empty until ``load``; ``page_count`` and ``link_count`` say how many."""

    index: SiteIndex | None = field(default=None, repr=False)

    @property
    def page_count(self) -> int:
        return self.index.page_count() if self.index is not None else len(self.pages)

    @property
    def link_count(self) -> int:
        return self.index.link_count() if self.index is not None else len(self.links)

    def load(self) -> SiteCrawl:
        if self.index is not None and not self.pages:
            self.index.load(self)
        return self
