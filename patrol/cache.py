"""Where patrol keeps what it derives once and reuses (``$PATROL_CACHE_DIR``, else
``$XDG_CACHE_HOME/patrol`` or ``~/.cache/patrol``)."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    env = os.environ.get("PATROL_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "patrol"
