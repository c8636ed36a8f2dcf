#!/usr/bin/env python3
"""Link-check benchmark: patrol against LinkChecker and linkinator on one generated local site.

    .venv/bin/python benchmarks/linkcheck_benchmark.py            # full run (>= 5,000 pages)
    .venv/bin/python benchmarks/linkcheck_benchmark.py --pages 800  # quick run

What it does, in order:

1. builds the sample government site (``patrol.demo.samplesite``, profile "bench", rescaled to
   ``--pages``) under ``benchmarks/work/site`` with its manifest of known broken links;
2. serves it with nginx on 127.0.0.1 (installed with apt-get when missing and run as root;
   otherwise the Python sample server, with a warning).  The nginx configuration expresses
   the site's ``routes.json`` (redirect loops, soft-404 prefixes, status pages, paged lists)
   and sends a ``LinkChecker`` response header, which together with a raised
   ``maxrequestspersecond`` lifts LinkChecker's own limit of 10 requests per second per host:
   without both the comparison would measure that throttle;
3. installs the peers under ``benchmarks/work`` (LinkChecker in its own venv, linkinator with
   npm) unless they are there;
4. runs each tool (``--repeat`` times, in rounds) at the same concurrency, in a measuring wrapper process that makes
   itself the child subreaper, so the CPU time of every process the tool starts (patrol's
   crawl process, Chromium) is counted, and samples the memory of the whole process tree;
5. compares what each tool reported broken with the manifest, by normalised URL, and writes
   the table to ``benchmarks/results.md`` (and the raw figures to ``benchmarks/work/results.json``).

Everything stays on 127.0.0.1; every tool run has a timeout.
"""
from __future__ import annotations

import argparse
import csv
import ctypes
import dataclasses
import importlib
import io
import json
import os
import platform
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from common import stopping  # noqa: E402  (the process tree, as patrol reads it)

TOOLS = ("patrol", "linkchecker", "linkinator")
# The checkout whose code patrol runs (--patrol-src: another one, e.g. an earlier commit's
# files, to measure a change before and after on the same sites).
PATROL_SRC = REPO
PAGE_SIZE = 4096
MB = 1024 * 1024


# ----------------------------------------------------------------------------- the site

def build_site(root: Path, *, pages: int, today: date, script_lists: int = 0) -> Any:
    """Build the bench site.  ``pages`` > 0 rescales the bench profile to at least that many
    pages by changing only the number of articles per department column; 0 builds the
    profile as the generator defines it.  ``script_lists``: that many department list pages
    have their rows written by a script (the same site otherwise)."""
    samplebuild = importlib.import_module("patrol.demo.samplesite.build")
    base = dataclasses.replace(samplebuild.PROFILE_SETTINGS["bench"], script_lists=script_lists)
    if pages <= 0:
        return samplebuild._Builder(Path(root), base, today, 5.0).run()

    def build_with(articles: int) -> Any:
        # The generator's own builder; only the profile's department article count differs.
        profile = dataclasses.replace(base, dept_articles=articles)
        return samplebuild._Builder(Path(root), profile, today, 5.0).run()

    # Pages that do not depend on the department columns' size, measured with empty columns.
    fixed = build_with(0).counts["pages"]
    per_article = 1 + 1 / base.dept_page_size     # an article page plus its share of a list page
    articles = max(1, -(-(pages - fixed) // int(base.dept_columns * per_article)))
    manifest = build_with(articles)
    while manifest.counts["pages"] < pages:
        articles += max(1, (pages - manifest.counts["pages"]) // base.dept_columns)
        manifest = build_with(articles)
    return manifest


TOKEN_FILL = {"__SID__": "0123abcd"}
TOKENS_FILLED = "tokens-filled.json"


def fill_tokens(www: Path, ext: Path | None, port: int, ext_port: int | None) -> int:
    """Replace the build's port and session tokens in the HTML files, as the Python sample
    server does per response: nginx serves the files as they are.  Returns files changed."""
    from patrol.demo.samplesite import html as H
    values = {H.PORT_TOKEN: str(port), H.SID_TOKEN: TOKEN_FILL["__SID__"]}
    if ext_port is not None:
        values[H.EXT_PORT_TOKEN] = str(ext_port)
    changed = 0
    for folder in (www, ext):
        if folder is None or not folder.is_dir():
            continue
        for path in folder.rglob("*.htm*"):
            data = path.read_bytes()
            if b"__" not in data:
                continue
            new = data
            for token, value in values.items():
                new = new.replace(token.encode(), value.encode())
            if new != data:
                path.write_bytes(new)
                changed += 1
    if changed:
        # The files now name this run's ports: a later --keep-site must build afresh.
        (www.parent / TOKENS_FILLED).write_text(json.dumps({"port": port, "ext_port": ext_port}))
    return changed


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ----------------------------------------------------------------------------- nginx

# routes.json keys nginx answers itself; the rest need the Python sample server behind it.
NGINX_ROUTES = {"today", "not_found", "no_charset", "redirects", "chain", "status",
                "soft_404_prefixes", "query_pages"}
PROXIED_ROUTES = {"slow", "retry_after", "no_head", "calendar"}


def nginx_config(*, prefix: Path, www: Path, ext: Path | None, port: int, ext_port: int | None,
                 routes: dict[str, Any], backend_port: int | None, user: str | None) -> str:
    """An nginx configuration serving the build with its routes, tuned for throughput."""
    def loc_exact(path: str, body: str) -> str:
        return f"        location = {path} {{ {body} }}\n"

    locations = []
    for path, (target, code) in routes.get("redirects", {}).items():
        locations.append(loc_exact(path, f"return {int(code)} {target};"))
    chain = routes.get("chain")
    if chain:
        prefix_path, length = chain["prefix"], int(chain["length"])
        for step in range(length):
            nxt = f"{prefix_path}{step + 1}" if step < length - 1 else chain["target"]
            locations.append(loc_exact(f"{prefix_path}{step}", f"return 302 {nxt};"))
        locations.append(f"        location ^~ {prefix_path} {{ return 302 {prefix_path}1; }}\n")
    for path, code in routes.get("status", {}).items():
        locations.append(loc_exact(path, f"return {int(code)};"))
    not_found = "/" + routes.get("not_found", "404.html").lstrip("/")
    for soft in routes.get("soft_404_prefixes", []):
        # The site's "page not found" page, answered with 200: a soft 404.
        locations.append(f"        location ^~ {soft} {{ default_type text/html; try_files {not_found} =404; }}\n")
    for path, pattern in routes.get("query_pages", {}).items():
        target = "/" + pattern.replace("{page}", "$arg_page")
        locations.append(
            f"        location = {path} {{\n"
            f"            if ($arg_page ~ \"^([2-9]|[1-9][0-9]+)$\") {{ rewrite ^ {target}? last; }}\n"
            f"            try_files $uri $uri/index.html =404;\n        }}\n")
    if backend_port is not None:
        proxied: list[str] = []
        proxied += list(routes.get("slow", {}))
        proxied += list(routes.get("no_head", []))
        if routes.get("calendar"):
            proxied.append(routes["calendar"])
        proxy = f"proxy_pass http://127.0.0.1:{backend_port}; proxy_http_version 1.1; proxy_set_header Connection \"\";"
        for path in proxied:
            locations.append(loc_exact(path, proxy))
        busy = routes.get("retry_after")
        if busy:
            locations.append(f"        location ^~ {busy['prefix']} {{ {proxy} }}\n")
    ext_server = ""
    if ext is not None and ext_port is not None:
        ext_server = f"""
    server {{
        listen 127.0.0.1:{ext_port} reuseport;
        root {ext};
        add_header LinkChecker "benchmark: no rate limit" always;
    }}
"""
    user_line = f"user {user};\n" if user else ""
    return f"""# Generated by benchmarks/linkcheck_benchmark.py for one benchmark run.
{user_line}worker_processes auto;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; multi_accept on; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 60;
    keepalive_requests 100000;
    open_file_cache max=20000 inactive=60s;
    open_file_cache_errors on;
    absolute_redirect off;
    server_tokens off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;

    server {{
        listen 127.0.0.1:{port} reuseport;
        root {www};
        index index.html;
        # LinkChecker waits between requests to one host (10/s) unless the server sends this.
        add_header LinkChecker "benchmark: no rate limit" always;
        error_page 404 {not_found};
        location = {not_found} {{ internal; }}
{''.join(locations)}    }}
{ext_server}}}
"""


class Server:
    """The benchmark's web server: nginx, or the Python sample server as a fallback."""

    def __init__(self) -> None:
        self.kind = ""
        self.port = 0
        self.ext_port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._python: Any = None
        self._backend: Any = None
        self.warning = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def ext_url(self) -> str:
        return f"http://127.0.0.1:{self.ext_port}/" if self.ext_port else ""

    def start(self, root: Path, work: Path, *, use_nginx: bool = True) -> None:
        routes = json.loads((root / "routes.json").read_text(encoding="utf-8"))
        www, ext = root / "www", (root / "ext" if (root / "ext").is_dir() else None)
        nginx = ensure_nginx() if use_nginx else None
        if nginx is None:
            self.warning = ("served by the Python sample server, which is slower than nginx and makes "
                            "every tool look slower" + ("" if not use_nginx else
                            " (nginx is not installed: install the Debian package `nginx`, or run as "
                            "root to let the benchmark install it)"))
            print(f"warning: {self.warning}", file=sys.stderr)
            from patrol.demo.samplesite import serve
            _python_server_sends_linkchecker_header()
            self._python = serve(root, also_ipv6=False)
            self.kind, self.port = "python", self._python.port
            self.ext_port = self._python.ext.port if self._python.ext else None
            return
        self.port = free_port()
        self.ext_port = free_port() if ext is not None else None
        fill_tokens(www, ext, self.port, self.ext_port)
        backend_port = None
        if PROXIED_ROUTES & set(routes):
            from patrol.demo.samplesite.server import SampleServer
            self._backend = SampleServer(www, routes, also_ipv6=False)
            backend_port = self._backend.port
        prefix = work / "nginx"
        prefix.mkdir(parents=True, exist_ok=True)
        user = None
        if os.geteuid() == 0:
            # Workers would run as nobody, who may not read the build: run them as its owner.
            import pwd
            st = www.stat()
            user = pwd.getpwuid(st.st_uid).pw_name
        conf = prefix / "nginx.conf"
        conf.write_text(nginx_config(prefix=prefix, www=www, ext=ext, port=self.port, ext_port=self.ext_port,
                                     routes=routes, backend_port=backend_port, user=user), encoding="utf-8")
        test = subprocess.run([nginx, "-t", "-q", "-p", str(prefix), "-e", str(prefix / "error.log"),
                               "-c", str(conf)], capture_output=True, text=True, check=False)
        if test.returncode != 0:
            raise SystemExit(f"nginx rejected {conf}:\n{test.stderr}")
        self._proc = subprocess.Popen([nginx, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True)
        self.kind = "nginx"
        _wait_listening(self.port, self._proc)

    def stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()       # nginx's fast shutdown: idle keep-alives do not delay it
                try:
                    self._proc.wait(10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._proc = None
        for server in (self._python, self._backend):
            if server is not None:
                server.stop()
        self._python = self._backend = None


def _python_server_sends_linkchecker_header() -> None:
    """The Python sample server has no setting for extra headers; add LinkChecker's in this
    process only, or LinkChecker throttles itself to 10 requests per second."""
    from patrol.demo.samplesite import server as sample_server
    handler = getattr(sample_server, "_Handler", None)
    if handler is None or getattr(handler, "_bench_header", False):
        return
    original = handler.end_headers

    def end_headers(self: Any) -> None:
        self.send_header("LinkChecker", "benchmark: no rate limit")
        original(self)

    handler.end_headers = end_headers
    handler._bench_header = True


def _wait_listening(port: int, proc: subprocess.Popen[bytes], limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"nginx exited with code {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nginx did not listen on 127.0.0.1:{port} within {limit:.0f} s")


def ensure_nginx() -> str | None:
    """The nginx binary; installed with apt-get when missing and allowed (root, Debian)."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx")
                                           if os.access(p, os.X_OK)), None)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    print("installing nginx with apt-get ...", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    ok = (subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, check=False).returncode == 0
          and subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"],
                             env=env, capture_output=True, check=False).returncode == 0)
    if ok:
        # Debian starts the packaged service on port 80; the benchmark runs its own instance.
        subprocess.run(["service", "nginx", "stop"], capture_output=True, check=False)
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


# ----------------------------------------------------------------------------- the peers

def ensure_linkchecker(work: Path) -> Path:
    venv = work / "linkchecker-venv"
    exe = venv / "bin" / "linkchecker"
    if not exe.exists():
        print(f"installing LinkChecker into {venv} ...", file=sys.stderr)
        py = shutil.which("python3") or sys.executable
        subprocess.run([py, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                        "linkchecker"], check=True)
    return exe


def ensure_linkinator(work: Path) -> Path:
    folder = work / "linkinator"
    exe = folder / "node_modules" / ".bin" / "linkinator"
    if not exe.exists():
        npm = shutil.which("npm")
        if not npm:
            raise SystemExit("linkinator needs Node.js and npm (Debian packages nodejs, npm)")
        print(f"installing linkinator into {folder} ...", file=sys.stderr)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "package.json").exists():
            (folder / "package.json").write_text('{"name": "bench-peers", "private": true}\n')
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "linkinator"],
                       cwd=folder, check=True)
    return exe


def tool_version(tool: str, exe: Path | None) -> str:
    try:
        if tool == "patrol":
            out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=30,
                                 check=False).stdout
            return out.strip()
        if tool == "linkchecker":
            out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=30,
                                 check=False).stdout
            first = out.strip().splitlines()[0] if out.strip() else ""
            return " ".join(first.split()[:2]) or "LinkChecker"
        if tool == "linkinator":
            pkg = exe.resolve().parent.parent / "package.json" if exe else None
            if pkg and pkg.exists():
                return "linkinator " + json.loads(pkg.read_text())["version"]
    except (OSError, subprocess.SubprocessError, KeyError, ValueError, IndexError):
        pass
    return tool


# ----------------------------------------------------------------------------- measuring

@dataclass
class Measurement:
    wall_s: float
    cpu_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float       # largest sum of RSS over the tool's process tree (sampled)
    peak_pss_mb: float       # the same with PSS: shared pages counted once
    max_process_rss_mb: float
    exit_code: int
    timed_out: bool
    # The tree's peak RSS without the browser (Chromium's processes, found by their command
    # name, and what they start), and the peak RSS summed by command name (a crawl process
    # names itself patrol-crawl): where the memory is.
    peak_rss_no_browser_mb: float = 0.0
    peak_pss_no_browser_mb: float = 0.0
    peak_by_name_mb: dict[str, float] = field(default_factory=dict)


def measure_main(argv: list[str]) -> int:
    """Wrapper process: ``linkcheck_benchmark.py --measure OUT.json TIMEOUT -- CMD...``.

    Runs CMD as its child subreaper so orphaned grandchildren are still reaped here (and
    their CPU counted in RUSAGE_CHILDREN), and samples the tree's memory every 0.1 s."""
    out_path, timeout = Path(argv[0]), float(argv[1])
    cmd = argv[3:] if argv[2] == "--" else argv[2:]
    _set_subreaper()
    me = os.getpid()
    peak = {"rss": 0, "pss": 0, "no_browser": 0, "pss_no_browser": 0}
    by_name: dict[str, int] = {}
    done = threading.Event()

    def sample() -> None:
        tick = 0
        while not done.is_set():
            pids = _descendants(me)
            sizes = {p: _rss(p) for p in pids}
            rss = sum(sizes.values())
            peak["rss"] = max(peak["rss"], rss)
            browser = _browser_tree(pids)
            peak["no_browser"] = max(peak["no_browser"], sum(v for p, v in sizes.items() if p not in browser))
            named: dict[str, int] = {}
            for p, v in sizes.items():
                name = "browser" if p in browser else _comm(p)
                named[name] = named.get(name, 0) + v
            for name, v in named.items():
                by_name[name] = max(by_name.get(name, 0), v)
            if tick % 2 == 0:    # PSS makes the kernel walk page tables: every 0.2 s is enough
                pss = {p: _pss(p) for p in pids}
                peak["pss"] = max(peak["pss"], sum(pss.values()))
                peak["pss_no_browser"] = max(peak["pss_no_browser"],
                                             sum(v for p, v in pss.items() if p not in browser))
            tick += 1
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
    sampler.start()
    timed_out = False
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_tree(me)
        code = proc.wait()
    wall = time.monotonic() - start
    # Whatever the tool left behind (a browser, a crawl process) is still its cost.
    deadline = time.monotonic() + 10
    while _children(me) and time.monotonic() < deadline:
        _reap_any()
        time.sleep(0.05)
    if _children(me):
        _kill_tree(me)
    _reap_any(block_until_empty=True)
    done.set()
    sampler.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = Measurement(
        wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime, user_s=usage.ru_utime, sys_s=usage.ru_stime,
        peak_rss_mb=peak["rss"] / MB, peak_pss_mb=peak["pss"] / MB,
        max_process_rss_mb=usage.ru_maxrss / 1024, exit_code=code, timed_out=timed_out,
        peak_rss_no_browser_mb=peak["no_browser"] / MB, peak_pss_no_browser_mb=peak["pss_no_browser"] / MB,
        peak_by_name_mb={k: round(v / MB, 1) for k, v in sorted(by_name.items(), key=lambda kv: -kv[1])
                         if v >= MB})
    out_path.write_text(json.dumps(dataclasses.asdict(result)), encoding="utf-8")
    return 0


def _set_subreaper() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)   # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _descendants(root: int) -> list[int]:
    return sorted(stopping.descendants([root]))


def _children(root: int) -> list[int]:
    return stopping.children(root)


# Command names of the browser's processes (Debian's chromium, Playwright's headless shell).
BROWSER_NAMES = ("chrom", "headless_shell")


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return "?"


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def _browser_tree(pids: list[int]) -> set[int]:
    """The browser's processes among ``pids``: those named like Chromium and Playwright's
    driver (the Node.js process that runs the browser for scrapy-playwright), and their
    descendants (the browser's zygotes, renderers, GPU and network services)."""
    roots = [p for p in pids if _comm(p).lower().startswith(BROWSER_NAMES)
             or (b"playwright" in _cmdline(p) and b"run-driver" in _cmdline(p))]
    return set(roots) | stopping.descendants(roots) if roots else set()


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        return _rss(pid)
    return 0


def _kill_tree(root: int) -> None:
    for pid in _descendants(root):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _reap_any(block_until_empty: bool = False) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, 0 if block_until_empty else os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def run_measured(cmd: list[str], *, timeout: float, log: Path, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> Measurement:
    """Run ``cmd`` under a fresh measuring wrapper; its output goes to ``log``."""
    result_file = log.with_suffix(".measure.json")
    result_file.unlink(missing_ok=True)
    wrapper = [sys.executable, str(Path(__file__).resolve()), "--measure", str(result_file),
               str(timeout), "--", *cmd]
    with open(log, "wb") as fh:
        subprocess.run(wrapper, stdout=fh, stderr=subprocess.STDOUT, cwd=cwd, env=env, check=False,
                       timeout=timeout + 60)
    return Measurement(**json.loads(result_file.read_text(encoding="utf-8")))


# ----------------------------------------------------------------------------- URLs

def normalise(url: str) -> str:
    """One spelling per URL: scheme and host lower case, default port and fragment dropped,
    percent-encoding made uniform, empty path as "/"."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/;:@&=+$,!~*'()%") or "/"
    query = quote(unquote(parts.query), safe="=&;:@/?+$,!~*'()%")
    return urlunsplit((scheme, host, path, query, ""))


# ----------------------------------------------------------------------------- the tools

@dataclass
class Tool:
    name: str
    label: str
    command: list[str]
    parse: Callable[[], set[str]]      # normalised URLs the tool reported broken
    exe: Path
    env: dict[str, str] | None = None
    reset: Callable[[], None] | None = None   # clears the previous run's output
    note: str = ""


def patrol_tool(base_url: str, work: Path, *, concurrency: int, max_pages: int) -> Tool:
    out = work / "runs" / "patrol"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    config = work / "runs" / "patrol.yaml"
    # Same concurrency as the peers; --fast makes it the per-host limit too and drops delays.
    config.write_text(f"crawl: {{concurrency: {concurrency}, fast: true}}\n", encoding="utf-8")
    exe = REPO / ".venv" / "bin" / "patrol"
    if not exe.exists():
        exe = Path(shutil.which("patrol") or "patrol")
    cmd = [str(exe), "check", base_url, "--config", str(config), "--fast", "--max-pages", str(max_pages),
           # The peers follow links to any depth; patrol's default (8 clicks) would stop in the
           # middle of long paged lists, which only "next page" links reach.
           "--max-depth", "10000", "--quiet", "--out", str(out)]
    if _patrol_has_checks_option(exe):
        cmd += ["--checks", "links"]

    def parse() -> set[str]:
        return parse_patrol(out / "findings.json")

    def reset() -> None:
        # A fresh store each time: a second run would otherwise compare with the first.
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)

    # The code of this checkout: .venv's `patrol` is an editable install of one checkout, and a
    # benchmark run from another worktree would otherwise measure that one.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PATROL_SRC), os.environ.get("PYTHONPATH")]))}
    return Tool("patrol", "patrol (link check only)", cmd, parse, exe, env=env, reset=reset)


def _patrol_has_checks_option(exe: Path) -> bool:
    try:
        help_text = subprocess.run([str(exe), "check", "--help"], capture_output=True, text=True,
                                   timeout=60, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "--checks" in help_text


def linkchecker_tool(base_url: str, work: Path, *, concurrency: int) -> Tool:
    exe = ensure_linkchecker(work)
    home = work / "runs" / "linkchecker"
    home.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        # Run as root, LinkChecker drops its privileges to "nobody", who must write here.
        home.chmod(0o777)
    out = home / "linkchecker.csv"
    out.unlink(missing_ok=True)
    # The response header alone only lets LinkChecker use its configured rate per host, which
    # defaults to 10 requests per second: raise that too, or the run measures the throttle.
    rc = home / "linkcheckerrc"
    rc.write_text("[checking]\nmaxrequestspersecond=1000000\n", encoding="utf-8")
    rc.chmod(0o644)
    cmd = [str(exe), "--config", str(rc), "--threads", str(concurrency), "--check-extern", "--no-status",
           "--no-warnings",
           "-o", "none", "-F", f"csv/utf-8/{out}", base_url]

    def parse() -> set[str]:
        return parse_linkchecker(out)

    # Its own HOME: no user configuration file changes the run.
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "XDG_DATA_HOME": str(home)}
    return Tool("linkchecker", "LinkChecker", cmd, parse, exe, env=env)


def linkinator_tool(base_url: str, work: Path, *, concurrency: int) -> Tool:
    exe = ensure_linkinator(work)
    out = work / "runs" / "linkinator.json"
    out.unlink(missing_ok=True)
    node = shutil.which("node") or "node"
    # Through sh only to send its stdout (the JSON report) to a file.
    script = (f'exec "$0" "$1" "$2" --recurse --concurrency {concurrency} --format json '
              '--verbosity error > "$3"')
    cmd = ["sh", "-c", script, node, str(exe), base_url, str(out)]

    def parse() -> set[str]:
        return parse_linkinator(out)

    return Tool("linkinator", "linkinator", cmd, parse, exe)


def parse_patrol(path: Path) -> set[str]:
    """Broken link targets in patrol's findings.json."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {normalise(f["url"]) for f in data.get("findings", []) if f.get("check") == "broken_link"}


def parse_linkchecker(path: Path) -> set[str]:
    """Invalid URLs in LinkChecker's CSV output (";"-separated, "#" comment lines)."""
    from urllib.parse import urljoin
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    broken = set()
    for row in csv.DictReader(io.StringIO("\n".join(lines)), delimiter=";"):
        if (row.get("valid") or "").strip().lower() not in ("false", "0"):
            continue
        url = row.get("url") or row.get("urlname") or ""
        if url and "://" not in url and row.get("parentname"):
            url = urljoin(row["parentname"], url)
        if url:
            broken.add(normalise(url))
    return broken


def parse_linkinator(path: Path) -> set[str]:
    """Links in state BROKEN in linkinator's JSON report."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {normalise(link["url"]) for link in data.get("links", []) if link.get("state") == "BROKEN"}


# ----------------------------------------------------------------------------- scoring

@dataclass
class Known:
    urls: set[str]
    by_kind: dict[str, set[str]]
    js_only: set[str]          # broken links only a browser sees
    soft_404: set[str]


def known_broken(manifest: Any) -> Known:
    urls: set[str] = set()
    by_kind: dict[str, set[str]] = {}
    pages_of: dict[str, set[str]] = {}
    for entry in manifest.broken:
        url = normalise(entry["url"])
        urls.add(url)
        by_kind.setdefault(entry["kind"], set()).add(url)
        pages_of.setdefault(url, set()).add(normalise(entry["page"]))
    # Behind JavaScript: the link is written by a script, or every page carrying it is one that
    # only a script's list links to (the articles of a JavaScript-filled column).
    js_links = {normalise(e["url"]) for e in manifest.js_only_links}
    js = {u for u in urls if u in js_links or pages_of[u] <= js_links}
    return Known(urls, by_kind, js, by_kind.get("soft_404", set()))


@dataclass
class Row:
    tool: str
    version: str
    measurement: Measurement | None
    found: int = 0
    known: int = 0
    false_alarms: int = 0
    js_found: int = 0
    soft_found: int = 0
    missed_kinds: dict[str, int] = field(default_factory=dict)
    false_examples: list[str] = field(default_factory=list)
    error: str = ""
    command: str = ""
    runs: int = 1
    walls: list[float] = field(default_factory=list)


def score(reported: set[str], known: Known) -> tuple[int, int, int, int, dict[str, int], list[str]]:
    found = reported & known.urls
    false = sorted(reported - known.urls)
    missed = {kind: len(urls - found - known.js_only) for kind, urls in known.by_kind.items()
              if urls - found - known.js_only}
    if known.js_only - found:
        missed["behind JavaScript"] = len(known.js_only - found)
    return (len(found), len(false), len(known.js_only & found), len(known.soft_404 & found), missed, false[:5])


# ----------------------------------------------------------------------------- report

def table(rows: list[Row], known: Known) -> str:
    head = ("| tool | wall s | CPU s | peak RSS MB (tree) | peak PSS MB (tree) | broken found / known "
            f"| behind JS found / {len(known.js_only)} | soft-404 found / {len(known.soft_404)} | false alarms |")
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        m = r.measurement
        if m is None or r.error:
            lines.append(f"| {r.version} | – | – | – | – | – | – | – | – |")
            continue
        flag = " (timed out)" if m.timed_out else (f" (exit {m.exit_code})" if m.exit_code not in (0, 1) else "")
        lines.append(f"| {r.version}{flag} | {m.wall_s:.1f} | {m.cpu_s:.1f} | {m.peak_rss_mb:.0f} | "
                     f"{m.peak_pss_mb:.0f} | {r.found} / {r.known} | {r.js_found} | {r.soft_found} | "
                     f"{r.false_alarms} |")
    return "\n".join(lines)


def targets(rows: list[Row]) -> list[str]:
    """The issue's targets, checked against this run."""
    by = {r.tool: r for r in rows if r.measurement and not r.error}
    patrol = by.get("patrol")
    if patrol is None:
        return []
    pm = patrol.measurement
    assert pm is not None
    lines = ["Targets:"]
    if "linkinator" in by:
        other = by["linkinator"].measurement.wall_s  # type: ignore[union-attr]
        verdict = "met" if pm.wall_s <= other else "not met"
        lines.append(f"- at least as fast as linkinator in wall time: {verdict} "
                     f"({pm.wall_s:.1f} s against {other:.1f} s)")
    if "linkchecker" in by:
        other = by["linkchecker"].measurement.wall_s  # type: ignore[union-attr]
        ratio = other / pm.wall_s if pm.wall_s else 0.0
        lines.append(f"- at least 5x faster than LinkChecker: {'met' if ratio >= 5 else 'not met'} "
                     f"({ratio:.1f}x)")
    lines.append(f"- every known broken link found: {'met' if patrol.found == patrol.known else 'not met'} "
                 f"({patrol.found} / {patrol.known}, {patrol.false_alarms} false alarms)")
    return lines + [""]


def machine() -> str:
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu or platform.machine()}), Linux {platform.release()}, Python {platform.python_version()}"


def write_results(path: Path, rows: list[Row], known: Known, info: dict[str, Any]) -> str:
    parts = [
        "# Link-check benchmark results",
        "",
        f"Site: {info['pages']} pages, {info['files']} files, {info['known']} known broken link targets "
        f"({info['kinds']}), served by {info['server']} on 127.0.0.1. Concurrency {info['concurrency']} for "
        f"every tool. {info['machine']}. Run {info['when']}"
        + (f"; each tool {info['repeat']} times in rounds, the median run by wall time shown."
           if info["repeat"] > 1 else ".")
        + (f" Load average (1 min) before / after: {info['load'][0]} / {info['load'][1]}." if info.get("load") else ""),
        "",
        table(rows, known),
        "",
        ("wall: from start to exit. CPU: user + system time of the tool and every process it started "
         "(crawl process, browser). Peak RSS / PSS: the largest sum over the tool's process tree, "
         "sampled every 0.1 / 0.2 s (PSS counts shared pages once). Found: distinct known broken "
         "target URLs the tool reported, matched by normalised URL. False alarms: URLs reported "
         "broken that the manifest does not list."),
        "",
    ]
    if info.get("warning"):
        parts += [f"Warning: {info['warning']}", ""]
    parts += targets(rows)
    if info.get("repeat", 1) > 1:
        parts.append("Wall times of every run: " + "; ".join(
            f"{r.version} " + ", ".join(f"{w:.1f}" for w in r.walls) for r in rows if r.walls) + ".")
        parts.append("")
    scripted = info.get("scripted")
    if scripted:
        ratio = scripted["ratio"]
        parts += [
            (f"Script-filled lists: the same site with {scripted['lists']} of its department list pages "
             "written by a script (rendered by patrol), against the site with those lists in the HTML; "
             f"patrol alone, {len(scripted['walls']['plain'])} runs on each, alternating, medians shown."),
            "",
            "| site | wall s (median) | CPU s (median) | every run, wall s | broken links |",
            "|---|---|---|---|---|",
        ]
        for name in ("plain", "scripted"):
            parts.append(f"| {'lists in the HTML' if name == 'plain' else 'lists written by a script'} | "
                         f"{scripted['median'][name]:.1f} | {scripted['cpu'][name]:.1f} | "
                         f"{', '.join(f'{w:.1f}' for w in scripted['walls'][name])} | {scripted['found'][name]} |")
        parts += ["", ("- script-filled lists in at most 1.2x the time of the plain site: "
                       f"{'met' if ratio <= 1.2 else 'not met'} ({ratio:.2f}x)"), ""]
    misses = [(r.version, r.missed_kinds) for r in rows if r.missed_kinds]
    if misses:
        parts.append("Missed, by kind:")
        parts += [f"- {name}: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) for name, kinds in misses]
        parts.append("")
    falses = [(r.version, r.false_examples) for r in rows if r.false_examples]
    if falses:
        parts.append("False alarms, first examples:")
        parts += [f"- {name}: " + ", ".join(ex) for name, ex in falses]
        parts.append("")
    errors = [(r.version, r.error) for r in rows if r.error]
    if errors:
        parts += [f"- {name}: {err}" for name, err in errors] + [""]
    parts += ["Commands (`BASE` is the site's URL):", "", "```"]
    parts += [r.command for r in rows if r.command]
    parts += ["```", ""]
    text = "\n".join(parts)
    path.write_text(text, encoding="utf-8")
    return text


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--measure":
        return measure_main(argv[1:])
    # Stopped by a signal, still stop the web server it started (the finally clause below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=5300, metavar="N",
                        help="rescale the site to at least N pages (5300; 0: the bench profile as defined)")
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help=f"comma-separated, in run order (default: {','.join(TOOLS)})")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight, every tool (16)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run each tool N times and report the median run by wall time (1)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds each tool may run (900)")
    parser.add_argument("--work", type=Path, default=HERE / "work", help="work folder (benchmarks/work)")
    parser.add_argument("--results", type=Path, default=HERE / "results.md",
                        help="the Markdown table is written here (benchmarks/results.md)")
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="the site's today, YYYY-MM-DD (default: today)")
    parser.add_argument("--python-server", action="store_true",
                        help="serve with the Python sample server instead of nginx")
    parser.add_argument("--keep-site", action="store_true", help="reuse benchmarks/work/site if it was built")
    parser.add_argument("--script-lists", type=int, default=20, metavar="N",
                        help="also check the same site with N department list pages filled by a script, "
                             "against the site with its lists in the HTML, patrol only (20; 0: skip)")
    parser.add_argument("--render-repeat", type=int, default=3, metavar="N",
                        help="runs of patrol on each of the two sites, alternating (3)")
    parser.add_argument("--patrol-src", type=Path, default=None, metavar="DIR",
                        help="run patrol with the code in DIR (e.g. `git archive` of an earlier commit) "
                             "instead of this checkout's, with this checkout's .venv")
    parser.add_argument("--serve", action="store_true",
                        help="only serve the site (for profiling one tool by hand) until interrupted")
    args = parser.parse_args(argv)
    if args.patrol_src is not None:
        global PATROL_SRC
        PATROL_SRC = args.patrol_src.resolve()
        if not (PATROL_SRC / "patrol" / "cli.py").is_file():
            parser.error(f"--patrol-src: {PATROL_SRC} holds no patrol source")
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for name in tools:
        if name not in TOOLS:
            parser.error(f"--tools: unknown tool {name!r} (known: {', '.join(TOOLS)})")

    work = args.work.resolve()
    (work / "runs").mkdir(parents=True, exist_ok=True)
    root = work / "site"
    from patrol.demo.samplesite.manifest import Manifest
    if args.keep_site and (root / "manifest.json").exists() and not (root / TOKENS_FILLED).exists():
        manifest = Manifest.load(root)
    else:
        print("building the site ...", file=sys.stderr)
        manifest = build_site(root, pages=args.pages, today=args.today or date.today())
    pages = manifest.counts.get("pages", len(manifest.pages))
    print(f"site: {pages} pages, {manifest.counts.get('files')} files, "
          f"{manifest.counts.get('broken_urls')} broken link targets", file=sys.stderr)

    server = Server()
    rows: list[Row] = []
    scripted: dict[str, Any] = {}
    try:
        server.start(root, work, use_nginx=not args.python_server)
        base = server.url
        resolved = manifest.resolve(base, server.ext_url)
        known = known_broken(resolved)
        print(f"serving {base} with {server.kind}", file=sys.stderr)
        if args.serve:
            print(base, flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0
        load_before = os.getloadavg()[0]
        rows = run_tools(tools, base, work, known, args, pages)
        load_after = os.getloadavg()[0]
        if args.script_lists > 0 and "patrol" in tools:
            scripted = render_comparison(base, known, work, args, pages)
    finally:
        server.stop()

    kinds = ", ".join(f"{k} {len(v)}" for k, v in sorted(known.by_kind.items()))
    if known.js_only:
        kinds += f"; {len(known.js_only)} of them behind JavaScript-filled lists"
    info = {"pages": pages, "files": manifest.counts.get("files"), "known": len(known.urls), "kinds": kinds,
            "server": server.kind, "concurrency": args.concurrency, "machine": machine(),
            "repeat": args.repeat,
            "when": time.strftime("%Y-%m-%d %H:%M %Z"), "warning": server.warning,
            "load": (round(load_before, 2), round(load_after, 2))}
    if scripted:
        info["scripted"] = scripted
    text = write_results(args.results, rows, known, info)
    (work / "results.json").write_text(json.dumps(
        {"info": info, "rows": [dataclasses.asdict(r) for r in rows]}, ensure_ascii=False, indent=1),
        encoding="utf-8")
    print(text)
    return 0 if all(r.measurement and not r.error for r in rows) else 1


def render_comparison(plain_base: str, plain_known: Known, work: Path, args: argparse.Namespace,
                      pages: int) -> dict[str, Any]:
    """patrol on the site with its lists in the HTML and on the same site with
    ``--script-lists`` of its list pages filled by a script, run alternately (other work on a
    shared machine weighs on both alike); the medians' ratio is the issue's measure."""
    root = work / "site-scripted"
    print(f"building the site with {args.script_lists} script-filled list pages ...", file=sys.stderr)
    manifest = build_site(root, pages=args.pages, today=args.today or date.today(),
                          script_lists=args.script_lists)
    server = Server()
    try:
        server.start(root, work / "scripted")
        known = known_broken(manifest.resolve(server.url, server.ext_url))
        sites = {"plain": (plain_base, plain_known), "scripted": (server.url, known)}
        walls: dict[str, list[float]] = {name: [] for name in sites}
        cpus: dict[str, list[float]] = {name: [] for name in sites}
        found: dict[str, str] = {}
        for round_no in range(max(1, args.render_repeat)):
            for name, (base, site_known) in sites.items():
                tool = patrol_tool(base, work / name, concurrency=args.concurrency, max_pages=max(pages * 2, 1000))
                print(f"patrol on the {name} site (round {round_no + 1}) ...", file=sys.stderr)
                (work / name / "runs").mkdir(parents=True, exist_ok=True)
                m = run_measured(tool.command, timeout=args.timeout, log=work / name / "runs" / "patrol.log",
                                 cwd=REPO, env=tool.env)
                walls[name].append(round(m.wall_s, 2))
                cpus[name].append(round(m.cpu_s, 2))
                print(f"  {m.wall_s:.1f} s wall, {m.cpu_s:.1f} s CPU", file=sys.stderr)
                n, false, js, _, _, _ = score(tool.parse(), site_known)
                found[name] = (f"{n} / {len(site_known.urls)} found ({js} / {len(site_known.js_only)} behind "
                               f"script-filled lists), {false} false alarms")
    finally:
        server.stop()
    median = {name: sorted(w)[(len(w) - 1) // 2] for name, w in walls.items()}
    cpu = {name: sorted(c)[(len(c) - 1) // 2] for name, c in cpus.items()}
    return {"lists": args.script_lists, "walls": walls, "median": median, "cpu": cpu, "found": found,
            "ratio": round(median["scripted"] / median["plain"], 2) if median["plain"] else 0.0}


def prepare_tool(name: str, base: str, work: Path, args: argparse.Namespace, pages: int) -> Tool:
    if name == "patrol":
        return patrol_tool(base, work, concurrency=args.concurrency, max_pages=max(pages * 2, 1000))
    if name == "linkchecker":
        return linkchecker_tool(base, work, concurrency=args.concurrency)
    return linkinator_tool(base, work, concurrency=args.concurrency)


def run_tools(names: list[str], base: str, work: Path, known: Known, args: argparse.Namespace,
              pages: int) -> list[Row]:
    """Run every tool ``--repeat`` times, in rounds (each tool once per round), so that other
    work on a shared machine weighs on all of them alike; one row per tool, its median run."""
    tools: dict[str, Tool] = {}
    rows: dict[str, Row] = {}
    for name in names:
        try:
            tools[name] = prepare_tool(name, base, work, args, pages)
        except (OSError, subprocess.CalledProcessError) as exc:
            rows[name] = Row(name, name, None, known=len(known.urls), error=f"could not install or prepare: {exc}")
    runs: dict[str, list[Measurement]] = {name: [] for name in tools}
    versions = {name: tool_version(name, tool.exe) for name, tool in tools.items()}
    for round_no in range(max(1, args.repeat)):
        for name, tool in tools.items():
            if runs[name] and runs[name][-1].timed_out:
                continue
            if round_no and tool.reset:
                tool.reset()
            print(f"running {versions[name]}" + (f" (round {round_no + 1})" if args.repeat > 1 else "") + " ...",
                  file=sys.stderr)
            m = run_measured(tool.command, timeout=args.timeout, log=work / "runs" / f"{name}.log",
                             cwd=REPO, env=tool.env)
            runs[name].append(m)
            print(f"  {m.wall_s:.1f} s wall, {m.cpu_s:.1f} s CPU", file=sys.stderr)
    for name, tool in tools.items():
        rows[name] = score_tool(name, tool, versions[name], runs[name], base, work, known)
    return [rows[name] for name in names]


def score_tool(name: str, tool: Tool, version: str, runs: list[Measurement], base: str, work: Path,
               known: Known) -> Row:
    shown = " ".join(shlex.quote(c) for c in tool.command).replace(base, "BASE")
    shown = shown.replace(str(work), "benchmarks/work").replace(str(REPO) + "/", "")
    # The median run by wall time: other work on a shared machine only ever adds time.
    m = sorted(runs, key=lambda r: r.wall_s)[(len(runs) - 1) // 2]
    row = Row(name, version, m, known=len(known.urls), command=shown, runs=len(runs),
              walls=[round(r.wall_s, 2) for r in runs])
    try:
        reported = tool.parse()      # the last run's output; every run checks the same site
    except (OSError, ValueError, KeyError) as exc:
        row.error = f"no readable output ({exc}); see {work / 'runs' / (name + '.log')}"
        print(f"{version}: {row.error}", file=sys.stderr)
        return row
    row.found, row.false_alarms, row.js_found, row.soft_found, row.missed_kinds, row.false_examples = \
        score(reported, known)
    print(f"{version}: {row.found}/{row.known} found, {row.false_alarms} false alarms", file=sys.stderr)
    return row


if __name__ == "__main__":
    sys.exit(main())
