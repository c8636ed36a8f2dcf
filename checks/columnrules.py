"""The column rules of ``patroldata/columns.yaml``: category keywords, the words an empty list
shows instead of entries, the words of links that are never columns.  Read by the column
finder (checks/columns.py) and the page reader (checks/pagefacts.py), which imports nothing
of the column finder."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from patroldata import data_path

COLUMNS_FILE = data_path("columns.yaml")
CATEGORIES = ("dynamic", "notice", "yearly", "none")


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    cats = data.get("categories") or {}
    unknown = [c for c in cats if c not in CATEGORIES]
    if unknown:
        raise ValueError(f"{path}: categories: unknown category {unknown[0]!r} "
                         f"(known: {', '.join(CATEGORIES)})")
    return data


def keywords(path: Path | None = None) -> dict[str, list[str]]:
    """Category -> keywords, from patroldata/columns.yaml."""
    cats = _load(str(path or COLUMNS_FILE)).get("categories") or {}
    return {c: [str(k) for k in (cats.get(c) or [])] for c in CATEGORIES}


def placeholder_phrases(path: Path | None = None) -> list[str]:
    """The words an empty list shows instead of entries (暂无信息 ...)."""
    return [str(p) for p in (_load(str(path or COLUMNS_FILE)).get("placeholders") or [])]


def not_column_words(path: Path | None = None) -> list[str]:
    """Words of links that are never columns (登录, 用户中心, 搜索, English, 无障碍, 字号 ...)."""
    return [str(p) for p in (_load(str(path or COLUMNS_FILE)).get("not_columns") or [])]
