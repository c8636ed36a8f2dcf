"""Derive the pinyin table in config/text/ from pypinyin (run once, the result ships).

``python -m checks.text.derive`` rewrites ``config/text/pinyin.tsv``: every character of the
CJK Unified Ideographs block that pypinyin knows, grouped by reading (with tone number).
The checks read that file rather than pypinyin so that proofreading starts fast and gives the
same answers whatever pypinyin version is installed.
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


if __name__ == "__main__":
    sys.exit(main())
