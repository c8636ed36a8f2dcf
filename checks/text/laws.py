"""Law titles in 《》: a wrong law name when one character is off a known title.

``laws.txt`` lists the titles of national laws, regulations, rules and judicial interpretations.
A title written in 《》 that is not one of them but differs from exactly one of them (or from
one without its 中华人民共和国) in one character, typed for the right one by sound or shape (the
statistical layer's confusion sets), is a ``wrong_expression`` of category ``law``:
《中华人民共和国安全生产发》, 《行政许可发》.  A title no known one is one character from (a
local regulation, a notice) is not judged.  Versions in brackets (（2018年修正）) are read apart.
"""
from __future__ import annotations

import re
from pathlib import Path

from checks.text.flags import TextFlag, make_flag
from checks.text.rules import read_table

TITLE = re.compile(r"《([^《》\n]{4,80})》")
PREFIX = "中华人民共和国"
VERSION = re.compile(r"[（(][^（）()]*[）)]$")


class LawTitles:
    def __init__(self, titles: list[tuple[str, int]]) -> None:
        self.titles: dict[str, int] = {}
        for title, line in titles:
            self.titles.setdefault(title, line)
            if title.startswith(PREFIX) and len(title) > len(PREFIX) + 1:
                self.titles.setdefault(title[len(PREFIX):], line)
        self.masked: dict[str, list[tuple[str, int]]] = {}
        for title, line in self.titles.items():
            for k in range(len(title)):
                self.masked.setdefault(title[:k] + "?" + title[k + 1:], []).append((title, k))

    @classmethod
    def load(cls, data_dir: Path) -> LawTitles:
        path = data_dir / "laws.txt"
        if not path.exists():
            return cls([])
        return cls([(row[0].strip(), number) for number, row in read_table(path, 1)])

    def __bool__(self) -> bool:
        return bool(self.titles)

    def check(self, text: str, confusion) -> list[TextFlag]:
        if not self.titles or "《" not in text:
            return []
        flags = []
        for m in TITLE.finditer(text):
            written = VERSION.sub("", m.group(1).strip())
            if written in self.titles or len(written) < 4:
                continue
            start = m.start(1) + m.group(1).find(written)
            found = set()
            for k, char in enumerate(written):
                for title, at in self.masked.get(written[:k] + "?" + written[k + 1:], ()):
                    if char in confusion(title[at]):
                        found.add(title)
            if len(found) == 1:
                (title,) = found
                flags.append(make_flag("wrong_expression", text, start, start + len(written), title,
                                       f"laws.txt:{self.titles[title]} 《{written}》→《{title}》", 0.9,
                                       category="law"))
        return flags
