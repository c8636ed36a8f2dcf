"""``patrol text FILE|-``: proofread a draft before it is published, without a crawl."""
from __future__ import annotations

import argparse
import gc
import json
import os
import re
import stat
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from checks.text import TextChecker, TextFlag, highlight
from checks.text.flags import LABELS, to_suspected
from checks.text.lexicon import own_vocabulary
from checks.text.privacy import mask_spans
from checks.text.rules import judicial

# Line ends of any convention (str.splitlines would also split at U+2028, \x1c, \x85 ...).
LINE_END = re.compile(r"\r\n|\r|\n")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def cmd_text(args: argparse.Namespace) -> int:
    shown = _shown(args.file)
    try:
        if args.file == "-":
            raw = sys.stdin.buffer.read()
        else:
            path = Path(args.file)
            mode = path.stat().st_mode
            if stat.S_ISDIR(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                # A directory, or a device such as /dev/zero that would never end (a pipe,
                # <(iconv ...) or /dev/stdin, is read like a file).
                print(f"patrol text: {shown}: not a regular file", file=sys.stderr)
                return 2
            raw = path.read_bytes()
    except FileNotFoundError:
        print(f"patrol text: {shown}: file not found", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"patrol text: {shown}: cannot read ({exc.strerror or exc})", file=sys.stderr)
        return 2
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        name = "standard input" if args.file == "-" else shown
        print(f"patrol text: {name}: not UTF-8 text (invalid byte at offset {exc.start}); "
              f"convert it first, e.g. iconv -f GB18030 -t UTF-8", file=sys.stderr)
        return 2
    published: date | None = None
    if getattr(args, "date", None) is not None:
        try:
            if not ISO_DATE.fullmatch(args.date):
                raise ValueError(args.date)
            published = date.fromisoformat(args.date)
        except ValueError:
            print(f"patrol text: --date: {args.date!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
            return 2
    published = published or date.today()           # once, not for every line
    checker = TextChecker(_leaders(getattr(args, "config", None)))
    if content.strip():
        # Load the model now, then keep its million objects out of every later garbage
        # collection: none of them is ever garbage, and full collections would walk them again.
        _ = checker.model
        gc.freeze()
    lines = LINE_END.split(content)
    if lines and lines[-1] == "":
        lines.pop()
    out = sys.stdout
    lines = [line.rstrip("\r") for line in lines]
    results = check_lines(checker, lines, published)
    if getattr(args, "format", "text") == "jsonl":
        write_jsonl(lines, results, out)
    else:
        write_text(lines, results, out)
    out.flush()
    return 0


def _shown(name: str) -> str:
    """A file name as an error message shows it: on one line, quoted if it needs to be."""
    return name if name.isprintable() else repr(name)


def _leaders(config_path: str | None) -> list[dict]:
    """Leaders from the configuration: --config, else $PATROL_CONFIG or config/patrol.yaml if present."""
    if not config_path and not os.environ.get("PATROL_CONFIG") \
            and not Path("config/patrol.yaml").exists():
        # No configuration (common.config's default path is missing): no leaders, and the
        # configuration module, a tenth of a one-line check's start-up, is not even imported.
        return []
    from common.config import default_config_path, load_config

    if not config_path:
        default = default_config_path()
        if not (os.environ.get("PATROL_CONFIG") or default.exists()):
            return []
        config_path = str(default)
    cfg = load_config(config_path)
    return [{"name": leader.name, "title": leader.title} for leader in cfg.leaders]


def check_lines(checker: TextChecker, lines: list[str], published: date) -> list[list[TextFlag]]:
    """Each line's flags, less the statistical ones on the document's own vocabulary.

    A word the statistical layer doubts but that the document writes in several different
    surroundings (a regulation's own term, a place it keeps naming) is the document's
    vocabulary, as on a crawled site (statistical.yaml ``site_vocabulary.min_contexts``).
    """
    results = checker.check_many(lines, published)
    if any(f.check == "wrong_expression" and f.rule.startswith("outdated.tsv") and not f.suspected
           for flags in results for f in flags) and judicial("\n".join(lines)):
        # A judgment or case names its parties as they were: outdated names only 疑似.
        for flags in results:
            for f in flags:
                if f.rule.startswith("outdated.tsv"):
                    to_suspected(f)
    words = {f.wrong for flags in results for f in flags if f.rule.startswith("statistical:")}
    if words:
        min_contexts = checker.settings.get("site_vocabulary", {}).get("min_contexts", 3)
        own = own_vocabulary(words, lines, min_contexts)
        if own:
            results = [[f for f in flags if not (f.wrong in own and f.rule.startswith("statistical:"))]
                       if flags else flags for flags in results]
    return results


def write_jsonl(lines: list[str], results: list[list[TextFlag]], out: TextIO) -> None:
    # Written out rather than through json.dumps (a new encoder per call, a dict per flag: a
    # tenth of the command's time); the output is byte for byte what
    # json.dumps({"line": ..., "text": ..., "findings": [flag.to_dict(), ...]}, ensure_ascii=False)
    # gives.
    quote = json.encoder.py_encode_basestring if json.encoder.c_encode_basestring is None \
        else json.encoder.c_encode_basestring
    parts: list[str] = []
    for number, (line, flags) in enumerate(zip(lines, results), 1):
        if flags:
            findings = ", ".join([_flag_json(f, quote) for f in flags])
            parts.append(f'{{"line": {number}, "text": {quote(line)}, "findings": [{findings}]}}\n')
        else:
            parts.append(f'{{"line": {number}, "text": {quote(line)}, "findings": []}}\n')
        if len(parts) >= 4096:
            out.write("".join(parts))
            parts.clear()
    out.write("".join(parts))


def _flag_json(f: TextFlag, quote) -> str:
    """``json.dumps(f.to_dict(), ensure_ascii=False)``, written out: the fields are plain
    strings, integers, a float and a bool (tests/test_text_cmd.py compares the two)."""
    return (f'{{"check": {quote(f.check)}, "wrong": {quote(f.wrong)}, '
            f'"suggestion": {quote(f.suggestion)}, "start": {int(f.start)}, "end": {int(f.end)}, '
            f'"context": {quote(f.context)}, "rule": {quote(f.rule)}, '
            f'"confidence": {float(f.confidence)!r}, "suspected": {"true" if f.suspected else "false"}, '
            f'"severity": {quote(f.severity)}, "category": {quote(f.category)}}}')


def write_text(lines: list[str], results: list[list[TextFlag]], out: TextIO) -> None:
    certain: list[tuple[int, str, TextFlag]] = []
    suspected: list[tuple[int, str, TextFlag]] = []
    for number, (line, flags) in enumerate(zip(lines, results), 1):
        personal = [(f.start, f.end) for f in flags if f.check == "privacy_leak"]
        shown = mask_spans(line, personal) if personal else line
        for flag in flags:
            (suspected if flag.suspected else certain).append((number, shown, flag))
    for number, line, flag in certain:
        out.write(_describe(number, line, flag))
    if suspected:
        if certain:
            out.write("\n")
        out.write("疑似（请人工核对）：\n")
        for number, line, flag in suspected:
            out.write(_describe(number, line, flag))
    out.write(f"\n共 {len(lines)} 行：问题 {len(certain)} 处，疑似 {len(suspected)} 处。\n")


def _describe(number: int, line: str, flag: TextFlag) -> str:
    label = LABELS.get(flag.check, flag.check)
    shown = highlight(line, flag.start, flag.end)
    if flag.check == "privacy_leak":
        return f"第{number}行 第{flag.start + 1}字 {label}：{shown}\n    → {flag.suggestion}（{flag.rule}）\n"
    arrow = f"“{flag.wrong}”应为“{flag.suggestion}”" if flag.suggestion else f"“{flag.wrong}”"
    return (f"第{number}行 第{flag.start + 1}字 {label}：{shown}\n"
            f"    → {arrow}（{flag.rule}，置信度 {flag.confidence:.2f}）\n")
