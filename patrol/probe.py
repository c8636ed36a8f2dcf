"""``patrol probe``: load each configured homepage once and record whether it loaded in time.

Meant for cron, every hour (the national rule wants at least 20 probes a day over the week
before a check).  Each probe is one ``Probe`` row in the store; :func:`availability` reads
the rows of the last week back and :func:`checks.availability.judge` turns them into the
``site_unreachable`` verdict that each run's report shows.
"""
from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from checks.availability import judge, settings
from common.config import Config, ConfigError, Site, load_config
from patrol.netfetch import fetch
from common.resolver import Resolver
from store import Probe, Store, utcnow
from common.thresholds import merged

# Sites probed at once: each probe waits on the network, not the CPU.
MAX_PARALLEL = 16


def probe_site(name: str, url: str, *, resolver: Resolver, timeout: float) -> Probe:
    """Load ``url`` once; the probe fails on any error answer or when it took over ``timeout`` s."""
    at = utcnow()
    result = fetch(url, resolver=resolver, timeout=timeout)
    limit_ms = int(timeout * 1000)
    ok = result.ok and result.elapsed_ms <= limit_ms
    if result.error_kind:
        error = f"{result.error_kind}: {result.error}" if result.error else result.error_kind
    elif result.status is not None and result.status >= 400:
        error = f"HTTP {result.status}"
    elif not ok:
        error = f"loaded in {result.elapsed_ms} ms, over the {timeout:g} s limit"
    else:
        error = ""
    return Probe(site=name, url=url, at=at, ok=ok, status=result.status,
                 elapsed_ms=result.elapsed_ms, error=error[:500])


def probe_sites(cfg: Config, names: list[str] | None = None) -> list[Probe]:
    """Probe the configured sites (all, or those named), several at a time."""
    sites = select_sites(cfg, names)
    resolver = Resolver.from_config(cfg.resolver)

    def one(site: Site) -> Probe:
        timeout = float(settings(merged(cfg, site))["probe_timeout_s"])
        return probe_site(site.name, site.url, resolver=resolver, timeout=timeout)

    if not sites:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(sites))) as pool:
        return list(pool.map(one, sites))


def select_sites(cfg: Config, names: list[str] | None) -> list[Site]:
    if not names:
        return list(cfg.sites)
    known = {s.name: s for s in cfg.sites}
    missing = [n for n in names if n not in known]
    if missing:
        raise ConfigError(f"{cfg.path}: sites: no site named {missing[0]!r} "
                          f"(configured: {', '.join(known) or 'none'})")
    return [known[n] for n in names]


def record(store: Store, probes: list[Probe]) -> None:
    with store.session() as s:
        for p in probes:
            s.add(p)
        s.commit()


def load_probes(store: Store, site_name: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The site's probes in (since, until], oldest first, as plain dicts."""
    lo, hi = _utc(since), _utc(until)
    with store.session() as s:
        q = (select(Probe).where(Probe.site == site_name, Probe.at > lo, Probe.at <= hi)
             .order_by(Probe.at))
        return [{"at": p.at, "ok": p.ok, "status": p.status, "elapsed_ms": p.elapsed_ms,
                 "error": p.error, "url": p.url} for p in s.exec(q)]


def availability(store: Store, site_name: str, now: datetime, thresholds: dict[str, Any], *,
                 url: str = "", department: str = "") -> dict[str, Any]:
    """The week's availability of one site for the report: the facts of
    :func:`checks.availability.judge` plus ``veto`` and ``findings`` (as dicts)."""
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    window = timedelta(days=float(settings(thresholds)["window_days"]))
    probes = load_probes(store, site_name, now - window, now)
    out = judge(probes, now, thresholds, site=site_name, url=url, department=department)
    facts = dict(out.facts)
    facts["veto"] = list(out.veto)
    facts["findings"] = [f.to_dict() for f in out.findings]
    return facts


def _utc(value: datetime) -> datetime:
    # The store's datetime columns take aware values; a naive one is read as UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def cmd_probe(args: argparse.Namespace) -> int:
    cfg = load_config(getattr(args, "config", None))
    store = Store(cfg.database, base_dir=Path(cfg.path).parent)
    probes = probe_sites(cfg, getattr(args, "site", None))
    record(store, probes)
    for p in probes:
        state = "ok  " if p.ok else "FAIL"
        status = p.status if p.status is not None else "-"
        line = f"{state} {p.site}  {p.url}  HTTP {status}  {p.elapsed_ms} ms"
        print(line + (f"  {p.error}" if p.error else ""), file=sys.stdout)
    if not probes:
        print("patrol probe: no sites configured", file=sys.stderr)
    return 0
