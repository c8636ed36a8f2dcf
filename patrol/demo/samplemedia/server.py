"""A quiet static file server for the sample accounts (tests and the demo), on loopback."""
from __future__ import annotations

import functools
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def serve(root: str | Path, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``root`` in a daemon thread; returns the server (call ``shutdown()``) and its base URL.

    A missing file answers 404, which is how the sample's vanished account looks."""
    handler = functools.partial(_Quiet, directory=str(root))
    cls = _Server6 if ":" in host else ThreadingHTTPServer
    server = cls((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="samplemedia-server", daemon=True).start()
    shown = f"[{host}]" if ":" in host else host
    return server, f"http://{shown}:{server.server_address[1]}/"
