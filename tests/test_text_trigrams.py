"""Trigram evidence (checks/text/trigrams.py): a correction below the 疑似 floor is listed when
the trigrams across the character it changes are official text as corrected and not as written."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
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
    assert data.startswith(b"# Source: test\n--\n")
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
    with pytest.raises(TrigramFileError, match="damaged"):
        decode(b"# header\n--\nnot zlib at all")
    path = tmp_path / "trigrams.bin"
    path.write_bytes(b"# header\n--\n" + __import__("zlib").compress(b"123"))
    with pytest.raises(TrigramFileError, match="whole number of keys"):
        _ = "人民法" in Trigrams(path)


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
    (data / "trigrams.bin").write_bytes(b"# Source: a copy cut short\n--\n" + b"\x78\x9c\x01")
    draft = tmp_path / "draft.txt"
    draft.write_text("深入推进科技管里体制改革。\n", encoding="utf-8")
    with pytest.raises(TrigramFileError, match="trigrams.bin: the data is damaged"):
        TextChecker(data_dir=data)
    result = subprocess.run([sys.executable, "-m", "patrol.cli", "text", str(draft)], capture_output=True, check=False,
                            text=True, env={**os.environ, "PATROL_DATA_DIR": str(tmp_path / "data"),
                                            "PATROL_CONFIG": ""}, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "trigrams.bin: the data is damaged" in result.stderr and "Traceback" not in result.stderr


def test_no_trigram_file_turns_the_evidence_off(tmp_path):
    data = copy_data(tmp_path)
    (data / "trigrams.bin").unlink()
    checker = TextChecker(data_dir=data)
    assert checker.check("深入推进科技管里体制改革。", WHEN) == []


@pytest.mark.parametrize("section, message", [
    ("trigram_evidence: 4.0", "expected floor: and min_windows:"),
    ("trigram_evidence:\n  floor: low", "floor: 'low' is not a number"),
    ("trigram_evidence:\n  floor: 4.0\n  min_windows: 0", "min_windows: 0 is not a whole number"),
])
def test_a_wrong_setting_is_a_clear_error(tmp_path, section, message):
    data = copy_data(tmp_path, section=section)
    with pytest.raises(DataFileError, match=re.escape(message)) as caught:
        TextChecker(data_dir=data)
    assert "statistical.yaml" in str(caught.value)
