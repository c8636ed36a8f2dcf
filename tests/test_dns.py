"""crawler.dns.PatrolResolver in a real Scrapy crawl (one crawl per subprocess: the Twisted
reactor cannot start twice in one process), against local servers reached through test
hostnames answered by a dnslib server and through overrides."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from dnsserver import DnsServer, dual_stack, page

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent

CRAWL_SCRIPT = textwrap.dedent('''
    import json, sys
    from scrapy import Request, Spider
    from scrapy.crawler import CrawlerProcess

    job = json.loads(sys.argv[1])
    results = {}

    class Probe(Spider):
        name = "probe"

        async def start(self):
            for url in job["urls"]:
                yield Request(url, callback=self.got, errback=self.failed, dont_filter=True,
                              cb_kwargs={"url": url})

        def got(self, response, url):
            results[url] = {"status": response.status, "ip": str(response.ip_address),
                            "title": response.css("title::text").get()}

        def failed(self, failure):
            url = failure.request.cb_kwargs["url"]
            results[url] = {"error": f"{failure.type.__module__}.{failure.type.__name__}"}

    process = CrawlerProcess(settings={
        job["setting"]: "crawler.dns.PatrolResolver",
        "PATROL_RESOLVER": job["resolver"],
        "ROBOTSTXT_OBEY": False, "RETRY_ENABLED": False, "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "ERROR", "DOWNLOAD_TIMEOUT": 10,
    })
    process.crawl(Probe)
    process.start()
    print(json.dumps(results))
''')


def run_crawl(tmp_path: Path, urls: list[str], resolver: dict, setting: str = "TWISTED_DNS_RESOLVER") -> dict:
    script = tmp_path / "crawl.py"
    script.write_text(CRAWL_SCRIPT, encoding="utf-8")
    job = json.dumps({"urls": urls, "resolver": resolver, "setting": setting})
    proc = subprocess.run([sys.executable, str(script), job], check=False, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def sites():
    v4, v6 = dual_stack({"/": page("首页 IPv4")}, {"/": page("首页 IPv6")})
    yield v4
    v4.stop()
    v6.stop()


@pytest.fixture(scope="module")
def dns():
    records = {"www.qingxi.test": ["127.0.0.1", "::1"], "v6only.qingxi.test": ["::1"],
               "v4only.qingxi.test": ["127.0.0.1"]}
    with DnsServer(records) as server:
        yield server


def test_crawl_reaches_hosts_through_nameserver_overrides_and_ipv6(tmp_path, sites, dns):
    port = sites.port
    urls = {
        "dns": f"http://www.qingxi.test:{port}/",
        "v6only": f"http://v6only.qingxi.test:{port}/",
        "v4only": f"http://v4only.qingxi.test:{port}/",
        "override": f"http://over.qingxi.test:{port}/",
        "override6": f"http://over6.qingxi.test:{port}/",
        "nxdomain": f"http://nosuch.qingxi.test:{port}/",
        "invalid": "http://www.nosuch.invalid/",
    }
    resolver = {"nameservers": [dns.nameserver], "timeout": 3,
                "overrides": {"over.qingxi.test": ["127.0.0.1"], "over6.qingxi.test": ["::1"]}}
    results = run_crawl(tmp_path, list(urls.values()), resolver)

    assert results[urls["dns"]]["status"] == 200
    assert results[urls["v6only"]] == {"status": 200, "ip": "::1", "title": "首页 IPv6"}
    assert results[urls["v4only"]] == {"status": 200, "ip": "127.0.0.1", "title": "首页 IPv4"}
    assert results[urls["override"]]["title"] == "首页 IPv4"
    assert results[urls["override6"]]["title"] == "首页 IPv6"
    # Scrapy >= 2.19 wraps Twisted's DNSLookupError in its own CannotResolveHostError.
    lookup_errors = {"twisted.internet.error.DNSLookupError", "scrapy.exceptions.CannotResolveHostError"}
    assert results[urls["nxdomain"]]["error"] in lookup_errors
    assert results[urls["invalid"]]["error"] in lookup_errors
    # The names went to our server; the overridden and .invalid ones were never asked.
    assert dns.count("v6only.qingxi.test", "AAAA") == 1
    assert dns.count("over.qingxi.test") == 0
    assert dns.count("www.nosuch.invalid") == 0


def test_older_dns_resolver_setting_and_override_only_config(tmp_path, sites):
    url = f"http://www.example.gov.cn:{sites.port}/"
    results = run_crawl(tmp_path, [url], {"overrides": {"www.example.gov.cn": ["::1"]}},
                        setting="DNS_RESOLVER")
    assert results[url]["title"] == "首页 IPv6"
