"""新闻联播 transcripts as documents for ``python -m checks.text.derive official|trigrams``.

Reads a clone (or ``fetch`` mirror) of the public GitHub repository china-data/xwlb, whose
``assets/YYYY/YYYYMMDD.json`` files hold each broadcast's items as published by CCTV, and
writes one document per broadcast day (the items' text, one paragraph a line), documents
separated by form feeds.  Days named in the ``--exclude`` files (any ``YYYYMMDD`` in them, e.g. a
SOURCES.tsv of the real-text benchmark's news) are left out, so that what the benchmark reads
stays held out.  Only strings and trigrams derived from this file are shipped, never the text.

    python tools/xwlb_corpus.py GITDIR OUT [--exclude FILE]...
"""
from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
import sys
from pathlib import Path

DAY = re.compile(r"assets/\d{4}/(\d{8})\.json")
TAG = re.compile(r"<[^>]+>")
BREAK = re.compile(r"</p>|<br\s*/?>|\n")


def git(gitdir: str, *args: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={gitdir}", *args], capture_output=True, check=True).stdout


def day_text(raw: bytes) -> str:
    try:
        data = json.loads(raw)
    except ValueError:
        return ""
    paragraphs = []
    for item in data.get("videoList") or []:
        content = (item.get("video_detail") or {}).get("content") or ""
        for part in BREAK.split(content):
            text = html.unescape(TAG.sub("", part)).strip()
            if text:
                paragraphs.append(text)
    return "\n".join(paragraphs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gitdir", help="the repository's git directory (a clone's .git or a mirror)")
    parser.add_argument("out", type=Path)
    parser.add_argument("--exclude", type=Path, action="append", default=[],
                        help="a file whose YYYYMMDD dates are left out (repeatable)")
    args = parser.parse_args()
    excluded: set[str] = set()
    for path in args.exclude:
        excluded.update(re.findall(r"(20\d{6})", path.read_text(encoding="utf-8", errors="replace")))
    names = git(args.gitdir, "ls-tree", "-r", "HEAD", "--name-only").decode().split()
    documents, left_out = [], 0
    for name in names:
        match = DAY.fullmatch(name)
        if not match:
            continue
        if match.group(1) in excluded:
            left_out += 1
            continue
        text = day_text(git(args.gitdir, "show", f"HEAD:{name}"))
        if len(text) > 200:
            documents.append(text)
    args.out.write_text("\f".join(documents), encoding="utf-8")
    print(f"{len(documents)} broadcast days written to {args.out} "
          f"({sum(map(len, documents)):,} characters; {left_out} excluded days left out)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
