"""Chinese text for the sample site: titles and article paragraphs from patroldata/samplesite.yaml.

The planted wording errors (typos, outdated institution names, a wrong leader title, a citizen
ID number) are defined here, because the manifest must record exactly where they went.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from patroldata import data_path

CORPUS_FILE: Path = data_path("samplesite.yaml")

# The configured leader the sample site misnames (a wrong title is a serious error).
LEADER = {"name": "王建国", "title": "区长"}

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"


def id_check_char(first17: str) -> str:
    """The GB 11643 checksum character of an 18-digit citizen ID number."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS))
    return ID_CHECK_CHARS[total % 11]


# An invented citizen ID (region 110105, born 1985-03-12, sequence 123) with a valid checksum.
PLANTED_ID_NUMBER = "11010519850312123" + id_check_char("11010519850312123")


@dataclass(frozen=True)
class Plant:
    """One wording error (or a correct look-alike) placed in one article."""

    key: str            # where it goes: "<column path>#<article index>"
    kind: str           # serious_typo | typo | outdated_name | leader_title | id_number
    wrong: str          # the text as it appears
    suggestion: str     # what it should be ("" for ID numbers)
    sentence: str       # the sentence carrying it
    expect: bool = True     # False: a look-alike that must NOT be reported

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "wrong": self.wrong, "suggestion": self.suggestion,
                "sentence": self.sentence, "expect_finding": self.expect}


PLANTS: tuple[Plant, ...] = (
    Plant("/xwzx/zwyw/#1", "serious_typo", "中华人民共合国", "中华人民共和国",
          "根据《中华人民共合国政府信息公开条例》规定，现将有关事项公告如下。"),
    Plant("/xwzx/bmdt/#0", "typo", "布署", "部署",
          "会议对下一阶段重点工作进行了布署，要求各单位抓好落实。"),
    # After the 2018 reform (机构改革, 2018-03) 国土资源局 became 自然资源局: wrong here ...
    Plant("/zwgk/tzgg/#2", "outdated_name", "国土资源局", "自然资源局",
          "区国土资源局要会同有关部门做好重点项目用地保障工作。"),
    # ... but correct in an article published in 2017.
    Plant("/jggk/jgzn/#0", "outdated_name", "国土资源局", "自然资源局",
          "区国土资源局负责全区土地资源的规划、管理、保护与合理利用。", expect=False),
    Plant("/jggk/ldzc/#0", "leader_title", "副区长王建国", "区长王建国",
          "副区长王建国主持召开专题会议，研究部署城市更新工作。"),
    # The right title: a checker must not flag it although it is inside "副区长王建国" above.
    Plant("/xwzx/zwyw/#0", "leader_title", "区长王建国", "区长王建国",
          "区长王建国出席会议并讲话，对做好下一阶段工作提出明确要求。", expect=False),
    Plant("/zwgk/rsxx/#0", "id_number", PLANTED_ID_NUMBER, "",
          f"拟聘用人员：李明，男，身份证号：{PLANTED_ID_NUMBER}，拟聘岗位：综合管理。"),
)


@lru_cache(maxsize=1)
def corpus() -> dict[str, Any]:
    return yaml.safe_load(CORPUS_FILE.read_text(encoding="utf-8"))


class Writer:
    """Deterministic titles and paragraphs (one seeded generator per build)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.data = corpus()
        self.district: str = self.data["site"]["district"]

    def _fill(self, template: str, when: date) -> str:
        rng = self.rng
        return template.format(
            district=self.district,
            dept=rng.choice(self.data["departments"]),
            town=rng.choice(self.data["towns"]),
            month=when.month,
            year=when.year,
            num=rng.randint(2, 60),
        )

    def title(self, kind: str, when: date) -> str:
        return self._fill(self.rng.choice(self.data["titles"][kind]), when)

    def paragraphs(self, when: date, extra: list[str] = ()) -> list[str]:  # type: ignore[assignment]
        sentences = [self._fill(s, when) for s in self.rng.sample(self.data["sentences"], 6)]
        # Planted sentences go into the middle of the text, as they would in a real article.
        for i, s in enumerate(extra):
            sentences.insert(2 + i, s)
        cut = len(sentences) // 2
        return ["".join(sentences[:cut]), "".join(sentences[cut:])]

    def department(self) -> str:
        return self.rng.choice(self.data["departments"])
