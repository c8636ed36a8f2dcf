"""Derive data files of config/text/ (run once, the results ship).

``python -m checks.text.derive`` rewrites ``config/text/pinyin.tsv``: every character of the
CJK Unified Ideographs block that pypinyin knows, grouped by reading (with tone number).
The checks read that file rather than pypinyin so that proofreading starts fast and gives the
same answers whatever pypinyin version is installed.

``python -m checks.text.derive domain PATH`` rewrites ``config/text/domain.txt``: the words of
official-document language, counted in the *corrected* sentences of the dev half (even MD5 of
the sentence as written, the split of benchmarks/text_benchmark.py) of ECSpell's
``odw.train.tsv``.  The odd (test) half is never read.
"""
from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "config" / "text"


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


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "domain":
        sys.exit(write_domain_words(Path(sys.argv[2])))
    sys.exit(main())
