"""common.resolver against a real DNS server on loopback (dnslib); no real names are queried."""
from __future__ import annotations

import re
import socket
import threading
from pathlib import Path

import pytest
from dnsserver import DnsServer

from common.config import config_from_dict
from common.resolver import ResolveError, Resolver, parse_nameserver

pytestmark = pytest.mark.integration

RECORDS = {
    "www.qingxi.test": ["127.0.0.1", "::1"],
    "v4only.qingxi.test": ["127.0.0.1"],
    "v6only.qingxi.test": ["::1"],
    "empty.qingxi.test": [],
}


@pytest.fixture(scope="module")
def dns():
    with DnsServer(RECORDS, silent=["slow.qingxi.test"]) as server:
        yield server


@pytest.fixture(scope="module")
def dns6():
    with DnsServer(RECORDS, host="::1") as server:
        yield server


def test_nameserver_answers_a_and_aaaa_ipv4_first(dns):
    r = Resolver(nameservers=[dns.nameserver])
    assert r.resolve("www.qingxi.test") == ["127.0.0.1", "::1"]
    assert r.a("www.qingxi.test") == ["127.0.0.1"]
    assert r.aaaa("www.qingxi.test") == ["::1"]


def test_family_selects_one_record_type(dns):
    r = Resolver(nameservers=[dns.nameserver])
    assert r.resolve("www.qingxi.test", socket.AF_INET6) == ["::1"]
    assert r.resolve("www.qingxi.test", socket.AF_INET) == ["127.0.0.1"]


def test_host_without_aaaa_has_empty_aaaa_and_resolve_v6_fails_no_address(dns):
    r = Resolver(nameservers=[dns.nameserver])
    assert r.aaaa("v4only.qingxi.test") == []
    with pytest.raises(ResolveError) as err:
        r.resolve("v4only.qingxi.test", socket.AF_INET6)
    assert err.value.kind == "dns"
    assert err.value.reason == "no_address"
    assert "AAAA" in err.value.message


def test_unknown_name_is_nxdomain(dns):
    r = Resolver(nameservers=[dns.nameserver])
    assert r.aaaa("nosuch.qingxi.test") == []
    with pytest.raises(ResolveError) as err:
        r.resolve("nosuch.qingxi.test")
    assert err.value.reason == "nxdomain"


def test_name_with_no_records_is_no_address(dns):
    r = Resolver(nameservers=[dns.nameserver])
    with pytest.raises(ResolveError) as err:
        r.resolve("empty.qingxi.test")
    assert err.value.reason == "no_address"


def test_answers_are_cached_per_instance(dns):
    r = Resolver(nameservers=[dns.nameserver])
    before = dns.count("v6only.qingxi.test", "AAAA")
    for _ in range(5):
        assert r.aaaa("v6only.qingxi.test") == ["::1"]
    assert r.resolve("V6ONLY.qingxi.test.", socket.AF_INET6) == ["::1"]
    assert dns.count("v6only.qingxi.test", "AAAA") - before == 1
    # A fresh instance (the next run) asks again.
    Resolver(nameservers=[dns.nameserver]).aaaa("v6only.qingxi.test")
    assert dns.count("v6only.qingxi.test", "AAAA") - before == 2


def test_concurrent_lookups_of_one_name_send_one_query(dns):
    r = Resolver(nameservers=[dns.nameserver])
    results: list[list[str]] = []
    threads = [threading.Thread(target=lambda: results.append(r.a("v4only.qingxi.test"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [["127.0.0.1"]] * 8
    assert r.queries == 1


def test_silent_nameserver_times_out_as_dns_error(dns):
    r = Resolver(nameservers=[dns.nameserver], timeout=0.5)
    with pytest.raises(ResolveError) as err:
        r.resolve("slow.qingxi.test", socket.AF_INET)
    assert err.value.reason == "timeout"
    with pytest.raises(ResolveError):
        r.aaaa("slow.qingxi.test")  # a failed lookup is not "no AAAA": it raises


def test_ipv6_nameserver_in_bracket_form(dns6):
    r = Resolver(nameservers=[dns6.nameserver])
    assert dns6.nameserver.startswith("[::1]:")
    assert r.resolve("www.qingxi.test") == ["127.0.0.1", "::1"]


def test_overrides_win_over_nameservers(dns):
    r = Resolver(nameservers=[dns.nameserver], overrides={"www.qingxi.test": ["10.9.8.7"]})
    before = len(dns.queries)
    assert r.resolve("www.qingxi.test") == ["10.9.8.7"]
    assert r.aaaa("www.qingxi.test") == []
    assert len(dns.queries) == before


def test_override_without_nameservers_needs_no_dns():
    r = Resolver(overrides={"WWW.Example.gov.cn.": ["::1", "127.0.0.1"]})
    assert r.resolve("www.example.gov.cn") == ["127.0.0.1", "::1"]
    assert r.queries == 0


def test_literal_addresses_resolve_to_themselves():
    r = Resolver(nameservers=["127.0.0.1:9"])  # never asked
    assert r.resolve("127.0.0.1") == ["127.0.0.1"]
    assert r.resolve("[::1]") == ["::1"]
    assert r.aaaa("127.0.0.1") == []
    with pytest.raises(ResolveError):
        r.resolve("127.0.0.1", socket.AF_INET6)
    assert r.queries == 0


def test_localhost_is_loopback_without_a_query():
    r = Resolver(nameservers=["127.0.0.1:9"])
    assert r.resolve("localhost") == ["127.0.0.1", "::1"]
    assert r.aaaa("site.localhost") == ["::1"]
    assert r.queries == 0


def test_invalid_tld_is_nxdomain_without_a_query(dns):
    r = Resolver(nameservers=[dns.nameserver])
    before = len(dns.queries)
    with pytest.raises(ResolveError) as err:
        r.resolve("www.nosuch.invalid")
    assert err.value.reason == "nxdomain"
    assert len(dns.queries) == before
    assert Resolver().aaaa("x.invalid") == []


def test_system_resolver_reads_hosts_file():
    hosts = Path("/etc/hosts").read_text(encoding="utf-8", errors="replace").split()
    name = next((n for n in ("vm", socket.gethostname()) if n in hosts and n != "localhost"), None)
    if name is None:
        pytest.skip("no name in /etc/hosts to resolve without DNS")
    r = Resolver()
    assert r.a(name)
    assert r.queries == 1


@pytest.mark.parametrize("spec, parsed", [
    ("10.0.0.1", ("10.0.0.1", 53)),
    ("10.0.0.1:5353", ("10.0.0.1", 5353)),
    ("::1", ("::1", 53)),
    ("[::1]:5353", ("::1", 5353)),
    ("[2001:db8::1]", ("2001:db8::1", 53)),
])
def test_nameserver_forms(spec, parsed):
    assert parse_nameserver(spec) == parsed


@pytest.mark.parametrize("spec", ["ns1.example.gov.cn", "10.0.0.1:99999", "[::1", "[::1]x"])
def test_bad_nameserver_is_a_clear_error(spec):
    with pytest.raises(ValueError, match="nameserver"):
        parse_nameserver(spec)


def test_bad_override_address_is_a_clear_error():
    with pytest.raises(ValueError, match="not an IP address"):
        Resolver(overrides={"www.qingxi.test": ["www.other.test"]})


def test_from_config_builds_the_configured_resolver(dns):
    cfg = config_from_dict({"resolver": {"nameservers": [dns.nameserver],
                                         "overrides": {"over.qingxi.test": ["::1"]}, "timeout": 2}})
    r = Resolver.from_config(cfg.resolver)
    assert r.timeout == 2.0
    assert r.resolve("v4only.qingxi.test") == ["127.0.0.1"]
    assert r.resolve("over.qingxi.test") == ["::1"]
    assert Resolver(**{k: v for k, v in r.to_settings().items()}).nameservers == r.nameservers


@pytest.mark.parametrize("resolver, message", [
    ({"nameservers": ["ns1.example.gov.cn"]}, "resolver.nameservers[0]: nameserver 'ns1.example.gov.cn'"),
    ({"overrides": {"www.qingxi.test": ["localhost"]}}, "resolver.overrides.www.qingxi.test: 'localhost'"),
    ({"overrides": {"www.qingxi.test": []}}, "give at least one address"),
    ({"timeout": 0}, "resolver.timeout: must be positive"),
])
def test_config_rejects_bad_resolver_settings(resolver, message):
    from common.config import ConfigError
    with pytest.raises(ConfigError, match=re.escape(message)):
        config_from_dict({"resolver": resolver}, source="patrol.yaml")


def test_chromium_rules_map_hosts_to_our_answers(dns):
    r = Resolver(nameservers=[dns.nameserver], overrides={"over.qingxi.test": ["::1"]})
    rules = r.host_resolver_rules(["over.qingxi.test", "v4only.qingxi.test", "nosuch.qingxi.test",
                                   "127.0.0.1"])
    assert rules == "MAP over.qingxi.test [::1], MAP v4only.qingxi.test 127.0.0.1"


@pytest.mark.parametrize("name", ["exa mple.com", "a..b", "-x.test", "x" * 64 + ".test"])
def test_malformed_names_are_never_sent_to_a_nameserver(dns, name):
    r = Resolver(nameservers=[dns.nameserver])
    before = len(dns.queries)
    with pytest.raises(ResolveError):
        r.resolve(name)
    assert len(dns.queries) == before
