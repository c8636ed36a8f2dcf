"""check_site over hand-built crawls (checks/text/site.py)."""
from checks.model import CheckContext, PageSnapshot, SiteCrawl
from checks.text import check_site

THRESHOLDS = {"serious_error": {"veto_count": 1}}


def page(n: int, text: str = "", title: str = "", published: str | None = None,
         blocks: list[str] | None = None) -> PageSnapshot:
    return PageSnapshot(url=f"http://127.0.0.1:8000/art/{n}.html", final_url=f"http://127.0.0.1:8000/art/{n}.html",
                        status=200, depth=1, title=title, text=text, published=published,
                        blocks=blocks or [])


def ctx(**kw) -> CheckContext:
    base = dict(site="清溪区人民政府", department="zfb", today="2026-11-20", thresholds=THRESHOLDS)
    base.update(kw)
    return CheckContext(**base)


def by_check(out, check):
    return [f for f in out.findings if f.check == check]


def test_serious_error_becomes_a_finding_and_a_veto():
    crawl = SiteCrawl(name="清溪区人民政府", url="http://127.0.0.1:8000/",
                      pages=[page(1, "庆祝中华人民共合国成立七十五周年。", published="2024-10-01")])
    out = check_site(crawl, ctx())
    (finding,) = by_check(out, "serious_error")
    assert finding.url == finding.page == "http://127.0.0.1:8000/art/1.html"
    assert finding.severity == "veto" and finding.site == "清溪区人民政府" and finding.department == "zfb"
    assert finding.message == "严重表述错误：“中华人民共合国”应为“中华人民共和国”"
    d = finding.detail
    assert (d["wrong"], d["suggestion"]) == ("中华人民共合国", "中华人民共和国")
    assert d["context"] and d["rule"] and d["suspected"] is False and d["end"] - d["start"] == 7
    assert out.veto == ["serious_error"]
    assert out.facts["text_counts"]["serious_error"] == 1


def test_veto_waits_for_the_configured_count():
    crawl = SiteCrawl(name="s", url="http://127.0.0.1:8000/",
                      pages=[page(1, "中华人民共合国成立。")])
    out = check_site(crawl, ctx(thresholds={"serious_error": {"veto_count": 2}}))
    assert len(by_check(out, "serious_error")) == 1 and out.veto == []


def test_repeated_footer_is_checked_once_per_site():
    footer = "主办：清溪区人民政府办公室  承办：清溪区大数局"
    crawl = SiteCrawl(name="s", url="http://127.0.0.1:8000/",
                      pages=[page(n, "区政府召开常务会议。", blocks=[footer]) for n in range(5)])
    out = check_site(crawl, ctx())
    typos = [f for f in by_check(out, "typo") if f.detail["wrong"] == "数局"]
    assert len(typos) == 1
    assert typos[0].detail["field"] == "block" and typos[0].page.endswith("/art/0.html")
    assert out.facts["text_blocks"] == 1


def test_outdated_name_depends_on_each_pages_date():
    text = "区国土资源局开展土地执法检查。"
    crawl = SiteCrawl(name="s", url="http://127.0.0.1:8000/",
                      pages=[page(1, text, published="2017-05-02"), page(2, text, published="2023-03-15"),
                             page(3, text)])
    out = check_site(crawl, ctx())
    flagged = sorted(f.page for f in by_check(out, "wrong_expression"))
    # The 2017 article is right; the 2023 one and the undated one (checked as of today) are not.
    assert flagged == ["http://127.0.0.1:8000/art/2.html", "http://127.0.0.1:8000/art/3.html"]


def test_leader_with_wrong_title_from_context_leaders():
    crawl = SiteCrawl(name="s", url="http://127.0.0.1:8000/",
                      pages=[page(1, "副区长王建国到清溪街道调研。", title="王建国调研清溪街道")])
    out = check_site(crawl, ctx(leaders=[{"name": "王建国", "title": "区长"}]))
    (finding,) = by_check(out, "serious_error")
    assert finding.detail["wrong"] == "副区长" and finding.detail["suggestion"] == "区长"
    assert out.veto == ["serious_error"]


def test_id_number_is_a_privacy_leak_finding_without_the_number():
    crawl = SiteCrawl(name="s", url="http://127.0.0.1:8000/",
                      pages=[page(1, "公示：张三，身份证号11010519491231002X。")])
    (finding,) = by_check(check_site(crawl, ctx()), "privacy_leak")
    assert "11010519491231002X" not in str(finding.to_dict())


def test_rare_variant_of_the_sites_own_name_is_a_consistency_typo():
    usual = [page(n, f"清溪区第{n}次常务会议在清溪区政府召开，清溪区各部门参加。") for n in range(4)]
    variant = page(9, "青溪区防汛工作会议召开。")
    crawl = SiteCrawl(name="s", url="http://127.0.0.1:8000/", pages=usual + [variant])
    out = check_site(crawl, ctx())
    found = [f for f in by_check(out, "typo") if f.detail["rule"].startswith("consistency")]
    assert [(f.detail["wrong"], f.detail["suggestion"], f.page) for f in found] == [
        ("青溪区", "清溪区", variant.url)]
    assert "12次" in found[0].detail["rule"]


def test_clean_site_has_no_findings_and_counts_facts():
    crawl = SiteCrawl(name="s", url="http://127.0.0.1:8000/",
                      pages=[page(1, "区政府召开常务会议，研究部署防汛抗旱工作。", title="常务会议")])
    out = check_site(crawl, ctx())
    assert out.findings == [] and out.veto == []
    assert out.facts["text_pages"] == 1 and out.facts["text_chars"] > 0
    assert set(out.facts["text_counts"]) == {"typo", "wrong_expression", "serious_error", "privacy_leak"}
