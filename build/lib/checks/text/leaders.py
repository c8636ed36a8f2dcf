"""Leaders' names and titles: a serious error when either is wrong next to the other.

With ``leaders: [{name, title}]`` in the configuration (one entry per post a leader holds, or
several posts joined by 、), two mistakes are serious errors (单项否决):

- a listed name next to a wrong form of one of its posts (区长 written 副区长, 区委书记 written
  副书记) — another kind of post is not flagged, since a leader may hold posts the list omits;
- a listed title next to a name one character away from the leader's (区长王健国 for 王建国).
"""
from __future__ import annotations

from pathlib import Path

import ahocorasick

from checks.text.flags import TextFlag, make_flag
from checks.text.rules import read_table

LEVEL_PREFIXES = ("党组", "区委", "市委", "县委", "省委", "州委", "旗委", "镇党委", "乡党委", "党委", "党工委")


def title_base(title: str) -> str:
    """区委副书记 -> 书记, 副区长 -> 区长: the post without its rank and level."""
    for prefix in LEVEL_PREFIXES:
        if title.startswith(prefix) and len(title) > len(prefix):
            title = title[len(prefix):]
            break
    return title.replace("副", "")


class LeaderChecker:
    def __init__(self, leaders: list[dict], data_dir: Path) -> None:
        self.titles_of: dict[str, list[str]] = {}
        for leader in leaders or ():
            name = str(leader.get("name") or "").strip()
            titles = [t.strip() for t in str(leader.get("title") or "").replace("，", "、").split("、")]
            if name:
                self.titles_of.setdefault(name, []).extend(t for t in titles if t)
        known_titles = {row[0] for _, row in read_table(data_dir / "titles.txt", 1)}
        for titles in self.titles_of.values():
            known_titles.update(titles)
        self.titles = ahocorasick.Automaton()
        for title in known_titles:
            self.titles.add_word(title, title)
        if known_titles:
            self.titles.make_automaton()

    def __bool__(self) -> bool:
        return bool(self.titles_of)

    def name_spans(self, text: str) -> list[tuple[int, int]]:
        """Where the listed names occur: no other layer may call them typos."""
        spans = []
        for name in self.titles_of:
            pos = text.find(name)
            while pos >= 0:
                spans.append((pos, pos + len(name)))
                pos = text.find(name, pos + len(name))
        return spans

    def check(self, text: str) -> list[TextFlag]:
        if not self.titles_of:
            return []
        # The longest title ending at / starting at each position.
        ends: dict[int, str] = {}
        starts: dict[int, str] = {}
        for end_index, title in self.titles.iter(text):
            end = end_index + 1
            start = end - len(title)
            if len(title) > len(ends.get(end, "")):
                ends[end] = title
            if len(title) > len(starts.get(start, "")):
                starts[start] = title
        flags: list[TextFlag] = []
        for name, titles in self.titles_of.items():
            flags += self._wrong_titles(text, name, titles, ends, starts)
            flags += self._wrong_names(text, name, titles, ends, starts)
        return flags

    def _wrong_titles(self, text: str, name: str, titles: list[str], ends: dict[int, str],
                      starts: dict[int, str]) -> list[TextFlag]:
        flags = []
        pos = text.find(name)
        while pos >= 0:
            end = pos + len(name)
            for title, t_start, t_end in ((ends.get(pos), pos - len(ends.get(pos, "")), pos),
                                          (starts.get(end), end, end + len(starts.get(end, "")))):
                if not title or _title_fits(title, titles):
                    continue
                same_post = [t for t in titles if title_base(t) == title_base(title)]
                if same_post:
                    flags.append(make_flag("serious_error", text, t_start, t_end, same_post[0],
                                           f"leaders:{name}（{'、'.join(titles)}）", 0.95))
            pos = text.find(name, end)
        return flags

    def _wrong_names(self, text: str, name: str, titles: list[str], ends: dict[int, str],
                     starts: dict[int, str]) -> list[TextFlag]:
        flags = []
        n = len(name)
        spans = [(end, end + n) for end, title in ends.items() if title in titles]
        spans += [(start - n, start) for start, title in starts.items() if title in titles]
        for start, end in spans:
            if start < 0 or end > len(text):
                continue
            written = text[start:end]
            if written not in self.titles_of and _one_char_off(written, name):
                flags.append(make_flag("serious_error", text, start, end, name,
                                       f"leaders:{name}（{'、'.join(titles)}）", 0.9))
        return flags


def _title_fits(title: str, titles: list[str]) -> bool:
    """书记 fits 区委书记 (the level left out), but 区长 does not fit 副区长 (the rank left out)."""
    return any(t == title or (t.endswith(title) and "副" not in t[:len(t) - len(title)])
               for t in titles)


def _one_char_off(written: str, name: str) -> bool:
    if len(written) != len(name):
        return False
    differences = sum(1 for a, b in zip(written, name) if a != b)
    # A name is CJK; an adjacent run of other text is not a misspelt name.
    return differences == 1 and all("\u4e00" <= c <= "\u9fff" for c in written)
