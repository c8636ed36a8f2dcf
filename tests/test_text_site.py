"""check_site over hand-built crawls (checks/text/site.py)."""
from checks.model import CheckContext, PageSnapshot, SiteCrawl
from checks.text import TextChecker
from checks.text import check_site
import pytest

pytestmark = pytest.mark.integration

THRESHOLDS = {"serious_error": {"veto_count": 1}}


def page(n: int, text: str = "", title: str = "", published: str | None = None,
         blocks: list[str] | None = None) -> PageSnapshot:
    return PageSnapshot(url=f"http://127.0.0.1:8000/art/{n}.html", final_url=f"http://127.0.0.1:8000/art/{n}.html",
                        status=200, depth=1, title=title, text=text, published=published,
                        blocks=blocks or [])


def ctx(**kw) -> CheckContext:
    base = {"site": "清溪区人民政府", "department": "zfb", "today": "2026-11-20", "thresholds": THRESHOLDS}
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


def test_repeated_footer_is_checked_once_per_site(layer_dir):
    footer = "主办：清溪区人民政府办公室  承办：清溪区大数局"
    crawl = SiteCrawl(name="s", url="http://127.0.0.1:8000/",
                      pages=[page(n, "区政府召开常务会议。", blocks=[footer]) for n in range(5)])
    out = check_site(crawl, ctx(), TextChecker(data_dir=layer_dir))
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
    # 轻溪区 is no word (青溪, a place's name, would be one: a variant that is a word or a
    # name is left alone, tests/test_text_trust.py).
    variant = page(9, "轻溪区防汛工作会议召开。")
    crawl = SiteCrawl(name="s", url="http://127.0.0.1:8000/", pages=usual + [variant])
    out = check_site(crawl, ctx())
    found = [f for f in by_check(out, "typo") if f.detail["rule"].startswith("consistency")]
    assert [(f.detail["wrong"], f.detail["suggestion"], f.page) for f in found] == [
        ("轻溪区", "清溪区", variant.url)]
    assert "12次" in found[0].detail["rule"]


def test_clean_site_has_no_findings_and_counts_facts():
    crawl = SiteCrawl(name="s", url="http://127.0.0.1:8000/",
                      pages=[page(1, "区政府召开常务会议，研究部署防汛抗旱工作。", title="常务会议")])
    out = check_site(crawl, ctx())
    assert out.findings == [] and out.veto == []
    assert out.facts["text_pages"] == 1 and out.facts["text_chars"] > 0
    assert set(out.facts["text_counts"]) == {"typo", "wrong_expression", "serious_error", "privacy_leak"}


# ---------------------------------------------------------------- site vocabulary, measure words
def test_word_the_site_writes_in_many_sentences_is_not_a_typo():
    # 柳溪 alone looks like a slip for 柳枝; written in three different sentences it is a name.
    sentences = ["柳溪两岸风光好，游客络绎不绝。", "沿着柳溪一路向东就是新区。", "在柳溪岸边开展清洁行动。"]
    crawl = SiteCrawl(name="s", url="http://127.0.0.1:8000/",
                      pages=[page(n, text) for n, text in enumerate(sentences)])
    out = check_site(crawl, ctx())
    assert [f for f in out.findings if f.detail["wrong"] == "柳溪"] == []


def test_word_seen_in_one_sentence_only_is_still_flagged(layer_dir):
    # The same sentence on three pages (an article and the lists showing its title) is one use.
    crawl = SiteCrawl(name="s", url="http://127.0.0.1:8000/",
                      pages=[page(n, "柳溪两岸风光好，游客络绎不绝。") for n in range(3)])
    out = check_site(crawl, ctx(), TextChecker(data_dir=layer_dir))
    flagged = [f for f in out.findings if f.detail["wrong"] == "柳溪"]
    assert len(flagged) == 3 and all(f.detail["rule"].startswith("statistical:") for f in flagged)


def test_measure_word_after_a_number_is_not_a_consistency_typo():
    usual = [page(n, f"各街道、各部门要按照第{n}次会议要求，切实做好改革工作。") for n in range(8)]
    odd = page(9, "清溪区辖4个街道、2个镇、1个乡。我们将在5个工作日内答复。")
    out = check_site(SiteCrawl(name="s", url="http://127.0.0.1:8000/", pages=usual + [odd]), ctx())
    assert [f.detail["wrong"] for f in out.findings] == []


# ---------------------------------------------------------------- end to end on the sample site
def _snapshots(sample_site) -> list:
    """Every HTML file of the sample site, fetched over HTTP and parsed as the crawler does."""
    import urllib.request

    from crawler.pages import decode_html, parse_html, snapshot

    www = sample_site.root / "www"
    pages = []
    for path in sorted(www.rglob("*.html")):
        rel = path.relative_to(www).as_posix()
        if rel == "404.html":
            continue
        rel = rel.removesuffix("index.html")
        url = sample_site.url(rel)
        with urllib.request.urlopen(url, timeout=10) as response:
            body, ctype = response.read(), response.headers.get("Content-Type", "")
        text, encoding = decode_html(body, ctype)
        tree = parse_html(text)
        if tree is None:
            continue
        pages.append(snapshot(tree, url=url, final_url=url, status=200, depth=1, links=[],
                              rendered=False, encoding=encoding, content_type=ctype, referer=None,
                              fetched_at="", today=sample_site.today, html_text=text))
    assert len(pages) > 50
    return pages


def test_sample_site_findings_are_exactly_the_planted_errors(sample_site):
    manifest = sample_site.manifest
    crawl = SiteCrawl(name="清溪区人民政府", url=sample_site.base, pages=_snapshots(sample_site))
    out = check_site(crawl, ctx(today=sample_site.today.isoformat(), leaders=manifest.leaders))
    found = {(f.check, f.detail["wrong"], f.page) for f in out.findings}
    kinds = {"serious_typo": "serious_error", "typo": "typo", "outdated_name": "wrong_expression",
             "leader_title": "serious_error", "id_number": "privacy_leak"}
    expected = set()
    for plant in manifest.text:
        if not plant["expect_finding"]:
            # The right title and the 2017 article's old name are not reported anywhere on that page.
            assert not [f for f in out.findings if f.page == plant["page"] and f.check != "privacy_leak"
                        and f.detail["wrong"] in plant["wrong"]], plant
            continue
        wrong = plant["wrong"]
        if plant["kind"] == "leader_title":
            wrong = "副区长"                 # the wrong part of 副区长王建国 is the title
        if plant["kind"] == "id_number":
            wrong = next(f.detail["wrong"] for f in out.findings if f.check == "privacy_leak")
            assert plant["wrong"] not in str([f.to_dict() for f in out.findings])
        expected.add((kinds[plant["kind"]], wrong, plant["page"]))
    # Every planted error is found, and nothing else is: no pager word, measure word, place or
    # person's name, media name or site word is reported, not even as 疑似.
    assert found == expected
    assert out.veto == ["serious_error"]
