"""patrol.netfetch against real servers on 127.0.0.1 and ::1 (plain and TLS), names from overrides
and a dnslib server; nothing leaves the machine."""
from __future__ import annotations

import socket
import ssl
import threading

import pytest
from dnsserver import DnsServer, HttpServer, Route, dual_stack, make_tls_files, page

from patrol.netfetch import fetch
from common.resolver import Resolver

pytestmark = pytest.mark.integration

NAME = "www.qingxi.test"


def _redirect(to: str, code: int = 302) -> Route:
    return Route(code, "", {"Location": to})


ROUTES = {
    "/": page("清溪区人民政府", "首页"),
    "/big": Route(200, b"x" * 5000),
    "/r1": _redirect("/r2", 301),
    "/r2": _redirect("/final"),
    "/final": page("终点"),
    "/loop-a": _redirect("/loop-b"),
    "/loop-b": _redirect("/loop-a"),
    "/chain0": _redirect("/chain1"), "/chain1": _redirect("/chain2"), "/chain2": _redirect("/chain3"),
    "/chain3": page("chain end"),
    "/noloc": Route(302, "moved somewhere"),
    "/hang": Route(hang=True),
    "/trickle": Route(200, b"y" * 200, trickle=0.05),
    "/nohead": Route(200, "only GET", head_status=405),
    "/ftp": _redirect("ftp://files.qingxi.test/x"),
    "/echo-ua": lambda h: Route(200, h.headers.get("User-Agent", "")),
    "/%E6%96%B0%E9%97%BB": page("新闻"),
    # Raw UTF-8 bytes in the header, as some servers send them.
    "/to-chinese": Route(302, "", {"Location": "/新闻".encode().decode("latin-1")}),
    "/to-broken": _redirect("http://[::1/x"),
}


@pytest.fixture(scope="module")
def servers():
    v4, v6 = dual_stack(ROUTES, {**ROUTES, "/": page("清溪区人民政府 IPv6", "首页")})
    yield v4, v6
    v4.stop()
    v6.stop()


@pytest.fixture(scope="module")
def resolver():
    return Resolver(overrides={NAME: ["127.0.0.1", "::1"], "v4.qingxi.test": ["127.0.0.1"]})


def test_get_over_ipv6_connects_to_the_aaaa_with_the_site_host_header(servers, resolver):
    v4, v6 = servers
    result = fetch(v4.url("/", NAME), resolver=resolver, family=socket.AF_INET6)
    assert result.error_kind is None and result.status == 200
    assert result.address == "::1"
    assert b"IPv6" in result.body
    assert ("GET", "/", f"{NAME}:{v4.port}") in v6.requests
    assert result.headers["content-type"].startswith("text/html")
    assert result.ok


def test_get_over_ipv4_connects_to_the_a_record(servers, resolver):
    v4, _ = servers
    result = fetch(v4.url("/", NAME), resolver=resolver, family=socket.AF_INET)
    assert result.address == "127.0.0.1"
    assert b"IPv6" not in result.body and result.status == 200


def test_no_family_prefers_ipv4(servers, resolver):
    v4, _ = servers
    assert fetch(v4.url("/", NAME), resolver=resolver).address == "127.0.0.1"


def test_host_without_aaaa_is_a_dns_failure_over_ipv6(servers, resolver):
    v4, _ = servers
    result = fetch(v4.url("/", "v4.qingxi.test"), resolver=resolver, family=socket.AF_INET6)
    assert result.error_kind == "dns" and result.status is None
    assert "AAAA" in result.error


def test_nothing_listening_is_refused():
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        result = fetch(f"http://[::1]:{port}/", family=socket.AF_INET6)
    assert result.error_kind == "refused"
    assert result.address == "::1"


def test_second_address_is_tried_when_the_first_refuses(servers):
    v4, _ = servers
    r = Resolver(overrides={"two.qingxi.test": ["127.0.0.2", "127.0.0.1"]})
    # Nothing listens on 127.0.0.2 at that port: refused, so the next address is tried.
    result = fetch(v4.url("/", "two.qingxi.test"), resolver=r)
    assert result.status == 200 and result.address == "127.0.0.1"


def test_redirects_are_followed_and_recorded(servers, resolver):
    v4, _ = servers
    result = fetch(v4.url("/r1", NAME), resolver=resolver)
    assert result.status == 200
    assert result.redirects == [v4.url("/r2", NAME), v4.url("/final", NAME)]
    assert result.final_url == v4.url("/final", NAME)


def test_redirect_loop_is_reported(servers, resolver):
    v4, _ = servers
    result = fetch(v4.url("/loop-a", NAME), resolver=resolver)
    assert result.error_kind == "redirect_loop"
    assert result.status == 302


def test_too_many_redirects(servers, resolver):
    v4, _ = servers
    result = fetch(v4.url("/chain0", NAME), resolver=resolver, max_redirects=2)
    assert result.error_kind == "too_many_redirects"
    assert len(result.redirects) == 2
    assert fetch(v4.url("/chain0", NAME), resolver=resolver, max_redirects=3).status == 200


def test_redirect_not_followed_when_told(servers, resolver):
    v4, _ = servers
    result = fetch(v4.url("/r1", NAME), resolver=resolver, follow_redirects=False)
    assert result.status == 301 and result.redirects == [] and result.error_kind is None
    assert result.headers["location"] == "/r2"


def test_redirect_without_location_is_the_answer(servers, resolver):
    v4, _ = servers
    result = fetch(v4.url("/noloc", NAME), resolver=resolver)
    assert result.status == 302 and result.error_kind is None


def test_redirect_to_ftp_is_invalid_url(servers, resolver):
    v4, _ = servers
    assert fetch(v4.url("/ftp", NAME), resolver=resolver).error_kind == "invalid_url"


def test_server_that_never_answers_times_out(servers, resolver):
    v4, _ = servers
    result = fetch(v4.url("/hang", NAME), resolver=resolver, timeout=0.5)
    assert result.error_kind == "timeout" and result.status is None


def test_trickling_body_is_cut_at_the_whole_exchange_deadline(servers, resolver):
    v4, _ = servers
    # Each byte comes well within the timeout; the whole body (200 x 0.05 s) does not.
    result = fetch(v4.url("/trickle", NAME), resolver=resolver, timeout=0.6)
    assert result.error_kind == "timeout"


def test_silent_listener_times_out_on_connect_or_read():
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        s.listen(0)  # accepts into the backlog and never reads
        result = fetch(f"http://[::1]:{s.getsockname()[1]}/", timeout=0.4)
    assert result.error_kind == "timeout"


def test_head_and_body_limit(servers, resolver):
    v4, _ = servers
    head = fetch(v4.url("/big", NAME), resolver=resolver, method="HEAD")
    assert head.status == 200 and head.body == b"" and head.headers["content-length"] == "5000"
    part = fetch(v4.url("/big", NAME), resolver=resolver, max_body=1000)
    assert len(part.body) == 1000 and part.truncated
    whole = fetch(v4.url("/big", NAME), resolver=resolver)
    assert len(whole.body) == 5000 and not whole.truncated


def test_head_refused_keeps_its_status(servers, resolver):
    v4, _ = servers
    assert fetch(v4.url("/nohead", NAME), resolver=resolver, method="HEAD").status == 405


def test_user_agent_and_extra_headers(servers, resolver):
    v4, _ = servers
    agent = fetch(v4.url("/echo-ua", NAME), resolver=resolver, user_agent="patrol-test/1")
    assert agent.body == b"patrol-test/1"
    assert fetch(v4.url("/echo-ua", NAME), resolver=resolver,
                 headers={"User-Agent": "custom"}).body == b"custom"


def test_non_ascii_path_is_sent_percent_encoded(servers, resolver):
    v4, _ = servers
    result = fetch(v4.url("/新闻", NAME), resolver=resolver)
    assert result.status == 200 and "新闻".encode() in result.body


def test_http_404_is_an_answer_not_an_error(servers, resolver):
    v4, _ = servers
    result = fetch(v4.url("/missing", NAME), resolver=resolver)
    assert result.status == 404 and result.error_kind is None and not result.ok


@pytest.mark.parametrize("url", ["ftp://www.qingxi.test/", "http:///nohost", "http://[::1/", "not a url",
                                 "http://www.qingxi.test:99999/"])
def test_invalid_urls(url):
    assert fetch(url).error_kind == "invalid_url"


def test_invalid_tld_is_dns_without_a_query():
    result = fetch("http://www.nosuch.invalid/")
    assert result.error_kind == "dns" and "NXDOMAIN" in result.error


def test_name_from_a_dns_server_is_fetched(servers):
    v4, _ = servers
    with DnsServer({"dns.qingxi.test": ["::1"]}) as dns:
        r = Resolver(nameservers=[dns.nameserver])
        result = fetch(v4.url("/", "dns.qingxi.test"), resolver=r)
    assert result.status == 200 and result.address == "::1"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return make_tls_files(tmp_path_factory.mktemp("tls"), [NAME])


def test_https_over_ipv6_sends_sni_and_checks_the_certificate_name(tls_files):
    ca, cert, key = tls_files
    context = ssl.create_default_context(cafile=ca)
    with HttpServer({"/": page("安全首页")}, host="::1", tls=(cert, key)) as server:
        r = Resolver(overrides={NAME: ["::1"]})
        ok = fetch(server.url("/", NAME), resolver=r, family=socket.AF_INET6, ssl_context=context)
        assert ok.status == 200 and "安全首页".encode() in ok.body
        assert server.sni[-1] == NAME
        # Same server, reached by address: the certificate does not name it.
        bad_name = fetch(server.url("/"), ssl_context=context)
        assert bad_name.error_kind == "tls"
        # Default trust store: the test CA is unknown.
        untrusted = fetch(server.url("/", NAME), resolver=r)
        assert untrusted.error_kind == "tls" and "certificate" in untrusted.error
        assert fetch(server.url("/", NAME), resolver=r, verify_tls=False).status == 200


def test_plain_http_to_a_tls_port_is_not_a_crash(tls_files):
    _, cert, key = tls_files
    with HttpServer({"/": page("x")}, host="127.0.0.1", tls=(cert, key)) as server:
        result = fetch(f"http://127.0.0.1:{server.port}/", timeout=2)
    assert result.error_kind in ("connection", "timeout")


def test_many_parallel_fetches_share_one_resolver(servers, resolver):
    v4, _ = servers
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        fetch(v4.url("/", NAME), resolver=resolver, family=socket.AF_INET6))) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in results] == [200] * 10


def test_host_with_a_space_is_invalid_url_without_a_lookup():
    r = Resolver(nameservers=["127.0.0.1:9"])
    result = fetch("http://exa mple.com/", resolver=r)
    assert result.error_kind == "invalid_url" and r.queries == 0


def test_redirect_to_a_utf8_location_is_followed(servers, resolver):
    v4, _ = servers
    result = fetch(v4.url("/to-chinese", NAME), resolver=resolver)
    # Followed as a browser asks for it: the path percent-encoded as UTF-8.
    assert result.status == 200 and result.final_url == v4.url("/%E6%96%B0%E9%97%BB", NAME)


def test_redirect_to_a_malformed_location_is_invalid_url(servers, resolver):
    v4, _ = servers
    result = fetch(v4.url("/to-broken", NAME), resolver=resolver)
    assert result.error_kind == "invalid_url" and result.status == 302
