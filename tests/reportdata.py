"""Store contents for the report, mail, quota and rectification tests, built without crawling.

Two inspections of a small area: run 1 (October) and run 2 (November), two websites and one
new-media account, two departments.  Pages live on a local HTTP server on 127.0.0.1 so the
report can take real screenshots.
"""
from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from checks.model import Finding, LinkRef, LinkResult, PageSnapshot, SiteCrawl
from common.config import Config, config_from_dict
from store import Run, Store

BASE_SCORE_GOV = 88.5          # the score stored for 清溪区人民政府 in every run
EVIL_TITLE = "<script>window.__pwned = 1</script>通知公告"
TYPO_TEXT = "为进一步加强政务公开工作，现将有关事项通知如下：各单位要认真落实，切实加强监管力度。"

PAGES = {
    "/": "<html><head><title>清溪区人民政府</title></head><body><h1>清溪区人民政府</h1>"
         "<a href='/files/plan.pdf'>年度计划</a><a href='/news/'>要闻</a></body></html>",
    "/news/a.html": f"<html><head><title>通知</title></head><body><p>{TYPO_TEXT}</p></body></html>",
    "/news/b.html": "<html><body><p>清溪区人民政府网站</p></body></html>",
    "/edu/": "<html><head><title>教育局</title></head><body><p>中华人民共合国教育法</p></body></html>",
    "/mp/qingxi": "<html><head><title>清溪发布</title></head><body><p>最新文章 2026-10-01</p></body></html>",
}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGES.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        data = body.replace("加强监管", "加强监菅").encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class PageServer:
    def __init__(self) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> PageServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Area:
    cfg: Config
    store: Store
    runs: list[int]
    base: str


def config_data(tmp: Path, base: str, smtp: dict | None = None, resolver: dict | None = None,
                database: str | None = None) -> dict:
    data = {
        "inspector": {"name": "清溪区政务公开办公室", "email": "zwgk@qingxi.test"},
        "database": database or f"sqlite:///{tmp / 'patrol.db'}",
        "output": str(tmp / "out"),
        "departments": [
            {"id": "zfb", "name": "区政府办公室", "contacts": [{"name": "张三", "email": "zfb@qingxi.test"}]},
            {"id": "jyj", "name": "区教育局", "contacts": [{"name": "李四", "email": "jyj@qingxi.test"},
                                                          {"name": "王五", "email": "jyj2@qingxi.test"}]},
        ],
        "sites": [
            {"name": "清溪区人民政府", "url": base + "/", "department": "zfb"},
            {"name": "清溪区教育局", "url": base + "/edu/", "department": "jyj"},
        ],
        "newmedia": [{"name": "清溪发布", "platform": "wechat", "department": "zfb", "feed": base + "/feed.xml"}],
        "smtp": smtp or {"host": "127.0.0.1", "port": 25, "ssl": False},
    }
    if resolver:
        data["resolver"] = resolver
    return data


def make_config(tmp: Path, base: str, smtp: dict | None = None, resolver: dict | None = None,
                database: str | None = None) -> Config:
    """The area's configuration, also written to ``tmp/patrol.yaml`` for the CLI."""
    data = config_data(tmp, base, smtp, resolver, database)
    (tmp / "patrol.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config_from_dict(data, source=str(tmp / "patrol.yaml"), base_dir=tmp)


def _gov_crawl(base: str) -> SiteCrawl:
    home, a, b = base + "/", base + "/news/a.html", base + "/news/b.html"
    pdf, gone = base + "/files/plan.pdf", base + "/old/gone.html"
    pages = [
        PageSnapshot(url=home, final_url=home, status=200, depth=0, title="清溪区人民政府",
                     links=[LinkRef(pdf, "a", "年度计划"), LinkRef(a, "a", "通知")]),
        PageSnapshot(url=a, final_url=a, status=200, depth=1, title=EVIL_TITLE,
                     links=[LinkRef(pdf, "a", "年度计划"), LinkRef(gone, "a", "旧栏目")]),
        PageSnapshot(url=b, final_url=b, status=200, depth=1, title="要闻",
                     links=[LinkRef(pdf, "a", "年度计划")]),
    ]
    links = {pdf: LinkResult(pdf, kind="http_404", status=404),
             gone: LinkResult(gone, kind="timeout"), a: LinkResult(a, status=200)}
    return SiteCrawl(name="清溪区人民政府", url=home, department="zfb", pages=pages, links=links,
                     homepage_url=home)


def gov_findings(base: str, fixed_typo: bool = False, fixed_template_link: bool = False) -> list[Finding]:
    home, a, b = base + "/", base + "/news/a.html", base + "/news/b.html"
    pdf, gone = base + "/files/plan.pdf", base + "/old/gone.html"
    site, dep = "清溪区人民政府", "zfb"
    out: list[Finding] = []
    if not fixed_template_link:
        for page, on_home in ((home, True), (a, False), (b, False)):
            out.append(Finding("broken_link", "error", site, pdf, "附件链接无法访问（404）", page, dep,
                               {"kind": "http_404", "status": 404, "tag": "a", "homepage": on_home}))
    out.append(Finding("broken_link", "error", site, gone, "链接访问超时", a, dep,
                       {"kind": "timeout", "tag": "a", "anchor": "旧栏目"}))
    if not fixed_typo:
        out.append(Finding("typo", "error", site, a, "错别字：监菅 应为 监管", a, dep,
                           {"wrong": "监菅", "suggestion": "监管",
                            "context": "切实加强监菅力度", "start": 4, "end": 6}))
    out.append(Finding("column_stale", "warning", site, base + "/news/", "栏目“要闻”20 天未更新", base + "/news/",
                       dep, {"column": "要闻", "days": 20}))
    out.append(Finding("wrong_expression", "error", site, b, "=HYPERLINK(\"http://x\") 国土资源局 应为 自然资源局",
                       b, dep, {"wrong": "国土资源局", "suggestion": "自然资源局", "context": "区国土资源局发布"}))
    return out


def edu_crawl(base: str) -> SiteCrawl:
    home = base + "/edu/"
    return SiteCrawl(name="清溪区教育局", url=home, department="jyj",
                     pages=[PageSnapshot(url=home, final_url=home, status=200, depth=0, title="教育局")],
                     homepage_url=home)


def edu_findings(base: str) -> list[Finding]:
    site, dep = "清溪区教育局", "jyj"
    return [
        Finding("serious_error", "veto", site, base + "/edu/", "国家名称错误：中华人民共合国", base + "/edu/", dep,
                {"wrong": "中华人民共合国", "suggestion": "中华人民共和国", "context": "中华人民共合国教育法"}),
        Finding("column_empty", "error", site, base + "/edu/zc/", "栏目“政策文件”无内容", base + "/edu/", dep,
                {"column": "政策文件"}),
    ]


def media_findings(base: str) -> list[Finding]:
    return [Finding("newmedia_stale", "veto", "清溪发布", base + "/mp/qingxi",
                    "账号 20 天未更新", None, "zfb", {"account": "清溪发布", "days": 20})]


def gov_stats(base: str) -> dict:
    """Facts in the shape checks/links.py, freshness.py, availability.py, ipv6.py and text produce."""
    return {
        "links": {"homepage": base + "/", "pages": 3, "links_checked": 3, "broken": 2,
                  "broken_by_kind": {"http_4xx": 1, "timeout": 1}, "rendered_pages": 0},
        "freshness": {
            "sections": [],
            "columns": [
                {"url": base + "/news/", "name": "要闻", "category": "dynamic", "latest": "2026-10-01",
                 "latest_title": "清溪区召开常务会议", "days": 20, "threshold": 14, "status": "stale",
                 "basis": "list", "note": ""},
                {"url": base + "/zc/", "name": "政策文件", "category": "notice", "latest": None, "days": None,
                 "threshold": 183, "status": "empty", "basis": "none", "note": "栏目无内容"},
                {"url": base + "/tz/", "name": "通知公告", "category": "notice", "latest": "2026-10-15",
                 "days": 6, "threshold": 183, "status": "fresh", "basis": "list", "note": ""}],
            "column_counts": {"stale": 1, "empty": 1, "fresh": 1},
            "homepage": {"url": base + "/", "latest": "2026-10-18", "days": 3, "status": "fresh",
                         "threshold": 14, "warn_days": 10, "latest_title": "清溪区召开常务会议"}},
        "availability": {"window_days": 7, "from": "2026-10-13T08:00:00+00:00", "to": "2026-10-20T08:00:00+00:00",
                         "probes": 30, "failures": 1, "failure_rate": 1 / 30, "per_day": {"2026-10-19": 15, "2026-10-20": 15},
                         "min_probes_per_day": 20, "probes_needed": 140, "too_few": True, "timeout_s": 15,
                         "veto_failure_rate": 0.05, "warn_failure_rate": 0.03, "slowest_ms": 900,
                         "last_failures": [{"at": "2026-10-19T03:00:00+00:00", "status": None,
                                            "error": "timeout", "elapsed_ms": 15000}],
                         "status": "warning"},
        "ipv6": {"measured": True, "verdict": "fail", "reasons": ["rate_below_target"], "rate": 0.9896,
                 "target": 0.99, "checked": 96, "supported": 95, "failed": 1, "level2": 40, "level2_supported": 40,
                 "level3": 56, "level3_supported": 55, "skipped_broken": 2, "aaaa": ["::1"],
                 "homepage_v6_status": 200, "homepage_v6_success_rate": 1.0, "host": "www.qingxi.test",
                 "homepage": {"attempts": 3, "successes": 3, "comparable": True, "consistent": True, "differences": []},
                 "hosts": [{"host": "cdn.example.test", "cause": "unreachable", "count": 1}],
                 "pages": [{"url": "http://cdn.example.test/a.js", "level": 3, "page": base + "/news/a.html",
                            "host": "cdn.example.test", "cause": "unreachable"}]},
        "text": {"text_counts": {"typo": 1, "wrong_expression": 1, "serious_error": 0, "privacy_leak": 0},
                 "text_suspected": 1, "text_pages": 3, "text_blocks": 2, "text_chars": 120},
    }


def media_stats() -> dict:
    """Facts in the shape checks/newmedia.py produces."""
    return {"newmedia": {"platform": "wechat", "status": "ok", "posts": 9, "errors": [], "content_posts": 9,
                         "undated_posts": 0, "future_posts": 0,
                         "posts_per_month": {"2026-08": 4, "2026-09": 5, "2026-10": 0},
                         "latest_post": "2026-09-30", "days_since": 20, "reposts_year": 7,
                         "reposts_by_source": {"新华社": 5, "人民日报": 2}, "reposts_total": 7,
                         "reposts_target": 50, "reposts_expected_by_now": 40.0, "reposts_projected": 8.8,
                         "reposts_on_track": False, "broken_links": 0}}


def _result(crawl: SiteCrawl, findings: list[Finding], score: float, veto: list[str], stats: dict) -> dict:
    return {"pages": len(crawl.pages), "links": len(crawl.links),
            "broken": len({f.url for f in findings if f.check == "broken_link"}),
            "score": score, "veto": veto, "stats": stats}


def save_run(store: Store, period: str, base: str, *, fixed: bool = False, finished: datetime | None = None,
             kind: str = "run") -> int:
    run = store.start_run(period, kind=kind, inspector="清溪区政务公开办公室")
    assert run.id is not None
    gov = _gov_crawl(base)
    gf = gov_findings(base, fixed_typo=fixed, fixed_template_link=fixed)
    stats = gov_stats(base)
    store.save_site(run.id, gov, gf, _result(gov, gf, BASE_SCORE_GOV, [], stats))
    edu = edu_crawl(base)
    ef = edu_findings(base)
    store.save_site(run.id, edu, ef, _result(edu, ef, 96.0, ["serious_error"], {}))
    acc = SiteCrawl(name="清溪发布", url=base + "/mp/qingxi", department="zfb")
    mf = media_findings(base)
    store.save_site(run.id, acc, mf, _result(acc, mf, 90.0, ["newmedia_stale"], media_stats()),
                    kind="newmedia")
    store.finish_run(run.id)
    if finished is not None:
        with store.session() as s:
            row = s.get(Run, run.id)
            assert row is not None
            row.finished = finished
            row.started = finished
            s.add(row)
            s.commit()
    return run.id


def make_area(tmp: Path, base: str, *, runs: int = 1, smtp: dict | None = None,
              resolver: dict | None = None, database: str | None = None) -> Area:
    cfg = make_config(tmp, base, smtp, resolver, database)
    store = Store(cfg.database)
    ids = [save_run(store, "2026-10", base, finished=datetime(2026, 10, 20, 8, tzinfo=UTC))]
    if runs > 1:
        ids.append(save_run(store, "2026-11", base, fixed=True,
                            finished=datetime(2026, 11, 20, 8, tzinfo=UTC)))
    return Area(cfg, store, ids, base)
