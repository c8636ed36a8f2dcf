"""Near misses of the state's standard names (checks/text/names.py, patroldata/text/names.txt)."""
from datetime import date
from pathlib import Path

import pytest

from checks.text import TextChecker
from checks.text.names import NameMatcher, cached_matcher, load_names

DATA = Path(__file__).resolve().parent.parent / "patroldata" / "text"
TODAY = date(2024, 6, 1)


@pytest.fixture(scope="module")
def checker() -> TextChecker:
    return TextChecker()


def serious(checker: TextChecker, text: str) -> list[tuple[str, str, int, int]]:
    return [(f.wrong, f.suggestion, f.start, f.end) for f in checker.check(text, TODAY)
            if f.check == "serious_error"]


@pytest.mark.parametrize("text, wrong, right", [
    ("热烈庆祝中华人民共和过成立75周年。", "中华人民共和过", "中华人民共和国"),    # homophone, last
    ("根据国家税物总局的通知要求。", "国家税物总局", "国家税务总局"),              # homophone, inside
    ("柴政部下达专项资金。", "柴政部", "财政部"),                                  # first character
    ("区人敏政府召开常务会议。", "人敏政府", "人民政府"),
    ("国务完常务会议审议通过。", "国务完", "国务院"),                              # look-alike
    ("国务完办公厅印发通知。", "国务完办公厅", "国务院办公厅"),                    # the longer name
])
def test_a_name_with_one_character_typed_for_another_is_a_serious_error(checker, text, wrong, right):
    flags = [f for f in checker.check(text, TODAY) if f.check == "serious_error"]
    assert [(f.wrong, f.suggestion) for f in flags] == [(wrong, right)]
    flag = flags[0]
    assert text[flag.start:flag.end] == wrong
    assert flag.severity == "veto" and not flag.suspected
    assert flag.rule.startswith("names.txt:") and wrong in flag.rule and right in flag.rule
    assert wrong in flag.context


def test_every_standard_name_written_correctly_is_not_flagged(checker):
    for name, _, _ in load_names(DATA):
        for text in (name, f"根据{name}的部署，", f"{name}。"):
            assert serious(checker, text) == [], text


@pytest.mark.parametrize("text", [
    "公安布控嫌疑人。",                 # 布控 is a word: not 公安部
    "外教部组织留学生活动。",           # 外教 is a word: a university's office, not 外交部
    "检察委员会讨论重大案件。",         # exceptions.txt: not 监察委员会
    "教育不能只看分数。",               # 不能 is a word
    "审计数据按月报送。",
    # The commonest characters next to a name are ordinary writing, not a misspelt ministry.
    "理想信念教育不深入，警示教育不扎实。",
    "政府信息公开中财政不透明的问题。",
    "基层公安不担当不作为问题。",
    "安全生产应急管理不规范，部分地区生态环境不达标。",
    "农业农村不发达地区，电子商务不景气。",
    # A word through the replaced character, inside the name or across its edge.
    "中共中阳县委员会召开全会。",         # 中阳县, a county of 吕梁市
    "中共中银国际证券股份有限公司委员会",
    "总共中央财政补助资金500万元。",
])
def test_correct_phrases_one_character_from_a_name_are_not_serious_errors(checker, text):
    assert serious(checker, text) == []


def test_a_known_misspelling_of_serious_tsv_is_reported_once(checker):
    flags = [f for f in checker.check("中华人民共合国宪法", TODAY) if f.check == "serious_error"]
    assert len(flags) == 1 and flags[0].rule.startswith("serious.tsv:")


def test_several_near_misses_in_one_text_with_their_offsets(checker):
    text = "据才政部和国家税物总局通知，中国共产当员要带头。"
    assert serious(checker, text) == [("才政部", "财政部", 1, 4),
                                      ("国家税物总局", "国家税务总局", 5, 11),
                                      ("中国共产当", "中国共产党", 14, 19)]


def test_matcher_takes_its_confusions_and_dictionary_from_the_caller():
    confusion = {"甲": {"乙": "homophone", "的": "homophone"}, "丙": {"丁": "shape"}, "戊": {}}.get
    matcher = NameMatcher([("甲丙戊戊", "测试", "names.txt:1")],
                          lambda c: confusion(c, {}), {"乙": -8.0, "的": -4.0, "丁": -20.0})
    # 乙丙戊戊 and 甲丁戊戊 (a rare look-alike is kept); not 的丙戊戊 (too common at an edge)
    assert matcher.count == 2
    assert [f.wrong for f in matcher.match("前乙丙戊戊后甲丁戊戊")] == ["乙丙戊戊", "甲丁戊戊"]
    assert matcher.match("前乙丙戊戊", taken=[(1, 3)]) == []
    assert matcher.match("前乙丙戊戊", protected=lambda text: [(0, 2)]) == []   # a name's span
    assert matcher.match("甲丙") == []


def test_a_data_directory_without_names_txt_still_works(tmp_path):
    data = tmp_path / "text"
    data.mkdir()
    for item in DATA.iterdir():
        if item.name != "names.txt":
            (data / item.name).write_bytes(item.read_bytes())
    checker = TextChecker(data_dir=data)
    assert checker.names.count == 0
    assert [f.check for f in checker.check("中华人民共合国", TODAY)] == ["serious_error"]


def test_the_matcher_is_kept_in_the_cache_directory(tmp_path, monkeypatch, checker):
    model = checker.model                  # loaded already: only the matcher uses the directory
    monkeypatch.setenv("PATROL_CACHE_DIR", str(tmp_path))
    built = cached_matcher(DATA, model)
    files = list(tmp_path.glob("text-names-*.pickle"))
    assert len(files) == 1
    loaded = cached_matcher(DATA, model)
    assert loaded is not built and loaded.count == built.count and loaded.logp is model.logp
    text = "据才政部和国家税物总局通知，教育不深入。"
    found = [(f.wrong, f.suggestion, f.start) for f in built.match(text)]
    assert found == [("才政部", "财政部", 1), ("国家税物总局", "国家税务总局", 5)]
    assert [(f.wrong, f.suggestion, f.start) for f in loaded.match(text)] == found
    files[0].write_bytes(b"not a pickle")           # a damaged file is built again
    assert cached_matcher(DATA, model).count == built.count


def test_the_texts_an_automaton_can_match_are_found_at_once(checker):
    """``check_many`` asks the names', the expressions' and the office holders' automata once
    for all the texts of a document which of them they can find anything in: exactly those a
    scan of each finds something in; in each of the others nothing is found."""
    import itertools

    real = Path(__file__).resolve().parent.parent / "benchmarks" / "realtext" / "texts"
    texts = [line for path in sorted(real.rglob("*.txt"))[:25] for line in path.read_text(encoding="utf-8").splitlines()]
    texts += ["", "热烈庆祝中华人民共和过成立75周年。", "柴政部下达专项资金。", "坚持四个全免", "扫黑险恶",
              "国务院总理李克强", "委员长栗战书", "华人民共和国", "\n中华人民共和国\n", "𠀀国务完𠀀"]
    joined = "\n".join(texts)
    starts = list(itertools.accumulate([len(t) + 1 for t in texts[:-1]], initial=0))
    holders = checker.officeholders
    for matcher, automaton in ((checker.names, checker.names.forward),
                               (checker.expressions, checker.expressions.forward),
                               (holders, holders.automaton)):
        found = matcher.matched(joined, starts)
        assert found == {k for k, t in enumerate(texts) if any(True for _ in automaton.iter(t))}
        assert 10 < len(found) < len(texts)
        for k, text in enumerate(texts):
            if k not in found:
                flags = (holders.check(text, TODAY, checker.model.confusion) if matcher is holders
                         else matcher.match(text))
                assert flags == [], text
    assert checker.check_many(texts, TODAY) == [checker.check_many([t], TODAY)[0] for t in texts]
