"""patrol's default data files: thresholds, scoring, column and new-media rules, the text
checks' word lists (``text/``) and the sample site's text.

They ship inside the package and are found with :mod:`importlib.resources`, so an installed
patrol (``pip install``) works from any folder.  A user's own copy overrides a file or folder
of the same name, first in ``$PATROL_DATA_DIR``, then in ``config/`` of the working folder:
``config/text/`` beside a ``patrol.yaml`` replaces the whole word-list folder, and
``config/thresholds.yaml`` the default thresholds.  This package imports nothing of patrol.
"""
from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

PACKAGED = Path(str(files(__name__)))


def override_dirs() -> list[Path]:
    """Where a user's own data files are looked for, first first."""
    dirs = []
    if os.environ.get("PATROL_DATA_DIR"):
        dirs.append(Path(os.environ["PATROL_DATA_DIR"]))
    dirs.append(Path.cwd() / "config")
    return dirs


def data_path(name: str) -> Path:
    """The file or folder ``name`` (``thresholds.yaml``, ``text``): a user's override if there
    is one, else the packaged default."""
    for folder in override_dirs():
        candidate = folder / name
        if candidate.exists():
            return candidate
    return PACKAGED / name
