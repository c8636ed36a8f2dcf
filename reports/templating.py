"""The report's Jinja2 environment and its filters: one look for the report, the
rectification lists and the console (reports/templates/)."""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
LINK_KIND_LABELS = {
    "http_404": "404 不存在", "http_4xx": "4xx 客户端错误", "http_5xx": "5xx 服务器错误",
    "timeout": "超时", "dns": "域名无法解析", "refused": "连接被拒绝", "tls": "证书/TLS 错误",
    "soft_404": "软 404（提示页不存在）", "redirect_loop": "跳转循环",
    "too_many_redirects": "跳转过多", "invalid_url": "地址格式错误", "connection": "连接中断",
    "unknown": "其他原因",
}


def _bytecode_cache() -> FileSystemBytecodeCache | None:
    """Compiled templates kept between runs (compiling the report's takes 0.2 s); none when the
    cache folder cannot be written."""
    from common.cache import cache_dir
    folder = cache_dir() / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(folder)) if os.access(folder, os.W_OK) else None


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "j2", "eml"], default=True),
                      trim_blocks=True, lstrip_blocks=True, bytecode_cache=_bytecode_cache())
    env.filters["num"] = lambda v: "—" if v is None else (str(int(v)) if float(v).is_integer() else f"{v:.1f}")
    env.filters["signed"] = _signed
    env.filters["fact"] = _fact
    env.filters["link_kind"] = link_kind_label
    env.filters["pct"] = _pct
    # IPv6 rates are judged against 99 %: 98.96 % must not read as 99.0 %.
    env.filters["pct2"] = lambda v: _pct(v, 2)
    return env


def link_kind_label(kind: Any) -> str:
    """A broken link's cause in words; ``http_503`` reads as the 5xx family it belongs to."""
    if not kind:
        return "—"
    text = str(kind)
    if text in LINK_KIND_LABELS:
        return LINK_KIND_LABELS[text]
    if text.startswith("http_") and text[5:6] in ("4", "5"):
        return LINK_KIND_LABELS[f"http_{text[5]}xx"]
    return f"其他原因（{text}）"


def _pct(value: Any, digits: int = 1) -> str:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    text = f"{float(value) * 100:.{digits}f}"
    if digits > 1:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def _signed(v: float | None) -> str:
    if v is None:
        return "—"
    if v == 0:
        return "±0"
    text = str(int(v)) if float(v).is_integer() else f"{v:.1f}"
    return f"+{text}" if v > 0 else text


def _fact(value: Any) -> str:
    """A stats value as short text (the template escapes it)."""
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, default=str)
        return text if len(text) <= 300 else text[:299] + "…"
    return "—" if value is None else str(value)
