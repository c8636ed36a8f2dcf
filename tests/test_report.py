"""The HTML report, opened in real headless Chromium."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from reportdata import EVIL_TITLE, PageServer, make_area

from common.browser import launch_options
from reports.export import write_outputs
from reports.loop import follow_up, record_mailed
from patrol import evidence
from reports.pdf import html_to_pdf
from reports.rectification import items_by_department

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    with PageServer() as server:
        area = make_area(tmp, server.base, runs=2)
        for items in items_by_department(area.store, area.runs[0], area.cfg).values():
            record_mailed(area.store, area.runs[0], None, items)
        follow_up(area.store, area.runs[1])
        evidence.shoot(area.store, area.runs[0], area.cfg, limit=4)      # during the run
    # The report is rendered from the store, with the pages' server gone.
    first = write_outputs(area.store, area.runs[0], tmp / "run1", area.cfg, screenshots=4)
    second = write_outputs(area.store, area.runs[1], tmp / "run2", area.cfg, screenshots=0)
    return area, first, second


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(**launch_options())
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    p = browser.new_page()
    # The report must not need the network: fail the test if it asks for anything.
    requested: list[str] = []
    p.on("request", lambda r: requested.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    yield p
    p.close()
    assert requested == []


def open_report(page, path: Path):
    page.goto(path.resolve().as_uri())
    return page


def test_cover_names_office_period_and_inspection_number(rendered, page) -> None:
    _, first, second = rendered
    open_report(page, second["html"])
    cover = page.inner_text("#cover")
    assert "清溪区政务公开办公室" in cover and "2026-11" in cover
    assert page.inner_text("#nth") == "本年度第 2 次巡检"
    open_report(page, first["html"])
    assert page.inner_text("#nth") == "本年度第 1 次巡检"


def test_overview_lists_every_site_and_account_with_scores_vetoes_and_change(rendered, page) -> None:
    _, _, second = rendered
    open_report(page, second["html"])
    sites = page.locator("#overview-sites tbody tr")
    assert sites.count() == 2
    texts = [sites.nth(i).inner_text() for i in range(2)]
    gov = next(t for t in texts if t.startswith("清溪区人民政府"))
    assert "88.5" in gov and "合格" in gov and "区政府办公室" in gov
    edu = next(t for t in texts if t.startswith("清溪区教育局"))
    assert "严重表述错误" in edu and "不合格（单项否决）" in edu
    accounts = page.locator("#overview-accounts tbody tr")
    assert accounts.count() == 1
    assert accounts.first.inner_text().split("\t")[1] == "微信公众号"
    # Change since the last run: the typo and the template link (3 pages) were fixed.
    assert "(-2)" in gov.replace("−", "-")
    assert page.locator("#overview svg.chart").count() == 2
    assert "清溪区人民政府" in page.locator("#overview svg.chart").first.inner_html()


def test_page_title_with_script_renders_as_text(rendered, page) -> None:
    _, first, _ = rendered
    open_report(page, first["html"])
    assert page.evaluate("window.__pwned") is None
    titles = page.locator(".page-title").all_inner_texts()
    assert EVIL_TITLE in titles


def test_broken_links_listed_homepage_first_with_anchor_text(rendered, page) -> None:
    _, first, _ = rendered
    open_report(page, first["html"])
    section = page.locator("section.site").filter(has_text="清溪区人民政府").first
    kinds = section.locator("table.links-by-kind").inner_text()
    assert "404 不存在\t1" in kinds and "超时\t1" in kinds
    homepage = section.locator("table.links-homepage").inner_text()
    assert "/files/plan.pdf" in homepage and "gone.html" not in homepage
    by_page = section.locator("table.links-by-page tr")
    assert "首页" in by_page.nth(1).inner_text()          # the homepage's row comes first
    body = section.locator("table.links-by-page").inner_text()
    # Anchor text from the finding itself, and from the stored link uses when the finding has none.
    assert "旧栏目" in body and "年度计划" in body


def test_text_finding_shows_its_context_with_the_wrong_words_marked(rendered, page) -> None:
    _, first, _ = rendered
    open_report(page, first["html"])
    marks = page.locator("table.findings-typo mark").all_inner_texts()
    assert marks == ["监菅"]
    assert "切实加强监菅力度" in page.locator("table.findings-typo").inner_text()


def test_most_serious_findings_have_an_embedded_screenshot(rendered, page) -> None:
    _, first, _ = rendered
    open_report(page, first["html"])
    images = page.locator("figure.shot img")
    assert images.count() >= 2
    srcs = [images.nth(i).get_attribute("src") for i in range(images.count())]
    assert all(s.startswith("data:image/jpeg;base64,") for s in srcs)
    assert all(images.nth(i).evaluate("i => i.naturalWidth") > 0 for i in range(images.count()))
    shots = list((first["html"].parent / "screenshots").glob("*.jpg"))
    assert len(shots) == images.count() and len(shots) <= 4


def test_screenshot_failure_does_not_fail_the_report(tmp_path: Path) -> None:
    # Nothing listens on port 9: every shot fails, the report is still written and says so.
    area = make_area(tmp_path, "http://127.0.0.1:9", runs=1)
    assert evidence.shoot(area.store, area.runs[0], area.cfg, limit=2) == 0
    paths = write_outputs(area.store, area.runs[0], tmp_path / "o", area.cfg, screenshots=2)
    html = paths["html"].read_text(encoding="utf-8")
    assert "截图未能获取" in html and "<img" not in html


def test_a_report_rendered_again_shows_the_stored_shots_and_launches_no_browser(tmp_path, monkeypatch):
    with PageServer() as server:
        area = make_area(tmp_path, server.base, runs=1)
        assert evidence.shoot(area.store, area.runs[0], area.cfg, limit=2) >= 1
    stored = area.store.screenshots(area.runs[0])
    assert any(row.image and row.image[:2] == b"\xff\xd8" for row in stored.values())     # JPEG

    def no_browser(*args, **kwargs):
        raise AssertionError("rendering a report launched a browser")

    import common.browser
    monkeypatch.setattr(common.browser, "launch_options", no_browser)
    html = write_outputs(area.store, area.runs[0], tmp_path / "again", area.cfg)["html"].read_text(encoding="utf-8")
    assert html.count("data:image/jpeg;base64,") == sum(1 for row in stored.values() if row.image)
    # shooting again keeps what was taken (the day's evidence), and takes nothing twice
    assert evidence.shoot(area.store, area.runs[0], area.cfg, limit=2) == 0


def test_rectification_rates_per_department(rendered, page) -> None:
    _, _, second = rendered
    open_report(page, second["html"])
    rates = page.locator("#rates").inner_text()
    zfb = next(line for line in rates.splitlines() if line.startswith("区政府办公室"))
    assert zfb.split("\t")[2:] == ["6", "2", "0", "4", "33.3%"]
    assert page.locator("#rectification table.rectification").count() == 2


def test_method_section_shows_scoring_and_thresholds(rendered, page) -> None:
    _, _, second = rendered
    open_report(page, second["html"])
    assert "链接不可用" in page.inner_text("#scoring")
    assert "veto_days = 14" in page.inner_text("#thresholds")


def test_report_prints_to_pdf(rendered, tmp_path: Path) -> None:
    _, first, _ = rendered
    pdf = html_to_pdf(first["html"], tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") >= 3


def test_every_check_id_the_checks_produce_has_a_chinese_label() -> None:
    import re

    from checks.text.flags import CHECKS
    from reports.rectification import load_rules

    root = Path(__file__).resolve().parent.parent / "checks"
    found = set(CHECKS)
    pattern = re.compile(r"""(?:check=|finding\(|CHECK = )["']([a-z0-9_]+)["']""")
    for source in root.rglob("*.py"):
        found |= set(pattern.findall(source.read_text(encoding="utf-8")))
    found -= {"error", "warning", "info", "veto"}          # finding("error", ...) is a severity
    assert {"broken_link", "newmedia_empty", "newmedia_unreachable", "ipv6"} <= found
    labels = load_rules()["labels"]
    missing = sorted(c for c in found if c not in labels)
    assert missing == []
    assert all(re.search(r"[\u4e00-\u9fff]", labels[c]) for c in found)


def test_overview_fits_a_4_portrait_page_without_wrapping_names(rendered, browser) -> None:
    _, _, second = rendered
    # A4 portrait minus the 12 mm margins is about 700 CSS pixels wide.
    page = browser.new_page(viewport={"width": 700, "height": 1000})
    try:
        page.emulate_media(media="print")
        open_report(page, second["html"])
        for table in ("#overview-sites", "#overview-accounts"):
            widths = page.evaluate(f"() => {{ const t = document.querySelector('{table}');"
                                   " return [t.scrollWidth, t.parentElement.clientWidth]; }")
            assert widths[0] <= widths[1], table
            lines = page.evaluate(f"() => [...document.querySelectorAll('{table} td.name a')]"
                                  ".map(a => a.getClientRects().length)")
            assert lines and all(n == 1 for n in lines), (table, lines)
        headers = page.locator("#overview-sites th").all_inner_texts()
        assert "链接" in headers and "更新" in headers and not any("_" in h for h in headers)
    finally:
        page.close()


def test_site_section_explains_the_deduction(rendered, page) -> None:
    _, first, _ = rendered
    open_report(page, first["html"])
    section = page.locator("section.site").filter(has_text="清溪区人民政府").first
    table = section.locator("table.deductions").inner_text()
    # One 404 target on the homepage (3 pages) and one timeout elsewhere: 2 + 0.5 points.
    assert "首页 1 个 × 2 分 + 其他页面 1 个 × 0.5 分" in table and "2.5" in table
    assert "错别字" in table and "不规范表述" in table


def test_site_section_renders_every_checks_facts_in_words(rendered, page) -> None:
    _, first, _ = rendered
    open_report(page, first["html"])
    section = page.locator("section.site").filter(has_text="清溪区人民政府").first
    columns = section.locator("table.columns").inner_text()
    assert "动态要闻类" in columns and "未按期更新" in columns and "空白栏目" in columns
    assert columns.index("要闻") < columns.index("通知公告")          # problems first
    assert "探测次数不足" in section.locator(".availability-too-few").inner_text()
    text = section.inner_text()
    assert "98.96%" in text and "不达标" in text                      # not rounded up to 99 %
    assert "cdn.example.test" in section.locator("table.ipv6-hosts").inner_text()
    assert "另有疑似问题 1 处" in text
    assert "dynamic" not in text and "too_few" not in text and "no_aaaa" not in text
    account = page.locator("section.site").filter(has_text="清溪发布").first
    assert "每月发文数" in account.inner_html() and "9月" in account.inner_html()
    assert "今年已转发 7 条，全年目标 50 条" in account.inner_text()


def test_suspected_typos_are_listed_apart_and_repeated_wording_is_one_row(tmp_path: Path) -> None:
    from checks.model import Finding, SiteCrawl
    from store import Store
    from reports.render import render_report

    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    run = store.start_run("2026-11", kind="run")
    crawl = SiteCrawl(name="站", url="http://a.test/", department="")
    rows = [Finding("typo", "error", "站", f"http://a.test/{i}.html", "错别字：“布署”应为“部署”",
                    f"http://a.test/{i}.html", "", {"wrong": "布署", "suggestion": "部署",
                                                     "context": "进行了布署", "start": 3, "end": 5})
            for i in range(4)]
    rows.append(Finding("typo", "warning", "站", "http://a.test/x.html", "疑似错别字：“柳溪”应为“柳枝”",
                        "http://a.test/x.html", "", {"wrong": "柳溪", "suggestion": "柳枝", "suspected": True,
                                                     "context": "柳溪镇", "start": 0, "end": 2}))
    store.save_site(run.id, crawl, rows, {"pages": 5, "links": 0, "broken": 0, "score": 99, "veto": [], "stats": {}})
    store.finish_run(run.id)
    html = render_report(store, run.id)
    confirmed = html.split('class="findings findings-typo"')[1].split("</table>")[0]
    assert confirmed.count("<tr>") == 2 and "另有 3 个页面" in confirmed and "柳溪" not in confirmed
    assert "疑似问题（需人工复核" in html
    suspected = html.split('findings-typo suspected')[1].split("</table>")[0]
    assert "<mark>柳溪</mark>" in suspected
    assert "1 处不同问题，共 4 处" in html


def test_screenshot_browser_reaches_demo_names_through_the_configured_resolver(tmp_path: Path) -> None:
    # The site is named www.qingxi.test (never resolvable on its own); only the config's
    # resolver override maps it to the local server, so a shot proves the browser got the rules.
    with PageServer() as server:
        port = server.base.rsplit(":", 1)[1]
        base = f"http://www.qingxi.test:{port}"
        area = make_area(tmp_path, base, runs=1,
                         resolver={"overrides": {"www.qingxi.test": ["127.0.0.1"]}})
        evidence.shoot(area.store, area.runs[0], area.cfg, limit=2)
    paths = write_outputs(area.store, area.runs[0], tmp_path / "o", area.cfg, screenshots=2)
    html = paths["html"].read_text(encoding="utf-8")
    assert "data:image/jpeg;base64," in html
    assert len(list((tmp_path / "o" / "screenshots").glob("*.jpg"))) >= 1


def test_browser_rules_come_from_the_resolver_for_the_pages_hosts(tmp_path: Path) -> None:
    from common.browser import host_resolver_rules, launch_options

    cfg = make_area(tmp_path, "http://www.qingxi.test:1",
                    resolver={"overrides": {"www.qingxi.test": ["127.0.0.1", "::1"],
                                            "media.qingxi.test": ["::1"]}}).cfg
    rules = host_resolver_rules(cfg.resolver, ["www.qingxi.test", "media.qingxi.test", "nohost.invalid"])
    assert rules == "MAP www.qingxi.test 127.0.0.1, MAP media.qingxi.test [::1]"
    assert f"--host-resolver-rules={rules}" in launch_options(resolver=cfg.resolver, hosts=["www.qingxi.test"])["args"]
    # the same rules from the settings dict the crawl processes get
    assert host_resolver_rules({"overrides": {"www.qingxi.test": ["127.0.0.1"]}}, ["www.qingxi.test"]) \
        == "MAP www.qingxi.test 127.0.0.1"
    (tmp_path / "b").mkdir()
    assert host_resolver_rules(make_area(tmp_path / "b", "http://x").cfg.resolver, ["x"]) == ""
    assert not any(a.startswith("--host-resolver-rules") for a in launch_options()["args"])
