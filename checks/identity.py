"""Site identity (``site_identity``): what the 政府网站发展指引 (国办发〔2017〕47号) asks every
government website to show at the foot of its homepage, read from the crawled homepage.

* 网站标识码, and that it equals the homepage's ``<meta name="SiteIDCode">``;
* the ICP 备案编号 (``京ICP备05070218号``) and the 公安机关备案号 (``京公网安备 11010202000001号``);
* the 党政机关网站标识 (开办者标识): its image and its link to the verification page on
  ``conac.cn`` (or the script from ``dcs.conac.cn`` that writes both, also when an inline
  script writes that script with ``document.write``);
* 主办单位 and 联系方式 (a labelled telephone or e-mail, or a 联系我们 link);
* the domain rule: a government website uses a domain under ``.gov.cn``.

One finding per item missing or disagreeing; the facts list what was found.  Hosts given as
IP addresses (a site reached without a domain name) are not judged by the domain rule.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from checks.govsite import homepage, is_html_page, setting
from checks.model import CheckContext, CheckOutput, Finding, PageSnapshot, SiteCrawl

ITEMS = ("site_code", "icp", "police", "badge", "host_office", "contact", "domain")
LABELS = {"site_code": "网站标识码", "icp": "ICP备案编号", "police": "公安机关备案号",
          "badge": "党政机关网站标识", "host_office": "主办单位", "contact": "联系方式", "domain": "域名"}

_CODE = re.compile(r"网站标识码\s*[:：]?\s*([0-9A-Za-z]{6,20})")
_ICP = re.compile(r"([\u4e00-\u9fff]{1,2}\s*ICP\s*[备证]\s*[0-9]{4,12}\s*号(?:\s*-\s*[0-9]{1,3})?)", re.IGNORECASE)
_POLICE = re.compile(r"([\u4e00-\u9fff]{1,2}\s*公网安备\s*[0-9]{8,20}\s*号?)")
_HOST_OFFICE = re.compile(r"主\s*办(?:单位)?\s*[:：]\s*([^\s　|｜，,;；:：]{2,40})")
_CONTACT = re.compile(r"(?:联系电话|联系方式|咨询电话|服务电话|电\s*话|Tel|电子邮箱|邮\s*箱|E-?mail)\s*[:：]\s*"
                      r"[^\s　|｜，,;；]{3,60}", re.IGNORECASE)
_CONTACT_LINKS = ("联系我们", "联系方式")
_BADGE_WORDS = ("党政机关", "开办者标识", "事业单位标识")


def _fold_space(text: str) -> str:
    return re.sub(r"\s+", "", text)


def check_site(crawl: SiteCrawl, ctx: CheckContext) -> CheckOutput:
    out = CheckOutput()
    home = homepage(crawl)
    if home is None or not is_html_page(home):
        out.facts = {"status": "no_homepage"}
        return out
    found = read_identity(home, badge_hosts=list(setting(ctx, "site_identity", "badge_hosts") or ["conac.cn"]))
    verdicts = judge(found, home, require_gov_cn=bool(setting(ctx, "site_identity", "require_gov_cn")))
    required = set(setting(ctx, "site_identity", "required") or ITEMS)
    url = home.url
    footer_items = [i for i in ITEMS if i != "domain"]
    if all(verdicts[i]["status"] == "missing" for i in footer_items) and set(footer_items) & required:
        # Not one item: a frameset, a door or redirect page, or a footer a script writes.  Weak
        # evidence for six findings: one 疑似 to look at.
        out.findings.append(Finding(
            check="site_identity", severity="warning", site=crawl.name,
            department=ctx.department or crawl.department, url=url, page=url,
            message="疑似：首页未见任何网站标识信息（网站标识码、备案号、开办者标识、主办单位、联系方式），"
                    "可能为框架页、跳转页或由脚本生成的页面，请人工核实",
            detail={"kind": "footer", "rule": "none_found", "suspected": True}))
        verdicts = {**{i: {**verdicts[i], "status": "unclear"} for i in footer_items},
                    "domain": verdicts["domain"]}
    for item, verdict in verdicts.items():
        if verdict["status"] in ("present", "not_judged", "unclear") or item not in required:
            continue
        out.findings.append(Finding(
            check="site_identity", severity="error", site=crawl.name,
            department=ctx.department or crawl.department, url=url, page=url,
            message=verdict["message"],
            detail={"kind": item, "rule": verdict["status"], "label": LABELS[item],
                    **{k: v for k, v in verdict.items() if k not in ("status", "message")}}))
    out.facts = {"status": "checked", "homepage": url,
                 "items": [{"item": item, "label": LABELS[item], **verdicts[item],
                            "required": item in required} for item in ITEMS]}
    return out


def read_identity(home: PageSnapshot, *, badge_hosts: list[str]) -> dict[str, Any]:
    """What the homepage shows of each identity item (footer first, then the rest of the page)."""
    texts = list(home.blocks) + [home.text]
    found: dict[str, Any] = {}
    for name, pattern in (("site_code", _CODE), ("icp", _ICP), ("police", _POLICE),
                          ("host_office", _HOST_OFFICE)):
        for text in texts:
            m = pattern.search(text)
            if m:
                found[name] = _fold_space(m.group(1)) if name != "host_office" else m.group(1)
                break
    contact = next((m.group(0).rstrip() for t in texts for m in [_CONTACT.search(t)] if m), "")
    if not contact:
        contact = next((r.anchor for r in home.links if r.tag == "a" and r.anchor.strip() in _CONTACT_LINKS), "")
    if contact:
        found["contact"] = contact
    found["meta_site_code"] = home.meta.get("SiteIDCode")
    found["badge"] = _badge(home, badge_hosts)
    return found


def _on_badge_host(url: str, hosts: list[str]) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host, netloc = (parts.hostname or "").lower(), (parts.netloc or "").lower()
    return any(h and (host == h.lower() or host.endswith("." + h.lower()) or netloc == h.lower()) for h in hosts)


def _badge(home: PageSnapshot, hosts: list[str]) -> dict[str, Any]:
    links = [r for r in home.links if r.tag == "a" and _on_badge_host(r.url, hosts)]
    # The badge's own link (its image's alt names it) before other links to the same host.
    link = next((r.url for r in links if any(w in r.anchor for w in _BADGE_WORDS)), links[0].url if links else "")
    script = next((r.url for r in home.links if r.tag == "script" and _on_badge_host(r.url, hosts)), "") \
        or next((u for u in home.written_links if _on_badge_host(u, hosts)), "")
    image = next((r.url for r in home.links if r.tag == "img"
                  and (_on_badge_host(r.url, hosts) or any(w in r.anchor for w in _BADGE_WORDS))), "")
    return {"link": link, "image": image, "script": script}


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return host == "localhost"


def judge(found: dict[str, Any], home: PageSnapshot, *, require_gov_cn: bool = True) -> dict[str, dict[str, Any]]:
    """Each item's status (present | missing | disagree | not_judged) with its message."""
    v: dict[str, dict[str, Any]] = {}
    code, meta = found.get("site_code"), found.get("meta_site_code")
    if not code:
        v["site_code"] = {"status": "missing", "message": "首页底部未标注网站标识码", "meta": meta}
    elif meta and meta.strip().upper() != code.upper():
        v["site_code"] = {"status": "disagree", "found": code, "meta": meta,
                          "message": f"首页底部的网站标识码（{code}）与首页 SiteIDCode 标签（{meta}）不一致"}
    else:
        v["site_code"] = {"status": "present", "found": code, "meta": meta}
    for item, message in (("icp", "首页底部未标注 ICP 备案编号"), ("police", "首页底部未标注公安机关备案号"),
                          ("host_office", "首页底部未标注主办单位"), ("contact", "首页底部未标注联系方式")):
        value = found.get(item)
        v[item] = {"status": "present", "found": value} if value else {"status": "missing", "message": message}
    badge = found.get("badge") or {}
    if badge.get("script") or (badge.get("link") and badge.get("image")):
        v["badge"] = {"status": "present", **badge}
    elif badge.get("image"):
        v["badge"] = {"status": "missing", **badge,
                      "message": "党政机关网站标识（开办者标识）未链接到 conac.cn 的核验页面"}
    elif badge.get("link"):
        v["badge"] = {"status": "missing", **badge,
                      "message": "首页有开办者核验链接，但未见党政机关网站标识图片"}
    else:
        v["badge"] = {"status": "missing", **badge, "message": "首页底部未见党政机关网站标识（开办者标识）"}
    host = (urlsplit(home.final_url or home.url).hostname or "").lower()
    if not require_gov_cn:
        v["domain"] = {"status": "not_judged", "found": host, "note": "未要求 .gov.cn 域名"}
    elif _is_ip(host):
        v["domain"] = {"status": "not_judged", "found": host, "note": "以 IP 地址访问，未判断域名"}
    elif host == "gov.cn" or host.endswith(".gov.cn"):
        v["domain"] = {"status": "present", "found": host}
    else:
        v["domain"] = {"status": "missing", "found": host,
                       "message": f"网站域名 {host} 不在 .gov.cn 之下（政府网站应使用 .gov.cn 域名）"}
    return v
