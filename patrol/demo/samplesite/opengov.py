"""The sample site's 政务公开 plants: site identity in the homepage footers, page labels
(``<meta>`` of the 政府网站发展指引), annual reports on time and late, and policy documents
with and without their interpretation.

The builder asks this module for the HTML and records what each plant should give in the
manifest's ``opengov`` entry; dates are relative to the build day like everything else.
"""
from __future__ import annotations

from datetime import date, timedelta
from html import escape
from typing import Any

SITE_CODE = "5001120001"                 # 清溪区人民政府
STALE_FOOTER_CODE = "5001120002"         # 清溪区档案馆: its footer and its SiteIDCode disagree
STALE_META_CODE = "5001120003"
POLICE = "清公网安备 50011202000001号"
PHONE = "023-12345678"
# The 开办者标识 links to the verification page on conac.cn; the sample site has no internet,
# so its badge links to the external sample server, which `site_identity.badge_hosts` names.
BADGE_LINK = "conac/bszs.html"
BADGE_IMAGE = "/images/dzjg.png"

# Labels each page type carries on the main site, as in patroldata/thresholds.yaml.
SITE_LABELS = ("SiteName", "SiteDomain", "SiteIDCode")
COLUMN_LABELS = SITE_LABELS + ("ColumnName", "ColumnDescription", "ColumnKeywords", "ColumnType")
ARTICLE_LABELS = SITE_LABELS + ("ColumnName", "ColumnType", "ArticleTitle", "PubDate", "ContentSource")
# Planted gaps: the 规划计划 list page lacks two column labels, the 统计信息 articles lack
# ArticleTitle and ContentSource; articles whose template writes no PubDate lack that one.
COLUMN_GAPS = {"/zwgk/ghjh/": ("ColumnDescription", "ColumnKeywords")}
ARTICLE_GAPS = {"/zwgk/tjxx/": ("ArticleTitle", "ContentSource")}

INTERPRETATION_COLUMN = "/zwgk/zcjd/"
REPORT_COLUMN = "/zwgk/xxgknb/"
POLICY_COLUMN = "/zwgk/zcwj/"
PATHS = (INTERPRETATION_COLUMN, REPORT_COLUMN)
DUE = (1, 31)


def meta(labels: dict[str, str]) -> str:
    return "".join(f'<meta name="{name}" content="{escape(value, quote=True)}">\n'
                   for name, value in labels.items())


def site_labels(site_name: str, code: str = SITE_CODE) -> dict[str, str]:
    return {"SiteName": site_name, "SiteDomain": "www.qingxi.example.gov.cn", "SiteIDCode": code}


def column_labels(site_name: str, path: str, name: str) -> dict[str, str]:
    labels = {**site_labels(site_name), "ColumnName": name,
              "ColumnDescription": f"{site_name}{name}栏目", "ColumnKeywords": name, "ColumnType": name}
    for gap in COLUMN_GAPS.get(path, ()):
        labels.pop(gap)
    return labels


def article_labels(site_name: str, path: str, column: str, title: str, source: str,
                   pubdate: bool) -> tuple[dict[str, str], list[str]]:
    """The article's labels except PubDate, which the article template writes itself (when
    ``pubdate``), and the names of all the labels the page carries."""
    labels = {**site_labels(site_name), "ColumnName": column, "ColumnType": column,
              "ArticleTitle": title, "ContentSource": source}
    for gap in ARTICLE_GAPS.get(path, ()):
        labels.pop(gap)
    return labels, [*labels] + (["PubDate"] if pubdate else [])


def identity_footer(kind: str, ext_base: str) -> str:
    """The identity part of a homepage footer: ``full`` (main site), ``bare`` (教育局: 主办 and
    ICP only) or ``mismatch`` (档案馆: a code that disagrees with its SiteIDCode, and the badge
    image without its link)."""
    if kind == "full":
        return (f'<p>网站标识码：{SITE_CODE}　{escape(POLICE)}　联系电话：{PHONE}</p>'
                f'<p class="conac"><a href="{ext_base}{BADGE_LINK}" target="_blank">'
                f'<img src="{BADGE_IMAGE}" alt="党政机关"></a></p>')
    if kind == "mismatch":
        return (f'<p>网站标识码：{STALE_FOOTER_CODE}　{escape(POLICE)}　联系电话：{PHONE}</p>'
                f'<p class="conac"><img src="{BADGE_IMAGE}" alt="党政机关"></p>')
    return ""


# What site_identity finds on each homepage: item -> status.
IDENTITY = {
    "main": {"site_code": "present", "icp": "present", "police": "present", "badge": "present",
             "host_office": "present", "contact": "present", "domain": "not_judged"},
    "nav": {"site_code": "missing", "icp": "present", "police": "missing", "badge": "missing",
            "host_office": "present", "contact": "missing", "domain": "not_judged"},
    "stale": {"site_code": "disagree", "icp": "present", "police": "present", "badge": "missing",
              "host_office": "present", "contact": "present", "domain": "not_judged"},
}


def report_year(today: date) -> tuple[int, date]:
    """The year whose 年度报告 is judged on ``today`` and its deadline (as the check's default)."""
    year = today.year - 1
    while date(year + 1, *DUE) >= today:
        year -= 1
    return year, date(year + 1, *DUE)


def report_articles(today: date, office: str) -> list[tuple[str, date, str]]:
    """The 政府信息公开年报 column, newest first: (title, date, expected status)."""
    year, due = report_year(today)
    late = min(due + timedelta(days=45), today)
    rows = [
        (f"清溪区教育局{year}年政府信息公开工作年度报告", late, "late"),
        (f"{office.removesuffix('办公室')}{year}年政府信息公开工作年度报告", due - timedelta(days=10), "on_time"),
        (f"清溪区人民政府门户网站{year}年度政府网站工作年度报表", due - timedelta(days=5), "on_time"),
        (f"{office.removesuffix('办公室')}{year - 1}年政府信息公开工作年度报告", date(year, *DUE) - timedelta(days=12),
         "earlier_year"),
    ]
    return sorted(rows, key=lambda r: r[1], reverse=True)


def interpretation_articles(today: date, policy_titles: list[str]) -> list[tuple[str, date]]:
    """The 政策解读 column, newest first: a 图解 of no document on the site, then the
    interpretations of the first two policy documents."""
    return [("图解：清溪区优化营商环境若干措施", today - timedelta(days=20)),
            (f"《{policy_titles[0]}》政策解读", today - timedelta(days=27)),
            (f"一图读懂《{policy_titles[1]}》", today - timedelta(days=35))]


def expected(today: date, reports: list[dict[str, Any]], documents: list[dict[str, Any]],
             labels: list[dict[str, Any]]) -> dict[str, Any]:
    """The manifest's ``opengov`` entry; ``labels``: [{page, type, present}] per labelled page."""
    year, due = report_year(today)
    done = sum(1 for d in documents if d["interpreted"])
    return {
        "identity": IDENTITY,
        "labels": labels,
        "annual_report": {"year": year, "due": due.isoformat(), "reports": reports,
                          # per site: kind -> status (missing / on_time / none_published)
                          "sites": {"main": {"disclosure": "on_time", "website": "on_time"},
                                    "nav": {"disclosure": "missing", "website": "none_published"},
                                    "stale": {"disclosure": "missing", "website": "none_published"}}},
        "interpretation": {"documents": documents, "interpreted": done,
                           "rate": round(done / len(documents), 4) if documents else None},
    }
