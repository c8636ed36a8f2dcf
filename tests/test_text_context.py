"""Names and measure words that the statistical layer leaves alone (checks/text/context.py)."""
from pathlib import Path

import pytest

from checks.text.context import ContextRules
from checks.text.rules import DataFileError

DATA = Path(__file__).resolve().parent.parent / "patroldata" / "text"


@pytest.fixture(scope="module")
def rules() -> ContextRules:
    return ContextRules.load(DATA / "context.yaml")


def covered(rules: ContextRules, text: str, **kw) -> list[str]:
    return [text[s:e] for s, e in rules.protected_spans(text, **kw)]


def test_name_after_a_label_and_before_a_gender(rules):
    assert covered(rules, "拟聘用人员：李明，男，拟聘岗位：综合管理。") == ["李明", "李明"]


def test_name_before_a_title_or_comrade(rules):
    assert covered(rules, "黎红主任指出") == ["黎红"]
    assert covered(rules, "王建国同志强调") == ["王建国"]


def test_compound_surname(rules):
    assert covered(rules, "欧阳明华同志出席") == ["欧阳明华"]


def test_word_before_a_title_without_a_surname_is_no_name(rules):
    assert covered(rules, "办公室主任出席") == []


def test_two_characters_before_a_place_suffix(rules):
    assert covered(rules, "柳溪镇和白沙街道") == ["柳溪", "白沙"]


def test_suffix_that_makes_a_word_is_no_suffix(rules):
    words = {"市场", "地区", "小区"}
    assert covered(rules, "加强市场监管", words=words) == []
    assert covered(rules, "沿海地区和住宅小区", words=words) == []


def test_measure_word_after_numerals(rules):
    assert covered(rules, "5个工作日，两项任务，第3次会议") == ["个", "项", "次"]


def test_kinds_select_what_is_protected(rules):
    text = "柳溪镇4个村"
    assert covered(rules, text, kinds=("measure",)) == ["个"]
    assert covered(rules, text, kinds=("place",)) == ["柳溪"]


def test_missing_file_protects_nothing(tmp_path):
    assert ContextRules.load(tmp_path / "context.yaml").protected_spans("柳溪镇4个村") == []


def test_malformed_file_names_itself(tmp_path):
    bad = tmp_path / "context.yaml"
    bad.write_text("name_after: [，男, ,女]\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="context.yaml"):
        ContextRules.load(bad)
