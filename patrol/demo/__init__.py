"""`patrol demo`: the whole monthly job on the bundled sample site, end to end.

It builds the sample government websites and new-media accounts (dates relative to today),
serves them on 127.0.0.1 and ::1 under the hostname ``www.qingxi.test`` (answered by the
resolver's static overrides, so no DNS is involved), writes a configuration for them, patrols
them as `patrol run` would, then writes the rectification lists, the mails as ``.eml`` files
(dry run) and the yearly quota grid.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import yaml

DEMO_HOST = "www.qingxi.test"
MEDIA_HOST = "media.qingxi.test"

DEPARTMENTS = [
    {"id": "zfb", "name": "区政府办公室", "contacts": [{"name": "张三", "email": "zfb@qingxi.example"}]},
    {"id": "jyj", "name": "区教育局", "contacts": [{"name": "李四", "email": "jyj@qingxi.example"}]},
    {"id": "dag", "name": "区档案馆", "contacts": [{"name": "王五", "email": "dag@qingxi.example"}]},
    {"id": "rmt", "name": "区融媒体中心", "contacts": [{"name": "赵六", "email": "rmt@qingxi.example"}]},
]
SITE_DEPARTMENTS = {"main": "zfb", "nav": "jyj", "stale": "dag"}


def demo_config(out: Path, site_base: str, site_port: int, media_accounts: list[dict[str, Any]],
                leaders: list[dict[str, str]], sites: list[dict[str, Any]], ext_base: str = "") -> dict[str, Any]:
    thresholds: dict[str, Any] = {}
    if ext_base:
        # The sample site's 开办者标识 links to the external sample server, standing in for
        # bszs.conac.cn (the demo has no internet).
        from urllib.parse import urlsplit
        thresholds["site_identity"] = {"badge_hosts": ["conac.cn", urlsplit(ext_base).netloc]}
    return {
        "inspector": {"name": "清溪区政务公开办公室（演示）", "email": "zwgk@qingxi.example"},
        "database": "sqlite:///patrol.db",
        "output": str(out / "runs"),
        "departments": DEPARTMENTS,
        "sites": [
            {"name": s["name"], "url": s["url"], "department": SITE_DEPARTMENTS.get(s["id"], "zfb"),
             "max_pages": 2000}
            for s in sites
        ],
        "newmedia": [{**a, "department": "rmt"} for a in media_accounts],
        "leaders": leaders,
        "resolver": {"nameservers": [], "overrides": {DEMO_HOST: ["127.0.0.1", "::1"],
                                                      MEDIA_HOST: ["127.0.0.1"]}},
        # The sample site is ours and local: full speed, short timeouts.
        "crawl": {"fast": True, "timeout": 3, "retries": 1, "retry_backoff": 0.2, "max_retry_after": 2},
        "smtp": {"host": "smtp.qingxi.example", "port": 465, "ssl": True, "user": "zwgk@qingxi.example",
                 "password_env": "PATROL_SMTP_PASSWORD", "sender": "zwgk@qingxi.example"},
        **({"thresholds": thresholds} if thresholds else {}),
    }


def cmd_demo(args: argparse.Namespace) -> int:
    from patrol.demo import samplemedia, samplesite
    from common.config import load_config
    from patrol.runner import finish_message, open_store, patrol, print_summary
    from reports import mail, quota, rectification

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    today = date.today()
    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))

    say("patrol demo: building the sample government websites and new-media accounts ...")
    manifest = samplesite.build(out / "site", profile="demo", today=today)
    server = samplesite.serve(out / "site")
    media_server = None
    try:
        base = f"http://{DEMO_HOST}:{server.port}/"
        media_server, media_base = samplemedia.serve(out / "media")
        media_base = media_base.replace("127.0.0.1", MEDIA_HOST)
        media = samplemedia.build(out / "media", today, media_base, department="rmt")
        sites = manifest.resolve(base, server.ext.url if server.ext else "", server.port).sites
        config = demo_config(out, base, server.port, media["accounts"], manifest.leaders, sites,
                             ext_base=server.ext.url if server.ext else "")
        config_path = out / "patrol.yaml"
        config_path.write_text("# Written by `patrol demo`.\n" + yaml.safe_dump(config, allow_unicode=True,
                                                                                  sort_keys=False),
                               encoding="utf-8")
        db = out / "patrol.db"
        if db.exists():   # a fresh demo each time: the quota grid shows this run only
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
        cfg = load_config(config_path)
        store = open_store(cfg)
        _probe(cfg, store, say)
        say(f"patrol demo: patrolling {len(cfg.sites)} sites at {base} and {len(cfg.newmedia)} accounts ...")
        started = time.monotonic()
        outcome = patrol(cfg, out_dir=out / "report", kind="demo", progress=not args.quiet
                         and sys.stderr.isatty(), today=today, store=store)
        say(f"patrol demo: patrolled in {time.monotonic() - started:.1f} s")
        if outcome.interrupted is not None:
            print_summary(outcome)
            return finish_message(outcome, None)
        lists = rectification.write_lists(store, outcome.run_id, out / "rectification", cfg)
        mailed = mail.send_lists(store, outcome.run_id, cfg, dry_run=True, out_dir=out / "mail")
        grid = quota.quota_grid(store, today.year, cfg, today=today)
        print_summary(outcome)
        print(f"  rectification lists: {out / 'rectification'} ({len(lists)} files)")
        print(f"  mails (dry run, .eml): {out / 'mail'} — {mailed.summary()}")
        print()
        print(quota.render_text(grid))
        print()
        print(f"Open the report: {outcome.outputs.get('html')}")
        command = "patrol" if shutil.which("patrol") else sys.argv[0]
        print(f"The configuration used: {config_path} (try: {command} report --config {config_path})")
        if args.keep_serving:
            print(f"Serving the sample site at {server.url} (as {base}); Ctrl-C to stop.")
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if media_server is not None:
            media_server.shutdown()
    return 0


def _probe(cfg: Any, store: Any, say: Any) -> None:
    """One availability probe per site, so the report's availability section has data."""
    from patrol import probe
    say("patrol demo: probing each homepage once (run `patrol probe` hourly for real figures) ...")
    probe.record(store, probe.probe_sites(cfg))
