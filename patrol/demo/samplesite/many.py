"""Many small sites at once, for runs of many sites (the distributed test and benchmark).

    root = build_many(folder, 20, today=date.today())
    with serve_many(root) as base:       # http://127.0.0.1:PORT
        sites = [{"name": n, "url": f"{base}/{n}/"} for n in site_names(20)]

Each site is a homepage, four column pages with dated lists, and articles; some link to a
missing page or attachment (404), some articles are stale, and some carry a wording mistake,
so every run finds something.  Everything is a static file under ``/<site>/``, served by one
threaded server on 127.0.0.1; a site links only within its own folder.  Deterministic:
the same ``count`` and ``today`` build the same sites.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body><div class="nav"><a href="index.html">首页</a> {nav}</div>
<h1>{title}</h1>
{body}
<div class="footer">主办：{site}人民政府</div>
</body></html>
"""


def site_names(count: int) -> list[str]:
    return [f"s{i:03d}" for i in range(count)]


def build_many(root: Path, count: int, *, today: date, articles: int = 3) -> Path:
    """``count`` small sites under ``root`` (one folder each); returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    columns = [("yw", "要闻动态"), ("tzgg", "通知公告"), ("zcwj", "政策文件"), ("rsxx", "人事信息")]
    for i, name in enumerate(site_names(count)):
        folder = root / name
        folder.mkdir(exist_ok=True)
        nav = " ".join(f'<a href="{c}.html">{label}</a>' for c, label in columns)
        home = []
        for k, (col, label) in enumerate(columns):
            items = []
            for n in range(articles):
                # Some sites' columns are stale: their newest article is months old.
                age = n * 3 + (200 if (i + k) % 5 == 0 else 1)
                day = today - timedelta(days=age)
                art = f"{col}-{n}.html"
                text = f"<p>{name}{label}第{n + 1}篇，发布于{day.isoformat()}。</p>"
                if (i + n) % 7 == 0:
                    text += "<p>中华人民共合国国务院办公厅印发通知。</p>"        # wording mistake
                if (i + k + n) % 4 == 0:
                    text += f'<p><a href="missing-{k}-{n}.pdf">附件下载</a></p>'     # 404
                (folder / art).write_text(PAGE.format(title=f"{label}{n + 1}", nav=nav, site=name,
                                                      body=f"<div class=\"date\">{day.isoformat()}</div>{text}"),
                                          encoding="utf-8")
                items.append(f'<li><a href="{art}">{label}{n + 1}</a><span>{day.isoformat()}</span></li>')
            (folder / f"{col}.html").write_text(
                PAGE.format(title=label, nav=nav, site=name, body=f"<ul class=\"list\">{''.join(items)}</ul>"),
                encoding="utf-8")
            home.append(f"<h2><a href=\"{col}.html\">{label}</a></h2><ul>{items[0]}</ul>")
        if i % 3 == 0:
            home.append('<p><a href="gone.html">已删除的页面</a></p>')               # 404
        (folder / "index.html").write_text(
            PAGE.format(title=f"{name}人民政府", nav=nav, site=name, body="".join(home)), encoding="utf-8")
    return root


class _Quiet(SimpleHTTPRequestHandler):
    """HTTP/1.0, one request a connection: no thread held by an idle keep-alive client."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    delay = 0.0                         # seconds each answer waits (serve_many's ``delay``)

    def do_GET(self) -> None:
        if self.delay:
            time.sleep(self.delay)
        super().do_GET()

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):   # the client went away: nothing to say
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256            # many crawls connect at once: no refused SYN, no retry wait


@contextmanager
def serve_many(root: Path, host: str = "127.0.0.1", delay: float = 0.0) -> Iterator[str]:
    """Serve ``root`` on a free port of ``host``, each answer ``delay`` seconds late; yields the
    base URL."""
    handler = type("_Handler", (_Quiet,), {"delay": delay})
    server = _Server((host, 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, name="many-sites", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
