"""Leaders' names and titles (checks/text/leaders.py)."""
import pytest

from checks.text import TextChecker
from checks.text.leaders import title_base

LEADERS = [{"name": "王建国", "title": "区长"}, {"name": "李红梅", "title": "区委书记"},
           {"name": "赵文", "title": "副区长"}]


@pytest.fixture(scope="module")
def checker() -> TextChecker:
    return TextChecker(LEADERS)


def serious(flags):
    return [(f.wrong, f.suggestion) for f in flags if f.check == "serious_error"]


def test_listed_name_with_wrong_rank_of_its_post_is_serious(checker):
    flags = checker.check("副区长王建国出席会议并讲话。")
    assert serious(flags) == [("副区长", "区长")]
    assert flags[0].severity == "veto" and flags[0].rule.startswith("leaders:王建国")


def test_title_after_the_name_is_checked_too(checker):
    assert serious(checker.check("王建国副区长主持会议")) == [("副区长", "区长")]


def test_deputy_written_as_head_is_serious(checker):
    assert serious(checker.check("区长赵文调研农业生产")) == [("区长", "副区长")]


def test_correct_titles_and_names_are_not_flagged(checker):
    text = "区委书记李红梅、区长王建国、副区长赵文出席会议。书记李红梅强调，王建国同志要抓好落实。"
    assert checker.check(text) == []


def test_listed_title_next_to_a_misspelt_name_is_serious(checker):
    assert serious(checker.check("区长王健国主持召开常务会议")) == [("王健国", "王建国")]


def test_other_post_of_a_leader_is_not_flagged(checker):
    # A leader may hold posts that the list omits (区委副书记 and 区长 at once).
    assert serious(checker.check("区委常委王建国参加调研")) == []


def test_another_listed_leader_is_not_a_misspelling(checker):
    two = TextChecker([{"name": "王建国", "title": "区长"}, {"name": "王建军", "title": "区长"}])
    assert serious(two.check("区长王建军到任")) == []


def test_without_leaders_nothing_is_flagged():
    assert serious(TextChecker().check("副区长王建国出席会议")) == []


def test_title_base_strips_rank_and_level():
    assert title_base("区委副书记") == "书记"
    assert title_base("副区长") == "区长"
    assert title_base("市长") == "市长"
