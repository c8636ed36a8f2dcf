"""Derive data files of patroldata/text/ (run once, the results ship).

``python -m checks.text.derive`` rewrites ``patroldata/text/pinyin.tsv``: every character of the
CJK Unified Ideographs block that pypinyin knows, grouped by reading (with tone number).
The checks read that file rather than pypinyin so that proofreading starts fast and gives the
same answers whatever pypinyin version is installed.

``python -m checks.text.derive domain PATH`` rewrites ``patroldata/text/domain.txt``: the words of
official-document language, counted in the *corrected* sentences of the dev half (even MD5 of
the sentence as written, the split of benchmarks/text_benchmark.py) of ECSpell's
``odw.train.tsv``.  The odd (test) half is never read.

``python -m checks.text.derive official PATH...`` rewrites ``patroldata/text/official.txt``, the
official-usage lexicon (checks/text/lexicon.py), from real official text: each PATH is a folder
of documents (``*.txt``/``*.md``, one document a file) or a file of documents separated by form
feeds.  Every place the statistical layer would flag (gain of at least 1.0, below the 疑似
floor too) gives its span and the spans one or two characters wider; with the one-character
variants of the fixed expressions (expressions.txt), those that the documents write in at least
two documents are kept.  The lexicon shipped was derived from LawRefBook/Laws (see its header);
benchmarks/realtext_benchmark.py says which of its documents are held out.
"""
from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from patroldata import PACKAGED

DATA_DIR = PACKAGED / "text"            # derived files are written to the package


def derive_pinyin_table() -> dict[str, tuple[str, str]]:
    """Reading (e.g. ``guo2``) -> (all characters that have it, those whose main reading it is)."""
    from pypinyin import Style, pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    by_reading: dict[str, list[str]] = defaultdict(list)
    main_reading: dict[str, list[str]] = defaultdict(list)
    for code in sorted(pinyin_dict):
        if not 0x4E00 <= code <= 0x9FFF:
            continue
        char = chr(code)
        readings = pinyin(char, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True)[0]
        readings = [r for r in dict.fromkeys(readings) if r and r.isascii() and r[-1].isdigit()]
        for reading in readings:
            by_reading[reading].append(char)
        if readings:
            main_reading[readings[0]].append(char)
    return {r: ("".join(chars), "".join(main_reading.get(r, ())))
            for r, chars in sorted(by_reading.items())}


def main() -> int:
    table = derive_pinyin_table()
    import pypinyin

    lines = [
        "# Readings of CJK characters: reading (pinyin, tone number) <TAB> all characters with that",
        "# reading <TAB> the characters whose main (first) reading it is.",
        f"# Source: derived from pypinyin {pypinyin.__version__} (its pinyin_dict, all heteronyms)",
        "# by `python -m checks.text.derive`; do not edit by hand.",
    ]
    lines += [f"{reading}\t{chars}\t{main}" for reading, (chars, main) in table.items()]
    (DATA_DIR / "pinyin.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(table)} readings to {DATA_DIR / 'pinyin.tsv'}")
    return 0


def derive_domain_words(tsv: Path) -> dict[str, int]:
    """Dictionary words of two to four characters written in the dev half's corrected text.

    Every occurrence counts, also inside a longer word (会议 in 联席会议): the word-level check
    looks at every dictionary word of the text, wherever it stands.
    """
    import hashlib
    import re

    from checks.text.statistical import load_model

    model = load_model(DATA_DIR)
    counts: dict[str, int] = defaultdict(int)
    for line in tsv.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        _, wrong, right = parts
        if int(hashlib.md5(wrong.encode("utf-8")).hexdigest(), 16) % 2:
            continue                      # the test half: never looked at
        for run in re.findall(r"[\u4e00-\u9fff]+", right):
            for length in (2, 3, 4):
                for start in range(len(run) - length + 1):
                    word = run[start:start + length]
                    if word in model.logp:
                        counts[word] += 1
    return dict(counts)


def write_domain_words(tsv: Path) -> int:
    counts = derive_domain_words(tsv)
    lines = [
        "# Words of official-document language (政务公文用语).",
        "# Source: every word of jieba's dictionary (two to",
        "# four characters) written in the *corrected* sentences of the dev half of ECSpell's",
        "# odw.train.tsv (sentences whose MD5 is even; the odd half is held out for the benchmark),",
        "# with its count (also inside longer words).  The word-level homophone check never",
        "# calls such a word a slip for another (质检, 部际, 收悉 are right in official text).",
        f"# Derived by `python -m checks.text.derive domain {tsv.name}`; do not edit by hand.",
    ]
    lines += [f"{w}\t{c}" for w, c in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))]
    (DATA_DIR / "domain.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(counts)} words to {DATA_DIR / 'domain.txt'}")
    return 0


def iter_documents(paths: list[Path]):
    """(name, text) of each document under ``paths`` (markdown headings and comments dropped)."""
    def clean(text: str) -> str:
        return "\n".join(line.strip() for line in text.splitlines()
                         if line.strip() and not line.strip().startswith(("<!--", "#")))

    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".md")):
                yield str(file), clean(file.read_text(encoding="utf-8", errors="replace"))
        else:
            for k, chunk in enumerate(path.read_text(encoding="utf-8", errors="replace").split("\f")):
                if chunk.strip():
                    yield f"{path}#{k}", clean(chunk)


def derive_official(paths: list[Path], min_docs: int = 2, floor: float = 1.0) -> dict[str, int]:
    """String -> number of documents writing it, for the strings around statistical flags and
    the expressions' variants that at least ``min_docs`` documents write."""
    import ahocorasick

    from checks.text.checker import TextChecker
    from checks.text.lexicon import windows
    from checks.text.rules import VARIANT_NOTES, read_table

    checker = TextChecker(data_dir=DATA_DIR)
    keys: set[str] = set(getattr(checker.expressions.forward, "keys", list)())
    keys |= {k[::-1] for k in getattr(checker.expressions.backward, "keys", list)()}
    # Variant forms (异形词) that official text still writes (成份 in the drug laws).
    keys |= {row[0] for _, row in read_table(DATA_DIR / "typos.tsv", 2)
             if len(row) > 2 and row[2] in VARIANT_NOTES}
    documents = []
    for _, text in iter_documents(paths):
        documents.append(text)
        for line in text.split("\n"):
            for cand in checker.candidates(line, floor):
                keys.update(w for w in windows(line, cand.start, cand.end))
    automaton = ahocorasick.Automaton()
    for key in keys:
        automaton.add_word(key, key)
    automaton.make_automaton()
    counts: dict[str, int] = defaultdict(int)
    for text in documents:
        for key in {key for _, key in automaton.iter(text)}:
            counts[key] += 1
    return {key: n for key, n in counts.items() if n >= min_docs}


OFFICIAL_HEADER = """\
# Official-usage lexicon (政务用语): strings that real official text writes, around places
# the statistical layer would flag, one-character variants of the fixed expressions that are
# right words (富余 in 富余劳动力), and variant forms of typos.tsv that official text writes
# (成份: only 疑似 where it stands).  A statistical flag whose span, alone or with one or two
# neighbours, is such a string is not reported, nor is a near miss of an expression that is one
# (checks/text/lexicon.py).
# Source: derived by `python -m checks.text.derive official` from
# - the national laws, administrative regulations and judicial interpretations of
#   LawRefBook/Laws (commit 2f4c5c23716267af9dbebbbbd6cbbf732b101981; the files whose path's MD5
#   starts with 0-b: the others are the real-text benchmark's held-out pool) and its local
#   regulations (DLC/).  Laws and regulations are outside copyright (著作权法 第五条);
# - 223 work reports, government documents and county news pages from public GitHub
#   repositories, none of them read by the real-text benchmark;
# - 新闻联播 transcripts of 4,884 broadcast days, 2012-07 to 2026-06 (china-data/xwlb, commit
#   710ba229765c537beb474d9eb272fbc097981bc0, written out by tools/xwlb_corpus.py; the days of
#   the real-text benchmark's news left out): they name the people, places and new terms of
#   official news.  The transcripts are CCTV's.
# Each non-law document is listed in docs/data/official-lexicon-sources.tsv.  Only these
# strings are shipped, never the texts.  Kept: strings written in at least two documents, with
# the number of documents.  Do not edit by hand; add terms to words.txt or protected.txt instead.
"""


def write_official(paths: list[Path]) -> int:
    counts = derive_official(paths)
    lines = [f"{k}\t{n}" for k, n in sorted(counts.items(), key=lambda kn: (-kn[1], kn[0]))]
    (DATA_DIR / "official.txt").write_text(OFFICIAL_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} strings to {DATA_DIR / 'official.txt'}")
    return 0


def derive_trigrams(paths: list[Path], min_count: int = 2) -> tuple[list[int], int, int]:
    """Keys (checks/text/trigrams.py) of the CJK trigrams written at least ``min_count`` times
    in the documents, with the number of documents and of trigrams read."""
    import re

    from checks.text.trigrams import BASE

    counts: dict[int, int] = defaultdict(int)
    documents = total = 0
    run = re.compile(r"[\u4e00-\u9fff]{3,}")
    for _, text in iter_documents(paths):
        documents += 1
        for match in run.finditer(text):
            codes = [ord(c) - BASE for c in match.group()]
            total += len(codes) - 2
            for a, b, c in zip(codes, codes[1:], codes[2:]):
                counts[(a << 30) | (b << 15) | c] += 1
    return [k for k, n in counts.items() if n >= min_count], documents, total


def write_trigrams(paths: list[Path]) -> int:
    from checks.text.trigrams import encode

    keys, documents, total = derive_trigrams(paths)
    comments = [
        "Trigrams of CJK ideographs written at least twice in real official text: what the",
        "trigram scan of checks/text/trigrams.py takes as official writing.",
        f"Source: derived by `python -m checks.text.derive trigrams` from {documents:,} documents",
        f"({total:,} trigrams read, {len(keys):,} kept), the same documents as official.txt (see",
        "its header: LawRefBook/Laws outside the benchmark's held-out pool and its local",
        "regulations, work reports and government documents, 新闻联播 transcripts).  Only this set",
        "of three-character strings is shipped, not the texts.  Do not edit; derive again.",
    ]
    (DATA_DIR / "trigrams.bin").write_bytes(encode(keys, comments))
    print(f"wrote {len(keys)} trigrams to {DATA_DIR / 'trigrams.bin'}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "trigrams":
        sys.exit(write_trigrams([Path(p) for p in sys.argv[2:]]))
    if len(sys.argv) >= 3 and sys.argv[1] == "official":
        sys.exit(write_official([Path(p) for p in sys.argv[2:]]))
    if len(sys.argv) == 3 and sys.argv[1] == "domain":
        sys.exit(write_domain_words(Path(sys.argv[2])))
    sys.exit(main())
