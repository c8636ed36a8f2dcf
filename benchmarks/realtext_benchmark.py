"""False alarms of the text checks on real official text that no one on the project wrote.

Documents (each checked as ``patrol text`` checks a file, with its own publication date):

- the held-out pool of LawRefBook/Laws (``--laws GITDIR``, a clone or ``fetch`` mirror of
  https://github.com/LawRefBook/Laws): every law, regulation and judicial interpretation whose
  path's MD5 starts with c-f (the others, and the local regulations under DLC/, are what
  patroldata/text/official.txt was derived from); dated by the newest date of its header;
- the documents of ``benchmarks/realtext/texts/`` (government work reports of the State
  Council, the provinces and a district; Party congress reports; State Council and local
  government documents; county pages), each listed with its source and licence note in
  ``benchmarks/realtext/texts/SOURCES.tsv``, dated by the date in the file name or the year
  given there (1 July).  These are official documents (著作权法 第五条) or their summaries; none
  of them was read to build patroldata/text/;
- any further folder given with ``--extra DIR`` (with a SOURCES.tsv of the same form): the
  figures in the README add a folder of 新闻联播 transcripts, 12345 replies and county news
  that is not shipped (its copyright is not the state's).

Every flag is written to ``benchmarks/realtext/flags.tsv``; ``benchmarks/realtext/judged.tsv``
holds a person's verdict on a sample of them (``error``: a real slip, ``false``: a false alarm,
``unsure``), so anyone can check both.  Targets (issue "text findings a government office can
trust"): at most 1 flag per 10,000 characters in all, and no asserted false alarm in the judged
sample.

    .venv/bin/python benchmarks/realtext_benchmark.py [--laws GITDIR] [--extra DIR]...
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HERE = ROOT / "benchmarks" / "realtext"
DEFAULT_LAWS = Path("/work/.mirror/LawRefBook+Laws/repo")
DATE_CN = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
DATE_ISO = re.compile(r"\((\d{4})-(\d{2})-(\d{2})\)")
HELD_OUT = "cdef"                    # first hex digit of the path's MD5: the benchmark's pool


def law_documents(gitdir: Path):
    """(name, date, lines) of the held-out laws of a LawRefBook/Laws clone."""
    names = subprocess.run(["git", "-C", str(gitdir), "ls-tree", "-r", "HEAD", "--name-only", "-z"],
                           capture_output=True, check=True).stdout.decode("utf-8").split("\0")
    for name in sorted(names):
        if not name.endswith(".md") or name.startswith("DLC") or "/" not in name \
                or name.endswith("_index.md"):
            continue
        if hashlib.md5(name.encode("utf-8")).hexdigest()[0] not in HELD_OUT:
            continue
        text = subprocess.run(["git", "-C", str(gitdir), "show", f"HEAD:{name}"],
                              capture_output=True, check=True).stdout.decode("utf-8", "replace")
        head, _, _ = text.partition("<!-- INFO END -->")
        dates = [date(int(y), int(m), int(d)) for y, m, d in DATE_CN.findall(head)
                 if 1 <= int(m) <= 12 and 1 <= int(d) <= 31]
        dates += [date(int(y), int(m), int(d)) for y, m, d in DATE_ISO.findall(name)]
        lines = [line.strip() for line in text.splitlines()
                 if line.strip() and not line.strip().startswith(("<!--", "#"))]
        yield f"laws:{name}", max(dates) if dates else date(2025, 1, 1), lines


def folder_documents(folder: Path):
    """(name, date, lines) of a folder with a SOURCES.tsv (file, kind, title, year, ...)."""
    sources = folder / "SOURCES.tsv"
    with sources.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            path = folder / row["file"]
            if not path.exists():
                continue
            year = int(row["year"]) if (row.get("year") or "").isdigit() else 2024
            published = date(year, 7, 1)
            found = re.search(r"(20\d\d)(\d\d)(\d\d)", row["file"])
            if found and found.group(1) == str(year):
                try:
                    published = date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
                except ValueError:
                    pass
            lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            yield row["file"], published, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--laws", type=Path, default=DEFAULT_LAWS if DEFAULT_LAWS.exists() else None)
    parser.add_argument("--extra", type=Path, action="append", default=[])
    parser.add_argument("--flags", type=Path, default=HERE / "flags.tsv")
    args = parser.parse_args()

    from checks.text import TextChecker
    from patrol.textcmd import check_lines

    checker = TextChecker()
    docs = list(folder_documents(HERE / "texts")) if (HERE / "texts" / "SOURCES.tsv").exists() else []
    for extra in args.extra:
        docs += list(folder_documents(extra))
    if args.laws:
        docs += list(law_documents(args.laws))
    # A document given twice (an --extra folder that also holds the shipped texts) is read once:
    # counted twice, its flags and characters would weigh double.
    unique, seen_texts = [], set()
    for doc in docs:
        digest = hashlib.sha1("\n".join(doc[2]).encode("utf-8")).digest()
        if digest not in seen_texts:
            seen_texts.add(digest)
            unique.append(doc)
    repeated = len(docs) - len(unique)
    docs = unique
    chars = Counter()
    flags = []
    kinds = Counter()
    started = time.process_time()
    for name, published, lines in docs:
        source = name.split(":", 1)[0] if name.startswith("laws:") else name.split("/", 1)[0]
        chars[source] += sum(len(line) for line in lines)
        for number, (line, found) in enumerate(zip(lines, check_lines(checker, lines, published)), 1):
            for f in found:
                flags.append((name, number, published.isoformat(), f))
                kinds[(source, "疑似" if f.suspected else "asserted")] += 1
    cpu = time.process_time() - started
    with args.flags.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, delimiter="\t", lineterminator="\n")
        out.writerow(["doc", "line", "date", "check", "category", "wrong", "suggestion", "suspected",
                      "confidence", "rule", "context"])
        for name, number, published, f in flags:
            out.writerow([name, number, published, f.check, f.category, f.wrong, f.suggestion,
                          "yes" if f.suspected else "no", f.confidence, f.rule, f.context])
    judged = {}
    judged_path = HERE / "judged.tsv"
    if judged_path.exists():
        with judged_path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                judged[(row["doc"], row["wrong"], row["suggestion"], row["context"])] = row["verdict"]
    total = sum(chars.values())
    print(f"{len(docs)} documents ({repeated} given twice read once), {total:,} characters, "
          f"checked in {cpu:.1f} s CPU "
          f"({total / max(cpu, 1e-9):,.0f} chars/CPU s in one warm process)\n")
    print("| source | characters | asserted | 疑似 | flags per 10,000 characters (all) |")
    print("|---|---|---|---|---|")
    for source in sorted(chars):
        a, s = kinds[(source, "asserted")], kinds[(source, "疑似")]
        print(f"| {source} | {chars[source]:,} | {a} | {s} | {(a + s) / chars[source] * 1e4:.2f} |")
    a = sum(v for (src, k), v in kinds.items() if k == "asserted")
    s = sum(v for (src, k), v in kinds.items() if k == "疑似")
    print(f"| **all** | {total:,} | {a} | {s} | **{(a + s) / max(total, 1) * 1e4:.2f}** (target <= 1) |")
    by_check = Counter(f.check + ("（疑似）" if f.suspected else "") for *_, f in flags)
    print("\nBy check: " + ", ".join(f"{k} {v}" for k, v in by_check.most_common()))
    verdicts = Counter()
    asserted_false = []
    for name, _, _, f in flags:
        verdict = judged.get((name, f.wrong, f.suggestion, f.context))
        if verdict is None:
            continue
        verdicts[(verdict, f.suspected)] += 1
        if verdict == "false" and not f.suspected:
            asserted_false.append((name, f.wrong, f.suggestion, f.context))
    n_judged = sum(verdicts.values())
    if n_judged:
        print(f"\nJudged sample ({judged_path.name}): {n_judged} of {len(flags)} flags — "
              f"asserted: {verdicts[('error', False)]} real, {verdicts[('false', False)]} false alarms, "
              f"{verdicts[('unsure', False)]} unsure; 疑似: {verdicts[('error', True)]} real, "
              f"{verdicts[('false', True)]} false alarms, {verdicts[('unsure', True)]} unsure.")
        print(f"Share of false alarms in the judged sample: "
              f"{(verdicts[('false', False)] + verdicts[('false', True)]) / n_judged:.1%}; "
              f"asserted false alarms: {len(asserted_false)} (target 0)")
        for item in asserted_false:
            print("  asserted false alarm:", *item)
    print(f"\nAll flags written to {args.flags.relative_to(ROOT) if args.flags.is_relative_to(ROOT) else args.flags}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
