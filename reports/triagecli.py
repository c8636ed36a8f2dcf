"""``patrol triage`` and ``patrol feedback``: thin wrappers over reports/triage.py and
reports/feedback.py."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.config import load_config
from store import Store


def _store(args: argparse.Namespace) -> Store:
    cfg = load_config(getattr(args, "config", None))
    return Store(cfg.database, base_dir=Path(cfg.path).parent)


def cmd_triage(args: argparse.Namespace) -> int:
    from reports.triage import MARK_STATES, TriageError, clear_marks, list_text, set_marks

    store = _store(args)
    if args.list:
        print(list_text(store), end="")
        return 0
    if not args.fingerprints:
        print("patrol triage: give the fingerprints to mark (or --list)", file=sys.stderr)
        return 2
    try:
        if args.clear:
            n = clear_marks(store, args.fingerprints, by=args.by)
            print(f"已取消 {n} 个标记。")
            return 0
        if not args.state:
            print("patrol triage: say which mark: --as false_alarm|accepted|fixed (or --clear)", file=sys.stderr)
            return 2
        marks = set_marks(store, args.fingerprints, args.state, note=args.note, by=args.by, source="cli")
    except TriageError as exc:
        print(f"patrol triage: {exc}", file=sys.stderr)
        return 1
    for m in marks:
        print(f"{m.fingerprint}  {MARK_STATES[m.state]}  {m.site} {m.check}  {m.note}")
    print(f"已标记 {len(marks)} 个问题为“{MARK_STATES[args.state]}”；以后的巡检、报告、整改清单和邮件都按此处理。")
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from reports.feedback import apply_feedback

    store = _store(args)
    outcome = apply_feedback(store, [Path(f) for f in args.files], dry_run=args.dry_run)
    print(outcome.summary())
    return 0 if outcome.ok else 1
