"""IPv6 support (IPv6 支持度): judging the facts that ``patrol.ipv6.measure`` gathered.

Pure: reads ``ctx.facts["ipv6"]`` and ``ctx.thresholds["ipv6"]``, touches no network.

A site passes when all of these hold (docs/indicators.md, IPv6 section):

* its host has an AAAA record;
* its homepage loads over IPv6 (at least one of the repeated attempts);
* the IPv4 and IPv6 homepages agree in status and title (a size difference beyond
  ``size_tolerance`` is only a warning: counters and dates make sizes drift);
* the support rate of second- and third-level links is at least ``target_rate``.

Findings: one summary finding per site (``detail.kind == "support"``; severity ``info`` when
the site passes, ``error`` when it fails) carrying the figures; one finding per site-level
problem (``no_aaaa_site``, ``homepage_unreachable``, ``homepage_unstable``,
``homepage_inconsistent``); one finding per failing host and cause (``no_aaaa``,
``unreachable``, ``different_content``) with its count and example URLs and pages.
"""
from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from checks.model import CheckContext, CheckOutput, Finding, SiteCrawl

CHECK = "ipv6"
DEFAULT_TARGET = 0.99
DEFAULT_SIZE_TOLERANCE = 0.1
CAUSE_TEXT = {
    "no_aaaa": "域名无 AAAA 记录",
    "unreachable": "有 AAAA 记录但无法通过 IPv6 访问",
    "different_content": "IPv6 访问结果与 IPv4 不一致",
}


def check_site(crawl: SiteCrawl, ctx: CheckContext) -> CheckOutput:
    facts = ctx.facts.get("ipv6")
    if not facts or not facts.get("measured"):
        return CheckOutput(facts={"measured": False})
    limits = ctx.thresholds.get("ipv6", {})
    target = float(limits.get("target_rate", DEFAULT_TARGET))
    tolerance = float(limits.get("size_tolerance", DEFAULT_SIZE_TOLERANCE))
    homepage_url = crawl.homepage_url or crawl.url
    host = facts.get("host") or ""

    def finding(severity: str, url: str, message: str, **detail: Any) -> Finding:
        return Finding(check=CHECK, severity=severity, site=crawl.name, department=ctx.department or
                       crawl.department, url=url, message=message, detail=detail)

    findings: list[Finding] = []
    reasons: list[str] = []
    warnings: list[str] = []

    aaaa = list(facts.get("aaaa") or [])
    if not aaaa:
        reasons.append("no_aaaa_site")
        why = f"（{facts['aaaa_error']}）" if facts.get("aaaa_error") else ""
        findings.append(finding("error", homepage_url,
                                f"网站域名 {host} 没有 AAAA 记录，无法通过 IPv6 访问{why}",
                                kind="no_aaaa_site", host=host))

    home = facts.get("homepage") or {}
    v6, v4 = home.get("v6") or {}, home.get("v4") or {}
    successes, attempts = int(home.get("v6_successes", 0)), int(home.get("v6_attempts", 0))
    consistency = homepage_consistency(v4, v6, tolerance)
    if not aaaa or not attempts:
        pass  # without AAAA the homepage cannot load over IPv6: said once above
    elif successes == 0:
        reasons.append("homepage_unreachable")
        findings.append(finding("error", homepage_url,
                                f"首页无法通过 IPv6 访问（{_failure_text(v6)}）",
                                kind="homepage_unreachable", host=host, attempts=attempts,
                                error_kind=v6.get("error_kind"), error=v6.get("error", ""),
                                address=v6.get("address")))
    elif successes < attempts:
        warnings.append("homepage_unstable")
        findings.append(finding("warning", homepage_url,
                                f"首页 IPv6 访问不稳定：{attempts} 次中 {attempts - successes} 次失败",
                                kind="homepage_unstable", host=host, attempts=attempts, successes=successes))
    if consistency["comparable"] and consistency["differences"]:
        serious = [d for d in consistency["differences"] if d["field"] in ("status", "title")]
        (reasons if serious else warnings).append("homepage_inconsistent")
        text = "；".join(_difference_text(d) for d in consistency["differences"])
        findings.append(finding("error" if serious else "warning", homepage_url,
                                f"首页 IPv4 与 IPv6 访问内容不一致：{text}",
                                kind="homepage_inconsistent", host=host,
                                differences=consistency["differences"]))

    links = facts.get("links") or {}
    rate = links.get("rate")
    if rate is not None and rate < target:
        reasons.append("rate_below_target")

    hosts = list(facts.get("hosts") or [])
    for group in hosts:
        if group["host"] == host and group["cause"] == "no_aaaa" and "no_aaaa_site" in reasons:
            continue  # already said once, for the site itself
        scheme = _scheme((group.get("urls") or [crawl.url])[0])
        cause_text = CAUSE_TEXT.get(group["cause"], group["cause"])
        if group["cause"] == "no_aaaa" and _is_ipv4_literal(group["host"]):
            cause_text = "链接直接使用 IPv4 地址"
        findings.append(finding(
            "error", f"{scheme}://{group['host']}/",
            f"{group['host']}：{cause_text}，"
            f"{group['count']} 个二、三级链接无法通过 IPv6 正常访问",
            kind=group["cause"], host=group["host"], count=group["count"], levels=group.get("levels", []),
            aaaa=group.get("aaaa", []), error=group.get("error", ""), urls=group.get("urls", []),
            pages=group.get("pages", [])))

    verdict = "fail" if reasons else "pass"
    rate_text = "无可统计的二、三级链接" if rate is None else f"二、三级链接 IPv6 支持率 {_pct(rate)}"
    summary = (f"IPv6 支持度{'达标' if verdict == 'pass' else '不达标'}：{rate_text}"
               f"（目标 {_pct(target)}）")
    if reasons:
        summary += "；" + "、".join(_REASON_TEXT[r] for r in reasons)
    figures = {
        "verdict": verdict, "reasons": reasons, "warnings": warnings,
        "rate": rate, "target": target,
        "checked": links.get("checked", 0), "supported": links.get("supported", 0),
        "failed": links.get("failed", 0),
        "level2": links.get("level2", 0), "level2_supported": links.get("level2_supported", 0),
        "level3": links.get("level3", 0), "level3_supported": links.get("level3_supported", 0),
        "skipped_broken": links.get("skipped_broken", 0),
        "aaaa": aaaa, "homepage_v6_status": v6.get("status"),
        "homepage_v6_success_rate": home.get("v6_success_rate"),
        "failing_hosts": [{"host": g["host"], "cause": g["cause"], "count": g["count"]} for g in hosts],
    }
    findings.insert(0, finding("info" if verdict == "pass" else "error", homepage_url, summary,
                               kind="support", host=host, **figures))

    report = {
        "measured": True, **figures,
        "host": host, "url": facts.get("url", crawl.url), "measured_at": facts.get("measured_at", ""),
        "homepage": {"v6": v6, "v4": v4, "attempts": attempts, "successes": successes,
                     "success_rate": home.get("v6_success_rate"), **consistency},
        "hosts": hosts,                                   # failing hosts first ...
        "pages": list(facts.get("failures") or []),       # ... then the pages
    }
    return CheckOutput(findings=findings, facts=report)


def homepage_consistency(v4: dict[str, Any], v6: dict[str, Any], tolerance: float) -> dict[str, Any]:
    """Status, title and size of the two homepages; comparable only when both answered."""
    comparable = v4.get("error_kind") is None and v6.get("error_kind") is None \
        and v4.get("status") is not None and v6.get("status") is not None
    differences: list[dict[str, Any]] = []
    if comparable:
        if v4["status"] != v6["status"]:
            differences.append({"field": "status", "v4": v4["status"], "v6": v6["status"]})
        if (v4.get("title") or "") != (v6.get("title") or ""):
            differences.append({"field": "title", "v4": v4.get("title", ""), "v6": v6.get("title", "")})
        size4, size6 = int(v4.get("size") or 0), int(v6.get("size") or 0)
        if abs(size4 - size6) > tolerance * max(size4, size6, 1):
            differences.append({"field": "size", "v4": size4, "v6": size6})
    return {"comparable": comparable, "consistent": comparable and not differences,
            "differences": differences}


_REASON_TEXT = {
    "no_aaaa_site": "域名无 AAAA 记录",
    "homepage_unreachable": "首页无法通过 IPv6 访问",
    "homepage_inconsistent": "首页 IPv4/IPv6 内容不一致",
    "rate_below_target": "二、三级链接支持率低于目标",
}


def _is_ipv4_literal(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 4
    except ValueError:
        return False


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme or "http"
    except ValueError:
        return "http"


def _pct(value: float) -> str:
    text = f"{value * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _failure_text(result: dict[str, Any]) -> str:
    if result.get("error"):
        return str(result["error"])
    if result.get("status") is not None:
        return f"HTTP {result['status']}"
    return "无应答"


def _difference_text(diff: dict[str, Any]) -> str:
    name = {"status": "状态码", "title": "标题", "size": "页面大小"}[diff["field"]]
    return f"{name} IPv4 为 {diff['v4']}，IPv6 为 {diff['v6']}"
