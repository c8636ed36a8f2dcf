"""``patrol serve``: a local web console over the store, on Starlette.

Pages are rendered on the server with Jinja2 in the report's look (its stylesheet is read
from reports/templates/report.html.j2); there is no build step and no JavaScript is needed.
Everything comes from the same functions as the report (reports.data.load_run, triage,
rectification, loop, quota), so the console shows what the report and the mails say.

Safety: it binds to 127.0.0.1 unless told otherwise, and another address needs a password
(``PATROL_CONSOLE_PASSWORD``, HTTP Basic).  Every form carries a token and a POST from
another site (Origin / Sec-Fetch-Site) is refused; the JSON API takes only
``application/json`` POSTs from the same origin (or from a client that is no browser).
Jinja2 escapes all crawled text, links are only made of http(s) URLs, and spot checks run
``patrol check`` as a separate process from an argument list, never through a shell.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hmac
import os
import re
import secrets
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from common.config import Config, load_config
from store import Rectification, Store
from reports import charts
from reports.data import INSPECTION_KINDS, ReportError, RunData, department_names, fmt_time, load_run, previous_run
from reports.triage import MARK_STATES, STATE_LABELS, TriageError, clear_marks, mark_doc, set_marks

from .jobs import JobError, Jobs

TEMPLATES = Path(__file__).resolve().parent / "templates"
PASSWORD_ENV = "PATROL_CONSOLE_PASSWORD"
LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")
FP_RE = re.compile(r"^[0-9a-f]{6,40}$")
PROBLEM_SEVERITIES = ("veto", "error")


@lru_cache(maxsize=1)
def report_css() -> str:
    """The report's stylesheet, read from its template: the console looks like the report."""
    from reports.render import TEMPLATES as REPORT_TEMPLATES
    text = (REPORT_TEMPLATES / "report.html.j2").read_text(encoding="utf-8")
    found = re.search(r"<style>(.*?)</style>", text, re.S)
    return found.group(1) if found else ""


@lru_cache(maxsize=1)
def environment() -> Environment:
    from reports.render import environment as report_env
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "j2"], default=True),
                      trim_blocks=True, lstrip_blocks=True)
    for name in ("num", "signed", "pct", "link_kind"):
        env.filters[name] = report_env().filters[name]
    env.globals["report_css"] = report_css
    env.globals["web_url"] = web_url
    env.globals["mark_states"] = MARK_STATES
    env.globals["state_labels"] = STATE_LABELS
    return env


def web_url(value: Any) -> str:
    """``value`` when it is an http(s) URL that may be a link's target, else ''."""
    text = str(value or "")
    return text if urlsplit(text).scheme in ("http", "https") else ""


class Console:
    """The application's state: configuration, store, CSRF token, spot checks."""

    def __init__(self, cfg: Config, store: Store, password: str | None = None,
                 check_root: Path | None = None) -> None:
        self.cfg = cfg
        self.store = store
        self.password = password
        self.token = secrets.token_urlsafe(32)
        config_path = cfg.path if cfg.path and Path(cfg.path).is_file() else None
        self.jobs = Jobs(check_root or Path(cfg.output) / "console-checks", config_path)

    # --- rendering ---------------------------------------------------------------------

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = environment().get_template(template).render(
            csrf=self.token, inspector=self.cfg.inspector.name or "巡检单位", path=request.url.path, **context)
        return HTMLResponse(html, status_code=status,
                            headers={"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                     "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
                                     "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})

    # --- data ------------------------------------------------------------------------------

    def runs(self, limit: int = 24) -> list[dict[str, Any]]:
        rows = []
        for run in reversed(self.store.runs()[-limit:]):
            assert run.id is not None
            data = load_run(self.store, run.id, self.cfg)
            rows.append(self._run_summary(data))
        return rows

    def _run_summary(self, data: RunData) -> dict[str, Any]:
        run = data.run
        scores = [e.result.score for e in data.sites if e.result.score is not None]
        return {"id": run.id, "period": run.period, "kind": run.kind, "status": run.status,
                "started": fmt_time(run.started), "finished": fmt_time(run.finished),
                "sites": len(data.sites),
                "problems": sum(1 for f in data.findings if f.severity in PROBLEM_SEVERITIES),
                "warnings": sum(1 for f in data.findings if f.severity == "warning"),
                "marked": len(data.marked),
                "average": round(sum(scores) / len(scores), 1) if scores else None,
                "vetoes": sum(1 for e in data.sites if e.result.veto)}

    def site_rows(self, data: RunData) -> list[dict[str, Any]]:
        prev = previous_run(self.store, data.run) if data.run.kind in INSPECTION_KINDS else None
        before = load_run(self.store, prev.id, self.cfg).by_site() if prev is not None and prev.id else {}
        names = department_names(self.cfg)
        rows = []
        for e in sorted(data.sites, key=lambda e: (e.site.kind != "website", e.site.name)):
            old = before.get(e.site.name)
            delta = None
            if old is not None and old.result.score is not None and e.result.score is not None:
                delta = round(e.result.score - old.result.score, 1)
            rows.append({"id": e.site.id, "name": e.site.name, "kind": e.site.kind, "url": e.site.url,
                         "department": names.get(e.site.department, e.site.department),
                         "status": e.result.status, "score": e.result.score, "stored_score": e.stored_score,
                         "veto": list(e.result.veto or []), "delta": delta,
                         "problems": sum(1 for f in e.findings if f.severity in PROBLEM_SEVERITIES),
                         "previous": (sum(1 for f in old.findings if f.severity in PROBLEM_SEVERITIES)
                                      if old is not None else None),
                         "marked": len(e.marked)})
        return rows


def _labels(cfg: Config, checks: set[str]) -> dict[str, str]:
    from reports.rectification import label, load_rules
    rules = load_rules(cfg)
    return {c: label(c, rules) for c in checks}


def _finding_view(f: Any, labels: dict[str, str], mark: Any) -> dict[str, Any]:
    from checks.text.flags import CATEGORIES
    from reports.render import highlight
    detail = dict(f.detail or {})
    category = str(detail.get("category") or "")
    return {"fingerprint": f.fingerprint, "check": f.check, "label": labels.get(f.check, f.check),
            "severity": f.severity, "message": f.message, "url": f.url, "page": f.page or "",
            "department": f.department, "state": f.state, "state_label": STATE_LABELS.get(f.state, f.state),
            "category": category, "category_label": CATEGORIES.get(category, category),
            "highlight": highlight(detail), "suspected": bool(detail.get("suspected")),
            "link_kind": detail.get("kind") if f.check == "broken_link" else None,
            "anchor": detail.get("anchor") or "", "status": detail.get("status"),
            "triage": mark_doc(mark)}


def _matches(view: dict[str, Any], filters: dict[str, str]) -> bool:
    for key in ("check", "category", "department", "state"):
        if filters.get(key) and view[key] != filters[key]:
            return False
    page = filters.get("page", "")
    return not page or page in view["page"] or page in view["url"]


def _run_out_dir(console: Console, data: RunData) -> Path:
    out = (data.run.options or {}).get("out") if isinstance(data.run.options, dict) else None
    return Path(out) if out else Path(console.cfg.output) / f"run-{data.run.id}"


# --- security -------------------------------------------------------------------------------

def cross_site(request: Request) -> bool:
    """A browser says so (Sec-Fetch-Site), or the Origin is not this server."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is not None:
        host = request.headers.get("host", "")
        return origin != f"{request.url.scheme}://{host}"
    return False


class PasswordMiddleware:
    """HTTP Basic authentication with the password of ``PATROL_CONSOLE_PASSWORD`` (any user)."""

    def __init__(self, app: Any, password: str) -> None:
        self.app = app
        self.password = password.encode("utf-8")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"authorization", b"")
        ok = False
        if given[:6].lower() == b"basic ":
            try:
                _, _, secret = base64.b64decode(given[6:].strip(), validate=True).partition(b":")
                ok = hmac.compare_digest(secret, self.password)
            except (binascii.Error, ValueError):
                ok = False
        if not ok:
            response = Response("需要密码", status_code=401, media_type="text/plain; charset=utf-8",
                                headers={"WWW-Authenticate": 'Basic realm="patrol", charset="UTF-8"'})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


# --- the application -------------------------------------------------------------------------

def create_app(cfg: Config, store: Store | None = None, password: str | None = None,
               check_root: Path | None = None) -> Starlette:
    store = store or Store(cfg.database, base_dir=Path(cfg.path).parent if cfg.path else None)
    console = Console(cfg, store, password, check_root)

    def not_found(request: Request, what: str) -> HTMLResponse:
        return console.page(request, "message.html.j2", status=404, title="未找到", message=what, back="/")

    def runs_page(request: Request) -> HTMLResponse:
        runs = console.runs()
        inspections = [r for r in reversed(runs) if r["kind"] in INSPECTION_KINDS and r["status"] == "completed"]
        chart = charts.vbar([charts.Bar(f"{r['period'][2:]}#{r['id']}", r["problems"]) for r in inspections[-12:]],
                            title="每次巡检发现的问题（条，不含已标记）")
        return console.page(request, "runs.html.j2", runs=runs, chart=chart, title="巡检运行")

    def run_page(request: Request) -> HTMLResponse:
        run_id = request.path_params["run_id"]
        try:
            data = load_run(store, run_id, cfg)
        except ReportError as exc:
            return not_found(request, str(exc))
        rows = console.site_rows(data)
        chart = charts.hbar([charts.Bar(r["name"], r["score"] or 0,
                                        color="#c0392b" if r["veto"] else "#2e7d32",
                                        note=(f"{r['score']:g}" if r["score"] is not None else "未评分")
                                        + (f"（{r['delta']:+g}）" if r["delta"] else ""))
                             for r in rows if r["status"] == "completed"],
                            maximum=100, title="得分（括号内为较上次巡检的变化）")
        report = _run_out_dir(console, data) / "report.html"
        return console.page(request, "run.html.j2", run=data.run, summary=console._run_summary(data),
                            sites=rows, chart=chart, has_report=report.is_file(),
                            title=f"运行 {data.run.id}（{data.run.period}）")

    def run_report(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            data = load_run(store, run_id, cfg)
        except ReportError as exc:
            return not_found(request, str(exc))
        report = _run_out_dir(console, data) / "report.html"
        if not report.is_file():
            return not_found(request, f"运行 {run_id} 的报告文件不存在；用 patrol report --run {run_id} 生成")
        return FileResponse(report, media_type="text/html; charset=utf-8")

    def site_page(request: Request) -> HTMLResponse:
        run_id, site_id = request.path_params["run_id"], request.path_params["site_id"]
        try:
            data = load_run(store, run_id, cfg)
        except ReportError as exc:
            return not_found(request, str(exc))
        entry = next((e for e in data.sites if e.site.id == site_id), None)
        if entry is None:
            return not_found(request, f"运行 {run_id} 没有编号为 {site_id} 的网站或账号")
        labels = _labels(cfg, {f.check for f in entry.findings + entry.marked})
        live = [_finding_view(f, labels, data.marks.get(f.fingerprint)) for f in entry.findings]
        marked = [_finding_view(f, labels, data.marks.get(f.fingerprint)) for f in entry.marked]
        filters = {k: request.query_params.get(k, "").strip() for k in ("check", "category", "department",
                                                                           "state", "page")}
        every = live + marked
        options = {
            "check": sorted({(v["check"], v["label"]) for v in every}, key=lambda kv: kv[1]),
            "category": sorted({(v["category"], v["category_label"]) for v in every if v["category"]}),
            "department": sorted({(v["department"], department_names(cfg).get(v["department"], v["department"]))
                                  for v in every if v["department"]}),
            "state": sorted({(v["state"], v["state_label"]) for v in every}),
        }
        shown = [v for v in live if _matches(v, filters)]
        shown_marked = [v for v in marked if _matches(v, filters)]
        shots_dir = _run_out_dir(console, data) / "screenshots"
        shots = {v["fingerprint"] for v in every if (shots_dir / f"{v['fingerprint']}.jpg").is_file()}
        counts = Counter(v["severity"] for v in live)
        back = request.url.path + (("?" + request.url.query) if request.url.query else "")
        return console.page(request, "site.html.j2", run=data.run, site=entry.site, result=entry.result,
                            stored_score=entry.stored_score, findings=shown, marked=shown_marked,
                            total=len(live), total_marked=len(marked), filters=filters, options=options,
                            counts=counts, shots=shots, back=back,
                            title=f"{entry.site.name} · 运行 {data.run.id}")

    def screenshot(request: Request) -> Response:
        run_id, fp = request.path_params["run_id"], request.path_params["fp"]
        run = store.get_run(run_id)
        if run is None or not FP_RE.match(fp):
            return Response(status_code=404)
        data_dir = Path((run.options or {}).get("out") or Path(cfg.output) / f"run-{run_id}")
        path = data_dir / "screenshots" / f"{fp}.jpg"
        return FileResponse(path, media_type="image/jpeg") if path.is_file() else Response(status_code=404)

    async def triage_form(request: Request) -> Response:
        form = await request.form()
        refused = _refuse_form(request, str(form.get("csrf") or ""))
        if refused is not None:
            return refused
        fp = request.path_params["fp"]
        back = str(form.get("next") or "/")
        if not back.startswith("/") or back.startswith("//"):
            back = "/"
        state = str(form.get("state") or "")
        try:
            if state == "clear":
                await run_in_threadpool(clear_marks, store, [fp], by=str(form.get("by") or ""), source="console")
            else:
                run_id = _int(form.get("run"))
                await run_in_threadpool(set_marks, store, [fp], state, note=str(form.get("note") or ""),
                                        by=str(form.get("by") or ""), source="console", run_id=run_id)
        except TriageError as exc:
            return console.page(request, "message.html.j2", status=400, title="未能标记", message=str(exc),
                                back=back)
        return RedirectResponse(back, status_code=303)

    def departments_page(request: Request) -> HTMLResponse:
        from reports.loop import department_rates
        from reports.rectification import UNASSIGNED_NAME, items_by_department
        run = store.get_run(_int(request.query_params.get("run")) if request.query_params.get("run") else None)
        names = department_names(cfg)
        rows, tracked = [], {}
        if run is not None and run.id is not None:
            items = items_by_department(store, run.id, cfg)
            rates = department_rates(store, run)
            with store.session() as s:
                from sqlmodel import select
                for item in s.exec(select(Rectification).order_by(Rectification.id)):
                    tracked.setdefault(item.department, []).append(item)
            for dep in sorted(set(items) | set(rates) | set(tracked), key=lambda d: (d == "", d)):
                rows.append({"id": dep, "name": names.get(dep, dep or UNASSIGNED_NAME),
                             "current": len(items.get(dep, [])), "rate": rates.get(dep),
                             "items": tracked.get(dep, [])})
        return console.page(request, "departments.html.j2", run=run, departments=rows, today=date.today(),
                            title="责任部门整改情况")

    def quota_page(request: Request) -> HTMLResponse:
        from reports.quota import TARGET, quota_grid
        year = _int(request.query_params.get("year")) or date.today().year
        grid = quota_grid(store, year, cfg)
        return console.page(request, "quota.html.j2", grid=grid, target=TARGET, title=f"{year} 年巡检次数")

    def check_page(request: Request) -> HTMLResponse:
        return console.page(request, "check.html.j2", jobs=console.jobs.listing(), error="", url="",
                            title="即时检查")

    async def check_start(request: Request) -> Response:
        form = await request.form()
        refused = _refuse_form(request, str(form.get("csrf") or ""))
        if refused is not None:
            return refused
        url = str(form.get("url") or "")
        try:
            job = console.jobs.start(url, max_pages=_int(form.get("max_pages")) or 100,
                                     checks=str(form.get("checks") or ""))
        except JobError as exc:
            return console.page(request, "check.html.j2", status=400, jobs=console.jobs.listing(),
                                error=str(exc), url=url, title="即时检查")
        return RedirectResponse(f"/check/{job.id}", status_code=303)

    def check_job(request: Request) -> Response:
        job = console.jobs.get(request.path_params["job"])
        if job is None:
            return not_found(request, "没有这个检查")
        if job.status == "done":
            return RedirectResponse(f"/check/{job.id}/report", status_code=303)
        return console.page(request, "job.html.j2", job=job, info=job.as_dict(), log=job.tail(),
                            title=f"即时检查 {job.url}")

    def check_report(request: Request) -> Response:
        job = console.jobs.get(request.path_params["job"])
        if job is None or not job.report.is_file():
            return not_found(request, "检查的报告还没有生成")
        return FileResponse(job.report, media_type="text/html; charset=utf-8")

    # --- JSON API ------------------------------------------------------------------------

    def api_runs(request: Request) -> JSONResponse:
        out = []
        for run in reversed(store.runs()):
            assert run.id is not None
            data = load_run(store, run.id, cfg)
            summary = console._run_summary(data)
            summary["site_scores"] = [{"name": r["name"], "score": r["score"], "stored_score": r["stored_score"],
                                       "veto": r["veto"], "change": r["delta"]} for r in console.site_rows(data)]
            out.append(summary)
        return JSONResponse(out)

    def api_findings(request: Request) -> JSONResponse:
        from reports.export import findings_document
        try:
            data = load_run(store, request.path_params["run_id"], cfg)
        except ReportError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        doc = findings_document(store, request.path_params["run_id"], data, cfg)
        state = request.query_params.get("state")
        if state:
            doc["findings"] = [f for f in doc["findings"] if f["state"] == state]
        return JSONResponse(doc)

    def api_check(request: Request) -> JSONResponse:
        job = console.jobs.get(request.path_params["job"])
        if job is None:
            return JSONResponse({"error": "no such check"}, status_code=404)
        return JSONResponse(job.as_dict())

    async def api_triage(request: Request) -> JSONResponse:
        if cross_site(request):
            return JSONResponse({"error": "cross-site request refused"}, status_code=403)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return JSONResponse({"error": "send application/json"}, status_code=415)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "expected a JSON object"}, status_code=400)
        fp = request.path_params["fp"]
        try:
            if body.get("clear"):
                await run_in_threadpool(clear_marks, store, [fp], by=str(body.get("by") or ""), source="api")
                return JSONResponse({"fingerprint": fp, "triage": None})
            marks = await run_in_threadpool(set_marks, store, [fp], str(body.get("as") or ""),
                                            note=str(body.get("note") or ""), by=str(body.get("by") or ""),
                                            source="api", run_id=_int(body.get("run")))
        except TriageError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"fingerprint": marks[0].fingerprint, "triage": mark_doc(marks[0])})

    def _refuse_form(request: Request, token: str) -> Response | None:
        if cross_site(request) or not hmac.compare_digest(token.encode("utf-8"), console.token.encode("utf-8")):
            return console.page(request, "message.html.j2", status=403, title="请求被拒绝",
                                message="表单已过期或来自其他网站，请回到页面重新提交。", back="/")
        return None

    routes = [
        Route("/", runs_page),
        Route("/runs/{run_id:int}", run_page),
        Route("/runs/{run_id:int}/report", run_report),
        Route("/runs/{run_id:int}/sites/{site_id:int}", site_page),
        Route("/runs/{run_id:int}/shots/{fp:str}.jpg", screenshot),
        Route("/findings/{fp:str}/triage", triage_form, methods=["POST"]),
        Route("/departments", departments_page),
        Route("/quota", quota_page),
        Route("/check", check_page),
        Route("/check", check_start, methods=["POST"]),
        Route("/check/{job:str}", check_job),
        Route("/check/{job:str}/report", check_report),
        Route("/api/runs", api_runs),
        Route("/api/runs/{run_id:int}/findings", api_findings),
        Route("/api/checks/{job:str}", api_check),
        Route("/api/findings/{fp:str}/triage", api_triage, methods=["POST"]),
    ]
    middleware = [Middleware(PasswordMiddleware, password=password)] if password else []
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(console.jobs.stop_all)

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.console = console
    return app


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def bind_check(host: str, env: dict[str, str] | None = None) -> str | None:
    """The password the console needs on ``host`` (None on this machine's loopback), or
    ValueError when another address is asked for without one."""
    env = os.environ if env is None else env
    password = env.get(PASSWORD_ENV) or None
    if host not in LOCAL_HOSTS and not password:
        raise ValueError(f"--host {host}: the console would be reachable from other machines; set "
                         f"{PASSWORD_ENV} to the password it should ask for (or bind 127.0.0.1)")
    return password


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    cfg = load_config(getattr(args, "config", None))
    try:
        password = bind_check(args.host)
    except ValueError as exc:
        print(f"patrol serve: {exc}", file=sys.stderr)
        return 2
    app = create_app(cfg, password=password)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"patrol console: http://{shown}:{args.port}/  (Ctrl-C to stop)"
          + ("；需要密码（用户名任意）" if password else ""))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
