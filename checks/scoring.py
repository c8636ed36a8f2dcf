"""Site scores: 100-point deductions from the table in patroldata/scoring.yaml.

A site's verdict has two parts that the report shows side by side: the single-veto items
(单项否决, any one fails the site) and the score (below ``pass_score`` fails).
"""
from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from checks.model import Finding, link_key
from patroldata import data_path

if TYPE_CHECKING:
    from common.config import Config

SCORING_FILE = data_path("scoring.yaml")


class ScoringError(ValueError):
    """The scoring table is malformed; the message names the key."""


def load_table(cfg: Config | None = None, path: Path | None = None) -> dict[str, Any]:
    """The scoring table: patroldata/scoring.yaml, or ``scoring.yaml`` next to the config file."""
    candidates = []
    if path is not None:
        candidates.append(Path(path))
    if cfg is not None and cfg.path and cfg.path != "<none>":
        candidates.append(Path(cfg.path).parent / "scoring.yaml")
    candidates.append(SCORING_FILE)
    for candidate in candidates:
        if candidate.is_file():
            try:
                table = yaml.safe_load(candidate.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise ScoringError(f"{candidate}: invalid YAML: {exc}") from None
            validate(table, str(candidate))
            table["source"] = str(candidate)
            return table
    raise ScoringError(f"{SCORING_FILE}: scoring table not found")


def validate(table: Any, source: str = "scoring.yaml") -> None:
    if not isinstance(table, dict):
        raise ScoringError(f"{source}: expected a mapping")
    for key in ("full_score", "pass_score"):
        if not _is_number(table.get(key)):
            raise ScoringError(f"{source}: {key}: expected a number")
    if table.get("veto_cap") is not None and not _is_number(table["veto_cap"]):
        raise ScoringError(f"{source}: veto_cap: expected a number or null")
    for sev, factor in (table.get("severity_factor") or {}).items():
        if not _is_number(factor):
            raise ScoringError(f"{source}: severity_factor.{sev}: expected a number")
    entries = dict(table.get("checks") or {})
    entries["default"] = table.get("default") or {}
    for check, entry in entries.items():
        where = "default" if check == "default" else f"checks.{check}"
        if not isinstance(entry, dict):
            raise ScoringError(f"{source}: {where}: expected a mapping")
        for key, value in entry.items():
            if key == "distinct":
                if not isinstance(value, bool):
                    raise ScoringError(f"{source}: {where}.distinct: expected true or false")
                continue
            if key not in ("per", "cap", "homepage", "other"):
                raise ScoringError(f"{source}: {where}.{key}: unknown key (per, cap, homepage, other, distinct)")
            if not _is_number(value) or value < 0:
                raise ScoringError(f"{source}: {where}.{key}: expected a number ≥ 0")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _counts_toward_score(f: Finding) -> bool:
    """A verdict over other findings of its check (``detail.rule == "count"``: "5 columns are
    stale, the veto line") is not a problem of its own: its columns already cost points."""
    return (f.detail or {}).get("rule") != "count"


def breakdown(findings: Iterable[Finding], table: dict[str, Any]) -> list[dict[str, Any]]:
    """How each check's deduction is made up, for the report: one row per check with points.

    Each row: ``check``, ``count`` (problems that cost points), ``per`` (or ``homepage`` /
    ``other`` with ``homepage_count`` / ``other_count`` for broken links), ``raw`` (before the
    cap), ``cap``, ``points`` (deducted) and ``capped``.  Rows are ordered by points, largest first.
    """
    factors = {"veto": 1.0, "error": 1.0, "warning": 0.0, "info": 0.0}
    factors.update(table.get("severity_factor") or {})
    checks = table.get("checks") or {}
    default = table.get("default") or {}
    raw: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    rows: dict[str, dict[str, Any]] = {}
    # A broken target counts once whatever number of pages carry it (a template link broken
    # on 500 pages is one problem), at the homepage weight when the homepage is one of them.
    links: dict[str, tuple[bool, float]] = {}
    # With ``distinct: true`` the same wrong words count once however many pages show them
    # (a typo in a page template, or repeated in a pagination bar, is one thing to correct).
    wordings: set[tuple[str, str, str]] = set()
    for f in findings:
        factor = float(factors.get(f.severity, 0.0))
        if f.check == "broken_link":
            key = link_key(f.url, f.detail)
            on_home, worst = links.get(key, (False, 0.0))
            links[key] = (on_home or bool((f.detail or {}).get("homepage")), max(worst, factor))
            continue
        if factor <= 0 or not _counts_toward_score(f):
            continue
        entry = checks.get(f.check, default)
        if entry.get("distinct"):
            detail = f.detail or {}
            key = (f.check, str(detail.get("wrong") or f.url), str(detail.get("suggestion") or ""))
            if key in wordings:
                continue
            wordings.add(key)
        per = float(entry.get("per", default.get("per", 0)))
        raw[f.check] += per * factor
        count[f.check] += 1
        rows.setdefault(f.check, {"check": f.check, "per": per})
    if links:
        entry = checks.get("broken_link", {})
        home = float(entry.get("homepage", entry.get("per", 0)))
        other = float(entry.get("other", entry.get("per", 0)))
        home_n = other_n = 0
        for on_home, factor in links.values():
            if factor <= 0:
                continue
            raw["broken_link"] += (home if on_home else other) * factor
            home_n += on_home
            other_n += not on_home
        count["broken_link"] = home_n + other_n
        rows["broken_link"] = {"check": "broken_link", "homepage": home, "other": other,
                               "homepage_count": home_n, "other_count": other_n}
    out = []
    for check, points in raw.items():
        entry = checks.get(check, default)
        cap = entry.get("cap", default.get("cap"))
        final = round(min(points, float(cap)) if cap is not None else points, 2)
        if final <= 0:
            continue
        out.append({**rows[check], "count": count[check],
                    "distinct": bool((checks.get(check) or {}).get("distinct")), "raw": round(points, 2),
                    "cap": cap, "points": final, "capped": final < round(points, 2)})
    out.sort(key=lambda r: (-r["points"], r["check"]))
    return out


def deductions(findings: Iterable[Finding], table: dict[str, Any]) -> dict[str, float]:
    """Points taken off per check, each already capped."""
    return {row["check"]: row["points"] for row in breakdown(findings, table)}


def score_site(findings: list[Finding], veto: list[str], table: dict | None = None) -> float:
    """The site's score out of ``full_score`` after the deductions of ``table``."""
    table = table if table is not None else load_table()
    full = float(table.get("full_score", 100))
    score = max(0.0, full - sum(deductions(findings, table).values()))
    cap = table.get("veto_cap")
    if veto and cap is not None:
        score = min(score, float(cap))
    return round(score, 1)


def verdict(score: float | None, veto: list[str] | None, table: dict[str, Any]) -> str:
    """合格 / 不合格 (with the reason) / 未评分."""
    if veto:
        return "不合格（单项否决）"
    if score is None:
        return "未评分"
    return "合格" if score >= float(table.get("pass_score", 60)) else "不合格（得分低于合格线）"


def describe(table: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for the report's method section."""
    rows = []
    for check, entry in (table.get("checks") or {}).items():
        rows.append({"check": check, **copy.deepcopy(entry)})
    rows.append({"check": "default", **copy.deepcopy(table.get("default") or {})})
    return rows
