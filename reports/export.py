"""A run's outputs: findings.json, findings.csv and report.html, all rebuilt from the store."""
from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from store import Store
from reports import screenshots as screenshots_mod
from reports.data import RunData, load_run
from reports.render import render_report

if TYPE_CHECKING:
    from common.config import Config

CSV_FIELDS = ["check", "severity", "site", "department", "url", "page", "message", "detail",
              "fingerprint", "state", "first_seen_run"]
# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def findings_document(store: Store, run_id: int, data: RunData | None = None,
                      cfg: Config | None = None) -> dict[str, Any]:
    """The findings.json document (docs/architecture.md), with fingerprint and state added:
    ``state`` is new, open, reopened or a mark (false_alarm, accepted, fixed), ``triage`` the
    mark (note, by, at) or null."""
    from reports.triage import mark_doc

    data = data or load_run(store, run_id, cfg)
    run = data.run
    return {
        "run": {"id": run.id, "period": run.period, "started": _iso(run.started),
                "finished": _iso(run.finished), "kind": run.kind, "status": run.status,
                "complete": run.status == "completed"},
        "sites": [{"name": e.site.name, "url": e.site.url, "pages": e.result.pages,
                   "score": e.result.score, "veto": list(e.result.veto or []),
                   "kind": e.site.kind, "department": e.site.department, "links": e.result.links,
                   "broken": e.result.broken, "status": e.result.status,
                   "columns": site_columns(e.stats)}
                  for e in data.sites],
        "findings": [{"check": f.check, "severity": f.severity, "site": f.site,
                      "department": f.department, "url": f.url, "page": f.page,
                      "message": f.message, "detail": f.detail or {}, "fingerprint": f.fingerprint,
                      "state": f.state, "first_seen_run": f.first_seen_run,
                      "triage": mark_doc(data.marks.get(f.fingerprint))}
                     for f in data.all_findings],
    }


def site_columns(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """Every column the freshness check judged: name, url, category, newest date and where it
    was read (``list``, ``url``, ``article``, ``list_year_url`` …), status (``fresh``,
    ``stale``, ``empty``, ``no_rule``, ``unknown``, ``ignored``)."""
    fresh = stats.get("freshness") if isinstance(stats, dict) else None
    rows = fresh.get("columns") if isinstance(fresh, dict) else None
    out = []
    for r in rows or []:
        if isinstance(r, dict):
            out.append({"name": r.get("name"), "url": r.get("url"), "category": r.get("category"),
                        "newest": r.get("latest"), "newest_source": r.get("basis"),
                        "newest_title": r.get("latest_title") or "", "days": r.get("days"),
                        "status": r.get("status"), "found_by": r.get("found_by") or []})
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@contextmanager
def replacing(path: Path, encoding: str = "utf-8", newline: str | None = None) -> Iterator[IO[str]]:
    """Write ``path`` whole or not at all: into a temporary file beside it, synced, then
    renamed over it.  A run stopped or killed while writing leaves the previous file intact
    and no half-written one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text(path: Path, text: str) -> Path:
    with replacing(path) as fh:
        fh.write(text)
    return path


def write_json(doc: dict[str, Any], path: Path) -> Path:
    return write_text(path, json.dumps(doc, ensure_ascii=False, indent=1, default=str))


def write_csv(doc: dict[str, Any], path: Path) -> Path:
    # utf-8-sig: Excel on Chinese Windows opens it as UTF-8 only with the BOM.
    with replacing(path, encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_FIELDS)
        for f in doc["findings"]:
            row = []
            for key in CSV_FIELDS:
                value = f.get(key)
                if key == "detail":
                    value = json.dumps(value or {}, ensure_ascii=False, default=str)
                row.append(_cell(value))
            writer.writerow(row)
    return path


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_outputs(store: Store, run_id: int, out_dir: Path, cfg: Config | None = None, *,
                  screenshots: int = 6) -> dict[str, Path]:
    """Write findings.json, findings.csv and report.html into ``out_dir``; return their paths.

    ``screenshots`` bounds the shots of the most serious findings that the report embeds (0:
    none). They come from the store (taken during the run by patrol/evidence.py) and are
    also written to ``out_dir/screenshots/``; rendering never launches a browser.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_run(store, run_id, cfg)       # read once, shared by every output
    doc = findings_document(store, run_id, data, cfg)
    shots = {}
    if screenshots > 0:
        shots = screenshots_mod.stored(store, run_id, data.findings, screenshots, out_dir / "screenshots")
    # report.html first, the page people read: a stop between two files leaves this run's
    # report (which says where the run stands), not an earlier run's beside this run's data.
    html = render_report(store, run_id, cfg, shots=shots, data=data)
    paths = {"html": write_text(out_dir / "report.html", html)}
    paths["json"] = write_json(doc, out_dir / "findings.json")
    paths["csv"] = write_csv(doc, out_dir / "findings.csv")
    return paths
