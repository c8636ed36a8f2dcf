"""Statistical typo layer (checks/text/statistical.py) and the confidence of its flags."""
from datetime import date
from pathlib import Path

import pytest

from checks.text import TextChecker
from checks.text.statistical import load_model

DATA = Path(__file__).resolve().parent.parent / "patroldata" / "text"
TODAY = date(2024, 6, 1)


@pytest.fixture(scope="module")
def checker(layer_dir) -> TextChecker:
    return TextChecker(data_dir=layer_dir)


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


def test_checker_construction_is_cheap_and_model_is_lazy(layer_dir):
    checker = TextChecker([{"name": "王建国", "title": "区长"}], data_dir=layer_dir)
    assert checker._model is None
    checker.check("你好")
    assert checker._model is not None


def test_text_without_chinese_gives_nothing(checker):
    assert checker.check("Hello, world! 2024-06-01", TODAY) == []
    assert checker.check("", TODAY) == []


@pytest.mark.parametrize("text", [
    "友情链接 清溪融媒 清溪融媒专题 市政务服务网 省政府门户",      # 融媒 = 融媒体, not 溶媒
    "共3页 首页 上一页 下一页 尾页 末页 返回顶部",                  # pager and site furniture
    "我们将在5个工作日内答复。",                                    # numeral + measure word
    "清溪区辖4个街道、2个镇、1个乡，共有12个社区。",
    "柳溪镇召开基层治理工作座谈会",                                 # place name before 镇
    "白沙街道、龙潭乡和桃源村开展人居环境整治。",
    "拟聘用人员：李明，男，拟聘岗位：综合管理。",                   # a person's name
    "会议由黎红主任主持，李明同志作报告。",
    "培训机构依法依规开展培训业务。",                               # current official terms
    "因地制宜、分类施策，完善扶贫项目。",                           # (patroldata/text/words.txt)
    "推进污水处理设施提标改造工程，依证监管排污单位。",
])
def test_site_furniture_names_and_measure_words_are_not_flagged_even_as_suspected(checker, text):
    assert checker.check(text, TODAY) == []


def test_a_typo_next_to_a_name_is_still_found(checker):
    flags = checker.check("李明同志要求提高行政效律。", TODAY)
    assert [(f.wrong, f.suggestion) for f in flags] == [("行政效律", "行政效率")]


def test_near_homophone_of_fuzzy_pinyin_is_a_candidate():
    model = load_model(DATA)
    assert model.confusion("应").get("因") == "near_homophone"      # ying ~ yin
    assert model.confusion("乐").get("热") == "near_homophone"      # le ~ re


@pytest.mark.integration   # a new Python process
def test_model_loads_from_its_compact_cache_in_a_new_process(tmp_path):
    import os
    import subprocess
    import sys
    code = ("import time; from pathlib import Path; from checks.text.statistical import load_model;"
            "t = time.process_time(); m = load_model(Path('patroldata/text')); "
            "print(time.process_time() - t, len(m.logp))")
    env = {**os.environ, "PATROL_CACHE_DIR": str(tmp_path)}
    root = DATA.parent.parent
    first = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True,
                           text=True, check=False)
    second = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True,
                           text=True, check=False)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.split()[1] == second.stdout.split()[1]          # same words either way
    import re
    (cache,) = tmp_path.iterdir()
    assert re.fullmatch(r"text-model-v\d+-[0-9a-f]{16}\.bin", cache.name)


@pytest.mark.integration   # a new Python process
def test_cache_of_an_older_model_version_is_removed(tmp_path, monkeypatch):
    from checks.text import statistical
    monkeypatch.setenv("PATROL_CACHE_DIR", str(tmp_path))
    (tmp_path / "text-model-0123456789abcdef.marshal").write_bytes(b"old")
    (tmp_path / "text-model-v1-0123456789abcdef.bin").write_bytes(b"old")
    monkeypatch.setattr(statistical, "_MODELS", {})
    model = statistical.load_model(DATA)
    assert model.logp
    assert [p.name.startswith(f"text-model-v{statistical.MODEL_VERSION}-") for p in tmp_path.iterdir()] == [True]


def test_only_the_models_last_used_are_kept_in_the_cache(tmp_path):
    """Each change of the data files builds a model of its own (28 MB): the cache keeps the
    KEEP_MODELS last used, a model read counting as used."""
    import os

    from checks.text import statistical
    version = statistical.MODEL_VERSION
    tables = (version, "的", b"\x00\x00\x00\x00", -20.0, {}, {}, {}, {"的": "\x01的?\x02们"}, {},
              (b"\x00" * 20, {"的": 0}))
    older = []
    for n in range(6):
        path = tmp_path / f"text-model-v{version}-{n:016x}.bin"
        path.write_bytes(statistical._cache_bytes(tables))
        os.utime(path, (1_000_000 + n, 1_000_000 + n))   # 0 the least recently used
        older.append(path)
    read, buckets = statistical._read_cache(older[0])       # read: now the most recently used
    # The buckets are read apart, when first asked for.
    assert read == tables[:7] + (None,) + tables[8:9] + (None,)
    assert buckets() == (tables[7], tables[9])
    newest = tmp_path / f"text-model-v{version}-{99:016x}.bin"
    statistical._write_cache(newest, tables)
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert len(kept) == statistical.KEEP_MODELS
    assert kept == sorted(p.name for p in (newest, older[0], older[5], older[4]))


def test_a_word_written_for_its_commoner_homophone_word_is_found(checker):
    # 悔意 is a dictionary word, so no character looks wrong on its own: only the word-level
    # check (whole word, same pinyin, far commoner) sees it.
    text = "民政部牵头建立联席悔意制度。"
    flags = [f for f in checker.check(text, TODAY) if not f.suspected]
    assert [(f.wrong, f.suggestion) for f in flags] == [("悔意", "会议")]
    assert flags[0].rule == "statistical:word 悔意→会议"
    assert text[flags[0].start:flags[0].end] == "悔意"


@pytest.mark.parametrize("text", [
    "质检总局牵头，海关总署配合。",          # 质检 (zhi jian) is not 之间 in official text
    "确保各项任务按时保质完成。",            # 保质 is right here, not 报纸, not even 疑似
    "建立部际联席会议制度，收悉后请及时反馈。",
])
def test_words_of_official_documents_are_not_taken_for_homophone_words(checker, text):
    assert checker.check(text, TODAY) == []


def test_official_vocabulary_has_no_homophone_words_and_a_slip_has():
    model = load_model(DATA)
    assert model.pairs["质检"] == "" and model.pairs["部际"] == ""     # listed in domain.txt
    assert "会议" in [model.pairs["悔意"][k:k + 2] for k in range(0, len(model.pairs["悔意"]), 2)]


def test_a_character_missing_a_component_is_found(checker):
    flags = [f for f in checker.check("市第一人民医完开展义诊活动。", TODAY) if not f.suspected]
    assert [(f.suggestion, f.rule) for f in flags] == [("民医院", "statistical:shape 完→院")]


@pytest.mark.parametrize("text", [
    "民政部牵头建立联席悔意制度，市第一人民医完开展义诊活动。",
    "内蒙古自治区大力培育发展大数局产业，按时保质完成。",
    "本办法自发布之日起施行。ABC，123，区政府于今年召开会议。",
])
def test_covered_marks_the_characters_inside_a_dictionary_word_and_all_but_cjk(text):
    model = load_model(DATA)
    for run in text.replace("，", "。").split("。"):
        # Characters other than CJK ideographs are never examined: they count as covered.
        expected = bytearray(0 if "\u4e00" <= c <= "\u9fff" else 1 for c in run)
        for length in (2, 3, 4):
            for start in range(len(run) - length + 1):
                if run[start:start + length] in model.cover:
                    expected[start:start + length] = b"\x01" * length
        assert model.covered(run) == expected, run


REAL_TEXTS = Path(__file__).resolve().parent.parent / "benchmarks" / "realtext" / "texts"


def _cover_by_hand(model, text: str) -> tuple[bytearray, list[int]]:
    """``prepare_many``'s cover by its definition, one dictionary look-up per window of characters."""
    mask = bytearray(0 if "\u4e00" <= c <= "\u9fff" else 1 for c in text)
    for length in (2, 3, 4):
        for start in range(len(text) - length + 1):
            if text[start:start + length] in model.cover:
                mask[start:start + length] = b"\x01" * length
    words = [i for i in range(len(text) - 1) if model.pairs.get(text[i:i + 2])]
    return mask, words


def _per_text(prepared, texts: list[str]) -> list[tuple[bytearray, list[int]]]:
    """What ``prepare_many`` found for each of ``texts`` (prepared together): its cover and the
    starts of its two-character words with homophone words, in the text."""
    out = []
    for text, base in zip(texts, prepared.starts):
        end = base + len(text)
        out.append((bytearray(prepared.covered[base:end]), [w - base for w in prepared.words if base <= w < end]))
    return out


def test_the_cover_of_many_texts_at_once_is_each_text_by_definition(tmp_path, monkeypatch):
    """The texts of a document are looked at together (numpy over the texts joined); each gets
    what its windows of characters give one by one, on real official text and on odd lines."""
    monkeypatch.setenv("PATROL_CACHE_DIR", str(tmp_path / "cache"))
    model = load_model(DATA)
    model._cover_index = None                    # read or built under this test's cache
    lines = [line for path in sorted(REAL_TEXTS.rglob("*.txt"))
             for line in path.read_text(encoding="utf-8").splitlines()]
    lines += ["", "a", "会", "悔意", "联席悔意制度\ud800会议", "𠀀会议𠀀", "ABC会议123，平谷平谷", "\n",
              "中华人民共和国", "市发改委", "发改委", "社会主义核心价值观"]
    assert sum(len(line) for line in lines) > 500_000
    expected = [_cover_by_hand(model, line) for line in lines]
    prepared = model.prepare_many(lines)
    assert _per_text(prepared, lines) == expected
    # Each character's log-probability alone and the ideographs around it, up to three.
    joined = "\n".join(lines)
    assert len(prepared.singles) == len(prepared.reach) == len(joined)

    def ideograph(at: int) -> bool:
        return 0 <= at < len(joined) and "\u4e00" <= joined[at] <= "\u9fff"

    for at in range(0, len(joined), 7):
        if ideograph(at):
            assert prepared.singles[at] == model.logp.get(joined[at], model.unknown_logp)
            before = next((k for k in range(1, 4) if not ideograph(at - k)), 4) - 1
            after = next((k for k in range(1, 4) if not ideograph(at + k)), 4) - 1
            assert prepared.reach[at] == 4 * before + after, (at, joined[at])
    assert sum(len(words) for _, words in expected) > 1000     # homophone words were asked
    # Words of three and four characters cover what pairs leave (发改委: 发改 and 改委 are no words).
    assert model.covered("发改委") == bytearray(b"\x01\x01\x01")
    assert "发改" not in model.cover and "改委" not in model.cover
    assert model.prepare_many([]).starts == [] and model.prepare_many([""]).covered == b""
    # The index is kept in patrol's cache under the model's key and read from there; a damaged
    # copy is built again.
    (cached,) = (tmp_path / "cache").glob("text-cover-*.bin")
    size = cached.stat().st_size
    from checks.text import statistical

    def no_build(*args):
        raise AssertionError("built again")

    model._cover_index = None
    monkeypatch.setattr(statistical, "_word_keys", no_build)
    assert _per_text(model.prepare_many(lines[-40:]), lines[-40:]) == expected[-40:]
    monkeypatch.undo()
    monkeypatch.setenv("PATROL_CACHE_DIR", str(tmp_path / "cache"))
    cached.write_bytes(cached.read_bytes()[:size // 2])
    model._cover_index = None
    assert _per_text(model.prepare_many(lines[-40:]), lines[-40:]) == expected[-40:]
    assert cached.stat().st_size == size
    model._cover_index = None                    # the next test reads the default cache again


def test_the_cover_of_a_model_made_by_hand():
    """A model not loaded from the data (no key): its index is built in memory; its words of
    characters other than CJK ideographs cover nothing (the dictionary holds none)."""
    from checks.text.statistical import StatModel

    logp = {"会议": -8.0, "悔意": -12.0, "A会": -9.0, "会": -6.0, "议": -7.0, "联席会议": -11.0,
            "检察院": -10.0}
    model = StatModel(logp, {}, -20.0, {}, {}, {}, alternatives={"悔意": "会议"})
    texts = ["召开会议", "A会", "联席悔意", "人民检察院", "联席会议"]
    assert _per_text(model.prepare_many(texts), texts) == [
        (bytearray(b"\x00\x00\x01\x01"), []), (bytearray(b"\x01\x00"), []),
        (bytearray(b"\x00\x00\x01\x01"), [2]), (bytearray(b"\x00\x00\x01\x01\x01"), []),
        (bytearray(b"\x01\x01\x01\x01"), [])]


def test_the_confusion_pairs_are_every_confusion_set(tmp_path, monkeypatch):
    """The trigram scan asks one sorted array whether a character is a confusion of another:
    it holds exactly the CJK ideographs of ``confusion`` for every character (those of real
    text and every fifth of the others), and is kept in patrol's cache under the model's key."""
    import numpy as np

    monkeypatch.setenv("PATROL_CACHE_DIR", str(tmp_path / "cache"))
    model = load_model(DATA)
    model._confusion_pairs = None
    pairs, bits = model.confusion_pairs()
    assert pairs.dtype == np.dtype("<u4") and bool(np.all(pairs[1:] > pairs[:-1]))
    # The filter passes every pair, and the search behind it answers exactly.
    from checks.text.arrays import maybe, member
    assert bool(maybe(bits, pairs).all())
    others = np.arange(0, 1 << 30, 997, dtype=np.uint32)
    assert np.array_equal(member(pairs, others, bits), member(pairs, others))
    assert 0.02 < float(maybe(bits, others).mean()) < 0.15
    text = "".join(path.read_text(encoding="utf-8") for path in sorted(REAL_TEXTS.rglob("*.txt"))[:20])
    chars = sorted({c for c in text if "\u4e00" <= c <= "\u9fff"}
                   | set(sorted(c for c in model.readings if "\u4e00" <= c <= "\u9fff")[::5]))
    assert len(chars) > 5000
    for char in chars:
        own = (ord(char) - 0x4E00) << 15
        lo, hi = np.searchsorted(pairs, [own, own + (1 << 15)])
        found = {chr((int(k) & 0x7FFF) + 0x4E00) for k in pairs[lo:hi]}
        assert found == {c for c in model.confusion(char) if "\u4e00" <= c <= "\u9fff"}, char
    (cached,) = (tmp_path / "cache").glob("text-confusions-*.bin")
    size = cached.stat().st_size
    model._confusion_pairs = None
    build, model._build_confusion_pairs = model._build_confusion_pairs, None     # read, not built
    assert np.array_equal(model.confusion_pairs()[0], pairs)
    del model._build_confusion_pairs
    assert model._build_confusion_pairs.__func__ is build.__func__
    cached.write_bytes(cached.read_bytes()[:size - 100])
    model._confusion_pairs = None
    assert np.array_equal(model.confusion_pairs()[0], pairs) and np.array_equal(model.confusion_pairs()[1], bits)
    assert cached.stat().st_size == size
    model._confusion_pairs = None


def test_the_masked_index_arrays_are_the_buckets(tmp_path, monkeypatch):
    """``_bounds`` asks the masked index as sorted arrays: each key's completions, commonest
    first, are those ``ranked`` reads of the buckets; the arrays are kept in patrol's cache
    under the model's key and read from there, and a damaged copy is built again."""
    import numpy as np

    from checks.text.statistical import _KEY, _VALUE, _masked_index, _window_key

    monkeypatch.setenv("PATROL_CACHE_DIR", str(tmp_path / "cache"))
    model = load_model(DATA)
    index = _masked_index(model)
    keys, starts, completions, chars = index
    assert bool(np.all(keys[1:] > keys[:-1])) and bool(np.all(completions[1:] >= completions[:-1]))
    every = [key for bucket in model.buckets.values() for part in bucket.split(_KEY)[1:]
             for key in [part.split(_VALUE)[0]]]
    assert len(every) == len(keys) > 400_000
    # ``ranked`` as the buckets answer it (the model's own arrays set aside).
    monkeypatch.setattr(model, "_masked_index", False)
    monkeypatch.setattr(model, "_ranked", {})
    for key in every[::13] + ["?据", "数?", "民?察院", "中?人民"]:
        blank = key.index("?")
        code = _window_key(len(key), blank)
        for k, c in enumerate(key.replace("?", "")):
            code |= (ord(c) - 0x4E00) << (30 - 15 * k)
        at = int(np.searchsorted(keys, np.uint64(code)))
        found = []
        if at < len(keys) and int(keys[at]) == code:
            span = slice(int(starts[at]), int(starts[at + 1]))
            minus = (completions[span] & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.float32)
            found = list(zip((-minus.astype(np.float64)).tolist(),
                             [chr(0x4E00 + int(c)) for c in chars[span]]))
        assert found == list(model.ranked(key)), key
    assert model._masked_index is False and model._ranked        # (read from the buckets)
    (cached,) = (tmp_path / "cache").glob("text-masked-*.bin")
    size = cached.stat().st_size
    monkeypatch.setattr(model, "_buckets_from", None)
    monkeypatch.setattr(model, "_buckets", {})           # read from the cache, not built
    assert all(np.array_equal(a, b) for a, b in zip(_masked_index(model), index))
    monkeypatch.undo()
    monkeypatch.setenv("PATROL_CACHE_DIR", str(tmp_path / "cache"))
    cached.write_bytes(cached.read_bytes()[:size // 3])
    assert all(np.array_equal(a, b) for a, b in zip(_masked_index(model), index))
    assert cached.stat().st_size == size


def _examined_by_hand(model, texts, prepared, cost, floor, floors, attested):
    """Each examined character's options by ``_options``' own loop (no bounds), keyed by its
    position in the texts joined, and how many ``candidates`` examined with bounds found."""
    from checks.text import statistical

    asked: dict[int, list] = {}
    used = []
    loop = statistical.StatModel._options

    def options(self, run, i, cost_, floor_, need, singles, at, reach, bounds=None):
        asked[at] = loop(self, run, i, cost_, floor_, need, singles, at, reach)
        got = loop(self, run, i, cost_, floor_, need, singles, at, reach, bounds)
        used.append(bounds is not None and bool(bounds[2][at]))
        assert got == asked[at], (run, i)
        return got

    need = statistical.need_for(cost, floor)
    found = []
    for k, text in enumerate(texts):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(statistical.StatModel, "_options", options)
            found.append(model.candidates(text, cost, floor, None, floors, attested[k] if attested else b"",
                                          prepared, k, need))
    return asked, used, found


def test_the_bounds_of_a_document_at_once_are_each_characters_by_its_loop(checker):
    """``prepare_many`` with ``need`` finds the bounds of every character ``candidates``
    examines, for all the texts at once (numpy over the masked index's arrays); each
    character's options from them are those of ``_options``' loop over its windows, on real
    official text and on lines with slips, and so are the candidates."""
    import bisect

    from checks.text.statistical import need_for

    model = checker.model
    cost, floor = checker.settings["cost"], checker.settings["suspect_score"]
    floors = checker.settings.get("suspect_score_by_channel")
    lines = [line for path in sorted(REAL_TEXTS.rglob("*.txt"))[:30]
             for line in path.read_text(encoding="utf-8").splitlines()]
    lines += ["", "会", "各部门要落实主体则任。", "开展绩效平估工作", "内蒙古自治区大力培育发展大数局产业。",
              "积极推进政务公开，提高行政效律。", "认真做好疫情防控工做。", "召开联席悔意", "𠀀则任𠀀",
              "ABC则任123，平估平估", "这是一个测试句子，其中有个别错字：再接再励、按步就班。"]
    need = need_for(cost, floor)
    prepared = model.prepare_many(lines, need)
    plain = model.prepare_many(lines)
    assert prepared.bounds is not None and prepared.bounds[0] == need and plain.bounds is None
    asked, used, found = _examined_by_hand(model, lines, prepared, cost, floor, floors, None)
    assert len(asked) > 1000 and sum(1 for options in asked.values() if options) > 300
    # The characters passed over as quiet are those for which ``_best``, without bounds, gives
    # nothing.
    joined = "\n".join(lines)
    quiet = [at for at, q in enumerate(prepared.bounds[3]) if q]
    assert len(quiet) > 1000 and not set(quiet) & set(asked)
    for at in quiet:
        k = bisect.bisect_right(prepared.starts, at) - 1
        assert model._best(lines[k], at - prepared.starts[k], cost, floor, need, floors, prepared.singles, at,
                           prepared.reach[at]) is None, joined[at - 3:at + 4]
    # Every character examined had its bounds found with the others (but for the few whose
    # commonest confusion alone reaches ``need``: the loop's other branch).
    assert sum(used) >= 0.95 * len(used)
    assert found == [model.candidates(text, cost, floor, None, floors, b"", plain, k, need)
                     for k, text in enumerate(lines)]
    assert any(found)
    # Characters the trigram scan attests are not examined, and bounds found for another
    # ``need`` are not used.
    attested = [bytes(len(t)) if k % 2 else b"\x01" * len(t) for k, t in enumerate(lines)]
    some = model.prepare_many(lines, need, attested)
    assert not any(any(some.bounds[2][base:base + len(t)]) for k, (t, base) in enumerate(zip(lines, some.starts))
                   if k % 2 == 0)
    _, _, partly = _examined_by_hand(model, lines, some, cost, floor, floors, attested)
    assert partly == [model.candidates(text, cost, floor, None, floors, attested[k], plain, k, need)
                      for k, text in enumerate(lines)]
    other = model.prepare_many(lines, need + 1.0)
    _, used_other, again = _examined_by_hand(model, lines, other, cost, floor, floors, None)
    assert again == found and not any(used_other)


def test_the_bounds_of_a_model_made_by_hand_are_found_by_its_loop():
    """A model whose buckets the arrays cannot hold (no log-probabilities for them) has no
    bounds: ``_options`` reads its buckets."""
    from checks.text.statistical import StatModel

    model = StatModel({"会议": -8.0, "会": -6.0, "议": -7.0}, {"会": "\x01会?\x02议"}, -20.0, {}, {}, {})
    prepared = model.prepare_many(["召开会议"], 1.0)
    assert prepared.bounds is None


@pytest.mark.integration   # new Python processes
def test_a_process_that_finds_the_index_arrays_never_reads_the_buckets(tmp_path):
    """The buckets are most of the model's cache file: a process whose masked index's arrays
    are in the cache checks text without reading them, with the same findings; a cache file
    cut short is built again, and one whose buckets are damaged gives them built again."""
    import os
    import subprocess
    import sys

    from checks.text import statistical

    code = ("import json, sys; from pathlib import Path; from checks.text import TextChecker;"
            "c = TextChecker(data_dir=Path('patroldata/text'));"
            "flags = c.check('各部门要落实主体则任，开展绩效平估工作，召开联席悔意。');"
            "print(json.dumps([[f.wrong, f.suggestion] for f in flags], ensure_ascii=False));"
            "print(c.model._buckets_from is None)")
    env = {**os.environ, "PATROL_CACHE_DIR": str(tmp_path)}
    root = DATA.parent.parent

    def run() -> tuple[str, str]:
        done = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, done.stderr
        found, read = done.stdout.split("\n")[:2]
        return found, read

    first, read_first = run()            # builds the model and the arrays: reads its buckets
    again, read_again = run()
    assert "则任" in first and again == first
    assert read_first == "True" and read_again == "False"
    (model_file,) = tmp_path.glob(f"text-model-v{statistical.MODEL_VERSION}-*.bin")
    data = model_file.read_bytes()
    model_file.write_bytes(data[:len(data) - 1000])        # cut short: built again
    assert run()[0] == first and model_file.read_bytes() == data
    # Buckets damaged (their length kept): asked for only to build the arrays, then built again.
    head, _ = statistical._CACHE_HEAD.unpack_from(data)
    at = statistical._CACHE_HEAD.size + head
    model_file.write_bytes(data[:at] + b"\xff" * (len(data) - at))
    for arrays in tmp_path.glob("text-masked-*.bin"):
        arrays.unlink()
    assert run()[0] == first and model_file.read_bytes() == data


def test_the_segmentation_of_many_windows_at_once_is_each_ones(tmp_path, monkeypatch):
    """``segment_many`` gives each text's ``segment_logp`` exactly (the same additions in the
    same order, column by column): on every window of seven characters of real official text,
    on its lines whole and on odd strings; its word arrays are kept in patrol's cache."""
    import random

    monkeypatch.setenv("PATROL_CACHE_DIR", str(tmp_path / "cache"))
    model = load_model(DATA)
    model._words = None
    text = "\n".join(path.read_text(encoding="utf-8") for path in sorted(REAL_TEXTS.rglob("*.txt"))[:12])
    windows = [text[k:k + 7] for k in range(len(text) - 7)]
    assert len(windows) > 50_000
    lines = [line for line in text.splitlines() if line][:300]
    rng = random.Random(7)
    odd = ["", "会", "会议", "ABC会议123", "𠀀会议𠀀", "联席悔意制度\ud800会议", "\n", "中华人民共和国万岁",
           "".join(rng.choice("的会议人民政府工作发展改革委员国务院一二三ab，。") for _ in range(40))]
    for strings in (windows, lines, odd, odd[:1], []):
        assert model.segment_many(strings) == [model.segment_logp(s) for s in strings]
    (cached,) = (tmp_path / "cache").glob("text-words-*.bin")
    size, inode = cached.stat().st_size, cached.stat().st_ino
    model._words = None
    assert model.segment_many(odd) == [model.segment_logp(s) for s in odd]
    assert cached.stat().st_ino == inode                     # read, not written again
    cached.write_bytes(cached.read_bytes()[:size // 2])
    model._words = None
    assert model.segment_many(odd) == [model.segment_logp(s) for s in odd]
    assert cached.stat().st_size == size
    model._words = None


def test_the_segmentation_of_a_model_made_by_hand():
    """A model not loaded from the data builds its word arrays in memory; one with a word of
    other characters than CJK ideographs has none, and its windows are segmented one by one."""
    from checks.text.statistical import StatModel

    logp = {"会议": -8.0, "会": -6.0, "议": -7.0, "联席会议": -11.0, "检察院": -10.0}
    model = StatModel(logp, {}, -20.0, {}, {}, {})
    strings = ["召开联席会议", "人民检察院", "A会议", ""]
    assert model.segment_many(strings) == [model.segment_logp(s) for s in strings]
    other = StatModel({**logp, "A会": -9.0}, {}, -20.0, {}, {}, {})
    assert other.segment_many(strings) is None


def test_the_windows_a_document_asks_for_are_segmented_at_once(checker):
    """``check_many`` finds at once the segmentation of the windows its corrections are scored
    on (``StatModel.segmented``): the scores are those found one by one, and nearly every
    window scored is among them."""
    from checks.text import statistical

    lines = [line for path in sorted(REAL_TEXTS.rglob("*.txt"))[30:45]
             for line in path.read_text(encoding="utf-8").splitlines()]
    lines += ["各部门要落实主体则任。", "开展绩效平估工作", "内蒙古自治区大力培育发展大数局产业。",
              "积极推进政务公开，提高行政效律。", "认真做好疫情防控工做。", "𠀀则任𠀀", "平估"]
    asked = []
    segment = statistical.StatModel._segment

    def counted(self, text, best, first):
        asked.append(text)
        return segment(self, text, best, first)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(statistical.StatModel, "_segment", counted)
        together = checker.check_many(lines, TODAY)
        at_once = len(asked)
        patch.setattr(statistical.StatModel, "segmented", lambda self, texts, prepared, *args, **kwargs: prepared)
        asked.clear()
        alone = checker.check_many(lines, TODAY)
    assert together == alone and any(together)
    assert len(asked) > 500 and at_once < 0.1 * len(asked), (at_once, len(asked))


def test_the_homophone_words_found_for_a_document_are_not_found_again(checker):
    """``segmented`` keeps the homophone words it found for each two-character word
    (``Prepared.word_options``): ``candidates`` reads them, for every word of every text, and
    finds what it finds without them."""
    from checks.text import statistical
    from checks.text.statistical import need_for

    model = checker.model
    cost, floor, flag = checker.settings["cost"], checker.settings["suspect_score"], checker.settings["flag_score"]
    lines = [line for path in sorted(REAL_TEXTS.rglob("*.txt"))[45:60]
             for line in path.read_text(encoding="utf-8").splitlines()]
    lines += ["召开联席悔意", "开展绩效平谷工作，召开联席悔意"]
    need = need_for(cost, floor)
    plain = model.prepare_many(lines, need)
    prepared = model.segmented(lines, plain, cost, floor, (), flag)
    assert prepared.word_options is not None and len(prepared.word_options[2]) == len(plain.words) > 100

    def never(*args):
        raise AssertionError("found again")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(statistical.StatModel, "_word_options", never)
        found = [model.candidates(t, cost, floor, flag, None, b"", prepared, k, need) for k, t in enumerate(lines)]
    assert found == [model.candidates(t, cost, floor, flag, None, b"", plain, k, need) for k, t in enumerate(lines)]
    assert any(c.channel == "word" for cands in found for c in cands)
