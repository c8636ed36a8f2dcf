"""The HTML report of one run, rendered from the store by reports/templates/report.html.j2.

The page is self-contained (inline CSS, inline SVG, screenshots as data URIs), opens from
disk, prints cleanly, and escapes everything that came from a crawled page.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel import select

from patrol.store import FindingRow, LinkUse, Page, Store
from reports import charts, scoring
from reports.data import (
    SEVERITY_ORDER,
    RunData,
    SiteEntry,
    department_names,
    fmt_time,
    inspection_number,
    load_run,
    previous_run,
)

if TYPE_CHECKING:
    from patrol.config import Config

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_ROWS = 200              # rows per table in a site section; findings.csv has them all
KIND_LABELS = {"website": "网站", "newmedia": "新媒体"}
LINK_KIND_LABELS = {
    "http_404": "404 不存在", "http_4xx": "4xx 客户端错误", "http_5xx": "5xx 服务器错误",
    "timeout": "超时", "dns": "域名无法解析", "refused": "连接被拒绝", "tls": "证书/TLS 错误",
    "soft_404": "软 404（提示页不存在）", "redirect_loop": "跳转循环",
    "too_many_redirects": "跳转过多", "invalid_url": "地址格式错误", "connection": "连接中断",
}
SEVERITY_LABELS = {"veto": "单项否决", "error": "问题", "warning": "预警", "info": "提示"}
STATS_TITLES = {"availability": "站点可用性", "ipv6": "IPv6 支持", "text": "文字内容",
                "newmedia": "新媒体账号"}


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "j2", "eml"], default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v: "—" if v is None else f"{float(v) * 100:.1f}%"
    env.filters["num"] = lambda v: "—" if v is None else (str(int(v)) if float(v).is_integer() else f"{v:.1f}")
    env.filters["signed"] = _signed
    env.filters["fact"] = _fact
    env.filters["link_kind"] = lambda k: LINK_KIND_LABELS.get(str(k), str(k)) if k else "—"
    return env


def _signed(v: float | None) -> str:
    if v is None:
        return "—"
    if v == 0:
        return "±0"
    text = str(int(v)) if float(v).is_integer() else f"{v:.1f}"
    return f"+{text}" if v > 0 else text


def _fact(value: Any) -> str:
    """A stats value as short text (the template escapes it)."""
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, default=str)
        return text if len(text) <= 300 else text[:299] + "…"
    return "—" if value is None else str(value)


def highlight(detail: dict[str, Any]) -> tuple[str, str, str] | None:
    """Split a text finding's context into before / wrong words / after, for a <mark>."""
    context, wrong = detail.get("context"), detail.get("wrong")
    if not isinstance(context, str) or not context:
        return None
    start, end = detail.get("start"), detail.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(context) \
            and (not wrong or context[start:end] == wrong):
        return context[:start], context[start:end], context[end:]
    if isinstance(wrong, str) and wrong and wrong in context:
        at = context.index(wrong)
        return context[:at], wrong, context[at + len(wrong):]
    return context, "", ""


def _label(rules: dict[str, Any], check: str) -> str:
    return (rules.get("labels") or {}).get(check, check)


def report_context(store: Store, run_id: int, cfg: Config | None = None, *,
                   shots: dict[str, Any] | None = None, data: RunData | None = None) -> dict[str, Any]:
    """Everything the report template shows, computed from the store alone."""
    from patrol.thresholds import merged
    from reports.loop import department_rates
    from reports.rectification import UNASSIGNED_NAME, items_by_department, load_rules

    data = data or load_run(store, run_id)
    run = data.run
    rules = load_rules(cfg)
    table = scoring.load_table(cfg)
    dep_names = department_names(cfg)
    prev = previous_run(store, run)
    prev_data = load_run(store, prev.id) if prev is not None and prev.id is not None else None
    shots = shots or {}

    overview = _overview(data, prev_data, table, dep_names)
    checks_seen = sorted({f.check for f in data.findings}, key=lambda c: (c != "broken_link", c))
    sections = [_site_section(store, run_id, e, rules, table, shots) for e in data.sites]

    check_counts = Counter()
    for row in overview:
        for check, n in row["counts"].items():
            check_counts[check] += n
    score_chart = charts.hbar(
        [charts.Bar(r["name"], r["score"] or 0,
                    color=("#c0392b" if (r["veto"] or (r["score"] is not None and r["score"] < table["pass_score"]))
                           else "#2e7d32"), note="未评分" if r["score"] is None else "")
         for r in overview], maximum=float(table.get("full_score", 100)), title="各站点得分")
    check_chart = charts.hbar([charts.Bar(_label(rules, c), n, color="#b9770e")
                               for c, n in check_counts.most_common()], title="问题数量（按类型）")

    items = items_by_department(store, run_id, cfg, rules, data=data)
    rates = department_rates(store, run)
    departments = []
    for dep in sorted(set(items) | set(rates), key=lambda d: (d == "", d)):
        rate = rates.get(dep)
        dep_items = items.get(dep, [])
        departments.append({"id": dep, "name": dep_names.get(dep, dep or UNASSIGNED_NAME),
                            "items": dep_items[:MAX_ROWS], "count": len(dep_items),
                            "more": max(0, len(dep_items) - MAX_ROWS), "rate": rate})
    rate_chart = charts.hbar([charts.Bar(d["name"], (d["rate"]["rate"] or 0) * 100, color="#3b6ea5",
                                         note=f"{d['rate']['fixed']}/{d['rate']['mailed']}")
                              for d in departments if d["rate"]], maximum=100, title="整改率（%）")

    return {
        "run": run, "period": run.period, "year": run.period[:4],
        "number": inspection_number(store, run),
        "inspector": (cfg.inspector.name if cfg else "") or run.inspector or "巡检单位",
        "started": fmt_time(run.started), "finished": fmt_time(run.finished),
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "previous": prev, "overview": overview, "checks_seen": checks_seen,
        "labels": {**(rules.get("labels") or {}), **{c: _label(rules, c) for c in checks_seen}},
        "score_chart": score_chart, "check_chart": check_chart, "rate_chart": rate_chart,
        "sections": sections, "departments": departments, "columns": _columns(),
        "thresholds": merged(cfg), "scoring": table, "scoring_rows": scoring.describe(table),
        "deadlines": rules.get("deadlines") or {}, "severity_labels": SEVERITY_LABELS,
        "kind_labels": KIND_LABELS, "totals": _totals(data),
    }


def _columns() -> list[str]:
    from reports.rectification import COLUMNS
    return COLUMNS


def _totals(data: RunData) -> dict[str, int]:
    return {"sites": sum(1 for e in data.sites if e.site.kind != "newmedia"),
            "accounts": sum(1 for e in data.sites if e.site.kind == "newmedia"),
            "findings": len(data.findings),
            "veto_sites": sum(1 for e in data.sites if e.result.veto),
            "pages": sum(e.result.pages or 0 for e in data.sites)}


def _counts(findings: list[FindingRow]) -> Counter:
    """Findings per check; a broken target counts once however many pages carry it."""
    counts: Counter = Counter()
    targets: set[str] = set()
    for f in findings:
        if f.check == "broken_link":
            if f.url not in targets:
                targets.add(f.url)
                counts["broken_link"] += 1
        else:
            counts[f.check] += 1
    return counts


def _overview(data: RunData, prev: RunData | None, table: dict[str, Any],
              dep_names: dict[str, str]) -> list[dict[str, Any]]:
    before = prev.by_site() if prev else {}
    rows = []
    for e in sorted(data.sites, key=lambda e: (e.site.kind != "website", e.site.name)):
        counts = _counts(e.findings)
        old = before.get(e.site.name)
        old_counts = _counts(old.findings) if old else None
        now_fps = {f.fingerprint for f in e.findings}
        rows.append({
            "name": e.site.name, "url": e.site.url, "kind": e.site.kind,
            "department": dep_names.get(e.site.department, e.site.department),
            "status": e.result.status, "error": e.result.error,
            "pages": e.result.pages, "score": e.result.score, "veto": list(e.result.veto or []),
            "verdict": scoring.verdict(e.result.score, e.result.veto, table)
            if e.result.status == "completed" else "未完成",
            "counts": dict(counts), "total": sum(counts.values()),
            "new": sum(1 for f in e.findings if f.state == "new"),
            "score_change": (e.result.score - old.result.score)
            if old and e.result.score is not None and old.result.score is not None else None,
            "total_change": sum(counts.values()) - sum(old_counts.values()) if old_counts is not None else None,
            "fixed_since": sum(1 for f in old.findings if f.fingerprint not in now_fps) if old else None,
        })
    return rows


def _site_section(store: Store, run_id: int, e: SiteEntry, rules: dict[str, Any],
                  table: dict[str, Any], shots: dict[str, Any]) -> dict[str, Any]:
    stats = e.stats
    broken = [f for f in e.findings if f.check == "broken_link"]
    links = _links_section(store, run_id, e, broken, stats.get("links"))
    groups = []
    by_check: dict[str, list[FindingRow]] = defaultdict(list)
    for f in e.findings:
        if f.check != "broken_link":
            by_check[f.check].append(f)
    for check, rows in sorted(by_check.items(),
                              key=lambda kv: (min(SEVERITY_ORDER.get(f.severity, 9) for f in kv[1]), kv[0])):
        groups.append({"check": check, "label": _label(rules, check),
                       "rows": [_finding_view(f, shots) for f in rows[:MAX_ROWS]],
                       "more": max(0, len(rows) - MAX_ROWS)})
    deducted = scoring.deductions([f.to_finding() for f in e.findings], table)
    evidence = [_finding_view(f, shots) for f in e.findings if f.fingerprint in shots]
    facts = []
    for key, title in STATS_TITLES.items():
        value = stats.get(key)
        if isinstance(value, dict) and value:
            facts.append({"key": key, "title": title,
                          "rows": [(k, v) for k, v in value.items() if k not in ("columns",)]})
    return {
        "anchor": f"site-{e.site.id}", "name": e.site.name, "url": e.site.url, "kind": e.site.kind,
        "result": e.result, "veto": list(e.result.veto or []), "links": links, "groups": groups,
        "deductions": [(_label(rules, c), v) for c, v in sorted(deducted.items(), key=lambda kv: -kv[1])],
        "freshness": _freshness(stats.get("freshness")), "facts": facts, "evidence": evidence,
        "checked": {k: k in stats for k in ("links", "freshness", *STATS_TITLES)},
        "labels": {k: STATS_TITLES.get(k, k) for k in STATS_TITLES},
    }


def _finding_view(f: FindingRow, shots: dict[str, Any]) -> dict[str, Any]:
    detail = dict(f.detail or {})
    shot = shots.get(f.fingerprint)
    return {"severity": f.severity, "check": f.check, "message": f.message, "url": f.url,
            "page": f.page, "state": f.state, "fingerprint": f.fingerprint,
            "highlight": highlight(detail), "suspected": bool(detail.get("suspected")),
            "suggestion": detail.get("suggestion"),
            "shot": shot.data_uri() if shot is not None else "",
            "shot_error": shot.error if shot is not None else "",
            "detail": {k: v for k, v in detail.items()
                       if k not in ("context", "wrong", "suggestion", "start", "end", "anchor", "homepage")}}


def _links_section(store: Store, run_id: int, e: SiteEntry, broken: list[FindingRow],
                   summary: Any) -> dict[str, Any]:
    targets: dict[str, dict[str, Any]] = {}
    for f in broken:
        d = f.detail or {}
        t = targets.setdefault(f.url, {"url": f.url, "kind": d.get("kind"), "status": d.get("status"),
                                       "tag": d.get("tag"), "message": f.message, "pages": [],
                                       "homepage": False})
        t["homepage"] = t["homepage"] or bool(d.get("homepage"))
        if f.page:
            t["pages"].append(f.page)
    anchors: dict[tuple[str, str], str] = {}
    need = [f for f in broken if not (f.detail or {}).get("anchor")]
    if need:
        anchors = _anchors(store, run_id, e.site.id, sorted({f.url for f in need}))
    by_page: dict[str, list[dict[str, Any]]] = defaultdict(list)
    home_pages: set[str] = set()
    for f in broken:
        d = f.detail or {}
        page = f.page or ""
        if d.get("homepage"):
            home_pages.add(page)
        by_page[page].append({"url": f.url, "kind": d.get("kind"), "status": d.get("status"),
                              "tag": d.get("tag") or "", "anchor": d.get("anchor") or anchors.get((page, f.url), "")})
    pages = sorted(by_page.items(), key=lambda kv: (kv[0] not in home_pages, -len(kv[1]), kv[0]))
    titles = _page_titles(store, run_id, e.site.id, [p for p, _ in pages[:MAX_ROWS]])
    kinds = Counter(str(t["kind"] or "unknown") for t in targets.values())
    ordered = sorted(targets.values(), key=lambda t: (not t["homepage"], -len(t["pages"]), t["url"]))
    summary = summary if isinstance(summary, dict) else {}
    return {
        "summary": summary, "targets": len(targets), "occurrences": len(broken),
        "by_kind": kinds.most_common(),
        "homepage": [t for t in ordered if t["homepage"]][:MAX_ROWS],
        "targets_list": ordered[:MAX_ROWS], "targets_more": max(0, len(ordered) - MAX_ROWS),
        "by_page": [{"page": p, "title": titles.get(p, ""), "homepage": p in home_pages,
                     "links": rows[:MAX_ROWS]}
                    for p, rows in pages[:MAX_ROWS]],
        "pages_more": max(0, len(pages) - MAX_ROWS),
    }


def _anchors(store: Store, run_id: int, site_id: int | None, urls: list[str]) -> dict[tuple[str, str], str]:
    """Anchor text of each (page, target) from the stored link uses of this site only."""
    out: dict[tuple[str, str], str] = {}
    with store.session() as s:
        for i in range(0, len(urls), 500):
            q = select(LinkUse.page, LinkUse.url, LinkUse.anchor).where(
                LinkUse.run_id == run_id, LinkUse.site_id == site_id,
                LinkUse.url.in_(urls[i:i + 500]))  # type: ignore[attr-defined]
            for page, url, anchor in s.exec(q):
                if anchor:
                    out.setdefault((page, url), anchor)
    return out


def _page_titles(store: Store, run_id: int, site_id: int | None, urls: list[str]) -> dict[str, str]:
    if not urls:
        return {}
    with store.session() as s:
        out: dict[str, str] = {}
        for i in range(0, len(urls), 500):
            q = select(Page.url, Page.title).where(Page.run_id == run_id, Page.site_id == site_id,
                                                   Page.url.in_(urls[i:i + 500]))  # type: ignore[attr-defined]
            out.update((url, title or "") for url, title in s.exec(q))
        return out


def _freshness(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    columns = [c for c in value.get("columns") or [] if isinstance(c, dict)]
    homepage = value.get("homepage") if isinstance(value.get("homepage"), dict) else None
    return {"columns": columns[:MAX_ROWS], "more": max(0, len(columns) - MAX_ROWS), "homepage": homepage}


def render_report(store: Store, run_id: int, cfg: Config | None = None, *,
                  shots: dict[str, Any] | None = None, data: RunData | None = None) -> str:
    context = report_context(store, run_id, cfg, shots=shots, data=data)
    return environment().get_template("report.html.j2").render(**context)
