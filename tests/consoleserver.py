"""The console (console/app.py) served by uvicorn on 127.0.0.1 in a thread, for the tests."""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn

from console.app import create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ConsoleServer:
    def __init__(self, cfg, store=None, password: str | None = None, check_root: Path | None = None) -> None:
        self.app = create_app(cfg, store, password=password, check_root=check_root)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def console(self):
        return self.app.state.console

    def __enter__(self) -> ConsoleServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the console did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
