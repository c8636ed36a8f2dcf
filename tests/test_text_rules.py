"""Data-file rules of checks/text/rules.py, through TextChecker."""
from datetime import date
from pathlib import Path

import pytest

from checks.text import TextChecker
from checks.text.rules import DataFileError, load_rules

AFTER_REFORM = date(2024, 6, 1)
BEFORE_REFORM = date(2017, 6, 1)


@pytest.fixture(scope="module")
def checker() -> TextChecker:
    return TextChecker()


def only(flags, check):
    return [f for f in flags if f.check == check]


def test_wrong_country_name_is_serious_error_with_offsets_and_veto_severity(checker):
    text = "1949年10月1日，中华人民共合国中央人民政府成立。"
    flags = only(checker.check(text, AFTER_REFORM), "serious_error")
    assert len(flags) == 1
    flag = flags[0]
    assert (flag.wrong, flag.suggestion) == ("中华人民共合国", "中华人民共和国")
    assert text[flag.start:flag.end] == "中华人民共合国"
    assert flag.severity == "veto" and not flag.suspected
    assert "中华人民共合国" in flag.context and flag.rule.startswith("serious.tsv:")


def test_correct_country_and_party_names_are_not_flagged(checker):
    text = "中华人民共和国成立以来，中国共产党领导人民取得了伟大成就，联合国大会召开。"
    assert checker.check(text, AFTER_REFORM) == []


def test_known_misspelling_is_typo_with_suggestion(checker):
    flags = checker.check("各单位要按步就班推进，再接再励。", AFTER_REFORM)
    assert [(f.check, f.wrong, f.suggestion) for f in flags] == [
        ("typo", "按步就班", "按部就班"), ("typo", "再接再励", "再接再厉")]


def test_outdated_name_is_flagged_only_after_it_took_effect(checker):
    text = "区国土资源局召开专题会议。"
    after = only(checker.check(text, AFTER_REFORM), "wrong_expression")
    assert [(f.wrong, f.suggestion) for f in after] == [("国土资源局", "自然资源局")]
    assert "2019-01-01" in after[0].rule
    assert only(checker.check(text, BEFORE_REFORM), "wrong_expression") == []


def test_former_name_mentioned_as_such_is_not_flagged(checker):
    text = "原国土资源局的职责划入区自然资源局；环境保护局更名为生态环境局。"
    assert only(checker.check(text, AFTER_REFORM), "wrong_expression") == []


def test_longest_outdated_name_wins(checker):
    flags = only(checker.check("国家卫生和计划生育委员会发布通知", AFTER_REFORM), "wrong_expression")
    assert [(f.wrong, f.suggestion) for f in flags] == [("国家卫生和计划生育委员会", "国家卫生健康委员会")]


def test_department_words_containing_a_ministry_name_are_not_flagged(checker):
    text = "农业部门和文化部门、环境保护部门要做好农业部署。"
    assert checker.check(text, AFTER_REFORM) == []


def test_banned_expression_is_wrong_expression(checker):
    flags = checker.check("有关台湾总统选举的报道", AFTER_REFORM)
    assert [(f.check, f.wrong, f.suggestion) for f in flags] == [
        ("wrong_expression", "台湾总统", "台湾地区领导人")]


def test_exception_phrase_suppresses_a_rule_inside_it(tmp_path):
    data = tmp_path / "text"
    src = Path(__file__).resolve().parent.parent / "patroldata" / "text"
    data.mkdir()
    for item in src.iterdir():
        (data / item.name).write_bytes(item.read_bytes())
    (data / "typos.tsv").write_text("在坐\t在座\ttest\n", encoding="utf-8")
    (data / "exceptions.txt").write_text("所在坐标\n", encoding="utf-8")
    checker = TextChecker(data_dir=data)
    assert [f.wrong for f in checker.check("请在坐的各位注意", AFTER_REFORM)] == ["在坐"]
    assert checker.check("标出所在坐标", AFTER_REFORM) == []


def test_malformed_data_file_names_file_and_line(tmp_path):
    for name in ("typos.tsv", "serious.tsv", "banned.tsv", "exceptions.txt"):
        (tmp_path / name).write_text("", encoding="utf-8")
    (tmp_path / "outdated.tsv").write_text("# comment\n国土局\t自然资源局\tsoon\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"outdated.tsv:2"):
        load_rules(tmp_path)


def test_every_data_file_states_its_source():
    data = Path(__file__).resolve().parent.parent / "patroldata" / "text"
    for path in data.iterdir():
        head = path.read_bytes()[:1500].decode("utf-8", "replace")   # trigrams.bin: a text header
        assert "Source" in head or "source" in head, path.name


def test_the_rules_of_many_texts_at_once_are_each_texts(checker):
    """One scan of a document's lines gives each line, with its own date, what it gives alone:
    hits at a line's start and end, lines without any, empty lines, a later date."""
    lines = ["中华人民共合国成立", "", "市国土资源局召开会议", "原国土资源局局长", "布署工作", "认真布署",
             "农业部门", "没有问题的句子", "中华人民共合国"]
    days = [date(2016, 1, 1), date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 1), date(2001, 1, 1),
            date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 1)]
    lines.append("国土资源局")
    days.append(date(2016, 1, 1))
    alone = [checker.rules.match(line, day) for line, day in zip(lines, days)]
    assert checker.rules.match_many(lines, days) == alone
    assert sum(map(len, alone)) >= 5 and not alone[1] and not alone[-1]
    assert checker.rules.match_many([], []) == []
