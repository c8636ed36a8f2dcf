"""Typo detection measured through ``patrol text`` on official-document sentences.

Data: ../shared/data/csc/odw.train.tsv (ECSpell, official document writing domain): label
(number of errors) <TAB> text with errors <TAB> corrected text.  The file is split by the MD5
of the text with errors: even digests are the *dev* half (used to tune
patroldata/text/statistical.yaml), odd digests the *test* half, which is what this reports by
default.  Every sentence is checked with ``--date 2018-01-01``: the sentences carry no
publication date and many were written before the 2018 institutional reform, so the
outdated-name rule (which only applies to dated text) is kept out of the typo measurement.

Throughput is measured through ``patrol text FILE --format jsonl`` (CPU time of the child
process: interpreter start, model load and JSON output included):

- start-up: the CPU time of ``patrol text`` on an empty file (interpreter, imports) and on
  one line (plus the model load from its on-disk cache);
- one process on a large draft: the split's sentences repeated until the file holds at
  least ``--large-chars`` characters (default 1,000,000), so that start-up is a small part
  (a hard case: every other sentence holds a slip, so the layer examines far more characters
  than in real text);
- one process on a draft of real official text: the documents of benchmarks/realtext/texts
  (work reports, government documents, county pages; 0.7 M characters, 2 MB) in one file,
  nothing repeated;
- the steady rate of ``cmd_text`` in a warm process (the rate a long crawl sees).

patrol's modules are compiled to bytecode first, as ``pip install`` does (with
PYTHONDONTWRITEBYTECODE set, each process would otherwise compile every module it imports).
Nothing is cached per sentence, so repeating sentences does not make them cheaper; the model's
lazily decoded index is what warms up.  The first ``patrol text`` after installing builds the
model cache from jieba's dictionary (a few seconds, once); the benchmark reports that too.

    .venv/bin/python benchmarks/text_benchmark.py [--split test|dev|all] [--data PATH]
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "csc" / "odw.train.tsv"
DATE = "2018-01-01"
TARGETS = {"precision": 0.90, "recall": 0.60, "false_alarm": 0.02, "throughput": 500_000}


def split_of(text: str) -> str:
    return "dev" if int(hashlib.md5(text.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "test"


def load(path: Path, split: str) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        _, wrong, right = parts
        if split in ("all", split_of(wrong)):
            rows.append((wrong, right))
    return rows


COUNT_SUSPECTED = os.environ.get("PATROL_BENCH_SUSPECTED") == "1"


def flagged_positions(findings: list[dict]) -> set[int]:
    """Characters a user is told are wrong (suspected flags are listed apart and not counted,
    unless PATROL_BENCH_SUSPECTED=1: then 疑似 flags count too)."""
    positions: set[int] = set()
    for f in findings:
        if f["suspected"] and not COUNT_SUSPECTED:
            continue
        wrong, right = f["wrong"], f["suggestion"]
        if len(wrong) == len(right):
            positions.update(f["start"] + k for k, (a, b) in enumerate(zip(wrong, right)) if a != b)
        else:
            positions.update(range(f["start"], f["end"]))
    return positions


def run_cli(path: Path, env: dict | None = None) -> tuple[list[dict], float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    exe = ROOT / ".venv" / "bin" / "patrol"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "patrol.cli"]
    proc = subprocess.run(cmd + ["text", str(path), "--format", "jsonl", "--date", DATE],
                          capture_output=True, text=True, check=True, cwd=ROOT,
                          env={**os.environ, "PATROL_CONFIG": "", **(env or {})})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return [json.loads(line) for line in proc.stdout.splitlines()], cpu


def best_cpu(path: Path, runs: int = 3, env: dict | None = None) -> float:
    """The least CPU time of ``runs`` runs: other processes on the machine only add to it."""
    return min(run_cli(path, env)[1] for _ in range(runs))


def warm_rate(path: Path, chars: int, repeats: int = 5) -> float:
    """Characters per CPU second of cmd_text in a process whose model is already loaded."""
    sys.path.insert(0, str(ROOT))
    from patrol.textcmd import cmd_text

    args = argparse.Namespace(file=str(path), format="jsonl", date=DATE, config=None)
    times = []
    with contextlib.redirect_stdout(io.StringIO()):
        cmd_text(args)                               # load the model
        for _ in range(repeats):
            start = time.process_time()
            cmd_text(args)
            times.append(time.process_time() - start)
    return chars / min(times)


def score(rows: list[tuple[str, str]], results: list[dict]) -> dict[str, float]:
    exact = any_hit = flagged = errors = clean = false_alarms = 0
    c_tp = c_fp = c_fn = 0
    for (wrong, right), result in zip(rows, results):
        gold = {i for i, (a, b) in enumerate(zip(wrong, right)) if a != b}
        found = flagged_positions(result["findings"])
        flagged += bool(found)
        if gold:
            errors += 1
            exact += found == gold
            any_hit += bool(found & gold)
        else:
            clean += 1
            false_alarms += bool(found)
        c_tp += len(found & gold)
        c_fp += len(found - gold)
        c_fn += len(gold - found)

    def ratio(a: int, b: int) -> float:
        return a / b if b else 0.0

    p, r = ratio(exact, flagged), ratio(exact, errors)
    return {
        "sentences": len(rows), "with_errors": errors, "clean": clean,
        "precision": p, "recall": r, "f1": ratio(2 * p * r, p + r) if p + r else 0.0,
        "precision_any": ratio(any_hit, flagged), "recall_any": ratio(any_hit, errors),
        "char_precision": ratio(c_tp, c_tp + c_fp), "char_recall": ratio(c_tp, c_tp + c_fn),
        "false_alarm": ratio(false_alarms, clean),
    }


def compile_bytecode() -> None:
    """Compile patrol's modules to bytecode, as ``pip install`` does: with PYTHONDONTWRITEBYTECODE
    set (as on some CI machines) a checkout's edited modules would otherwise be compiled again by
    every process measured, a cost no installed copy pays."""
    import compileall

    for package in ("checks", "common", "patrol", "patroldata"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["test", "dev", "all"], default="test")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--no-warm", action="store_true", help="skip the warm-process throughput")
    parser.add_argument("--large-chars", type=int, default=1_000_000,
                        help="size of the large draft for the one-process throughput")
    args = parser.parse_args()
    compile_bytecode()
    rows = load(args.data, args.split)
    chars = sum(len(w) for w, _ in rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sentences.txt"
        text = "".join(w + "\n" for w, _ in rows)
        path.write_text(text, encoding="utf-8")
        empty = Path(tmp) / "empty.txt"
        empty.write_text("", encoding="utf-8")
        one = Path(tmp) / "one.txt"
        one.write_text(rows[0][0] + "\n", encoding="utf-8")
        large = Path(tmp) / "large.txt"
        copies = max(1, -(-args.large_chars // max(1, chars)))
        large.write_text(text * copies, encoding="utf-8")
        large_chars = chars * copies
        # A fresh cache folder: the very first run builds the model (once per installation).
        t0 = time.perf_counter()
        _, build_cpu = run_cli(one, {"PATROL_CACHE_DIR": str(Path(tmp) / "cache")})
        build_wall = time.perf_counter() - t0
        results, cpu = run_cli(path)
        start_cpu = best_cpu(empty)
        load_cpu = best_cpu(one)
        large_cpu = best_cpu(large, runs=2)
        # A draft of real official text, nothing repeated: the documents shipped with the
        # real-text benchmark (work reports, government documents, county pages) in one file.
        real = Path(tmp) / "real.txt"
        real_text = "".join(p.read_text(encoding="utf-8").rstrip("\n") + "\n"
                            for p in sorted((ROOT / "benchmarks" / "realtext" / "texts").rglob("*.txt")))
        real.write_text(real_text, encoding="utf-8")
        real_cpu = best_cpu(real, runs=2)
        warm = None if args.no_warm else warm_rate(path, chars)
    m = score(rows, results)
    yes = {True: "yes", False: "no"}
    print(f"Split: **{args.split}** of {args.data.name} ({m['sentences']} sentences, "
          f"{m['with_errors']} with errors, {m['clean']} clean, {chars} characters); "
          f"`patrol text --format jsonl --date {DATE}`.\n")
    print("| measure | value | target | met |")
    print("|---|---|---|---|")
    print(f"| sentence detection precision (exact positions) | {m['precision']:.3f} | >= 0.90 | "
          f"{yes[m['precision'] >= TARGETS['precision']]} |")
    print(f"| sentence detection recall (exact positions) | {m['recall']:.3f} | >= 0.60 | "
          f"{yes[m['recall'] >= TARGETS['recall']]} |")
    print(f"| sentence detection F1 | {m['f1']:.3f} | | |")
    print(f"| sentence precision / recall (at least one right position) | "
          f"{m['precision_any']:.3f} / {m['recall_any']:.3f} | | |")
    print(f"| character precision | {m['char_precision']:.3f} | | |")
    print(f"| character recall | {m['char_recall']:.3f} | | |")
    print(f"| false alarms on clean sentences | {m['false_alarm']:.1%} | <= 2 % | "
          f"{yes[m['false_alarm'] <= TARGETS['false_alarm']]} |")
    rate = chars / cpu if cpu else 0.0
    large_rate = large_chars / large_cpu if large_cpu else 0.0
    print(f"| throughput, one `patrol text` process on a {large_chars:,}-character draft "
          f"(start-up and model load included) | {large_rate:,.0f} chars/CPU s ({large_cpu:.2f} s) | "
          f">= 500,000 | {yes[large_rate >= TARGETS['throughput']]} |")
    real_rate = len(real_text) / real_cpu if real_cpu else 0.0
    print(f"| throughput, one `patrol text` process on a draft of real official text "
          f"({len(real_text):,} characters, {len(real_text.encode('utf-8')) / 1e6:.1f} MB, nothing repeated; "
          f"start-up included) | {real_rate:,.0f} chars/CPU s ({real_cpu:.2f} s) | >= 500,000 | "
          f"{yes[real_rate >= TARGETS['throughput']]} |")
    print(f"| throughput, one `patrol text` process on this split's {chars:,} characters | "
          f"{rate:,.0f} chars/CPU s ({cpu:.2f} s) | | |")
    print(f"| start-up: `patrol text` on an empty file / on one line (model loaded from its cache) | "
          f"{start_cpu:.2f} s / {load_cpu:.2f} s CPU | | |")
    print(f"| first run after installing (builds the model cache) | {build_cpu:.1f} s CPU, "
          f"{build_wall:.1f} s wall | | |")
    if warm is not None:
        print(f"| throughput, warm process (`cmd_text`) | {warm:,.0f} chars/CPU s | >= 500,000 | "
              f"{yes[warm >= TARGETS['throughput']]} |")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
