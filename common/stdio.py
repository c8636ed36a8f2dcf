"""The process's standard streams, flushed before it leaves or forks."""
from __future__ import annotations

import sys


def flush_std_streams() -> None:
    """Flush stdout and stderr, whatever state they are in: None (a process started with one
    closed), a closed stream, or a pipe whose reader went away (``patrol ... | head``)."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
