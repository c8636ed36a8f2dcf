"""Loading and validating the configuration file.

The file's shape is declared once, as the dataclasses below; ``_build`` walks a parsed YAML
document against them and reports the first mistake as ``file: key.path: problem``.
Each section that a feature adds is a dataclass field here, with its default.
"""
from __future__ import annotations

import os
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Union
from urllib.parse import urlsplit

import yaml

from common.errors import ConfigError
from common.thresholds import defaults

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"       # the checkout's own config/ (patrol.example.yaml)


@dataclass
class Contact:
    name: str = ""
    email: str = ""


@dataclass
class Department:
    id: str
    name: str
    contacts: list[Contact] = field(default_factory=list)


@dataclass
class Inspector:
    name: str = "巡检单位"
    email: str = ""


@dataclass
class ColumnRule:
    """Per-site column override: add, rename, re-categorise or ignore a column."""

    url: str
    name: str | None = None
    category: str | None = None      # dynamic | notice | yearly | none
    ignore: bool = False


@dataclass
class Site:
    name: str
    url: str
    department: str = ""
    max_pages: int = 5000
    max_depth: int = 8
    render: str = "auto"                         # auto | always | never
    allowed_hosts: list[str] = field(default_factory=list)
    check_external: bool = True
    columns: list[ColumnRule] = field(default_factory=list)
    thresholds: dict[str, Any] = field(default_factory=dict)


@dataclass
class NewMedia:
    name: str
    platform: str = "wechat"
    department: str = ""
    feed: str | None = None          # RSS / Atom / JSON Feed URL or file path
    page: str | None = None          # public page rendered with a browser
    item_selector: str | None = None
    export: str | None = None        # CSV / XLSX export of posts
    thresholds: dict[str, Any] = field(default_factory=dict)
    # Page accounts: where title, date and link sit inside each item (default: the item's
    # first link and the first date-like text in it).
    title_selector: str | None = None
    date_selector: str | None = None
    link_selector: str | None = None
    url: str | None = None           # the account's public homepage, shown in the report
    timezone: str = "Asia/Shanghai"  # for dates written without a zone


@dataclass
class Leader:
    name: str
    title: str


@dataclass
class Resolver:
    nameservers: list[str] = field(default_factory=list)
    overrides: dict[str, list[str]] = field(default_factory=dict)
    timeout: float = 5.0


@dataclass
class Smtp:
    host: str = ""
    port: int = 465
    ssl: bool = True
    starttls: bool = False
    user: str = ""
    password_env: str = "PATROL_SMTP_PASSWORD"
    sender: str = ""
    timeout: float = 30.0
    retries: int = 3
    ca_file: str = ""                # PEM file of the CA that signed the server's certificate


@dataclass
class Crawl:
    """How hard to crawl.  Defaults are polite; ``fast: true`` lifts the limits."""

    fast: bool = False
    concurrency: int = 16            # requests in flight in one crawl process
    per_host: int = 4                # requests in flight to one host (polite mode)
    delay: float = 0.25              # seconds between requests to one host (polite mode)
    autothrottle: bool = True
    timeout: float = 20.0            # seconds for one request
    retries: int = 2                 # on timeouts, 5xx and 429
    retry_backoff: float = 1.0       # seconds, doubled after each attempt
    max_retry_after: float = 60.0    # longest Retry-After honoured, in seconds
    max_redirects: int = 10
    user_agent: str = ""
    browser: str = ""                # path of a Chromium executable; empty: look for one
    render_timeout: float = 20.0
    # The lean HTTP/1.1 client (crawler/leancheck.py) makes Scrapy's exchanges (crawler/handlers.py,
    # behind Scrapy's per-host slots, so polite crawls stay polite); in fast crawls it also
    # checks attachments, images and other sites' links beside Scrapy's scheduler.  False: every
    # exchange through Scrapy's own Twisted client.
    lean_checks: bool = True


@dataclass
class Queue:
    """A run spread over machines (patrol/distributed.py, docs/distributed.md): one job per site
    on a Redis queue, taken by ``patrol worker`` processes."""

    url: str = ""                    # redis://host:6379/0 (rediss:// for TLS)
    name: str = "patrol"             # the queue's name in Redis (one per group of workers)
    heartbeat_timeout: float = 60.0  # seconds without a sign of life before a worker's jobs go back
    max_retries: int = 3             # a job that fails on a worker is tried this many more times


@dataclass
class Config:
    path: str = "<none>"
    inspector: Inspector = field(default_factory=Inspector)
    database: str = "sqlite:///patrol.db"
    departments: list[Department] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    newmedia: list[NewMedia] = field(default_factory=list)
    leaders: list[Leader] = field(default_factory=list)
    resolver: Resolver = field(default_factory=Resolver)
    smtp: Smtp = field(default_factory=Smtp)
    crawl: Crawl = field(default_factory=Crawl)
    thresholds: dict[str, Any] = field(default_factory=dict)
    output: str = "patrol-out"
    queue: Queue | None = None

    def department(self, dep_id: str) -> Department | None:
        return next((d for d in self.departments if d.id == dep_id), None)


def default_config_path() -> Path:
    return Path(os.environ.get("PATROL_CONFIG") or "config/patrol.yaml")


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    path = Path(path) if path else default_config_path()
    if not path.exists():
        raise ConfigError(f"{path}: file not found (copy config/patrol.example.yaml to start)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}:{where}: invalid YAML: {problem}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:                  # a directory, no permission ...
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return config_from_dict(data or {}, source=str(path), base_dir=path.parent)


def config_from_dict(data: Any, source: str = "<config>", base_dir: Path | None = None) -> Config:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the file must be a mapping of keys (inspector, sites, ...)")
    cfg = _build(Config, {k: v for k, v in data.items() if k != "path"}, source, "")
    cfg.path = source
    _check_semantics(cfg, source, base_dir)
    return cfg


def _check_semantics(cfg: Config, source: str, base_dir: Path | None) -> None:
    dep_ids = [d.id for d in cfg.departments]
    seen: set[str] = set()
    for i, dep in enumerate(cfg.departments):
        if dep.id in seen:
            raise ConfigError(f"{source}: departments[{i}].id: duplicate department id {dep.id!r}")
        seen.add(dep.id)
    names: set[str] = set()
    for i, site in enumerate(cfg.sites):
        key = f"sites[{i}]"
        parts = urlsplit(site.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{source}: {key}.url: {site.url!r} is not an http(s) URL")
        if site.name in names:
            raise ConfigError(f"{source}: {key}.name: duplicate site name {site.name!r}")
        names.add(site.name)
        _check_department(site.department, dep_ids, source, f"{key}.department")
        if site.render not in ("auto", "always", "never"):
            raise ConfigError(f"{source}: {key}.render: must be auto, always or never, not {site.render!r}")
        if site.max_pages < 1:
            raise ConfigError(f"{source}: {key}.max_pages: must be at least 1")
        if site.max_depth < 0:
            raise ConfigError(f"{source}: {key}.max_depth: must not be negative")
        for j, col in enumerate(site.columns):
            if col.category not in (None, "dynamic", "notice", "yearly", "none"):
                raise ConfigError(f"{source}: {key}.columns[{j}].category: must be dynamic, notice, "
                                  f"yearly or none, not {col.category!r}")
    for i, acc in enumerate(cfg.newmedia):
        key = f"newmedia[{i}]"
        _check_department(acc.department, dep_ids, source, f"{key}.department")
        if not (acc.feed or acc.page or acc.export):
            raise ConfigError(f"{source}: {key}: give one of feed, page or export")
        if acc.page and not acc.item_selector:
            raise ConfigError(f"{source}: {key}.item_selector: required with page "
                              f"(a CSS selector matching one post on the page, e.g. '.post-list li')")
        try:
            from zoneinfo import ZoneInfo
            ZoneInfo(acc.timezone)
        except Exception:
            raise ConfigError(f"{source}: {key}.timezone: unknown time zone {acc.timezone!r} "
                              f"(use a name such as Asia/Shanghai)") from None
        if acc.export and base_dir is not None and not Path(acc.export).is_absolute():
            acc.export = str((base_dir / acc.export).resolve()) if (base_dir / acc.export).exists() \
                else acc.export
    _check_thresholds(cfg.thresholds, source, "thresholds")
    for i, site in enumerate(cfg.sites):
        _check_thresholds(site.thresholds, source, f"sites[{i}].thresholds")
    for i, acc in enumerate(cfg.newmedia):
        _check_thresholds(acc.thresholds, source, f"newmedia[{i}].thresholds")
    if cfg.crawl.concurrency < 1 or cfg.crawl.per_host < 1:
        raise ConfigError(f"{source}: crawl: concurrency and per_host must be at least 1")
    if cfg.crawl.timeout <= 0:
        raise ConfigError(f"{source}: crawl.timeout: must be positive")
    _check_resolver(cfg.resolver, source)
    if cfg.queue is not None:
        check_queue(cfg.queue, cfg.database, source)


def check_queue(queue: Queue, database: str, source: str) -> None:
    """The ``queue`` section: a Redis URL, and a store every machine can reach."""
    parts = urlsplit(queue.url)
    if parts.scheme not in ("redis", "rediss", "unix") or (parts.scheme != "unix" and not parts.hostname):
        raise ConfigError(f"{source}: queue.url: {queue.url!r} is not a Redis URL "
                          "(redis://host:6379/0, rediss://... or unix:///path/redis.sock)")
    if parts.scheme != "unix":
        try:
            parts.port
        except ValueError:
            raise ConfigError(f"{source}: queue.url: {queue.url!r}: the port is not a number") from None
    if not queue.name or not all(c.isalnum() or c in "-_." for c in queue.name):
        raise ConfigError(f"{source}: queue.name: {queue.name!r}: use letters, digits, '-', '_' and '.'")
    if queue.heartbeat_timeout <= 0:
        raise ConfigError(f"{source}: queue.heartbeat_timeout: must be positive (seconds)")
    if queue.max_retries < 0:
        raise ConfigError(f"{source}: queue.max_retries: must not be negative")
    if database.startswith("sqlite"):
        raise ConfigError(f"{source}: queue: the workers on every machine write to one store, and "
                          f"{database!r} is a SQLite file on this machine: set database to a "
                          "PostgreSQL server (postgresql+psycopg://user@host/patrol, pip install "
                          "'patrol[postgres]'), or remove queue to patrol on this machine alone")


def _check_resolver(res: Resolver, source: str) -> None:
    from common.resolver import ip_literal, parse_nameserver  # late: resolver imports this module's types
    for i, spec in enumerate(res.nameservers):
        try:
            parse_nameserver(spec)
        except ValueError as exc:
            raise ConfigError(f"{source}: resolver.nameservers[{i}]: {exc}") from None
    for host, addresses in res.overrides.items():
        if not addresses:
            raise ConfigError(f"{source}: resolver.overrides.{host}: give at least one address")
        for addr in addresses:
            if ip_literal(addr) is None:
                raise ConfigError(f"{source}: resolver.overrides.{host}: {addr!r} is not an IP address")
    if res.timeout <= 0:
        raise ConfigError(f"{source}: resolver.timeout: must be positive")


def _check_thresholds(values: dict[str, Any], source: str, key: str) -> None:
    try:
        known = defaults()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    for section, entries in values.items():
        if section not in known:
            raise ConfigError(f"{source}: {key}.{section}: unknown threshold section "
                              f"(known: {', '.join(sorted(known))})")
        if not isinstance(entries, dict):
            raise ConfigError(f"{source}: {key}.{section}: expected a mapping of thresholds")
        for name, value in entries.items():
            if name not in known[section]:
                raise ConfigError(f"{source}: {key}.{section}.{name}: unknown threshold "
                                  f"(known: {', '.join(sorted(known[section]))})")
            default = known[section][name]
            if isinstance(default, list):       # a list of words or names (政务公开 checks)
                if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                    raise ConfigError(f"{source}: {key}.{section}.{name}: expected a list of words, got {value!r}")
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ConfigError(f"{source}: {key}.{section}.{name}: expected true or false, got {value!r}")
            elif isinstance(default, str):
                if not isinstance(value, str):
                    raise ConfigError(f"{source}: {key}.{section}.{name}: expected text, got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{source}: {key}.{section}.{name}: expected a number, got {value!r}")


def _check_department(dep: str, dep_ids: list[str], source: str, key: str) -> None:
    if dep and dep not in dep_ids:
        known = ", ".join(dep_ids) or "none defined"
        raise ConfigError(f"{source}: {key}: unknown department id {dep!r} (known: {known})")


# --- generic dataclass builder -------------------------------------------------------------

def _build(cls: type, data: Any, source: str, key: str) -> Any:
    where = key or "top level"
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {where}: expected a mapping, got {_kind(data)}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    unknown = [k for k in data if k not in known]
    if unknown:
        raise ConfigError(f"{source}: {_join(key, str(unknown[0]))}: unknown key "
                          f"(known keys: {', '.join(sorted(known))})")
    kwargs: dict[str, Any] = {}
    for name, f in known.items():
        sub = _join(key, name)
        if name in data:
            kwargs[name] = _convert(hints[name], data[name], source, sub)
        elif f.default is MISSING and f.default_factory is MISSING:  # type: ignore[misc]
            raise ConfigError(f"{source}: {sub}: missing (required)")
    return cls(**kwargs)


def _convert(tp: Any, value: Any, source: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, source, key)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ConfigError(f"{source}: {key}: expected a list, got {_kind(value)}")
        return [_convert(item_tp, v, source, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _, val_tp = typing.get_args(tp)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {key}: expected a mapping, got {_kind(value)}")
        return {str(k): _convert(val_tp, v, source, f"{key}.{k}") for k, v in value.items()}
    if isinstance(tp, type) and hasattr(tp, "__dataclass_fields__"):
        return _build(tp, value, source, key)
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {key}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: {key}: expected a whole number, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: {key}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if isinstance(value, (dict, list)) or value is None:
            raise ConfigError(f"{source}: {key}: expected text, got {_kind(value)}")
        return str(value)
    return value


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
