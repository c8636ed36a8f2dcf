"""The 政务公开 checks as pure functions: site identity, page labels, annual reports and policy
interpretation over hand-made crawls (the sample site's verdicts through `patrol run` are in
tests/test_run.py)."""
from __future__ import annotations

from datetime import date

import lxml.html
import pytest

from checks import annualreport, identity, interpretation, labels
from checks.model import CheckContext, LinkRef, ListItem, PageSnapshot, SiteCrawl
from checks.pagefacts import extract, label_meta
from common.config import ConfigError, config_from_dict

HOME = "http://www.qx.gov.cn/"

FOOTER = ("主办单位：清溪区人民政府办公室　联系电话：023-12345678\n"
          "网站标识码：5001120001　渝ICP备05003300号-1　渝公网安备 50011202500001号")


def ctx(today: str = "2026-03-10", **thresholds) -> CheckContext:
    return CheckContext(site="清溪", department="zfb", today=today, thresholds=thresholds)


def home(url: str = HOME, blocks: list[str] | None = None, links: list[LinkRef] | None = None,
         meta: dict[str, str] | None = None, **kw) -> PageSnapshot:
    return PageSnapshot(url=url, final_url=url, status=200, depth=0, content_type="text/html",
                        blocks=[FOOTER] if blocks is None else blocks, meta=meta or {"SiteIDCode": "5001120001"},
                        links=links if links is not None else [
                            LinkRef("https://bszs.conac.cn/sitename?method=show&id=1", "a", "党政机关"),
                            LinkRef("https://dcs.conac.cn/image/red.png", "img", "党政机关")], **kw)


def crawl(*pages: PageSnapshot, url: str = HOME) -> SiteCrawl:
    return SiteCrawl(name="清溪", url=url, homepage_url=url, pages=list(pages))


# --- pagefacts: the labels a page carries ------------------------------------------------------

def test_label_meta_reads_the_guideline_labels_only():
    tree = lxml.html.fromstring(
        '<html><head><meta name="siteidcode" content=" 5001120001 "><meta name="ColumnName" content="">'
        '<meta name="ColumnName" content="通知公告"><meta name="viewport" content="x">'
        '<meta name="Keywords" content=""></head><body><p>正文</p></body></html>')
    assert label_meta(tree) == {"SiteIDCode": "5001120001", "ColumnName": "通知公告", "Keywords": ""}
    assert extract(tree, HOME).meta["SiteIDCode"] == "5001120001"
    snap = PageSnapshot(url=HOME, final_url=HOME, status=200, depth=0, meta={"SiteName": "清溪"})
    assert PageSnapshot.from_dict(snap.to_dict()).meta == {"SiteName": "清溪"}
    assert "meta" not in PageSnapshot(url=HOME, final_url=HOME, status=200, depth=0).to_dict()


def test_extract_command_shows_the_labels(capsys):
    from patrol.cli import main
    from pathlib import Path
    page = Path(__file__).resolve().parent / "site" / "www" / "index.html"
    assert main(["extract", str(page), "--url", "http://127.0.0.1/", "--today", "2026-11-20", "--format", "json"]) == 0
    import json
    labels = json.loads(capsys.readouterr().out)["labels"]
    assert labels == {"SiteName": "清溪区人民政府", "SiteDomain": "www.qingxi.example.gov.cn", "SiteIDCode": "5001120001"}


# --- site identity ------------------------------------------------------------------------------

def test_complete_footer_gives_no_finding():
    out = identity.check_site(crawl(home()), ctx())
    assert out.findings == []
    status = {row["item"]: row["status"] for row in out.facts["items"]}
    assert set(status.values()) == {"present"}
    found = {row["item"]: row.get("found") for row in out.facts["items"]}
    assert found["icp"] == "渝ICP备05003300号-1" and found["police"] == "渝公网安备50011202500001号"
    assert found["host_office"] == "清溪区人民政府办公室" and found["contact"].startswith("联系电话：023-12345678")


def test_each_missing_or_disagreeing_item_is_one_finding():
    page = home(blocks=["版权所有：清溪区人民政府　网站标识码：5001120009"], links=[],
                meta={"SiteIDCode": "5001120001"}, url="http://www.qingxi.com.cn/")
    out = identity.check_site(crawl(page, url="http://www.qingxi.com.cn/"), ctx())
    got = {f.detail["kind"]: f.detail["rule"] for f in out.findings}
    assert got == {"site_code": "disagree", "icp": "missing", "police": "missing", "badge": "missing",
                   "host_office": "missing", "contact": "missing", "domain": "missing"}
    assert all(f.severity == "error" and f.url == "http://www.qingxi.com.cn/" for f in out.findings)
    assert len({f.fingerprint for f in out.findings}) == len(out.findings)


def test_a_homepage_showing_no_item_at_all_is_one_suspected_finding():
    door = home(blocks=["欢迎访问"], links=[], meta={})
    [f] = identity.check_site(crawl(door), ctx()).findings
    assert f.severity == "warning" and f.detail["suspected"] and f.detail["rule"] == "none_found"


def test_badge_written_by_an_inline_script_counts():
    tree = lxml.html.fromstring(
        "<html><body><p>网站标识码：5001120001</p><script>document.write(unescape(\"%3Cspan id='_ideConac' "
        "%3E%3C/span%3E%3Cscript src='http://dcs.conac.cn/js/01/006/0000/1/CA1.js' type='text/javascript'%3E"
        "%3C/script%3E\"));</script></body></html>")
    facts = extract(tree, HOME)
    assert facts.written_links == ["http://dcs.conac.cn/js/01/006/0000/1/CA1.js"]
    page = home(links=[], written_links=facts.written_links)
    assert identity.check_site(crawl(page), ctx()).findings == []


def test_badge_written_by_script_counts_and_image_without_link_does_not():
    script = home(links=[LinkRef("https://dcs.conac.cn/js/33/000/0000/1/CA1.js", "script")])
    assert identity.check_site(crawl(script), ctx()).findings == []
    image = home(links=[LinkRef(HOME + "images/dzjg.png", "img", "党政机关网站标识")])
    [f] = identity.check_site(crawl(image), ctx()).findings
    assert f.detail["kind"] == "badge" and "未链接" in f.message


def test_domain_rule_skips_ip_hosts_and_can_be_switched_off():
    page = home(url="http://127.0.0.1:8080/")
    facts = identity.check_site(crawl(page, url=page.url), ctx()).facts
    assert next(r for r in facts["items"] if r["item"] == "domain")["status"] == "not_judged"
    other = home(url="http://www.qingxi.cn/")
    assert [f.detail["kind"] for f in identity.check_site(crawl(other, url=other.url), ctx()).findings] == ["domain"]
    off = ctx(site_identity={"require_gov_cn": False, "required": ["site_code"]})
    assert identity.check_site(crawl(other, url=other.url), off).findings == []


# --- page labels ----------------------------------------------------------------------------------

SITE = {"SiteName": "清溪区人民政府", "SiteDomain": "www.qx.gov.cn", "SiteIDCode": "5001120001"}


def labelled_site(article_meta: dict[str, str]) -> SiteCrawl:
    col = HOME + "tzgg/"
    art = col + "202603/t20260301_1.html"
    homepage = PageSnapshot(url=HOME, final_url=HOME, status=200, depth=0, meta=dict(SITE),
                            nav_links=[LinkRef(col, "a", "通知公告")])
    column = PageSnapshot(url=col, final_url=col, status=200, depth=1, title="通知公告",
                          meta={**SITE, "ColumnName": "通知公告", "ColumnDescription": "通知", "ColumnKeywords": "通知",
                                "ColumnType": "通知公告"},
                          list_items=[ListItem("关于开展春季植树活动的通知", art, "2026-03-01", "list")])
    article = PageSnapshot(url=art, final_url=art, status=200, depth=2, title="关于开展春季植树活动的通知",
                           meta=article_meta)
    return crawl(homepage, column, article)


def test_pages_missing_labels_by_type_with_their_column():
    meta = {**SITE, "ColumnName": "通知公告", "ColumnType": "通知公告", "ArticleTitle": "关于…", "PubDate": ""}
    out = labels.check_site(labelled_site(meta), ctx())
    [f] = out.findings
    assert f.detail["kind"] == "article" and f.detail["column"] == "通知公告"
    assert f.detail["missing"] == ["PubDate", "ContentSource"] and f.detail["empty"] == ["PubDate"]
    types = {t["type"]: t for t in out.facts["types"]}
    assert (types["homepage"]["pages"], types["column"]["pages"], types["article"]["pages"]) == (1, 1, 1)
    share = {x["name"]: x["share"] for x in types["article"]["labels"]}
    assert share["PubDate"] == 1.0 and share["SiteName"] == 0.0


def test_site_rules_add_labels_and_reject_nonsense():
    full = {**SITE, "ColumnName": "通知公告", "ColumnType": "通知公告", "ArticleTitle": "关于…",
            "PubDate": "2026-03-01", "ContentSource": "区林业局"}
    assert labels.check_site(labelled_site(full), ctx()).findings == []
    [f] = labels.check_site(labelled_site(full), ctx(page_labels={"article_extra": ["Keywords"]})).findings
    assert f.detail["missing"] == ["Keywords"]
    with pytest.raises(ValueError, match="page_labels.column"):
        labels.check_site(labelled_site(full), ctx(page_labels={"column": "ColumnName"}))


# --- annual reports --------------------------------------------------------------------------------

def test_the_year_judged_is_the_latest_one_due():
    assert annualreport.target_year(date(2026, 3, 10), ctx(), "disclosure") == 2025
    assert annualreport.target_year(date(2026, 1, 31), ctx(), "disclosure") == 2024
    assert annualreport.target_year(date(2026, 2, 1), ctx(), "disclosure") == 2025
    assert annualreport.due_date(2025, ctx(annual_report={"due": "03-31"}), "disclosure") == date(2026, 3, 31)
    with pytest.raises(ValueError, match="MM-DD"):
        annualreport.due_date(2025, ctx(annual_report={"due": "31 Jan"}), "disclosure")


def report_site(items: list[ListItem], pages: list[PageSnapshot] = ()) -> SiteCrawl:  # type: ignore[assignment]
    listing = PageSnapshot(url=HOME + "ndbg/", final_url=HOME + "ndbg/", status=200, depth=1, list_items=items)
    return crawl(PageSnapshot(url=HOME, final_url=HOME, status=200, depth=0), listing, *pages)


def test_reports_on_time_late_missing_and_undated():
    url = HOME + "ndbg/202602/t20260215_9.html"
    items = [ListItem("清溪区2025年政府信息公开工作年度报告", HOME + "ndbg/a.html", "2026-01-20", "list"),
             ListItem("清溪区教育局2025年政府信息公开工作年度报告", url, None, ""),
             ListItem("清溪区2024年度政府网站工作年度报表", HOME + "ndbg/b.html", "2025-01-10", "list")]
    late_page = PageSnapshot(url=url, final_url=url, status=200, depth=2, headline=items[1].title,
                             published="2026-02-16")
    out = annualreport.check_site(report_site(items, [late_page]), ctx())
    got = sorted((f.detail["kind"], f.detail["rule"], f.url) for f in out.findings)
    # The late one is dated by its page (16 Feb), not by its URL (15 Feb); the site publishes
    # 报表, so a missing 2025 one is a finding.
    assert got == [("disclosure", "late", url), ("website", "missing-2025", HOME)]
    late = next(f for f in out.findings if f.detail["rule"] == "late")
    assert late.detail["published"] == "2026-02-16" and late.detail["days_late"] == 16
    rows = {r["kind"]: r for r in out.facts["reports"]}
    assert rows["disclosure"]["status"] == "on_time" and rows["website"]["other_years"] == [2024]
    undated = [ListItem("清溪区2025年政府信息公开工作年度报告", HOME + "ndbg/c.html", None, "")]
    out = annualreport.check_site(report_site(undated), ctx())
    assert out.findings == [] and out.facts["reports"][0]["status"] == "unknown"
    assert out.facts["reports"][1]["status"] == "none_published"
    [missing] = annualreport.check_site(report_site([]), ctx()).findings
    assert missing.detail["rule"] == "missing-2025" and "2026-01-31" in missing.message
    partial = report_site([])
    partial.stats["max_pages_reached"] = True
    [suspected] = annualreport.check_site(partial, ctx()).findings
    assert suspected.severity == "warning" and suspected.detail["suspected"] and suspected.message.startswith("疑似")


# --- policy interpretation -------------------------------------------------------------------------

def test_documents_with_and_without_interpretation():
    zcwj, zcjd = HOME + "zcwj/", HOME + "zcjd/"
    docs = [zcwj + f"t2026030{i}_{i}.html" for i in (1, 2, 3)]
    jd = [zcjd + "t20260305_7.html", zcjd + "t20260306_8.html"]
    menu = [LinkRef(zcwj, "a", "政策文件"), LinkRef(zcjd, "a", "政策解读")]

    def page(url: str, title: str, links: list[LinkRef] = (), **kw) -> PageSnapshot:  # type: ignore[assignment]
        return PageSnapshot(url=url, final_url=url, status=200, depth=2, headline=title,
                            links=menu + list(links), nav_links=menu, **kw)
    pages = [
        PageSnapshot(url=HOME, final_url=HOME, status=200, depth=0, links=menu, nav_links=menu),
        page(zcwj, "政策文件", list_items=[ListItem(f"关于印发第{i}号文件的通知", d) for i, d in enumerate(docs)]),
        page(zcjd, "政策解读", list_items=[ListItem("《第一号文件》解读", jd[0]), ListItem("图解第二号文件", jd[1])]),
        page(docs[0], "关于印发第0号文件的通知", [LinkRef(jd[0], "a", "相关解读")]),
        page(docs[1], "关于印发第1号文件的通知"),
        page(docs[2], "关于印发第2号文件的通知"),     # only the menu's 政策解读: no interpretation
        page(jd[0], "《第一号文件》解读"),
        page(jd[1], "图解第二号文件", [LinkRef(docs[1], "a", "原文")]),
    ]
    out = interpretation.check_site(crawl(*pages), ctx())
    assert [f.url for f in out.findings] == [docs[2]]
    assert out.facts["documents"] == 3 and out.facts["interpreted"] == 2 and out.facts["rate"] == 0.6667
    via = {r["url"]: r["via"] for r in out.facts["rows"]}
    assert via == {docs[0]: "link", docs[1]: "linked_from", docs[2]: ""}
    assert out.facts["meets_target"] is False


# --- configuration ------------------------------------------------------------------------------------

def test_word_list_thresholds_are_validated():
    base = {"database": "sqlite://", "sites": [{"name": "a", "url": HOME}]}
    cfg = config_from_dict({**base, "thresholds": {"policy_interpretation": {"document_columns": ["文件"]}}},
                           source="t")
    assert cfg.thresholds["policy_interpretation"]["document_columns"] == ["文件"]
    with pytest.raises(ConfigError, match="expected a list of words"):
        config_from_dict({**base, "thresholds": {"page_labels": {"homepage": "SiteName"}}}, source="t")
    with pytest.raises(ConfigError, match="expected true or false"):
        config_from_dict({**base, "thresholds": {"site_identity": {"require_gov_cn": 1}}}, source="t")
