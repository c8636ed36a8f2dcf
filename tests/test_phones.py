"""checks/phones.py: which digits are telephone numbers, and one finding per number."""
from __future__ import annotations

import pytest

from checks.model import CheckContext, PageSnapshot, SiteCrawl
from checks.phones import check_site, find_numbers
from checks.text.privacy import find_personal_data

S = "http://www.example.gov.cn"


def numbers(text: str) -> list[tuple[str, str]]:
    return [(f["number"], f["kind"]) for f in find_numbers(text)]


@pytest.mark.parametrize("text, expected", [
    ("联系电话：023-61234567", [("023-61234567", "landline")]),
    ("电话（023）8765 4321转8001", [("023-87654321转8001", "landline")]),
    ("Tel: 0571 87654321", [("0571-87654321", "landline")]),
    ("技术支持：万载县信息中心(0795-8819792)", [("0795-8819792", "landline")]),
    ("电话０２３－６１２３４５６７", [("023-61234567", "landline")]),            # full-width digits
    ("服务电话02361234567", [("023-61234567", "landline")]),
    ("政务服务便民热线12345", [("12345", "hotline")]),
    ("请拨打12315热线", [("12315", "hotline")]),
    ("客服热线：400-123-4567", [("400-123-4567", "hotline")]),
    ("举报电话：67556131", [("67556131", "local")]),
    ("值班电话：8765-4321", [("87654321", "local")]),
    ("邮编：100745 总机：67550114 举报电话：67556131", [("67550114", "local"), ("67556131", "local")]),
    ("区政务公开办　联系电话：13812345678", [("13812345678", "mobile")]),
])
def test_numbers_offices_publish(text, expected):
    assert numbers(text) == expected


@pytest.mark.parametrize("text", [
    "发布时间：2026-11-10 09:30",
    "清府办发〔2026〕12号",
    "邮编：400123",
    "邮政编码：400123　电话见下",
    "身份证号500101199001011234",
    "收费标准：每件12345元",
    "咨询电话开通时间：20261110",                      # a compact date after a telephone word
    "清ICP备20260001号",
    "统一社会信用代码11500101MB1234567X",
    "办公时间：9:00-12:00，14:00-17:30",
    "2026.11.10 至 2026-12-31",
    "编号：02361234567",                                # no telephone word, no separator
    "失主手机13912345678，请拾获者联系",                  # a citizen's: privacy_leak
    "金额 1,234,567.00 元；版本 023-6123.4567",
])
def test_never_numbers(text):
    assert numbers(text) == []


def test_mobile_numbers_follow_the_privacy_rule_exactly():
    for text in ("联系电话：13812345678", "失主手机13912345678", "热线 13700001111", "张三 13600002222"):
        office = bool(numbers(text))
        leak = any(f.rule == "privacy:mobile" for f in find_personal_data(text))
        assert office != leak, text


def test_one_finding_per_number_with_its_pages_and_columns():
    def snap(path, text, crumbs, blocks=()):
        return PageSnapshot(url=S + path, final_url=S + path, status=200, depth=1, text=text,
                            breadcrumb=crumbs, blocks=list(blocks))
    footer = "主办：清溪区人民政府办公室　电话：023-12345678　邮编：400123"
    crawl = SiteCrawl(name="清溪区人民政府", url=S + "/", homepage_url=S + "/", pages=[
        snap("/", "欢迎", [], [footer]),
        snap("/lxwm/", "区政府办公室 电话：023-12345678；传真：023-12345679", ["首页", "联系我们"], [footer]),
        snap("/zwgk/a.html", "咨询电话：023-12345679", ["首页", "政务公开", "通知公告", "正文"], [footer]),
        PageSnapshot(url=S + "/gone.html", final_url=S + "/gone.html", status=404, depth=1,
                     text="电话：023-99999999"),
    ])
    out = check_site(crawl, CheckContext(site=crawl.name, department="zfb"))
    by = {f.detail["number"]: f for f in out.findings}
    assert set(by) == {"023-12345678", "023-12345679"}
    main = by["023-12345678"]
    assert main.severity == "info" and main.url == "tel:023-12345678" and main.department == "zfb"
    assert main.detail["page_count"] == 3 and main.detail["in_blocks"] is True
    assert main.detail["columns"] == ["首页", "联系我们", "政务公开 > 通知公告"]
    fax = by["023-12345679"]
    assert fax.detail["pages"] == [S + "/lxwm/", S + "/zwgk/a.html"] and "传真" in fax.detail["labels"]
    assert out.facts["count"] == 2
    reversed_crawl = SiteCrawl(name=crawl.name, url=crawl.url, homepage_url=crawl.homepage_url,
                               pages=list(reversed(crawl.pages)))
    again = check_site(reversed_crawl, CheckContext(site=crawl.name, department="zfb"))
    assert {f.fingerprint for f in again.findings} == {f.fingerprint for f in out.findings}


def test_labels_say_what_the_number_is():
    labels = [f["label"] for f in find_numbers(
        "加入收藏 联系我们 023-12345678\n区信访局来访接待：（023）8765 4321\n如有疑问，请拨打联系电话：023-61234567")]
    assert labels == ["", "区信访局来访接待", "请拨打联系电话"]
