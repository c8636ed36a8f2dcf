"""Thresholds: the defaults of patroldata/thresholds.yaml, overridden by the config file and per site."""
from __future__ import annotations

import copy
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import yaml

from patroldata import data_path

if TYPE_CHECKING:
    from common.config import Config, Site


@lru_cache(maxsize=1)
def defaults() -> dict[str, dict[str, Any]]:
    """The default thresholds, read once: the one reader of ``thresholds.yaml`` (the packaged
    file, or a user's ``config/thresholds.yaml`` / ``$PATROL_DATA_DIR`` override)."""
    path = data_path("thresholds.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the thresholds: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{path}: expected sections of thresholds (freshness: {{...}}, links: {{...}} ...)")
    return data


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
