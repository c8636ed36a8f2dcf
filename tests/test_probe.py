"""patrol probe against real servers on 127.0.0.1 and ::1: one answers at once, one answers only
after the probe gave up, one accepts connections and never answers, one answers 503.
Names come from resolver overrides, so nothing is looked up or leaves the machine."""
from __future__ import annotations

import argparse
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from sqlmodel import select

from common.config import ConfigError
from patrol.probe import availability, cmd_probe, probe_site, record
from common.resolver import Resolver
from store import Probe, Store

pytestmark = pytest.mark.integration

HOST = "www.qx-probe.test"
HOST6 = "v6.qx-probe.test"
SHORT = 0.5          # probe threshold in these tests, instead of the 15 s default


class _Handler(BaseHTTPRequestHandler):
    release: threading.Event

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/late":
            # Answers only once the test has seen the probe give up (or after 10 s at most).
            self.server.release.wait(10)  # type: ignore[attr-defined]
        status = 503 if self.path == "/down" else 200
        body = "<html><head><title>清溪区人民政府</title></head><body>首页</body></html>".encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass                       # the probe hung up first, as it should


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), _Handler)
        self.release = threading.Event()


class _Silent:
    """Accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def stop(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture(scope="module")
def servers():
    v4 = _Server("127.0.0.1")
    threading.Thread(target=v4.serve_forever, daemon=True).start()
    v6 = None
    if socket.has_ipv6:
        try:
            v6 = _Server("::1")
            threading.Thread(target=v6.serve_forever, daemon=True).start()
        except OSError:
            v6 = None
    silent = _Silent()
    yield v4, v6, silent
    for server in (v4, v6):
        if server is not None:
            server.release.set()
            server.shutdown()
            server.server_close()
    silent.stop()


@pytest.fixture(scope="module")
def resolver():
    return Resolver(overrides={HOST: ["127.0.0.1"], HOST6: ["::1"]})


def test_homepage_that_answers_in_time_is_a_successful_probe(servers, resolver):
    v4, _, _ = servers
    probe = probe_site("清溪区人民政府", f"http://{HOST}:{v4.server_port}/", resolver=resolver, timeout=SHORT)
    assert probe.ok is True and probe.status == 200 and probe.error == ""
    assert probe.elapsed_ms is not None and probe.at.tzinfo is not None


def test_homepage_answering_after_the_threshold_fails(servers, resolver):
    v4, _, _ = servers
    v4.release.clear()
    try:
        probe = probe_site("清溪区人民政府", f"http://{HOST}:{v4.server_port}/late", resolver=resolver,
                           timeout=SHORT)
    finally:
        v4.release.set()
    assert probe.ok is False
    assert probe.status is None
    assert probe.error.startswith("timeout")


def test_server_that_accepts_and_never_answers_fails(servers, resolver):
    _, _, silent = servers
    probe = probe_site("清溪区人民政府", f"http://{HOST}:{silent.port}/", resolver=resolver, timeout=SHORT)
    assert probe.ok is False and probe.error.startswith("timeout")


def test_error_answer_fails(servers, resolver):
    v4, _, _ = servers
    probe = probe_site("清溪区人民政府", f"http://{HOST}:{v4.server_port}/down", resolver=resolver,
                       timeout=SHORT)
    assert probe.ok is False and probe.status == 503 and probe.error == "HTTP 503"


def test_refused_connection_fails():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]          # bound, never listening: connections are refused
        probe = probe_site("x", f"http://{HOST}:{port}/", resolver=Resolver(overrides={HOST: ["127.0.0.1"]}),
                           timeout=SHORT)
    assert probe.ok is False and probe.error.startswith("refused")


def _write_config(tmp_path, sites):
    cfg = {
        "database": "sqlite:///probe.db",
        "sites": sites,
        "resolver": {"overrides": {HOST: ["127.0.0.1"], HOST6: ["::1"]}},
        "thresholds": {"site_unreachable": {"probe_timeout_s": SHORT}},
    }
    path = tmp_path / "patrol.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def test_patrol_probe_records_one_row_per_site(tmp_path, servers, capsys):
    v4, v6, silent = servers
    sites = [
        {"name": "正常站点", "url": f"http://{HOST}:{v4.server_port}/"},
        {"name": "迟缓站点", "url": f"http://{HOST}:{v4.server_port}/late"},
        {"name": "无响应站点", "url": f"http://{HOST}:{silent.port}/"},
        {"name": "出错站点", "url": f"http://{HOST}:{v4.server_port}/down"},
    ]
    if v6 is not None:
        sites.append({"name": "IPv6站点", "url": f"http://{HOST6}:{v6.server_port}/"})
    path = _write_config(tmp_path, sites)
    v4.release.clear()
    try:
        assert cmd_probe(argparse.Namespace(config=str(path), site=None)) == 0
    finally:
        v4.release.set()
    store = Store("sqlite:///probe.db", base_dir=tmp_path)
    with store.session() as s:
        rows = {p.site: p for p in s.exec(select(Probe)).all()}
    assert set(rows) == {s["name"] for s in sites}
    assert rows["正常站点"].ok and rows["正常站点"].status == 200
    assert not rows["迟缓站点"].ok and rows["迟缓站点"].error.startswith("timeout")
    assert not rows["无响应站点"].ok
    assert not rows["出错站点"].ok and rows["出错站点"].status == 503
    if v6 is not None:
        assert rows["IPv6站点"].ok
    out = capsys.readouterr().out
    assert "FAIL 无响应站点" in out and "ok   正常站点" in out


def test_patrol_probe_only_the_named_site(tmp_path, servers):
    v4, _, _ = servers
    path = _write_config(tmp_path, [{"name": "甲", "url": f"http://{HOST}:{v4.server_port}/"},
                                    {"name": "乙", "url": f"http://{HOST}:{v4.server_port}/down"}])
    assert cmd_probe(argparse.Namespace(config=str(path), site=["甲"])) == 0
    with Store("sqlite:///probe.db", base_dir=tmp_path).session() as s:
        assert [p.site for p in s.exec(select(Probe)).all()] == ["甲"]
    with pytest.raises(ConfigError, match="no site named '丙'"):
        cmd_probe(argparse.Namespace(config=str(path), site=["丙"]))


def test_availability_reads_the_last_week_of_probes_from_the_store(tmp_path):
    store = Store("sqlite:///avail.db", base_dir=tmp_path)
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    probes = []
    for hour in range(7 * 24):                      # hourly for a week: 168 probes
        at = now - timedelta(hours=hour)
        probes.append(Probe(site="清溪区人民政府", url="http://www.qx.gov.cn/", at=at, ok=hour % 20 != 0,
                            status=200 if hour % 20 else None, elapsed_ms=300,
                            error="" if hour % 20 else "timeout: no answer within 15 s"))
    probes.append(Probe(site="清溪区人民政府", at=now - timedelta(days=9), ok=False))   # outside the week
    probes.append(Probe(site="别的站点", at=now - timedelta(hours=1), ok=False))
    record(store, probes)
    facts = availability(store, "清溪区人民政府", now, {"site_unreachable": {"min_probes_per_day": 25}},
                         url="http://www.qx.gov.cn/")
    assert facts["probes"] == 168
    assert facts["failures"] == 9                   # hours 0, 20, ..., 160
    assert facts["failure_rate"] == pytest.approx(9 / 168)
    assert facts["too_few"] is True                 # 24 a day where 25 are asked for
    assert facts["veto"] == []
    assert [f["severity"] for f in facts["findings"]] == ["warning"]
    assert "探测次数不足" in facts["findings"][0]["message"]
    enough = availability(store, "清溪区人民政府", now, {"site_unreachable": {"min_probes_per_day": 20}})
    assert enough["too_few"] is False
    assert enough["veto"] == ["site_unreachable"]
    assert enough["findings"][0]["severity"] == "veto"
