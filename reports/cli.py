"""``patrol report``, ``patrol mail``, ``patrol quota`` and ``patrol schedule``: thin wrappers."""
from __future__ import annotations

import argparse
import shlex
import sys
from datetime import date
from pathlib import Path

from common.config import Config, load_config
from store import Store
from reports.data import ReportError, resolve_run


def _open(args: argparse.Namespace) -> tuple[Config, Store]:
    cfg = load_config(getattr(args, "config", None))
    return cfg, Store(cfg.database, base_dir=Path(cfg.path).parent)


def _default_out(cfg: Config, run_id: int) -> Path:
    return Path(cfg.output) / f"run-{run_id}"


def cmd_report(args: argparse.Namespace) -> int:
    from reports.export import write_outputs
    from reports.rectification import write_lists

    cfg, store = _open(args)
    try:
        run = resolve_run(store, args.run, args.period)
    except ReportError as exc:
        print(f"patrol report: {exc}", file=sys.stderr)
        return 1
    assert run.id is not None
    out = Path(args.out) if args.out else _default_out(cfg, run.id)
    paths = write_outputs(store, run.id, out, cfg)
    lists = write_lists(store, run.id, out / "rectification", cfg)
    print(f"运行 {run.id}（{run.period}）的报告：{paths['html']}")
    print(f"  findings: {paths['json']}  {paths['csv']}")
    if lists:
        print(f"  整改清单: {len(lists) // 2} 个部门 → {out / 'rectification'}")
    if getattr(args, "format", "html") == "pdf":
        from reports.pdf import PdfError, html_to_pdf
        try:
            pdf = html_to_pdf(paths["html"], out / "report.pdf", cfg)
        except PdfError as exc:
            print(f"patrol report: {exc}", file=sys.stderr)
            return 1
        print(f"  PDF: {pdf}")
    return 0


def cmd_mail(args: argparse.Namespace) -> int:
    from reports.mail import send_lists

    cfg, store = _open(args)
    try:
        run = resolve_run(store, args.run)
    except ReportError as exc:
        print(f"patrol mail: {exc}", file=sys.stderr)
        return 1
    assert run.id is not None
    out = Path(args.out) if args.out else _default_out(cfg, run.id) / "mail"
    outcome = send_lists(store, run.id, cfg, dry_run=args.dry_run, resend=args.resend,
                         out_dir=out, departments=args.department)
    print(f"运行 {run.id}（{run.period}）的整改清单：")
    print(outcome.summary())
    return 0 if outcome.ok else 1


def cmd_quota(args: argparse.Namespace) -> int:
    from reports.quota import quota_grid, render_text

    cfg, store = _open(args)
    year = args.year or date.today().year
    print(render_text(quota_grid(store, year, cfg)), end="")
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    config = Path(args.config).resolve() if getattr(args, "config", None) else None
    print(schedule_text(config, systemd=args.systemd), end="")
    return 0


# The three jobs: (name, what, cron fields, systemd OnCalendar, arguments).
JOBS = [
    ("run", "每月巡检（每月 1 日 02:00）", "0 2 1 * *", "*-*-01 02:00:00", ["run", "--quiet"]),
    ("probe", "每小时可用性探测（每日 24 次，满足不少于 20 次）", "7 * * * *", "*-*-* *:07:00", ["probe"]),
    ("mail", "每月发送整改清单（每月 3 日 09:00，留出复核报告的时间）", "0 9 3 * *", "*-*-03 09:00:00", ["mail"]),
]


def patrol_command() -> list[str]:
    """How to start patrol from cron: the installed script next to this Python, or -m."""
    script = Path(sys.executable).parent / "patrol"
    return [str(script)] if script.exists() else [sys.executable, "-m", "patrol.cli"]


def schedule_text(config: Path | None, systemd: bool = False, workdir: Path | None = None) -> str:
    """Crontab lines, or systemd service and timer units, for the monthly run, probes and mail."""
    base = patrol_command()
    workdir = workdir or Path.cwd()
    conf = ["--config", str(config)] if config else []
    out: list[str] = []
    if not systemd:
        out.append("# patrol: add with `crontab -e`; times are the machine's local time")
        for name, what, cron, _, argv in JOBS:
            line = shlex.join(base + argv[:1] + conf + argv[1:])
            out.append(f"# {what}")
            out.append(f"{cron} cd {shlex.quote(str(workdir))} && {line} >> patrol-{name}.log 2>&1")
        return "\n".join(out) + "\n"
    out.append("# patrol: save each unit under /etc/systemd/system/ (or ~/.config/systemd/user/),")
    out.append("# then: systemctl daemon-reload && systemctl enable --now "
               + " ".join(f"patrol-{n}.timer" for n, *_ in JOBS))
    for name, what, _, calendar, argv in JOBS:
        out += [
            f"\n# ---- patrol-{name}.service ----",
            "[Unit]", f"Description=patrol {name}: {what}", "",
            "[Service]", "Type=oneshot", f"WorkingDirectory={workdir}",
            f"ExecStart={shlex.join(base + argv[:1] + conf + argv[1:])}",
            f"\n# ---- patrol-{name}.timer ----",
            "[Unit]", f"Description=patrol {name} timer", "",
            "[Timer]", f"OnCalendar={calendar}", "Persistent=true", "",
            "[Install]", "WantedBy=timers.target",
        ]
    return "\n".join(out) + "\n"
