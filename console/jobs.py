"""Spot checks started from the console: each one is a ``patrol check`` process of its own.

The console never crawls in its own process (the crawl's Twisted reactor runs once per
process, and a crawl must not stall the pages): it starts ``python -m patrol.cli check URL``
with an argument list (no shell), writes its output to a log file in the check's folder and
reads the report that process writes.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

MAX_RUNNING = 2


class JobError(ValueError):
    """A spot check could not be started: the reason, for the form."""


def check_url(text: str) -> str:
    """An http(s) URL with a host, or JobError."""
    url = (text or "").strip()
    if not url or len(url) > 2000 or any(c.isspace() for c in url):
        raise JobError("请输入要检查的网址（http:// 或 https:// 开头）")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise JobError(f"{url}：不是 http(s) 网址")
    return url


@dataclass
class Job:
    id: str
    url: str
    out: Path
    argv: list[str]
    started: float = field(default_factory=time.time)
    proc: subprocess.Popen | None = None
    returncode: int | None = None
    finished: float | None = None

    @property
    def log(self) -> Path:
        return self.out / "console-check.log"

    @property
    def report(self) -> Path:
        return self.out / "report.html"

    @property
    def status(self) -> str:
        if self.returncode is None:
            return "running"
        return "done" if self.report.is_file() else "failed"

    def poll(self) -> None:
        if self.proc is not None and self.returncode is None:
            code = self.proc.poll()
            if code is not None:
                self.returncode, self.finished = code, time.time()

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def as_dict(self) -> dict[str, object]:
        self.poll()
        return {"id": self.id, "url": self.url, "status": self.status, "returncode": self.returncode,
                "elapsed_s": round((self.finished or time.time()) - self.started, 1)}


class Jobs:
    """The spot checks of one console process."""

    def __init__(self, root: Path, config_path: str | None = None) -> None:
        self.root = Path(root)
        self.config_path = config_path
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def start(self, url: str, max_pages: int = 100, checks: str = "") -> Job:
        url = check_url(url)
        if not 1 <= max_pages <= 5000:
            raise JobError("最多页面数应在 1 到 5000 之间")
        if checks and checks not in ("links", "links,text", "links,freshness,text"):
            raise JobError(f"未知的检查范围：{checks}")
        with self.lock:
            for j in self.jobs.values():
                j.poll()
            running = [j for j in self.jobs.values() if j.returncode is None]
            if len(running) >= MAX_RUNNING:
                raise JobError(f"已有 {len(running)} 个检查在进行，请稍后再试")
            job_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
            out = self.root / job_id
            out.mkdir(parents=True, exist_ok=True)
            argv = [sys.executable, "-m", "patrol.cli", "check", url, "--out", str(out), "--quiet",
                    "--max-pages", str(max_pages)]
            if checks:
                argv += ["--checks", checks]
            if self.config_path:
                argv += ["--config", self.config_path]
            job = Job(job_id, url, out, argv)
            with open(job.log, "wb") as log:
                job.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            cwd=str(out), start_new_session=True)
            self.jobs[job_id] = job
            return job

    def get(self, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        if job is not None:
            job.poll()
        return job

    def listing(self) -> list[Job]:
        for job in self.jobs.values():
            job.poll()
        return sorted(self.jobs.values(), key=lambda j: j.started, reverse=True)

    def stop_all(self) -> None:
        """Stop the checks still running (the console is closing): SIGTERM to each check's own
        process group, as Ctrl-C would; it stores what it crawled."""
        for job in self.jobs.values():
            job.poll()
            if job.proc is not None and job.returncode is None:
                try:
                    os.killpg(job.proc.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    continue
                try:
                    job.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(job.proc.pid, signal.SIGKILL)
