"""The HTML report of one run, rendered from the store by reports/templates/report.html.j2.

The page is self-contained (inline CSS, inline SVG, screenshots as data URIs), opens from
disk, prints cleanly, and escapes everything that came from a crawled page.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from checks.model import link_key
from checks.text.flags import CATEGORIES as TEXT_CATEGORIES
from store import FindingRow, LinkUse, Page, Store
from checks import scoring
from reports import charts
from reports.templating import (  # noqa: F401 (TEMPLATES and environment: the report's look, for the console)
    TEMPLATES,
    _pct,
    environment,
    link_kind_label,
)
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
    from common.config import Config

MAX_ROWS = 200              # rows per table in a site section; findings.csv has them all
KIND_LABELS = {"website": "网站", "newmedia": "新媒体"}
SEVERITY_LABELS = {"veto": "单项否决", "error": "问题", "warning": "预警", "info": "提示"}
PROBLEM_SEVERITIES = ("veto", "error")      # what the overview counts as 问题
# Freshness vocabulary of checks/freshness.py, in the words of inspection notices.
CATEGORY_LABELS = {"dynamic": "动态要闻类", "notice": "通知公告/政策文件类", "yearly": "人事/规划计划类",
                   "none": "无更新要求"}
COLUMN_STATUS = {"stale": ("未按期更新", "bad"), "empty": ("空白栏目", "bad"),
                 "unknown": ("无法判断", "warn"), "fresh": ("正常", "ok"),
                 "no_rule": ("不要求更新", "muted"), "ignored": ("已忽略", "muted"),
                 "warning": ("接近期限", "warn")}
IPV6_CAUSES = {"no_aaaa": "域名无 AAAA 记录", "unreachable": "有 AAAA 记录但无法通过 IPv6 访问",
               "different_content": "IPv6 访问结果与 IPv4 不一致"}
AVAILABILITY_STATUS = {"ok": ("正常", "ok"), "warning": ("预警", "warn"), "veto": ("单项否决", "bad"),
                       "too_few": ("探测次数不足，不能判定", "warn"), "no_data": ("无探测记录", "warn")}
ACCOUNT_STATUS = {"ok": ("正常", "ok"), "empty": ("无内容（空壳）", "bad"),
                  "unreachable": ("无法访问", "bad"), "invalid": ("内容无法解析", "bad")}
PLATFORMS = {"wechat": "微信公众号", "weibo": "微博", "toutiao": "今日头条", "douyin": "抖音",
             "kuaishou": "快手", "bilibili": "哔哩哔哩", "website": "网页", "app": "移动客户端"}
# Checks whose facts have a part of their own in a site section: their informational
# findings (the summary of the facts) are not listed again among the findings.
FACT_CHECKS = {"ipv6": "ipv6", "site_unreachable": "availability", "interaction_poor": "interaction",
               "contact_phone": "phones"}
# Checks whose messages leave out details worth showing next to them (for the others the
# message already says the dates and counts).
FACTS_SHOWN = ("broken_link", "privacy_leak", "interaction_poor", "newmedia_interaction")
DETAIL_LABELS = {"latest": "最近更新", "days": "天数", "threshold": "阈值（天）", "days_since": "未更新天数",
                 "veto_days": "否决线（天）", "warn_days": "预警线（天）", "reposts": "今年转发",
                 "target": "全年目标", "expected_by_now": "按进度应达", "post": "文章", "status": "状态码",
                 "host": "主机", "count": "数量", "column": "栏目", "columns": "栏目", "probes": "探测次数",
                 "failures": "失败次数", "failure_rate": "失败率", "platform": "平台", "error": "错误"}


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
    from reports.rectification import label
    return label(check, rules)


def report_context(store: Store, run_id: int, cfg: Config | None = None, *,
                   shots: dict[str, Any] | None = None, data: RunData | None = None) -> dict[str, Any]:
    """Everything the report template shows, computed from the store alone."""
    from common.thresholds import merged
    from reports.loop import department_rates
    from reports.rectification import UNASSIGNED_NAME, items_by_department, load_rules

    data = data or load_run(store, run_id, cfg)
    run = data.run
    rules = load_rules(cfg)
    table = scoring.load_table(cfg)
    dep_names = department_names(cfg)
    prev = previous_run(store, run)
    prev_data = load_run(store, prev.id, cfg) if prev is not None and prev.id is not None else None
    shots = shots or {}

    overview = _overview(data, prev_data, table, dep_names, rules)
    checks_seen = sorted({f.check for f in data.findings}, key=lambda c: (c != "broken_link", c))
    shared_min = int(rules.get("shared_link_pages", 5))
    sections = [_site_section(store, run_id, e, rules, table, shots, shared_min) for e in data.sites]

    check_counts: Counter = Counter()
    for row in overview:
        for check, n in row["counts"].items():
            check_counts[check] += n
    score_chart = charts.hbar(
        [charts.Bar(r["name"], (r["score"] or 0) if r["status"] == "completed" else 0,
                    color=("#9aa5b1" if r["status"] != "completed" else
                           "#c0392b" if (r["veto"] or (r["score"] is not None and r["score"] < table["pass_score"]))
                           else "#2e7d32"),
                    note=("未完成" if r["status"] != "completed" else "未评分" if r["score"] is None
                          else _short_num(r["score"]) + ("（单项否决）" if r["veto"] else "")))
         for r in overview], maximum=float(table.get("full_score", 100)), title="各站点、账号得分")
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

    websites = [r for r in overview if r["kind"] != "newmedia"]
    accounts = [r for r in overview if r["kind"] == "newmedia"]
    labels = {c: _label(rules, c) for c in set(checks_seen) | set(rules.get("labels") or {})}
    for row in scoring.describe(table):
        labels.setdefault(row["check"], _label(rules, row["check"]))
    return {
        "run": run, "period": run.period, "year": run.period[:4],
        "number": inspection_number(store, run),
        "inspector": (cfg.inspector.name if cfg else "") or run.inspector or "巡检单位",
        "started": fmt_time(run.started), "finished": fmt_time(run.finished),
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "previous": prev, "overview": overview, "checks_seen": checks_seen,
        "websites": websites, "accounts": accounts,
        "website_groups": _visible_groups(rules, "website", websites),
        "account_groups": _visible_groups(rules, "newmedia", accounts),
        "labels": labels,
        "score_chart": score_chart, "check_chart": check_chart, "rate_chart": rate_chart,
        "sections": sections, "departments": departments, "columns": _columns(),
        "thresholds": merged(cfg), "scoring": table, "scoring_rows": scoring.describe(table),
        "deadlines": rules.get("deadlines") or {}, "severity_labels": SEVERITY_LABELS,
        "kind_labels": KIND_LABELS, "totals": _totals(data), "shared_link_pages": shared_min,
        "platforms": PLATFORMS, "marked": _marked(data, labels),
    }


def _marked(data: RunData, labels: dict[str, str]) -> list[dict[str, Any]]:
    """The findings set aside by a mark (reports/triage.py), with the mark, for audit."""
    from reports.triage import STATE_LABELS, mark_doc
    rows = []
    for f in data.marked:
        mark = mark_doc(data.marks.get(f.fingerprint)) or {}
        rows.append({"site": f.site, "check": labels.get(f.check) or _label({}, f.check),
                     "message": f.message, "url": f.page or f.url, "fingerprint": f.fingerprint,
                     "state": f.state, "state_label": STATE_LABELS.get(f.state, f.state),
                     "note": mark.get("note", ""), "by": mark.get("by", ""),
                     "at": mark.get("at", "").replace("T", " ")[:16], "source": mark.get("source", "")})
    return rows


def _short_num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def _columns() -> list[str]:
    from reports.rectification import COLUMNS
    return COLUMNS


def _totals(data: RunData) -> dict[str, int]:
    return {"sites": sum(1 for e in data.sites if e.site.kind != "newmedia"),
            "accounts": sum(1 for e in data.sites if e.site.kind == "newmedia"),
            "findings": sum(1 for f in data.findings if f.severity in PROBLEM_SEVERITIES),
            "warnings": sum(1 for f in data.findings if f.severity == "warning"),
            "veto_sites": sum(1 for e in data.sites if e.result.veto),
            "failed": sum(1 for e in data.sites
                          if e.result.veto or e.result.status != "completed"
                          or (e.result.score is not None and e.result.score < 60)),
            "pages": sum(e.result.pages or 0 for e in data.sites)}


def _counts(findings: list[FindingRow], severities: tuple[str, ...] = PROBLEM_SEVERITIES) -> Counter:
    """Problems per check; a broken target counts once however many pages carry it."""
    counts: Counter = Counter()
    targets: set[str] = set()
    for f in findings:
        if f.severity not in severities:
            continue
        if f.check == "broken_link":
            key = link_key(f.url, f.detail)
            if key not in targets:
                targets.add(key)
                counts["broken_link"] += 1
        else:
            counts[f.check] += 1
    return counts


def overview_groups(rules: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The overview's problem columns for websites or accounts (patroldata/rectification.yaml)."""
    groups = ((rules.get("overview_groups") or {}).get(kind)) or []
    return [{"label": str(g.get("label", "")), "checks": list(g.get("checks") or [])}
            for g in groups if isinstance(g, dict)]


def _visible_groups(rules: dict[str, Any], kind: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups that some row has a finding in (any severity), plus 其他 for checks in no group:
    a column that is always empty (a check that never ran) only costs width."""
    groups = overview_groups(rules, kind)
    grouped = {c for g in groups for c in g["checks"]}
    seen = {c for r in rows for c in r["seen"]}
    visible = [g for g in groups if seen & set(g["checks"])]
    other = sorted(seen - grouped)
    if other:
        visible.append({"label": "其他", "checks": other})
    return visible


def _overview(data: RunData, prev: RunData | None, table: dict[str, Any],
              dep_names: dict[str, str], rules: dict[str, Any]) -> list[dict[str, Any]]:
    before = prev.by_site() if prev else {}
    rows = []
    for e in sorted(data.sites, key=lambda e: (e.site.kind != "website", e.site.name)):
        counts = _counts(e.findings)
        old = before.get(e.site.name)
        old_counts = _counts(old.findings) if old else None
        now_fps = {f.fingerprint for f in e.findings}
        platform = (e.stats.get("newmedia") or {}).get("platform") if isinstance(e.stats.get("newmedia"), dict) else None
        rows.append({
            "name": e.site.name, "url": e.site.url, "kind": e.site.kind, "anchor": f"site-{e.site.id}",
            "department": dep_names.get(e.site.department, e.site.department),
            "platform": PLATFORMS.get(str(platform), str(platform or "")),
            "status": e.result.status, "error": e.result.error,
            "pages": e.result.pages, "score": e.result.score, "veto": list(e.result.veto or []),
            "verdict": scoring.verdict(e.result.score, e.result.veto, table)
            if e.result.status == "completed" else "未完成",
            "counts": dict(counts), "total": sum(counts.values()),
            "seen": sorted({f.check for f in e.findings}),
            "warnings": sum(1 for f in e.findings if f.severity == "warning"),
            # Counted like the problems column: a new broken target once, not once per page.
            "new": sum(_counts([f for f in e.findings if f.state == "new"]).values()),
            "score_change": (e.result.score - old.result.score)
            if old and e.result.score is not None and old.result.score is not None else None,
            "total_change": sum(counts.values()) - sum(old_counts.values()) if old_counts is not None else None,
            "fixed_since": sum(1 for f in old.findings if f.fingerprint not in now_fps
                               and f.severity in PROBLEM_SEVERITIES) if old else None,
        })
    return rows


def _site_section(store: Store, run_id: int, e: SiteEntry, rules: dict[str, Any],
                  table: dict[str, Any], shots: dict[str, Any], shared_min: int) -> dict[str, Any]:
    stats = e.stats
    broken = [f for f in e.findings if f.check == "broken_link"]
    links = _links_section(store, run_id, e, broken, stats.get("links"), shared_min)
    views = {"freshness": _freshness(stats.get("freshness")), "ipv6": _ipv6(stats.get("ipv6")),
             "availability": _availability(stats.get("availability")), "text": _text(stats.get("text")),
             "newmedia": _newmedia(stats.get("newmedia")),
             "interaction": _interaction(stats.get("interaction")), "phones": _phones(stats.get("phones")),
             "opengov": _opengov(stats)}
    groups = []
    by_check: dict[str, list[FindingRow]] = defaultdict(list)
    for f in e.findings:
        if f.check == "broken_link" and e.site.kind != "newmedia":
            continue        # the links part shows them
        if views.get(FACT_CHECKS.get(f.check, "")):
            continue        # the check's own part (IPv6, availability) says it in figures
        by_check[f.check].append(f)
    for check, rows in sorted(by_check.items(),
                              key=lambda kv: (min(SEVERITY_ORDER.get(f.severity, 9) for f in kv[1]), kv[0])):
        # Text findings are grouped by what they are about (国家领导人, 机构名称, 时政用语 …).
        rows = sorted(rows, key=lambda f: CATEGORY_ORDER.get((f.detail or {}).get("category"), 99))
        confirmed = [f for f in rows if not (f.detail or {}).get("suspected")]
        suspected = [f for f in rows if (f.detail or {}).get("suspected")]
        shown, doubtful = _grouped_views(confirmed, shots), _grouped_views(suspected, shots)
        groups.append({"check": check, "label": _label(rules, check),
                       "count": len(confirmed), "distinct": len(shown), "suspected_count": len(suspected),
                       "rows": shown[:MAX_ROWS], "suspected": doubtful[:MAX_ROWS],
                       "more": max(0, len(shown) - MAX_ROWS)})
    deductions = [{**row, "label": _label(rules, row["check"]), "how": _deduction_text(row)}
                  for row in scoring.breakdown([f.to_finding() for f in e.findings], table)]
    evidence = [_finding_view(f, shots) for f in e.findings if f.fingerprint in shots]
    findings = [f.to_finding() for f in e.findings]
    # The stored score was computed with the table in force at the time of the run; a table
    # changed since then is said, so the deduction table and the score never disagree silently.
    rescored = scoring.score_site(findings, list(e.result.veto or []), table)
    return {
        "anchor": f"site-{e.site.id}", "name": e.site.name, "url": e.site.url, "kind": e.site.kind,
        "result": e.result, "veto": list(e.result.veto or []), "links": links, "groups": groups,
        "deductions": deductions, "deducted": round(sum(d["points"] for d in deductions), 2),
        "full_score": table.get("full_score", 100), "pass_score": table.get("pass_score", 60),
        "veto_cap": table.get("veto_cap"), "rescored": rescored,
        "score_changed": e.result.score is not None and abs(rescored - float(e.result.score)) > 0.05,
        "verdict": scoring.verdict(e.result.score, e.result.veto, table)
        if e.result.status == "completed" else "未完成",
        "evidence": evidence, **views,
        "checked": {"links": "links" in stats, **{k: v is not None for k, v in views.items()}},
    }


def _deduction_text(row: dict[str, Any]) -> str:
    """How a check's points were reached, in one line: 首页 5 个 × 2 分 + 其他页面 39 个 × 0.5 分."""
    n = _short_num
    if "homepage" in row:
        parts = []
        if row.get("homepage_count"):
            parts.append(f"首页 {row['homepage_count']} 个 × {n(row['homepage'])} 分")
        if row.get("other_count"):
            parts.append(f"其他页面 {row['other_count']} 个 × {n(row['other'])} 分")
        text = " + ".join(parts) + "（同一失效地址只计一次）"
    else:
        unit = "处不同错误" if row.get("distinct") else "项"
        text = f"{row['count']} {unit} × {n(row['per'])} 分"
    text += f" = {n(row['raw'])} 分"
    if row.get("capped"):
        text += f"，超过本项上限 {n(float(row['cap']))} 分，按上限扣"
    return text


CATEGORY_ORDER = {name: i for i, name in enumerate(TEXT_CATEGORIES)}


def _grouped_views(rows: list[FindingRow], shots: dict[str, Any]) -> list[dict[str, Any]]:
    """Findings with the same wrong words and message on many pages become one row that names
    the pages (a typo in a template or a pagination bar is one correction, not thirty)."""
    out: list[dict[str, Any]] = []
    index: dict[tuple[str, str, str], dict[str, Any]] = {}
    for f in rows:
        detail = f.detail or {}
        wrong = detail.get("wrong")
        if not wrong:
            out.append(_finding_view(f, shots))
            continue
        key = (f.severity, str(wrong), f.message)
        view = index.get(key)
        if view is None:
            view = _finding_view(f, shots)
            view["others"] = []
            index[key] = view
            out.append(view)
        else:
            view["others"].append(f.page or f.url)
    return out


def _finding_view(f: FindingRow, shots: dict[str, Any]) -> dict[str, Any]:
    detail = dict(f.detail or {})
    shot = shots.get(f.fingerprint)
    facts = []
    for key, name in DETAIL_LABELS.items():
        value = detail.get(key)
        if value is None or value == "" or value == [] or key in ("status",) and f.check != "broken_link":
            continue
        if isinstance(value, list):
            value = "、".join(str(v) for v in value[:10]) + ("…" if len(value) > 10 else "")
        elif key == "failure_rate" and isinstance(value, (int, float)):
            value = _pct(value)
        facts.append((name, value))
    return {"severity": f.severity, "check": f.check, "message": f.message, "url": f.url,
            "page": f.page, "state": f.state, "fingerprint": f.fingerprint,
            "highlight": highlight(detail), "suspected": bool(detail.get("suspected")),
            "suggestion": detail.get("suggestion"), "others": [],
            "category": TEXT_CATEGORIES.get(detail.get("category"), "") if "wrong" in detail else "",
            "shot": shot.data_uri() if shot is not None else "",
            "shot_error": shot.error if shot is not None else "",
            "facts": facts if f.check in FACTS_SHOWN and not highlight(detail) else []}


def _links_section(store: Store, run_id: int, e: SiteEntry, broken: list[FindingRow],
                   summary: Any, shared_min: int = 5) -> dict[str, Any]:
    # By the target's identity; shown as the first page wrote it (a page's own row, below,
    # as that page wrote it).
    targets: dict[str, dict[str, Any]] = {}
    for f in broken:
        d = f.detail or {}
        t = targets.setdefault(link_key(f.url, d), {
            "url": f.url, "key": link_key(f.url, d), "kind": d.get("kind"), "status": d.get("status"),
            "tag": d.get("tag"), "message": f.message, "pages": [], "homepage": False, "anchor": ""})
        t["homepage"] = t["homepage"] or bool(d.get("homepage"))
        t["anchor"] = t["anchor"] or d.get("anchor") or ""
        if f.page:
            t["pages"].append(f.page)
    anchors: dict[tuple[str, str], str] = {}
    need = [f for f in broken if not (f.detail or {}).get("anchor")]
    if need:
        anchors = _anchors(store, run_id, e.site.id, sorted({link_key(f.url, f.detail) for f in need}))
    for t in targets.values():
        if not t["anchor"]:
            t["anchor"] = next((anchors[(p, t["key"])] for p in t["pages"] if (p, t["key"]) in anchors), "")
    # A target broken on many pages sits in a template (navigation, footer): listed once with
    # its page count instead of once under every page that carries it.
    shared = {u for u, t in targets.items() if len(t["pages"]) >= shared_min}
    by_page: dict[str, list[dict[str, Any]]] = defaultdict(list)
    home_pages: set[str] = set()
    for f in broken:
        d = f.detail or {}
        page = f.page or ""
        if d.get("homepage"):
            home_pages.add(page)
        key = link_key(f.url, d)
        if key in shared:
            continue
        by_page[page].append({"url": f.url, "kind": d.get("kind"), "status": d.get("status"),
                              "tag": d.get("tag") or "", "anchor": d.get("anchor") or anchors.get((page, key), "")})
    pages = sorted(by_page.items(), key=lambda kv: (kv[0] not in home_pages, -len(kv[1]), kv[0]))
    titles = _page_titles(store, run_id, e.site.id, [p for p, _ in pages[:MAX_ROWS]])
    kinds = Counter(link_kind_label(t["kind"] or "unknown") for t in targets.values())
    ordered = sorted(targets.values(), key=lambda t: (not t["homepage"], -len(t["pages"]), t["url"]))
    summary = summary if isinstance(summary, dict) else {}
    shared_rows = sorted((t for u, t in targets.items() if u in shared and not t["homepage"]),
                         key=lambda t: (-len(t["pages"]), t["url"]))
    return {
        "summary": summary, "targets": len(targets), "occurrences": len(broken),
        "by_kind": kinds.most_common(),
        "homepage": [t for t in ordered if t["homepage"]][:MAX_ROWS],
        "homepage_count": sum(1 for t in ordered if t["homepage"]),
        "shared": shared_rows[:MAX_ROWS],
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
    """checks/freshness.py facts: the homepage's newest item, and the columns problems first."""
    if not isinstance(value, dict):
        return None
    rows = []
    for c in value.get("columns") or []:
        if not isinstance(c, dict):
            continue
        status, css = COLUMN_STATUS.get(str(c.get("status")), (str(c.get("status") or "—"), "muted"))
        rows.append({**c, "category_label": CATEGORY_LABELS.get(str(c.get("category")), str(c.get("category") or "—")),
                     "status_label": status, "status_class": css})
    home = value.get("homepage") if isinstance(value.get("homepage"), dict) else None
    if home is not None:
        status, css = COLUMN_STATUS.get(str(home.get("status")), (str(home.get("status") or "—"), "muted"))
        home = {**home, "status_label": status, "status_class": css}
    counts = value.get("column_counts") if isinstance(value.get("column_counts"), dict) else {}
    count_text = "；".join(f"{COLUMN_STATUS.get(k, (k, ''))[0]} {n} 个" for k, n in
                           sorted(counts.items(), key=lambda kv: list(COLUMN_STATUS).index(kv[0])
                                  if kv[0] in COLUMN_STATUS else 99))
    return {"columns": rows[:MAX_ROWS], "more": max(0, len(rows) - MAX_ROWS), "homepage": home,
            "counts": count_text, "total": len(rows),
            "sections": [s for s in value.get("sections") or [] if isinstance(s, dict)]}


OPENGOV_CHECKS = ("site_identity", "page_labels", "annual_report", "policy_interpretation")
IDENTITY_STATUS = {"present": ("已标注", "ok"), "missing": ("缺失", "bad"), "disagree": ("不一致", "bad"),
                   "not_judged": ("未判断", "muted"), "unclear": ("未见（疑似，待核实）", "muted")}
REPORT_STATUS = {"on_time": ("按时发布", "ok"), "late": ("逾期发布", "bad"), "missing": ("未找到", "bad"),
                 "unknown": ("发布日期不明", "muted"), "none_published": ("网站未发布此类报表", "muted")}


def _opengov(stats: dict[str, Any]) -> dict[str, Any] | None:
    """The 政务公开 checks' facts (checks/identity.py, labels.py, annualreport.py,
    interpretation.py), with their Chinese labels; None when none of them ran."""
    facts = {name: stats.get(name) for name in OPENGOV_CHECKS}
    if not any(isinstance(v, dict) for v in facts.values()):
        return None
    view: dict[str, Any] = {name: v if isinstance(v, dict) else None for name, v in facts.items()}
    identity = view["site_identity"]
    if identity and identity.get("items"):
        view["identity_rows"] = [{**row, "status_label": IDENTITY_STATUS.get(row.get("status"), (row.get("status"), ""))}
                                 for row in identity["items"]]
    reports = view["annual_report"]
    if reports and reports.get("reports"):
        view["report_rows"] = [{**row, "status_label": REPORT_STATUS.get(row.get("status"), (row.get("status"), "")),
                                "found": [{**r, "status_label": REPORT_STATUS.get(r.get("status"), (r.get("status"), ""))}
                                          for r in row.get("reports") or []]}
                               for row in reports["reports"]]
    return view


def _ipv6(value: Any) -> dict[str, Any] | None:
    """checks/ipv6.py facts: verdict, the level-2/3 link rate against the target, failing hosts
    first and then the pages that failed."""
    if not isinstance(value, dict) or not value:
        return None
    if not value.get("measured"):
        return {"measured": False}
    home = value.get("homepage") if isinstance(value.get("homepage"), dict) else {}

    def rate(ok: Any, total: Any) -> float | None:
        return (float(ok) / float(total)) if isinstance(total, (int, float)) and total else None

    hosts = [{**h, "cause_label": _ipv6_cause(h)}
             for h in value.get("hosts") or value.get("failing_hosts") or [] if isinstance(h, dict)]
    pages = [{**p, "cause_label": _ipv6_cause(p)}
             for p in value.get("pages") or [] if isinstance(p, dict)]
    differences = [d for d in home.get("differences") or [] if isinstance(d, dict)]
    return {
        "measured": True, "pass": value.get("verdict") == "pass", "rate": value.get("rate"),
        "target": value.get("target"), "checked": value.get("checked", 0),
        "supported": value.get("supported", 0), "failed": value.get("failed", 0),
        "level2": value.get("level2", 0), "level2_rate": rate(value.get("level2_supported"), value.get("level2")),
        "level3": value.get("level3", 0), "level3_rate": rate(value.get("level3_supported"), value.get("level3")),
        "skipped_broken": value.get("skipped_broken", 0), "host": value.get("host", ""),
        "aaaa": value.get("aaaa") if isinstance(value.get("aaaa"), list) else [],
        "home_status": value.get("homepage_v6_status"),
        "home_rate": value.get("homepage_v6_success_rate"),
        "attempts": home.get("attempts"), "successes": home.get("successes"),
        "consistent": home.get("consistent") if home.get("comparable") else None,
        "differences": differences,
        "hosts": hosts[:MAX_ROWS], "pages": pages[:MAX_ROWS], "pages_more": max(0, len(pages) - MAX_ROWS),
        "measured_at": str(value.get("measured_at") or "")[:16].replace("T", " "),
    }


def _ipv6_cause(row: dict[str, Any]) -> str:
    cause = str(row.get("cause") or "")
    host = str(row.get("host") or "")
    if cause == "no_aaaa" and host.count(".") == 3 and host.replace(".", "").isdigit():
        return "链接直接使用 IPv4 地址"
    return IPV6_CAUSES.get(cause, cause or "—")


def _availability(value: Any) -> dict[str, Any] | None:
    """checks/availability.py facts: the week's probes, the failure rate against the lines, and
    whether there were enough probes to judge at all."""
    if not isinstance(value, dict) or not value:
        return None
    status, css = AVAILABILITY_STATUS.get(str(value.get("status")), (str(value.get("status") or "—"), "muted"))
    per_day = value.get("per_day") if isinstance(value.get("per_day"), dict) else {}
    return {**value, "status_label": status, "status_class": css,
            "per_day": sorted(per_day.items()),
            "from_day": str(value.get("from") or "")[:10], "to_day": str(value.get("to") or "")[:10],
            "last_failures": [f for f in value.get("last_failures") or [] if isinstance(f, dict)]}


MESSAGE_VERDICTS = {"ok": ("按时答复", "ok"), "late": ("答复超期", "warn"), "overdue": ("超期未答复", "warn"),
                    "unanswered": ("超过3个月未答复", "bad"), "pending": ("办理中（未超期）", "muted"),
                    "outside_window": ("超出统计期（一年前留言）", "muted"), "invalid": ("无效留言（不予受理等）", "muted"),
                    "answered_undated": ("已答复（未注明答复时间）", "muted")}
MESSAGE_STATES = {"answered": "已答复", "pending": "未答复", "invalid": "无效"}
CHANNEL_STATUS = {"ok": ("渠道正常", "ok"), "none": ("未找到互动交流渠道", "bad"),
                  "unreachable": ("留言入口无法访问", "bad"), "partly_unreachable": ("部分留言入口无法访问", "warn"),
                  "no_submit_entry": ("未找到留言提交入口，请人工确认", "warn")}
MESSAGES_SHOWN = 300


def _interaction(value: Any) -> dict[str, Any] | None:
    """checks/interaction.py facts: the channel, and every message with its dates and state."""
    if not isinstance(value, dict) or not value or "error" in value:
        return None
    months = value.get("unanswered_months", 3)
    rows = []
    for m in value.get("messages") or []:
        if not isinstance(m, dict):
            continue
        label, css = MESSAGE_VERDICTS.get(str(m.get("verdict")), (str(m.get("verdict") or "—"), "muted"))
        if m.get("verdict") == "unanswered":
            label = f"超过{months}个月未答复"
        rows.append({**m, "verdict_label": label, "verdict_class": css,
                     "state_label": MESSAGE_STATES.get(str(m.get("state")), str(m.get("state") or "—"))})
    rows.reverse()                                 # newest first
    channel = str(value.get("channel") or "—")
    channel, channel_css = CHANNEL_STATUS.get(channel, (channel, "muted"))
    return {**value, "rows": rows[:MESSAGES_SHOWN], "more": max(0, len(rows) - MESSAGES_SHOWN),
            "channel_label": channel, "channel_class": channel_css,
            "verdict_counts": [(f"超过{months}个月未答复" if k == "unanswered" else MESSAGE_VERDICTS.get(k, (k, ""))[0], n)
                               for k, n in sorted((value.get("counts") or {}).items())],
            "entries": [e for e in value.get("entries") or [] if isinstance(e, dict)]}


def _phones(value: Any) -> dict[str, Any] | None:
    """checks/phones.py facts: every published number with its pages and columns."""
    if not isinstance(value, dict) or not value or "error" in value:
        return None
    rows = [r for r in value.get("numbers") or [] if isinstance(r, dict)]
    return {"count": value.get("count", 0), "rows": rows}


def _month_label(month: str, months: dict[str, Any]) -> str:
    """"2026-09" as 9月, or 25年12月 when the chart spans two years."""
    if len(month) != 7 or month[4] != "-":
        return month
    one_year = len({m[:4] for m in months}) == 1
    return f"{int(month[5:])}月" if one_year else f"{month[2:4]}年{int(month[5:])}月"


def _text(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or not value:
        return None
    counts = value.get("text_counts") if isinstance(value.get("text_counts"), dict) else {}
    return {"counts": counts, "suspected": value.get("text_suspected", 0),
            "pages": value.get("text_pages"), "blocks": value.get("text_blocks"),
            "chars": value.get("text_chars")}


def _newmedia(value: Any) -> dict[str, Any] | None:
    """checks/newmedia.py facts: posts per month as a chart, reposts of authoritative sources
    this year against the yearly target."""
    if not isinstance(value, dict) or not value:
        return None
    per_month = value.get("posts_per_month") if isinstance(value.get("posts_per_month"), dict) else {}
    status, css = ACCOUNT_STATUS.get(str(value.get("status")), (str(value.get("status") or "—"), "muted"))
    year = value.get("reposts_year") or 0
    target = value.get("reposts_target") or 0
    expected = value.get("reposts_expected_by_now")
    return {**value, "status_label": status, "status_class": css,
            "platform_label": PLATFORMS.get(str(value.get("platform")), str(value.get("platform") or "—")),
            "month_chart": charts.vbar([charts.Bar(_month_label(m, per_month), n)
                                        for m, n in sorted(per_month.items())], title="每月发文数（条）"),
            "reposts_chart": charts.progress(year, target, expected,
                                             title=f"今年转发权威信息 {year} 条 / 全年目标 {target} 条"),
            "sources": sorted((value.get("reposts_by_source") or {}).items(), key=lambda kv: -kv[1]),
            "errors": [str(x) for x in value.get("errors") or []]}


def render_report(store: Store, run_id: int, cfg: Config | None = None, *,
                  shots: dict[str, Any] | None = None, data: RunData | None = None) -> str:
    context = report_context(store, run_id, cfg, shots=shots, data=data)
    return environment().get_template("report.html.j2").render(**context)
