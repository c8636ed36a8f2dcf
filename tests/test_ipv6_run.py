"""`patrol run` on a site named by a hostname: the crawl and the IPv6 section go through the
configured resolver, with static overrides or with a nameserver (a local DNS server)."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dnsserver import DnsServer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
HOST = "www.qingxi.test"


def run_with_resolver(tmp: Path, port: int, resolver: dict) -> tuple[dict, dict]:
    cfg = {"database": "sqlite:///patrol.db",
           "sites": [{"name": "清溪区人民政府", "url": f"http://{HOST}:{port}/", "max_pages": 40}],
           "resolver": resolver,
           "crawl": {"fast": True, "timeout": 4, "retries": 0}}
    path = tmp / "patrol.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "patrol.cli", "run", "--config", str(path), "--quiet",
                           "--out", str(tmp / "out"), "--checks", "links,ipv6"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    findings = json.loads((tmp / "out" / "findings.json").read_text(encoding="utf-8"))
    with sqlite3.connect(tmp / "patrol.db") as db:
        stats = json.loads(db.execute("select stats from siteresult").fetchone()[0])
    return findings, stats["ipv6"]


def assert_measured_through_hostname(findings: dict, ipv6: dict) -> None:
    assert findings["sites"][0]["pages"] > 10            # the crawl reached the site by its name
    assert ipv6["measured"] and ipv6["host"] == HOST
    assert ipv6["aaaa"] == ["::1"]
    assert ipv6["homepage_v6_status"] == 200
    assert ipv6["checked"] > 10
    # The only links that cannot load over IPv6 are the two the homepage writes with an IPv4
    # address: the external site's (友情链接) and the 开办者标识's verification page.
    assert {h["host"] for h in ipv6["failing_hosts"]} <= {"127.0.0.1"}
    assert ipv6["supported"] >= ipv6["checked"] - 2


def test_hostname_site_through_static_overrides(sample_site, tmp_path):
    if not sample_site.base6:
        pytest.skip("no IPv6 loopback")
    findings, ipv6 = run_with_resolver(tmp_path, sample_site.port,
                                       {"overrides": {HOST: ["127.0.0.1", "::1"]}})
    assert_measured_through_hostname(findings, ipv6)


def test_hostname_site_through_a_nameserver(sample_site, tmp_path):
    if not sample_site.base6:
        pytest.skip("no IPv6 loopback")
    with DnsServer({HOST: ["127.0.0.1", "::1"]}) as dns:
        findings, ipv6 = run_with_resolver(tmp_path, sample_site.port, {"nameservers": [dns.nameserver]})
        assert dns.count(HOST) > 0
    assert_measured_through_hostname(findings, ipv6)
