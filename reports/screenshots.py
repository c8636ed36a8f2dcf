"""Screenshots of the pages behind the most serious findings, as evidence in the report.

Which findings get one (:func:`pick`) is decided here; the shots are taken during the run
(``patrol/evidence.py``) and kept in the store, and the report embeds them from there: no
rendering of a report launches a browser or touches the network.  A page that could not be
shot is noted with its reason.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from reports.data import SEVERITY_ORDER
from store import FindingRow, Store

# Checks whose evidence is visible on the page itself (a link target that 404s is not).
VISUAL_CHECKS = ("serious_error", "privacy_leak", "homepage_stale", "column_stale", "column_empty",
                 "typo", "wrong_expression", "broken_link", "newmedia_stale")

# Pages that are not web pages to look at: feeds, data and attachments download or show markup.
NOT_A_PAGE = (".rss", ".atom", ".xml", ".json", ".csv", ".xlsx", ".xls", ".pdf", ".doc", ".docx",
              ".zip", ".rar", ".jpg", ".jpeg", ".png", ".gif", ".txt")
PER_SITE = 3            # so one bad site does not take every screenshot of the report


@dataclass
class Shot:
    fingerprint: str
    page: str
    image: bytes | None = None      # JPEG
    error: str = ""

    def data_uri(self) -> str:
        if not self.image:
            return ""
        return "data:image/jpeg;base64," + base64.b64encode(self.image).decode("ascii")


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


def stored(store: Store, run_id: int, findings: list[FindingRow], limit: int = 6,
           folder: Path | None = None) -> dict[str, Shot]:
    """The stored shots of the findings :func:`pick` chooses, by fingerprint (a finding whose
    page was not shot during the run has none). With ``folder``, each image is also written
    there as ``<fingerprint>.jpg`` beside the report."""
    if limit <= 0:
        return {}
    rows = store.screenshots(run_id)
    shots: dict[str, Shot] = {}
    for f in pick(findings, limit):
        row = rows.get(f.fingerprint)
        if row is None:
            continue
        shots[f.fingerprint] = Shot(f.fingerprint, row.page, row.image, row.error)
        if folder is not None and row.image:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{f.fingerprint}.jpg").write_bytes(row.image)
            except OSError:
                pass            # the report embeds the image anyway
    return shots
