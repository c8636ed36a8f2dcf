"""Trigram evidence (checks/text/trigrams.py): a correction below the 疑似 floor is listed when
the trigrams across the character it changes are official text as corrected and not as written."""
from __future__ import annotations

import array
import os
import re
import shutil
import subprocess
import sys
import zlib
from datetime import date
from pathlib import Path

import pytest

from checks.text import TextChecker
from checks.text.rules import DataFileError
from checks.text.trigrams import TrigramFileError, Trigrams, decode, encode, key_of
from patroldata import PACKAGED

WHEN = date(2025, 1, 1)
SHIPPED = PACKAGED / "text"


def copy_data(tmp_path: Path, floor: str | None = None, trigrams: list[str] | None = None,
              section: str | None = None) -> Path:
    """patroldata/text/ with trigram_evidence's floor (or the whole section) and trigrams.bin
    replaced as asked."""
    target = tmp_path / "text"
    shutil.copytree(SHIPPED, target)
    path = target / "statistical.yaml"
    text = path.read_text(encoding="utf-8")
    if floor is not None:
        text = re.sub(r"^  floor: .*$", f"  floor: {floor}", text, flags=re.MULTILINE)
    if section is not None:
        text = re.sub(r"^trigram_evidence:.*\n(  .*\n|\s+#.*\n)*", section + "\n", text, flags=re.MULTILINE)
    path.write_text(text, encoding="utf-8")
    if trigrams is not None:
        keys = [key_of(*t) for t in trigrams]
        (target / "trigrams.bin").write_bytes(encode(keys, ["Source: written by the test"]))
    return target


def pairs(checker: TextChecker, line: str) -> list[tuple[str, str, bool]]:
    return [(f.wrong, f.suggestion, f.suspected) for f in checker.check(line, WHEN)]


def test_the_file_round_trips_and_answers_membership(tmp_path):
    data = encode([key_of(*"人民法"), key_of(*"民法院"), key_of(*"人民法")], ["Source: test"])
    assert data.startswith(b"# Source: test\n# keys: 2 first: ")
    assert list(decode(data)) == sorted({key_of(*"人民法"), key_of(*"民法院")})
    path = tmp_path / "trigrams.bin"
    path.write_bytes(data)
    trigrams = Trigrams(path)
    assert "人民法" in trigrams and "民法院" in trigrams
    assert "人民检" not in trigrams
    assert "人民a" not in trigrams and "人民" not in trigrams      # not three ideographs
    assert key_of("1", "人", "民") is None


def test_a_damaged_file_is_named_with_what_is_wrong(tmp_path):
    with pytest.raises(TrigramFileError, match="no '--' line"):
        decode(b"# only a header\n")
    good = encode([key_of(*"人民法"), key_of(*"民法院")], ["Source: test"])
    with pytest.raises(TrigramFileError, match="no '# keys: N"):
        decode(b"# header\n--\n" + good.split(b"--\n", 1)[1])
    with pytest.raises(TrigramFileError, match="damaged"):
        decode(good.split(b"--\n", 1)[0] + b"--\nnot zlib at all")
    with pytest.raises(TrigramFileError, match="cut short"):
        decode(good[:-4])
    with pytest.raises(TrigramFileError, match="cut short, or bytes after"):
        decode(good + b"trailing")
    header = good.split(b"--\n", 1)[0]
    with pytest.raises(TrigramFileError, match="whole number of keys"):
        decode(header + b"--\n" + zlib.compress(b"123"))
    with pytest.raises(TrigramFileError, match="holds 1 keys, its header says 2"):
        decode(header + b"--\n" + zlib.compress(array.array("Q", [key_of(*"人民法")]).tobytes()))
    path = tmp_path / "trigrams.bin"
    path.write_bytes(good[:-4])
    with pytest.raises(TrigramFileError, match=re.escape(str(path))):
        _ = "人民法" in Trigrams(path)


def test_a_damaged_copy_in_the_cache_is_written_again(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_CACHE_DIR", str(tmp_path / "cache"))
    keys = [key_of(*t) for t in ("人民法", "民法院", "法院的", "院的判")]
    path = tmp_path / "trigrams.bin"
    path.write_bytes(encode(keys, ["Source: test"]))
    assert "法院的" in Trigrams(path)                      # decompressed, copy written
    (copy,) = (tmp_path / "cache").glob("trigrams-*.bin")
    assert len(copy.read_bytes()) == 8 * len(keys)
    assert "法院的" in Trigrams(path)                      # mapped from the copy
    copy.write_bytes(copy.read_bytes()[:16])              # cut short: two keys of four
    trigrams = Trigrams(path)
    assert "院的判" in trigrams and "法院的" in trigrams
    assert len(copy.read_bytes()) == 8 * len(keys)        # written again
    (tmp_path / "cache").chmod(0o500)                     # a read-only cache only costs time
    try:
        copy.unlink() if os.access(tmp_path / "cache", os.W_OK) else None
        assert "院的判" in Trigrams(path)
    finally:
        (tmp_path / "cache").chmod(0o700)


def test_an_empty_trigram_file_is_a_damaged_one(tmp_path):
    data = copy_data(tmp_path)
    (data / "trigrams.bin").write_bytes(b"")
    with pytest.raises(TrigramFileError, match="no '--' line"):
        TextChecker(data_dir=data)


def test_the_evidence_only_adds_flags_below_the_floor(tmp_path):
    """Every flag of the checker without the evidence is raised with it, and every flag it adds
    is a statistical one below its channel's 疑似 floor with every trigram agreeing."""
    on = TextChecker()
    off = TextChecker(data_dir=copy_data(tmp_path, floor="null"))
    texts = Path(__file__).resolve().parent.parent / "benchmarks" / "realtext" / "texts"
    lines = [line.strip() for path in sorted(texts.rglob("*.txt"))[:40]
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines += ["对依法应当通过法定途径解决的信防事项，依照有关法律的规定处理。", "深入推进科技管里体制改革。",
              "怀柔区疾病玉防控制中心", "中央才政每年综合考虑有关部门灾情预测。"]
    assert sum(map(len, lines)) > 100_000
    added = 0
    for line in lines:
        with_evidence = {(f.start, f.end, f.wrong, f.suggestion, f.rule) for f in on.check(line, WHEN)}
        without = {(f.start, f.end, f.wrong, f.suggestion, f.rule) for f in off.check(line, WHEN)}
        assert without <= with_evidence, line
        for start, end, wrong, suggestion, rule in with_evidence - without:
            assert rule.startswith("statistical:") and not rule.startswith("statistical:word"), rule
            assert on.trigrams.agreeing(line, start, wrong, suggestion) >= 3, (line, wrong)
            added += 1
    assert added >= 3


def test_shipped_evidence_lists_real_slips_the_word_model_doubts_too_little(tmp_path):
    on = TextChecker()
    off = TextChecker(data_dir=copy_data(tmp_path, floor="null"))
    # Slips of ECSpell's dev half (official-document sentences) below the 疑似 floor.
    for line, slip in (("对依法应当通过法定途径解决的信防事项，依照有关法律的规定处理。", ("信防", "信访")),
                       ("深入推进科技管里体制改革。", ("管里体制", "管理体制"))):
        assert (*slip, True) in pairs(on, line), line
        assert (*slip, True) not in pairs(off, line), line
    # Right text stays silent with the evidence on.
    for line in ("对依法应当通过法定途径解决的信访事项，依照有关法律的规定处理。",
                 "深入推进科技管理体制改革。", "侦查人员讯问犯罪嫌疑人，应当制作讯问笔录。"):
        assert pairs(on, line) == [], line


def test_every_trigram_across_the_character_must_agree(tmp_path):
    line = "深入推进科技管里体制改革。"
    # All three windows across 里 written as corrected (管理体 is one of them): listed.
    agree = ["技管理", "管理体", "理体制"]
    checker = TextChecker(data_dir=copy_data(tmp_path / "a", trigrams=agree))
    assert ("管里体制", "管理体制", True) in pairs(checker, line)
    # One of them missing: too little to go on.
    checker = TextChecker(data_dir=copy_data(tmp_path / "b", trigrams=agree[:2]))
    assert ("管里体制", "管理体制", True) not in pairs(checker, line)
    # Official text writes the text as it stands (管里体): it speaks against the correction.
    checker = TextChecker(data_dir=copy_data(tmp_path / "c", trigrams=agree + ["管里体"]))
    assert ("管里体制", "管理体制", True) not in pairs(checker, line)


def test_a_damaged_trigram_file_stops_patrol_text_with_its_name(tmp_path):
    data = copy_data(tmp_path / "data")
    header = (SHIPPED / "trigrams.bin").read_bytes().split(b"\n--\n", 1)[0]
    (data / "trigrams.bin").write_bytes(header + b"\n--\n" + b"\x78\x9c\x01")     # cut short
    draft = tmp_path / "draft.txt"
    draft.write_text("深入推进科技管里体制改革。\n", encoding="utf-8")
    with pytest.raises(TrigramFileError, match="trigrams.bin: the data is damaged"):
        TextChecker(data_dir=data)
    result = subprocess.run([sys.executable, "-m", "patrol.cli", "text", str(draft)], capture_output=True, check=False,
                            text=True, env={**os.environ, "PATROL_DATA_DIR": str(tmp_path / "data"),
                                            "PATROL_CONFIG": ""}, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "trigrams.bin: the data is damaged" in result.stderr and "Traceback" not in result.stderr
    # patrol check (and run) read them before crawling anything: the closed port is never asked.
    result = subprocess.run([sys.executable, "-m", "patrol.cli", "check", "http://127.0.0.1:9/", "--out",
                             str(tmp_path / "out")], capture_output=True, check=False, text=True,
                            env={**os.environ, "PATROL_DATA_DIR": str(tmp_path / "data"), "PATROL_CONFIG": ""},
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "trigrams.bin: the data is damaged" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "findings.json").exists()


def test_no_trigram_file_turns_the_evidence_off(tmp_path):
    data = copy_data(tmp_path)
    (data / "trigrams.bin").unlink()
    checker = TextChecker(data_dir=data)
    assert checker.check("深入推进科技管里体制改革。", WHEN) == []


@pytest.mark.parametrize("section, message", [
    ("trigram_evidence: 4.0", "expected floor: and min_windows:"),
    ("trigram_evidence:\n  floor: low", "floor: 'low' is not a number of 0 or more"),
    ("trigram_evidence:\n  floor: .nan", "floor: nan is not a number of 0 or more"),
    ("trigram_evidence:\n  floor: -1.0", "floor: -1.0 is not a number of 0 or more"),
    ("trigram_evidence:\n  floor: 4.0\n  min_windows: 0", "min_windows: 0 is not a whole number from 1 to 3"),
])
def test_a_wrong_setting_is_a_clear_error(tmp_path, section, message):
    data = copy_data(tmp_path, section=section)
    with pytest.raises(DataFileError, match=re.escape(message)) as caught:
        TextChecker(data_dir=data)
    assert "statistical.yaml" in str(caught.value)


def test_two_windows_are_enough_where_the_setting_says_so(tmp_path):
    # 信防 before 事 and a comma: two trigrams across 防 are all ideographs (决信防, 信防事).
    line = "依法解决信防事，依照规定处理。"
    agree = ["决信访", "信访事"]
    strict = TextChecker(data_dir=copy_data(tmp_path / "a", trigrams=agree))
    assert strict.trigrams.agreeing(line, 4, "信防", "信访") == 2
    assert strict.trigrams.supports(line, 5, "访", 2)
    assert not strict.trigrams.supports(line, 5, "访", 3)
    assert not strict.trigrams.supports(line, 5, "方", 2)      # 决信方 is not official text
    lenient = copy_data(tmp_path / "b", trigrams=agree)
    yaml_path = lenient / "statistical.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8").replace("  min_windows: 3", "  min_windows: 2"),
                         encoding="utf-8")
    lenient = TextChecker(data_dir=lenient)
    assert ("信防", "信访", True) not in pairs(strict, line)
    assert ("信防", "信访", True) in pairs(lenient, line)
