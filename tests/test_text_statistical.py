"""Statistical typo layer (checks/text/statistical.py) and the confidence of its flags."""
from datetime import date
from pathlib import Path

import pytest

from checks.text import TextChecker
from checks.text.statistical import load_model

DATA = Path(__file__).resolve().parent.parent / "config" / "text"
TODAY = date(2024, 6, 1)


@pytest.fixture(scope="module")
def checker() -> TextChecker:
    return TextChecker()


@pytest.mark.parametrize("text, wrong, suggestion", [
    ("内蒙古自治区大力培育发展大数局产业。", "数局", "数据"),
    ("积极推进政务公开，提高行政效律。", "行政效律", "行政效率"),
    ("认真做好疫情防控工做。", "工做", "工作"),
])
def test_homophone_typo_outside_any_list_is_found_with_suggestion(checker, text, wrong, suggestion):
    flags = [f for f in checker.check(text, TODAY) if not f.suspected]
    assert [(f.check, f.wrong, f.suggestion) for f in flags] == [("typo", wrong, suggestion)]
    flag = flags[0]
    assert flag.rule.startswith("statistical:")
    assert 0.6 <= flag.confidence <= 1.0 and flag.severity == "error"
    assert text[flag.start:flag.end] == wrong


@pytest.mark.parametrize("text", [
    "全面推进依法治国，建设社会主义法治国家。",
    "进一步优化营商环境，提高政务服务效率。",
    "区政府召开常务会议，研究部署防汛抗旱工作。",
    "会议要求，各单位要认真贯彻落实中央决策部署，切实做好民生保障工作。",
    "我区积极开展垃圾分类宣传活动，群众参与度明显提高。",
    "严格执行中央八项规定精神，坚决反对形式主义、官僚主义。",
    "这次会议的主要任务是总结工作、分析形势、布置任务。",
    "坚持因城施策，促进家政服务业提质扩容。",
])
def test_correct_official_sentences_are_not_flagged(checker, text):
    assert [f for f in checker.check(text, TODAY) if not f.suspected] == []


def test_weak_evidence_is_listed_as_suspected_with_warning_severity(checker):
    flags = checker.check("各部门要落实主体则任。", TODAY)
    weak = [f for f in flags if f.wrong == "则任"]
    assert weak and weak[0].suspected and weak[0].severity == "warning"
    assert weak[0].suggestion == "责任" and weak[0].confidence < 0.6


def test_adjacent_suspicious_characters_give_one_flag(checker):
    # 平 and 估 are both outside any word in 绩效平估工作; one correction is enough.
    flags = [f for f in checker.check("开展绩效平估工作", TODAY) if not f.suspected]
    assert [(f.wrong, f.suggestion) for f in flags] == [("平估", "评估")]


def test_look_alike_characters_are_candidates():
    model = load_model(DATA)
    assert model.confusion("冶").get("治") == "shape"
    assert model.confusion("据").get("局") == "homophone"


def test_the_model_is_loaded_once_per_process():
    assert load_model(DATA) is load_model(DATA)


def test_checker_construction_is_cheap_and_model_is_lazy():
    checker = TextChecker([{"name": "王建国", "title": "区长"}])
    assert checker._model is None
    checker.check("你好")
    assert checker._model is not None


def test_text_without_chinese_gives_nothing(checker):
    assert checker.check("Hello, world! 2024-06-01", TODAY) == []
    assert checker.check("", TODAY) == []
