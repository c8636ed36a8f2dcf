"""A throw-away Redis server for the tests (and the benchmark) that need one.

``start()`` runs Debian's ``redis-server`` on a free loopback port in a temporary folder, with
nothing saved to disk, and returns a ``RedisServer`` whose ``url`` names database 0; ``stop()``
stops it and removes the folder.  ``Unavailable`` says why none could be started (no
redis-server installed, no Redis client), for the tests to skip with.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from patrol.demo.samplesite import free_port


class Unavailable(Exception):
    """No Redis server can be started here (the reason is the message)."""


@dataclass
class RedisServer:
    folder: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        try:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def start() -> RedisServer:
    try:
        import redis  # noqa: F401 - the client the queue uses
    except ImportError:
        raise Unavailable("the Redis client is not installed (pip install 'patrol[queue]')") from None
    binary = shutil.which("redis-server")
    if binary is None:
        raise Unavailable("redis-server is not installed (Debian: apt-get install redis-server)")
    folder = Path(tempfile.mkdtemp(prefix="patrol-redis-"))
    port = free_port()
    with open(folder / "redis.log", "wb") as log:
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(folder)],
                                stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            shutil.rmtree(folder, ignore_errors=True)
            raise Unavailable(f"redis-server exited at start (status {proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return RedisServer(folder, port, proc)
        except OSError:
            time.sleep(0.05)
    server = RedisServer(folder, port, proc)
    server.stop()
    raise Unavailable("redis-server did not answer within 20 s")
