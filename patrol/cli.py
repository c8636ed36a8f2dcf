"""The ``patrol`` command line: parses arguments, calls the library, prints.

Each command's work lives in an importable function ``cmd_<name>(args) -> int``; the modules
are imported only when their command runs, so ``patrol --help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Callable

COMMANDS: dict[str, str] = {
    "run": "patrol.distributed:cmd_run",      # patrol.runner's, spread over machines with queue:
    "check": "patrol.runner:cmd_check",
    "demo": "patrol.demo:cmd_demo",
    "report": "reports.cli:cmd_report",
    "mail": "reports.cli:cmd_mail",
    "quota": "reports.cli:cmd_quota",
    "schedule": "reports.cli:cmd_schedule",
    "probe": "patrol.probe:cmd_probe",
    "text": "patrol.textcmd:cmd_text",
    "extract": "patrol.extract:cmd_extract",
    "triage": "reports.triagecli:cmd_triage",
    "feedback": "reports.triagecli:cmd_feedback",
    "serve": "console.app:cmd_serve",
    "worker": "patrol.distributed:cmd_worker",
}


CHECKS_HELP = ("only these site checks, comma-separated: links, freshness, text, ipv6, availability "
               "(default: all)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="patrol",
        description="Inspection crawler for government websites and new-media accounts "
                    "(政府网站与政务新媒体巡检).",
    )
    parser.add_argument("--version", action="version", version="patrol 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_, description=help_)

    def config_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", metavar="PATH",
                       help="configuration file (default: $PATROL_CONFIG, then config/patrol.yaml)")

    p = add("run", "patrol every configured site and account, store the results, write the report")
    config_arg(p)
    p.add_argument("--site", action="append", metavar="NAME", help="only this site or account (repeatable)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: the config's output, per run)")
    p.add_argument("--period", metavar="YYYY-MM", help="the month this inspection counts for (default: now)")
    p.add_argument("--fast", action="store_true", help="lift politeness limits (own servers only)")
    p.add_argument("--checks", metavar="LIST", help=CHECKS_HELP)
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--resume", action="store_true",
                   help="continue the most recent interrupted run (same run, same month): what it "
                        "crawled is not fetched again")

    p = add("check", "spot-check one URL: crawl it, check its links, write the report (no config needed)")
    p.add_argument("url")
    config_arg(p)
    p.add_argument("--max-pages", type=int, default=500, metavar="N", help="pages to crawl at most (500)")
    p.add_argument("--max-depth", type=int, default=None, metavar="N", help="clicks from the start page")
    p.add_argument("--render", choices=["auto", "always", "never"], default=None,
                   help="render pages with a browser (default: auto)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: patrol-out/check-<host>)")
    p.add_argument("--fast", action="store_true", help="lift politeness limits (own servers only)")
    p.add_argument("--checks", metavar="LIST", help=CHECKS_HELP)
    p.add_argument("--quiet", action="store_true", help="no progress display")

    p = add("report", "re-render the report of a past run from the store, without crawling")
    config_arg(p)
    p.add_argument("--run", type=int, metavar="ID", help="run id (default: the latest completed run)")
    p.add_argument("--period", metavar="YYYY-MM", help="the latest completed run of this month")
    p.add_argument("--out", metavar="DIR", help="output folder")
    p.add_argument("--format", choices=["html", "pdf"], default="html", help="html (default) or pdf")

    p = add("mail", "email each department its rectification list")
    config_arg(p)
    p.add_argument("--run", type=int, metavar="ID", help="run id (default: the latest completed run)")
    p.add_argument("--dry-run", action="store_true", help="write .eml files instead of sending")
    p.add_argument("--resend", action="store_true", help="send again to departments already mailed")
    p.add_argument("--department", action="append", metavar="ID", help="only this department")
    p.add_argument("--out", metavar="DIR", help="folder for .eml files with --dry-run")

    p = add("quota", "show the yearly 12-inspection quota per site and account")
    config_arg(p)
    p.add_argument("--year", type=int, metavar="YYYY", help="year (default: this year)")

    p = add("schedule", "print the crontab lines (or systemd units) for patrols, probes and mail")
    config_arg(p)
    p.add_argument("--systemd", action="store_true", help="print systemd timer units instead")

    p = add("probe", "load each homepage once and record availability (run hourly from cron)")
    config_arg(p)
    p.add_argument("--site", action="append", metavar="NAME", help="only this site (repeatable)")

    p = add("text", "proofread plain text before publishing (one sentence or paragraph per line)")
    p.add_argument("file", metavar="FILE|-", help="a UTF-8 text file, or - for standard input")
    config_arg(p)
    p.add_argument("--format", choices=["text", "jsonl"], default="text")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="publication date (default: today)")

    p = add("extract", "show what patrol reads from one page: title, publish date, text, dated "
                       "list items and the columns it names")
    p.add_argument("target", metavar="FILE|URL", help="a saved HTML file or an http(s) URL")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--url", metavar="U", help="the address a FILE was saved from (for links and dates in URLs)")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="the day of the check, for years of MM-DD dates "
                                                         "(default: today)")

    p = add("triage", "mark findings as false alarms (误报), accepted (确认不整改) or fixed (已整改), "
                      "by fingerprint; marks apply to every later run")
    config_arg(p)
    p.add_argument("fingerprints", nargs="*", metavar="FINGERPRINT",
                   help="fingerprints (findings.json, report) or unique prefixes of 6+ characters")
    p.add_argument("--as", dest="state", choices=["false_alarm", "accepted", "fixed"], help="the mark")
    p.add_argument("--note", default="", metavar="TEXT", help="why (required with --as accepted)")
    p.add_argument("--by", default="", metavar="NAME", help="who marks (default: the login name)")
    p.add_argument("--list", action="store_true", help="list every mark")
    p.add_argument("--clear", action="store_true", help="remove the marks of these fingerprints")

    p = add("feedback", "read departments' filled-in rectification lists (XLSX) back and apply their "
                        "整改情况 as marks")
    config_arg(p)
    p.add_argument("files", nargs="+", metavar="FILE.xlsx")
    p.add_argument("--dry-run", action="store_true", help="check the files, apply nothing")

    p = add("serve", "start the local console (web pages and JSON API over the store)")
    config_arg(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; another "
                                                       "needs $PATROL_CONSOLE_PASSWORD)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")

    p = add("worker", "take site jobs from the configured queue (queue: in the configuration) and "
                      "store their results, until stopped (docs/distributed.md)")
    config_arg(p)
    p.add_argument("--concurrency", type=int, metavar="N",
                   help="sites crawled at once by this worker (default: the number of cores)")

    p = add("demo", "start the bundled sample site, patrol it and write the report")
    p.add_argument("--out", metavar="DIR", default="patrol-out/demo", help="output folder")
    p.add_argument("--keep-serving", action="store_true", help="keep the sample site running afterwards")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    return parser


def _handler(name: str) -> Callable[[argparse.Namespace], int]:
    module, func = COMMANDS[name].split(":")
    return getattr(importlib.import_module(module), func)


def main(argv: list[str] | None = None, batch: bool = False) -> int:
    """Run one command.  ``batch``: this process runs only this command (the ``patrol``
    executable), so once the command's modules are loaded they are frozen out of garbage
    collection and collections are made rarer (common/gcpolicy.py)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    # Not common.config, which `patrol text` never needs.
    from common.errors import ConfigError
    try:
        handler = _handler(args.command)
        if batch:
            from common.gcpolicy import tune_for_batch
            tune_for_batch()
        # SIGTERM and SIGHUP stop any command as Ctrl-C does (its clean-up runs: servers it
        # started, browsers); a run handles them itself (patrol/runner.py).
        from common.stopping import StopSignals
        with StopSignals():
            return int(handler(args) or 0)
    except ConfigError as exc:
        print(f"patrol: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`patrol extract page.html | head`): nothing more to say, and
        # no traceback; stdout goes nowhere so the exit's flush cannot fail again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141          # 128 + SIGPIPE, as a program the signal ended
    except Exception as exc:
        # store (SQLModel) costs 0.3 s to import: a command that never touched the
        # store (``patrol text``) cannot raise its error, so only look when it is loaded.
        store = sys.modules.get("store")
        lock = sys.modules.get("patrol.runlock")
        rules = sys.modules.get("checks.text.rules")        # a data file of patroldata/text/ or config/
        if (store is not None and isinstance(exc, store.StoreError)) or (
                lock is not None and isinstance(exc, lock.LockBusy)) or (
                rules is not None and isinstance(exc, rules.DataFileError)):
            print(f"patrol: {exc}", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt as exc:
        print("patrol: interrupted", file=sys.stderr)
        return int(getattr(exc, "exit_code", 130))


def entry() -> int:
    """The ``patrol`` command: ``main`` in a process of its own, with batch GC settings.

    When the command has returned, the process leaves without tearing the interpreter down:
    exit handlers run (log handlers flushed, temporary directories removed) and the standard
    streams are flushed, but the modules and every object of a large run are not freed one by
    one, which took 0.06 to 0.1 s after a 5,500-page check.  Every file patrol writes is closed
    by then (``with`` blocks); atexit's runner is CPython's, and elsewhere the normal way out
    is taken.
    """
    from common.limits import open_files_limit
    open_files_limit()          # raised to the hard limit: a run of many sites reads many outputs
    code = main(batch=True)
    _leave(code)
    return code


def _leave(code: int) -> None:
    import atexit
    import os

    from common.stdio import flush_std_streams
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:       # not CPython: the normal way out
        return
    run_exit_handlers()
    flush_std_streams()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(entry())
