"""Text findings an office can trust: the official-usage lexicon, protected names, office
holders with their terms, near misses of fixed expressions, never-suggested words, categories."""
import json
from datetime import date
from pathlib import Path

import pytest

from checks.text import TextChecker
from checks.text.flags import CATEGORIES
from checks.text.lexicon import OfficialLexicon, own_vocabulary, read_list
from checks.text.rules import read_table
from tests.test_text_cmd import patrol

DATA = Path(__file__).resolve().parent.parent / "patroldata" / "text"
REAL_TEXTS = Path(__file__).resolve().parent.parent / "benchmarks" / "realtext" / "texts"
LATE = date(2026, 11, 1)


@pytest.fixture(scope="module")
def checker() -> TextChecker:
    return TextChecker()


def found(checker, text, day=LATE):
    return [(f.check, f.wrong, f.suggestion) for f in checker.check(text, day)]


@pytest.mark.parametrize("text", [
    "请关注我们的微信公众号和官方微博，及时了解疏通堵点的举措。",   # 微信→威信, 微博→微波, 堵点→这点
    "该路段禁行期间，请视情绕行。",                              # 禁行→进行, 视情→事情
    "区卫健委、区发改局联合开展检查，打造宜居宜业城市。",          # 健委→前委, 改局→政局, 宜业→失业
    "推进减证便民，依托赣政通平台办理。",                          # 进减→进见, 赣政→干政
    "勇毅前行，坚持宽严相济的刑事政策。",                          # 勇毅→用以, 相济→相继
    "支持企业在科创板上市，加强烟酒类商品监管。",                  # 创板→创办, 烟酒→研究
    "关爱失独家庭，落实扶助政策。",                                # 失独→台独
    "栗战书出席会议。航天员景海鹏、刘洋顺利出舱。",                # names
    "2019年3月5日，国务院总理李克强作政府工作报告。",              # a dated historical mention
    "江泽民同志逝世后，国家主席江泽民的事迹被广泛缅怀。",          # the past, in the sentence
    "推动皖美品牌建设，实施兴陇计划。",                            # provinces' abbreviations
])
def test_real_official_wording_is_not_flagged(checker, text):
    assert found(checker, text) == []


@pytest.mark.parametrize("text, wrong, right", [
    ("深入开展扫黑险恶专项斗争。", "扫黑险恶", "扫黑除恶"),
    ("认真贯彻党的二十大精深。", "党的二十大精深", "党的二十大精神"),
    ("坚持四个全免战略布局。", "四个全免", "四个全面"),
    ("坚持党的全面领倒。", "党的全面领倒", "党的全面领导"),
    ("扎实推动共同富余。", "共同富余", "共同富裕"),
    ("国务院总理李克强主持召开国务院常务会议。", "李克强", "李强"),
    ("全国人大常委会委员长栗战书出席。", "栗战书", "赵乐际"),
])
def test_serious_slips_are_serious_errors(checker, text, wrong, right):
    assert ("serious_error", wrong, right) in found(checker, text)


def test_an_office_holder_is_right_in_text_of_their_term(checker):
    assert found(checker, "全国人大常委会委员长栗战书出席。", date(2019, 3, 10)) == []
    assert found(checker, "国务院总理李强主持召开国务院常务会议。", LATE) == []
    # Before his term the same words name the wrong premier.
    assert ("serious_error", "李强", "李克强") in found(checker, "国务院总理李强主持会议。", date(2020, 5, 1))


def test_a_near_miss_of_the_holders_name_next_to_the_title(checker):
    assert ("serious_error", "李墙", "李强") in found(checker, "国务院总理李墙主持会议。")


def test_right_words_one_character_from_an_expression_are_not_flagged(checker):
    assert found(checker, "妥善安置富余劳动力。") == []
    assert found(checker, "县人民检察院检察委员会召开会议。") == []


def test_every_finding_has_a_category(checker):
    text = "国务院总理李墙主持会议，坚持四个全免，提高行政效律，联系电话13812345678，原国土资源局。"
    flags = checker.check(text, LATE)
    assert {f.category for f in flags} >= {"leader", "political", "typo"}
    assert all(f.category in CATEGORIES for f in flags)


def test_no_suggestion_of_the_shipped_data_is_a_denied_word():
    lexicon = OfficialLexicon.load(DATA)
    assert len(lexicon.denied) >= 10
    suggestions = []
    for name, column in (("typos.tsv", 1), ("serious.tsv", 1), ("outdated.tsv", 1), ("banned.tsv", 1)):
        suggestions += [row[column] for _, row in read_table(DATA / name, 2) if len(row) > column]
    suggestions += read_list(DATA / "names.txt") + read_list(DATA / "expressions.txt")
    suggestions += [row[1] for _, row in read_table(DATA / "officeholders.tsv", 3)]
    assert suggestions and not [s for s in suggestions if lexicon.is_denied(s)]


def test_a_denied_word_is_never_suggested(checker):
    lexicon = checker.official
    assert lexicon.is_denied("台独家庭") and not lexicon.is_denied("失独家庭")
    flags = checker.check("关爱失独家庭。", LATE)
    assert not [f for f in flags if lexicon.is_denied(f.suggestion)]


def test_the_lexicon_vetoes_a_flag_only_where_official_text_writes_it():
    lexicon = OfficialLexicon({"关衔"}, names=["赣政通"])
    assert lexicon.covers("授予海关关衔", 4, 6)
    assert not lexicon.covers("提高行政效律", 4, 6)
    assert lexicon.name_spans("依托赣政通办理") == [(2, 5)]


def test_name_spans_are_every_place_a_name_stands():
    """Every occurrence of every protected name and place, overlapping ones too, on real
    official text, in the order an Aho-Corasick automaton reports them (by end, the longest
    first)."""
    lexicon = OfficialLexicon.load(DATA)
    texts = [line for path in sorted(REAL_TEXTS.rglob("*.txt"))[:30]
             for line in path.read_text(encoding="utf-8").splitlines()]
    texts += ["湖北省武汉市", "上海市上海", "", "省", "内蒙古自治区"]
    by_length = sorted({len(name) for name in lexicon.names})
    found = 0
    for text in texts:
        expected = sorted(((s, s + n) for n in by_length for s in range(len(text) - n + 1)
                           if text[s:s + n] in lexicon.names), key=lambda span: (span[1], span[0]))
        assert lexicon.name_spans(text) == expected, text
        found += len(expected)
    assert found > 500
    assert OfficialLexicon(["关衔"]).name_spans("依托赣政通办理") == []


def test_the_official_strings_are_read_once_and_kept_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "text"
    data.mkdir()
    (data / "official.txt").write_text("# strings\n关衔\t3\n禁行\t2\n", encoding="utf-8")
    from checks.text import lexicon

    reads = []
    monkeypatch.setattr(lexicon, "read_list", lambda path: reads.append(path) or read_list(path))
    assert OfficialLexicon.load(data).strings == {"关衔", "禁行"}
    (cached,) = (tmp_path / "cache").glob("official-strings-*.bin")
    assert data / "official.txt" in reads
    reads.clear()
    assert OfficialLexicon.load(data).strings == {"关衔", "禁行"}        # from the cache
    assert data / "official.txt" not in reads
    cached.write_bytes(b"damaged")
    assert OfficialLexicon.load(data).strings == {"关衔", "禁行"}
    assert data / "official.txt" in reads
    (data / "official.txt").write_text("关衔\t3\n", encoding="utf-8")     # a new file: a new copy
    assert OfficialLexicon.load(data).strings == {"关衔"}
    assert len(list((tmp_path / "cache").glob("official-strings-*.bin"))) == 2
    (data / "official.txt").unlink()
    assert OfficialLexicon.load(data).strings == frozenset()


def test_own_vocabulary_counts_every_place_a_word_stands():
    """Every occurrence, overlapping ones too, of words of one to five characters (others than
    ideographs among them), as searching for each word in turn finds them."""
    from checks.text.lexicon import _occurrences

    text = "\x00".join(path.read_text(encoding="utf-8") for path in sorted(REAL_TEXTS.rglob("*.txt"))[:10])
    text += "\x00哈哈哈哈\x00𠀀𠀀𠀀\x00A1A1A\x00\ud800政府\x00"
    words = {"政府", "人民", "的", "哈哈", "哈哈哈", "𠀀𠀀", "A1A", "国务院", "中华人民共和国", "工作报告",
             "\ud800政", "不在文中"}
    expected = sorted((start, word) for word in words for start in range(len(text))
                      if text.startswith(word, start))
    found = sorted(_occurrences(words, text))
    assert found == expected
    assert len(found) > 1000 and (text.index("哈哈哈哈") + 1, "哈哈") in found
    assert own_vocabulary({"", "关衔"}, ["甲关衔乙", "丙关衔丁", "戊关衔己"], 3) == {"关衔"}


def test_own_vocabulary_needs_different_surroundings():
    texts = ["甲关衔乙", "丙关衔丁", "戊关衔己", "甲关衔乙", "甲关衔乙"]
    assert own_vocabulary({"关衔"}, texts, 3) == {"关衔"}
    assert own_vocabulary({"关衔"}, texts[:1] * 5, 3) == set()


def test_own_vocabulary_stops_surroundings_at_the_end_of_each_text():
    # The texts are scanned joined: a neighbouring text's characters are no surroundings.
    texts = ["关衔", "甲关衔", "关衔乙", "关衔"]
    assert own_vocabulary({"关衔"}, texts, 3) == {"关衔"}
    assert own_vocabulary({"关衔"}, texts, 4) == set()
    # A text holding the joining character is read on its own, with the same answer.
    assert own_vocabulary({"关衔"}, ["关衔\x00甲", "乙关衔", "丙关衔"], 3) == {"关衔"}
    assert own_vocabulary({"关衔"}, ["关衔\x00甲", "关衔\x00甲", "丙关衔"], 3) == set()


def test_a_look_alike_slip_is_listed_below_the_suspect_score(checker):
    # 剌 for 刺 (a real slip of a published interpretation): a look-alike scores below the
    # suspect score of the other channels and is listed as 疑似 all the same.
    flags = checker.check("为境外窃取、剌探、收买、非法提供军事秘密罪", LATE)
    assert [(f.wrong, f.suggestion, f.suspected) for f in flags] == [("剌探", "刺探", True)]
    assert flags[0].rule.startswith("statistical:shape") and flags[0].confidence < 0.8
    # ... but not in a person's name (王艺迪, 杨家玉 on real pages).
    assert found(checker, "陈梦/王艺迪同样3比0战胜对手。") == []
    assert found(checker, "中国选手杨家玉力压众名将夺冠。") == []


def test_the_lower_look_alike_score_is_a_setting():
    checker = TextChecker()
    text = "但无拘留、外罚、驱逐之权。"
    checker.settings = {**checker.settings, "suspect_score_by_channel": {}}
    assert [f.wrong for f in checker.check(text, LATE)] == []
    checker.settings = {**checker.settings, "suspect_score_by_channel": {"shape": 2.0}}
    assert [f.wrong for f in checker.check(text, LATE)] == ["外罚"]


def test_a_documents_own_vocabulary_is_dropped(layer_dir):
    from patrol.textcmd import check_lines

    checker = TextChecker(data_dir=layer_dir)
    # 晟域 (a term no official text writes, which the layer takes for 境域) in three different
    # surroundings: the document's own term.  (关衔, the customs ranks, was the example until
    # the official-usage lexicon learnt it.)
    lines = ["晟域分为五等。", "授予晟域应当审批。", "晟域的晋升按年限。", "提高行政效律。"]
    assert all(any(f.wrong == "晟域" for f in checker.check(line, LATE)) for line in lines[:3])
    results = check_lines(checker, lines, LATE)
    assert [f.wrong for flags in results for f in flags] == ["行政效律"]


def test_patrol_text_prints_categories_and_never_asserts_a_statistical_flag(tmp_path):
    draft = tmp_path / "draft.txt"
    draft.write_text("提高行政效律。\n坚持四个全免。\n", encoding="utf-8")
    result = patrol(str(draft), "--format", "jsonl", "--date", "2026-11-01")
    assert result.returncode == 0, result.stderr
    findings = [f for line in result.stdout.decode().splitlines() for f in json.loads(line)["findings"]]
    assert [(f["wrong"], f["category"], f["suspected"]) for f in findings] == [
        ("行政效律", "typo", True), ("四个全免", "political", False)]


@pytest.mark.parametrize("text, day", [
    ("限定或者变相限定单位或者个人经营。", LATE),              # 定单 across two words
    ("习近平总书记念兹在兹。", LATE),                          # 记念 across two words
    ("总台联合意大利文化部等机构。", LATE),                    # another country's ministry
    ("1988年11月3日原国家工商行政管理局令第1号公布。", LATE),  # dated, and 原
    ("2017年，区国土资源局开展执法检查。", LATE),              # a clause dated before the change
])
def test_rules_read_their_context(checker, text, day):
    assert [f for f in checker.check(text, day) if not f.suspected] == []


def test_rules_still_fire_where_they_should(checker):
    assert ("wrong_expression", "国土资源局", "自然资源局") in found(checker, "区国土资源局开展执法检查。")
    assert ("typo", "定单", "订单") in found(checker, "企业接到定单后组织生产。")


def test_older_or_officially_written_forms_are_only_suspected(checker):
    # A variant form before the 2002 standard, a banned word before the 2016 list, a variant
    # form that official text still writes (成份 in the drug laws).
    for text, day in (("按月审核收支帐目。", date(1953, 1, 2)),
                      ("保障残废军人的生活待遇。", date(1953, 1, 2)),
                      ("药品所含成份与标准不符。", date(2019, 8, 26))):
        flags = checker.check(text, day)
        assert flags and all(f.suspected and f.severity == "warning" for f in flags), text


def test_a_case_names_its_parties_as_they_were(tmp_path):
    draft = tmp_path / "case.txt"
    draft.write_text("原告王某诉怀宁国土局。\n一审判决后，怀宁国土局不服判决，提起上诉。\n", encoding="utf-8")
    result = patrol(str(draft), "--format", "jsonl", "--date", "2025-01-01")
    findings = [f for line in result.stdout.decode().splitlines() for f in json.loads(line)["findings"]]
    assert findings and all(f["suspected"] for f in findings if f["check"] == "wrong_expression")


def test_site_consistency_leaves_a_variant_that_is_a_word_or_a_name():
    from checks.model import CheckContext, PageSnapshot, SiteCrawl
    from checks.text.site import check_site

    def page(n, text):
        url = f"http://127.0.0.1:8000/art/{n}.html"
        return PageSnapshot(url=url, final_url=url, status=200, depth=1, title="", text=text,
                            published="2026-10-01")

    pages = [page(n, f"《宜春市志》第{n}卷记载了宜春市志书编纂的经过，清溪区第{n}次会议。") for n in range(8)]
    # 史志 is a word (宜春史志, a book), 青溪 a place's name: neither is a slip of the usual form.
    pages.append(page(99, "市地方志办公室编印《宜春史志》一书。青溪区政府召开会议。"))
    out = check_site(SiteCrawl(name="s", url="http://127.0.0.1:8000/", pages=pages),
                     CheckContext(site="s", today="2026-11-01"))
    assert [f.detail["wrong"] for f in out.findings if f.detail["rule"].startswith("consistency:")] == []


def test_a_law_title_one_character_off_is_a_wrong_law_name(checker):
    flags = checker.check("依据《中华人民共和国安全生产发》第十条，参照《行政许可发》。", LATE)
    assert [(f.check, f.wrong, f.suggestion, f.category) for f in flags] == [
        ("wrong_expression", "中华人民共和国安全生产发", "中华人民共和国安全生产法", "law"),
        ("wrong_expression", "行政许可发", "行政许可法", "law")]
    # Known titles, versions in brackets, and titles no known one is near are left alone.
    assert found(checker, "根据《中华人民共和国安全生产法》（2021年修正）和《宜春市城市管理条例》。") == []
