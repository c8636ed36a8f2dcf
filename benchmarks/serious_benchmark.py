"""Serious slips: every fixed expression and standard name with one character typed wrong.

Built by program from the shipped data (patroldata/text/expressions.txt, names.txt and
officeholders.tsv): each expression or name, at each of its characters, gets the commonest
character typed for it by sound (same pinyin; else fuzzy pinyin, else a look-alike of
shapes.txt) that makes no other expression; it is put inside a real sentence that writes the
expression (the first one found in ``--corpus`` folders, else in a plain carrier sentence), and
the correct sentence is kept as the clean case.  Office holders: each title with a past holder's
name in text dated today, and with the holder's name.  A hand-written part holds slips seen on
government sites.  Targets: >= 95 % found as serious_error with the right form, none on the
correct sentences.

    .venv/bin/python benchmarks/serious_benchmark.py [--corpus DIR]...
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TODAY = date(2026, 11, 1)
CARRIER = "各单位要深入学习{}，切实抓好贯彻落实。"
HAND = [  # (slip sentence, the right form) — real slips reported on government sites
    ("深入开展扫黑险恶专项斗争。", "扫黑除恶"),
    ("认真贯彻党的二十大精深。", "党的二十大精神"),
    ("坚持四个全免战略布局。", "四个全面"),
    ("坚持党的全面领倒。", "党的全面领导"),
    ("扎实推动共同富余。", "共同富裕"),
    ("学习贯彻习近平新时代中国特色社会主意思想。", "习近平新时代中国特色社会主义思想"),
    ("热烈庆祝中华人民共和过成立75周年。", "中华人民共和国"),
    ("国务院总理李克强主持召开国务院常务会议。", "李强"),
    ("全国人大常委会委员长栗战书出席会议。", "赵乐际"),
]


def sentences_with(term: str, corpora: list[Path]) -> str | None:
    for folder in corpora:
        for path in sorted(folder.rglob("*.txt")):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                at = line.find(term)
                if at >= 0:
                    start = max(line.rfind("。", 0, at) + 1, at - 40)
                    end = line.find("。", at + len(term))
                    return line[start:end + 1 if end >= 0 else at + len(term) + 30]
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, action="append", default=[])
    args = parser.parse_args()
    from checks.text import TextChecker
    from checks.text.lexicon import read_list
    from checks.text.officeholders import load_terms

    checker = TextChecker()
    model = checker.model
    terms = read_list(checker.data_dir / "expressions.txt") + read_list(checker.data_dir / "names.txt")
    terms = list(dict.fromkeys(terms))
    cases, clean = [], []
    for term in terms:
        sentence = sentences_with(term, args.corpus) or CARRIER.format(term)
        clean.append(sentence)
        for k, char in enumerate(term):
            confusion = model.confusion(char)
            order = sorted((o for o in confusion if model.logp.get(o, -99) >= -12.0),
                           key=lambda o: (("homophone", "other_reading", "near_homophone", "shape")
                                          .index(confusion[o]), -model.logp.get(o, -99)))
            for other in order:
                variant = term[:k] + other + term[k + 1:]
                if variant not in terms:
                    cases.append((sentence.replace(term, variant, 1), term, f"{term}[{k}] {char}→{other}"))
                    break
    holders = load_terms(checker.data_dir)
    for title in dict.fromkeys(t.title for t in holders):
        now = [t for t in holders if t.title == title and t.holds(TODAY)]
        past = [t for t in holders if t.title == title and not t.holds(TODAY)
                and t.name not in {n.name for n in now}]
        if now and past:
            cases.append((f"{title}{past[-1].name}出席会议并讲话。", now[0].name, f"{title} {past[-1].name}"))
            clean.append(f"{title}{now[0].name}出席会议并讲话。")
    found, missed = 0, []
    for sentence, right, what in cases:
        flags = [f for f in checker.check(sentence, TODAY) if f.check == "serious_error"]
        # The right form, or a longer name holding it (全国人民代表大会常务委员会 for a slip in
        # 人民代表大会常务委员会 written inside it), or a shorter one it holds.
        if any(right in f.suggestion or f.suggestion in right for f in flags):
            found += 1
        else:
            missed.append(what)
    hand_found = sum(any(f.check == "serious_error" and right in f.suggestion
                         for f in checker.check(s, TODAY)) for s, right in HAND)
    false = [s for s in clean if any(f.check == "serious_error" for f in checker.check(s, TODAY))]
    print("| measure | value | target |\n|---|---|---|")
    print(f"| generated slips found as serious_error (right form suggested) | {found} of {len(cases)} "
          f"({found / len(cases):.1%}) | >= 95 % |")
    print(f"| hand-written real slips found | {hand_found} of {len(HAND)} | all |")
    print(f"| correct sentences with a serious_error | {len(false)} of {len(clean)} | 0 |")
    if missed:
        print("\nMissed: " + "; ".join(missed))
    for s in false:
        print("False serious error on:", s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
