"""The HTML report, opened in real headless Chromium."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from reportdata import EVIL_TITLE, PageServer, make_area

from patrol.browser import launch_options
from reports.export import write_outputs
from reports.loop import follow_up, record_mailed
from reports.pdf import html_to_pdf
from reports.rectification import items_by_department


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    with PageServer() as server:
        area = make_area(tmp, server.base, runs=2)
        for items in items_by_department(area.store, area.runs[0], area.cfg).values():
            record_mailed(area.store, area.runs[0], None, items)
        follow_up(area.store, area.runs[1])
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
    rows = page.locator("#overview-table tbody tr")
    assert rows.count() == 3
    texts = [rows.nth(i).inner_text() for i in range(3)]
    gov = next(t for t in texts if t.startswith("清溪区人民政府"))
    assert "88.5" in gov and "合格" in gov
    edu = next(t for t in texts if t.startswith("清溪区教育局"))
    assert "严重表述错误" in edu and "不合格（单项否决）" in edu
    assert next(t for t in texts if t.startswith("清溪发布")).split("\t")[1] == "新媒体"
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
    paths = write_outputs(area.store, area.runs[0], tmp_path / "o", area.cfg, screenshots=2)
    html = paths["html"].read_text(encoding="utf-8")
    assert "截图未能获取" in html and "<img" not in html


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
