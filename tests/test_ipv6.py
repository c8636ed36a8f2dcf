"""IPv6 support: patrol.ipv6.measure against real servers on 127.0.0.1 and ::1 (and one on
127.0.0.1 only), names answered by a dnslib server or overrides; checks.ipv6 judging the facts."""
from __future__ import annotations

import json

import pytest
from dnsserver import DnsServer, HttpServer, Route, dual_stack, page

from checks.ipv6 import check_site, homepage_consistency
from checks.model import CheckContext, LinkRef, LinkResult, PageSnapshot, SiteCrawl
from patrol.ipv6 import link_levels, measure, page_title
from common.resolver import Resolver
from common.thresholds import defaults

HOME = page("清溪区人民政府", "欢迎访问")
ROUTES4 = {
    "/": HOME,
    "/a.html": page("政务公开"), "/b.html": page("办事服务"), "/c.html": page("互动交流"),
    "/x.html": page("子站 x"), "/y.html": page("子站 y"),
    "/img/logo.png": Route(200, b"\x89PNG....", {"Content-Type": "image/png"}),
    "/nohead.html": Route(200, "GET only", head_status=405),
    "/v6diff.html": page("IPv4 正常"),
    "/gone.html": Route(404, "gone"),
    "/broken.html": Route(404, "broken"),
    "/home6.html": page("清溪区人民政府"),
    "/busy6.html": page("网上办事"),
}
ROUTES6 = {**ROUTES4,
           "/v6diff.html": Route(404, "not on IPv6"),
           "/busy6.html": Route(429, "too many requests", {"Retry-After": "1"}),
           "/home6.html": page("IPv6 测试页")}


@pytest.fixture(scope="module")
def net():
    v4, v6 = dual_stack(ROUTES4, ROUTES6)
    only4 = HttpServer(ROUTES4, "127.0.0.1").start()      # nothing on ::1 at this port
    records = {
        "www.qingxi.test": ["127.0.0.1", "::1"],
        "sub.qingxi.test": ["127.0.0.1", "::1"],
        "mixed.qingxi.test": ["127.0.0.1", "::1"],
        "v4only.qingxi.test": ["127.0.0.1"],
        "dead6.qingxi.test": ["127.0.0.1", "::1"],
    }
    dns = DnsServer(records).start()
    yield {"v4": v4, "v6": v6, "only4": only4, "dns": dns, "port": v4.port}
    for s in (v4, v6, only4, dns):
        s.stop()


def resolver_for(net) -> Resolver:
    return Resolver(nameservers=[net["dns"].nameserver], timeout=3)


def snap(url: str, depth: int, links: list[str]) -> PageSnapshot:
    return PageSnapshot(url=url, final_url=url, status=200, depth=depth,
                        links=[LinkRef(url=u, tag="img" if u.endswith(".png") else "a") for u in links])


def site(name: str, base: str, pages: dict[str, tuple[int, list[str]]],
         links: dict[str, LinkResult] | None = None, start: str = "/") -> SiteCrawl:
    """A crawl of ``base`` with pages {path: (depth, [links])}; relative links join ``base``."""
    def absolute(u: str) -> str:
        return u if "://" in u or u.startswith(("mailto:", "javascript:")) else base + u
    return SiteCrawl(name=name, url=base + start, homepage_url=base + start,
                     pages=[snap(base + p, d, [absolute(u) for u in ls]) for p, (d, ls) in pages.items()],
                     links=links or {})


def ctx_for(crawl: SiteCrawl, facts: dict, **ipv6_limits) -> CheckContext:
    thresholds = json.loads(json.dumps(defaults()))
    thresholds["ipv6"].update(ipv6_limits)
    return CheckContext(site=crawl.name, thresholds=thresholds, facts={"ipv6": facts})


def requests_to(server: HttpServer, host: str) -> list[tuple[str, str]]:
    return [(m, p) for m, p, h in server.requests if h.split(":")[0] == host]


# --- measurement + judgement, end to end --------------------------------------------------

def full_site(host: str, port: int, sub: str = "sub.qingxi.test") -> SiteCrawl:
    return site("清溪区人民政府", f"http://{host}:{port}", {
        "/": (0, ["/a.html", "/b.html", "/img/logo.png", f"http://{sub}:{port}/c.html", "/",
                  "/a.html#top", "mailto:zwgk@qingxi.test", "javascript:void(0)"]),
        "/a.html": (1, ["/a.html", "/c.html", f"http://{sub}:{port}/"]),
        "/b.html": (1, ["/nohead.html"]),
        "/c.html": (2, ["/deep.html"]),
    })


def test_site_with_full_support_passes_at_100_percent(net):
    port = net["port"]
    crawl = full_site("www.qingxi.test", port)
    facts = measure(crawl, resolver_for(net), timeout=5)

    assert facts["aaaa"] == ["::1"]
    assert facts["homepage"]["v6"]["status"] == 200 and facts["homepage"]["v6"]["address"] == "::1"
    assert facts["homepage"]["v4"]["address"] == "127.0.0.1"
    assert facts["homepage"]["v6_success_rate"] == 1.0
    assert facts["homepage"]["v6"]["title"] == "清溪区人民政府"
    links = facts["links"]
    # level 2: / a b logo sub/c ; level 3: c, sub/, nohead (a.html again is level 2; deep.html is level 4)
    assert (links["level2"], links["level3"]) == (5, 3)
    assert links["rate"] == 1.0 and facts["failures"] == [] and facts["hosts"] == []
    assert json.loads(json.dumps(facts)) == facts          # stored with the run as JSON

    v6 = net["v6"]
    www6 = requests_to(v6, "www.qingxi.test")
    assert www6.count(("HEAD", "/a.html")) == 1                     # fetched over IPv6 once, by HEAD
    assert ("HEAD", "/nohead.html") in www6 and ("GET", "/nohead.html") in www6   # HEAD refused: GET
    assert not any(p == "/deep.html" for _, p in www6)
    assert ("HEAD", "/") not in www6                                 # the homepage fetch is reused

    out = check_site(crawl, ctx_for(crawl, facts))
    assert out.facts["verdict"] == "pass" and out.facts["rate"] == 1.0 and out.facts["target"] == 0.99
    assert [f.detail["kind"] for f in out.findings] == ["support"]
    summary = out.findings[0]
    assert summary.check == "ipv6" and summary.severity == "info"
    assert summary.detail["checked"] == 8 and summary.detail["failing_hosts"] == []
    assert "100%" in summary.message and "达标" in summary.message


def test_site_without_aaaa_fails_and_its_links_are_not_fetched_over_ipv6(net):
    port = net["port"]
    crawl = full_site("v4only.qingxi.test", port)
    facts = measure(crawl, resolver_for(net), timeout=5)

    assert facts["aaaa"] == []
    assert facts["homepage"]["v6"]["error_kind"] == "dns"
    assert facts["homepage"]["v4"]["status"] == 200
    links = facts["links"]
    # Only the two sub.qingxi.test links load over IPv6.
    assert (links["checked"], links["supported"]) == (8, 2)
    assert links["rate"] == pytest.approx(0.25)
    assert facts["hosts"] == [{
        "host": "v4only.qingxi.test", "cause": "no_aaaa", "count": 6, "aaaa": [], "levels": [2, 3],
        "error": facts["hosts"][0]["error"], "urls": facts["hosts"][0]["urls"],
        "pages": [f"http://v4only.qingxi.test:{port}/", f"http://v4only.qingxi.test:{port}/a.html",
                  f"http://v4only.qingxi.test:{port}/b.html"]}]
    assert requests_to(net["v6"], "v4only.qingxi.test") == []

    out = check_site(crawl, ctx_for(crawl, facts))
    assert out.facts["verdict"] == "fail"
    assert out.facts["reasons"] == ["no_aaaa_site", "rate_below_target"]
    kinds = [f.detail["kind"] for f in out.findings]
    assert kinds == ["support", "no_aaaa_site"]   # the site's own host is not repeated per host
    assert out.findings[0].severity == "error" and "25%" in out.findings[0].message


def test_site_with_aaaa_but_nothing_listening_on_ipv6_is_unreachable(net):
    port = net["only4"].port
    crawl = site("死链站", f"http://dead6.qingxi.test:{port}", {
        "/": (0, ["/a.html", "/b.html"]),
        "/a.html": (1, ["/c.html"]),
    })
    facts = measure(crawl, resolver_for(net), timeout=3, homepage_attempts=2)
    assert facts["aaaa"] == ["::1"]
    assert facts["homepage"]["v6"]["error_kind"] == "refused"
    assert facts["homepage"]["v6_successes"] == 0 and facts["homepage"]["v6_attempts"] == 2
    assert facts["homepage"]["v4"]["status"] == 200
    assert facts["links"]["rate"] == 0.0
    assert [(h["host"], h["cause"], h["count"]) for h in facts["hosts"]] == [
        ("dead6.qingxi.test", "unreachable", 3)]

    out = check_site(crawl, ctx_for(crawl, facts))
    assert out.facts["reasons"] == ["homepage_unreachable", "rate_below_target"]
    by_kind = {f.detail["kind"]: f for f in out.findings}
    assert by_kind["homepage_unreachable"].detail["error_kind"] == "refused"
    assert by_kind["unreachable"].detail["host"] == "dead6.qingxi.test"
    assert by_kind["unreachable"].url == "http://dead6.qingxi.test/"
    assert by_kind["unreachable"].detail["count"] == 3
    # homepage consistency cannot be judged without an IPv6 answer
    assert out.facts["homepage"]["comparable"] is False


def test_v4_only_subsite_linked_from_second_level_pages_lowers_the_rate(net):
    port = net["port"]
    base = f"http://mixed.qingxi.test:{port}"
    crawl = site("混合站", base, {
        "/": (0, ["/a.html", "/b.html", "/broken.html"]),
        "/a.html": (1, [f"http://v4only.qingxi.test:{port}/x.html", f"http://v4only.qingxi.test:{port}/y.html",
                        "/c.html"]),
        "/b.html": (1, ["/v6diff.html", "/gone.html"]),
    }, links={
        base + "/broken.html": LinkResult(url=base + "/broken.html", kind="http_4xx", status=404),
        base + "/c.html": LinkResult(url=base + "/c.html", status=200),
    })
    facts = measure(crawl, resolver_for(net), timeout=5)
    links = facts["links"]
    # level 2: a, b (broken.html is broken over IPv4 too: skipped);
    # level 3: x, y, c, v6diff (gone.html answers 404 over IPv4 as well: skipped)
    assert (links["level2"], links["level3"]) == (2, 4)
    assert (links["level2_supported"], links["level3_supported"]) == (2, 1)
    assert links["skipped_broken"] == 2
    assert links["rate"] == pytest.approx(0.5)
    assert [(h["host"], h["cause"], h["count"], h["levels"]) for h in facts["hosts"]] == [
        ("v4only.qingxi.test", "no_aaaa", 2, [3]),
        ("mixed.qingxi.test", "different_content", 1, [3]),
    ]
    assert [(f["url"], f["cause"], f["page"]) for f in facts["failures"]] == [
        (base + "/v6diff.html", "different_content", base + "/b.html"),
        (f"http://v4only.qingxi.test:{port}/x.html", "no_aaaa", base + "/a.html"),
        (f"http://v4only.qingxi.test:{port}/y.html", "no_aaaa", base + "/a.html"),
    ]
    mixed = requests_to(net["v4"], "mixed.qingxi.test") + requests_to(net["v6"], "mixed.qingxi.test")
    assert not any(p == "/broken.html" for _, p in mixed)              # known broken: not fetched
    assert ("GET", "/gone.html") in requests_to(net["v4"], "mixed.qingxi.test")  # told broken from IPv6-only

    out = check_site(crawl, ctx_for(crawl, facts))
    assert out.facts["verdict"] == "fail" and out.facts["reasons"] == ["rate_below_target"]
    assert [h["host"] for h in out.facts["hosts"]] == ["v4only.qingxi.test", "mixed.qingxi.test"]
    assert len(out.facts["pages"]) == 3
    host_findings = [f for f in out.findings if f.detail["kind"] in ("no_aaaa", "different_content")]
    assert {(f.detail["host"], f.detail["count"]) for f in host_findings} == {
        ("v4only.qingxi.test", 2), ("mixed.qingxi.test", 1)}
    assert all(f.severity == "error" for f in host_findings)
    v4only = next(f for f in host_findings if f.detail["host"] == "v4only.qingxi.test")
    assert v4only.detail["pages"] == [base + "/a.html"]


def test_malformed_links_are_left_to_the_link_check(net):
    port = net["port"]
    base = f"http://www.qingxi.test:{port}"
    crawl = site("坏链接", base, {"/": (0, ["/a.html", "http://[::1", "http://exa mple.com/", "http://:80/"])})
    facts = measure(crawl, resolver_for(net), timeout=5)
    assert facts["links"]["checked"] == 1 and facts["links"]["skipped_broken"] == 3
    assert facts["links"]["rate"] == 1.0 and facts["hosts"] == []
    out = check_site(crawl, ctx_for(crawl, facts))
    assert out.facts["verdict"] == "pass"


def test_a_link_rate_limited_over_ipv6_is_not_an_ipv6_failure(net):
    port = net["port"]
    base = f"http://www.qingxi.test:{port}"
    crawl = site("限流", base, {"/": (0, ["/a.html", "/busy6.html"])})
    facts = measure(crawl, resolver_for(net), timeout=5)
    assert facts["failures"] == [] and facts["links"]["skipped_broken"] == 1
    assert requests_to(net["v6"], "www.qingxi.test").count(("GET", "/busy6.html")) == 0   # 429: no GET after HEAD


def test_hostname_site_measured_through_overrides_only(net):
    port = net["port"]
    # No nameserver here: the sub-site gets a reserved .invalid name so nothing asks real DNS.
    crawl = full_site("www.example.gov.cn", port, sub="sub.qingxi.invalid")
    resolver = Resolver(overrides={"www.example.gov.cn": ["127.0.0.1", "::1"]})
    facts = measure(crawl, resolver, timeout=5)
    assert facts["aaaa"] == ["::1"] and facts["homepage"]["v6"]["status"] == 200
    assert [(h["host"], h["cause"]) for h in facts["hosts"]] == [("sub.qingxi.invalid", "no_aaaa")]
    assert facts["links"]["checked"] == 8 and facts["links"]["supported"] == 6
    assert resolver.queries == 0


def test_homepage_with_a_different_title_over_ipv6_is_inconsistent(net):
    port = net["port"]
    crawl = site("标题不一致", f"http://www.qingxi.test:{port}", {"/home6.html": (0, ["/a.html"])},
                 start="/home6.html")
    facts = measure(crawl, resolver_for(net), timeout=5)
    out = check_site(crawl, ctx_for(crawl, facts))
    assert out.facts["reasons"] == ["homepage_inconsistent"]
    finding = next(f for f in out.findings if f.detail["kind"] == "homepage_inconsistent")
    assert finding.detail["differences"] == [{"field": "title", "v4": "清溪区人民政府", "v6": "IPv6 测试页"}]
    assert finding.severity == "error"


# --- judgement alone ------------------------------------------------------------------------

def facts_with_rate(checked: int, supported: int) -> dict:
    home = {"status": 200, "error_kind": None, "error": "", "title": "首页", "size": 1000,
            "address": "::1", "final_url": "http://www.qingxi.test/", "elapsed_ms": 5}
    return {"measured": True, "host": "www.qingxi.test", "url": "http://www.qingxi.test/", "aaaa": ["::1"],
            "homepage": {"v6": home, "v4": {**home, "address": "127.0.0.1"}, "v6_attempts": 3,
                         "v6_successes": 3, "v6_success_rate": 1.0},
            "links": {"checked": checked, "supported": supported, "failed": checked - supported,
                      "rate": supported / checked if checked else None, "level2": checked, "level3": 0,
                      "level2_supported": supported, "level3_supported": 0},
            "hosts": [], "failures": []}


@pytest.mark.parametrize("checked, supported, verdict",
                         [(100, 99, "pass"), (100, 98, "fail"), (1000, 991, "pass")])
def test_rate_is_judged_against_the_99_percent_target(checked, supported, verdict):
    crawl = SiteCrawl(name="s", url="http://www.qingxi.test/")
    out = check_site(crawl, ctx_for(crawl, facts_with_rate(checked, supported)))
    assert out.facts["verdict"] == verdict
    assert out.findings[0].detail["rate"] == pytest.approx(supported / checked)


def test_target_comes_from_thresholds():
    crawl = SiteCrawl(name="s", url="http://www.qingxi.test/")
    out = check_site(crawl, ctx_for(crawl, facts_with_rate(100, 95), target_rate=0.9))
    assert out.facts["verdict"] == "pass" and out.facts["target"] == 0.9
    assert "目标 90%" in out.findings[0].message


def test_no_links_to_count_is_not_a_failure_by_itself():
    crawl = SiteCrawl(name="s", url="http://www.qingxi.test/")
    out = check_site(crawl, ctx_for(crawl, facts_with_rate(0, 0)))
    assert out.facts["verdict"] == "pass" and out.facts["rate"] is None
    assert "无可统计" in out.findings[0].message


def test_not_measured_gives_no_findings():
    crawl = SiteCrawl(name="s", url="http://www.qingxi.test/")
    out = check_site(crawl, CheckContext(site="s"))
    assert out.findings == [] and out.facts == {"measured": False}


def test_some_failed_homepage_attempts_are_a_warning():
    crawl = SiteCrawl(name="s", url="http://www.qingxi.test/")
    facts = facts_with_rate(10, 10)
    facts["homepage"].update(v6_successes=2, v6_success_rate=2 / 3)
    out = check_site(crawl, ctx_for(crawl, facts))
    assert out.facts["verdict"] == "pass" and out.facts["warnings"] == ["homepage_unstable"]
    assert any(f.detail["kind"] == "homepage_unstable" and f.severity == "warning" for f in out.findings)


def test_homepage_size_difference_beyond_tolerance_is_a_warning_only():
    v4 = {"status": 200, "error_kind": None, "title": "首页", "size": 1000}
    assert homepage_consistency(v4, {**v4, "size": 1080}, 0.1)["consistent"] is True
    result = homepage_consistency(v4, {**v4, "size": 1500}, 0.1)
    assert result["differences"] == [{"field": "size", "v4": 1000, "v6": 1500}]
    crawl = SiteCrawl(name="s", url="http://www.qingxi.test/")
    facts = facts_with_rate(10, 10)
    facts["homepage"]["v6"]["size"] = 1500
    out = check_site(crawl, ctx_for(crawl, facts))
    assert out.facts["verdict"] == "pass" and out.facts["warnings"] == ["homepage_inconsistent"]


def test_host_findings_have_stable_fingerprints_across_runs():
    crawl = SiteCrawl(name="s", url="http://www.qingxi.test/")
    facts = facts_with_rate(100, 90)
    facts["hosts"] = [{"host": "cdn.qingxi.test", "cause": "no_aaaa", "count": 10, "aaaa": [], "levels": [2],
                       "error": "", "urls": ["http://cdn.qingxi.test/a.js"], "pages": []}]
    first = check_site(crawl, ctx_for(crawl, facts)).findings
    facts["hosts"][0].update(count=7, urls=["http://cdn.qingxi.test/b.js"])
    second = check_site(crawl, ctx_for(crawl, facts)).findings

    def fp(fs):
        return {f.detail["kind"]: f.fingerprint for f in fs}

    assert fp(first)["no_aaaa"] == fp(second)["no_aaaa"]
    assert fp(first)["support"] == fp(second)["support"]


def test_link_levels_are_one_and_two_clicks_from_the_homepage():
    crawl = site("s", "http://h", {"/": (0, ["/a", "/b#x", "ftp://h/f"]), "/a": (1, ["/b", "/c"]),
                                   "/c": (2, ["/d"])})
    levels, referrers = link_levels(crawl)
    assert levels == {"http://h/a": 2, "http://h/b": 2, "http://h/c": 3}
    assert referrers["http://h/c"] == "http://h/a"


def test_page_title_decodes_gbk_pages():
    body = "<html><head><meta charset=gbk><title> 清溪区\n人民政府 </title>".encode("gbk")
    assert page_title(body) == "清溪区 人民政府"
    assert page_title(b"<p>no title</p>") == ""


def test_link_to_an_ipv4_address_fails_as_no_aaaa_with_its_own_message(net):
    port = net["port"]
    crawl = site("地址链接", f"http://www.qingxi.test:{port}",
                 {"/": (0, ["/a.html", f"http://127.0.0.1:{port}/b.html"])})
    facts = measure(crawl, resolver_for(net), timeout=5)
    assert [(h["host"], h["cause"]) for h in facts["hosts"]] == [("127.0.0.1", "no_aaaa")]
    assert "IPv4 address" in facts["failures"][0]["error"]
    findings = check_site(crawl, ctx_for(crawl, facts)).findings
    finding = next(f for f in findings if f.detail["kind"] == "no_aaaa")
    assert "直接使用 IPv4 地址" in finding.message
