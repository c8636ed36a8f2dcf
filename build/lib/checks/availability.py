"""Is the site reachable: the ``site_unreachable`` veto from the probes of the last week.

``patrol probe`` (run hourly from cron) loads each homepage once and stores the outcome; this
module judges the stored probes.  The national rule (docs/indicators.md) assumes at least 20
probes a day over the week before the check; with fewer, the figures are still reported, the
shortfall is said in the facts and in a finding, and a failure rate at the veto line gives a
warning instead of failing the site on too little evidence.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from checks.model import CheckOutput, Finding

DEFAULTS = {"probe_timeout_s": 15, "window_days": 7, "veto_failure_rate": 0.05,
            "warn_failure_rate": 0.03, "min_probes_per_day": 20}


def settings(thresholds: dict[str, Any]) -> dict[str, Any]:
    section = thresholds.get("site_unreachable", thresholds) if thresholds else {}
    return {**DEFAULTS, **{k: v for k, v in (section or {}).items() if k in DEFAULTS}}


def _as_utc(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    # SQLite hands back naive datetimes; the store writes UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def judge(probes: list[dict[str, Any]], now: datetime, thresholds: dict[str, Any], *,
          site: str = "", url: str = "", department: str = "") -> CheckOutput:
    """Probes, failures and failure rate over the window before ``now``, and the verdict.

    ``probes``: dicts with ``at`` (datetime or ISO text), ``ok``, and optionally ``status``,
    ``elapsed_ms``, ``error``.  ``thresholds``: the merged thresholds (or their
    ``site_unreachable`` section).
    """
    t = settings(thresholds)
    now = _as_utc(now) or datetime.now(UTC)
    window = timedelta(days=float(t["window_days"]))
    start = now - window
    inside = []
    for p in probes:
        at = _as_utc(p.get("at"))
        if at is not None and start < at <= now:
            inside.append((at, p))
    inside.sort(key=lambda x: x[0])
    total = len(inside)
    failed = [(at, p) for at, p in inside if not p.get("ok")]
    rate = len(failed) / total if total else None
    per_day: dict[str, int] = {}
    for at, _ in inside:
        per_day[at.date().isoformat()] = per_day.get(at.date().isoformat(), 0) + 1
    needed = int(t["min_probes_per_day"] * t["window_days"])
    too_few = total < needed
    slowest = max((p.get("elapsed_ms") or 0 for _, p in inside), default=None)
    facts: dict[str, Any] = {
        "window_days": t["window_days"], "from": start.isoformat(), "to": now.isoformat(),
        "probes": total, "failures": len(failed), "failure_rate": rate,
        "per_day": per_day, "min_probes_per_day": t["min_probes_per_day"], "probes_needed": needed,
        "too_few": too_few, "timeout_s": t["probe_timeout_s"],
        "veto_failure_rate": t["veto_failure_rate"], "warn_failure_rate": t["warn_failure_rate"],
        "slowest_ms": slowest,
        "last_failures": [{"at": at.isoformat(), "status": p.get("status"), "error": p.get("error", ""),
                           "elapsed_ms": p.get("elapsed_ms")} for at, p in failed[-10:]],
        "status": "no_data",
    }
    out = CheckOutput(facts=facts)

    def finding(severity: str, message: str, rule: str) -> Finding:
        return Finding(check="site_unreachable", severity=severity, site=site, department=department,
                       url=url, page=url, message=message,
                       detail={"rule": rule, "probes": total, "failures": len(failed),
                               "failure_rate": None if rate is None else round(rate, 4),
                               "window_days": t["window_days"], "too_few": too_few})

    if total == 0:
        facts["note"] = (f"近 {t['window_days']} 天没有可用性探测记录：请用 `patrol schedule` 给出的 "
                         f"crontab 每小时运行 `patrol probe`")
        out.findings.append(finding("info", facts["note"], "too_few"))
        return out
    percent = f"{rate * 100:.1f}%"
    shortfall = ""
    if too_few:
        shortfall = (f"探测次数不足：{t['window_days']} 天内仅 {total} 次，规则要求每天不少于 "
                     f"{t['min_probes_per_day']} 次（共 {needed} 次）")
        facts["note"] = shortfall
    if rate >= t["veto_failure_rate"] and not too_few:
        facts["status"] = "veto"
        out.veto.append("site_unreachable")
        out.findings.append(finding(
            "veto", f"站点无法访问：近 {t['window_days']} 天 {total} 次探测中 {len(failed)} 次失败"
                    f"（{percent}，否决线 {t['veto_failure_rate'] * 100:g}%）", "rate"))
    elif rate >= t["warn_failure_rate"]:
        facts["status"] = "warning"
        message = (f"预警：近 {t['window_days']} 天 {total} 次探测中 {len(failed)} 次失败（{percent}，"
                   f"预警线 {t['warn_failure_rate'] * 100:g}%，否决线 {t['veto_failure_rate'] * 100:g}%）")
        if too_few:
            message += f"；{shortfall}，不足以作出否决判断"
        out.findings.append(finding("warning", message, "rate"))
    else:
        facts["status"] = "ok"
        if too_few:
            out.findings.append(finding("info", f"{shortfall}；失败率 {percent}", "too_few"))
    if too_few and facts["status"] == "ok":
        facts["status"] = "too_few"
    return out


def check_site(crawl: Any, ctx: Any) -> CheckOutput:
    """The run's view of availability: the week's figures measured from the store's probes
    (``ctx.facts["availability"]``, see ``patrol.probe.availability``) as findings and veto."""
    facts = dict(ctx.facts.get("availability") or {})
    if not facts:
        return CheckOutput()
    findings = [Finding.from_dict(f) for f in facts.pop("findings", [])]
    veto = list(facts.pop("veto", []))
    return CheckOutput(findings=findings, facts=facts, veto=veto)
