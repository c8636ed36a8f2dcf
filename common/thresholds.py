"""Thresholds: the defaults of patroldata/thresholds.yaml, overridden by the config file and per site."""
from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

import yaml

from common.config import Config, Site
from patroldata import data_path


@lru_cache(maxsize=1)
def defaults() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(data_path("thresholds.yaml").read_text(encoding="utf-8"))


def merged(cfg: Config | None = None, site: Site | None = None) -> dict[str, dict[str, Any]]:
    """Defaults, then the config's ``thresholds``, then the site's own."""
    result = copy.deepcopy(defaults())
    for layer in (cfg.thresholds if cfg else {}, site.thresholds if site else {}):
        for section, values in (layer or {}).items():
            if isinstance(values, dict):
                result.setdefault(section, {}).update(values)
            else:
                result[section] = values
    return result
