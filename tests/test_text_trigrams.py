"""The trigram scan (checks/text/trigrams.py): a character whose trigrams official text does
not write, and that exactly one of its confusions makes trigrams official text writes, is listed
as 疑似, even where the slip makes a word the word model trusts."""
from __future__ import annotations

import array
import json
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
from checks.text.trigrams import BASE, TOP, Scan, Scanned, TrigramFileError, Trigrams, decode, encode, key_of
from patroldata import PACKAGED

WHEN = date(2025, 1, 1)
SHIPPED = PACKAGED / "text"
REAL_TEXTS = Path(__file__).resolve().parent.parent / "benchmarks" / "realtext" / "texts"


def copy_data(tmp_path: Path, settings: dict[str, str] | None = None, trigrams: list[str] | None = None,
              section: str | None = None) -> Path:
    """patroldata/text/ with trigram_scan's settings (or the whole section) and trigrams.bin
    replaced as asked."""
    target = tmp_path / "text"
    shutil.copytree(SHIPPED, target)
    path = target / "statistical.yaml"
    text = path.read_text(encoding="utf-8")
    for key, value in (settings or {}).items():
        text = re.sub(rf"^  {key}: .*$", f"  {key}: {value}", text, flags=re.MULTILINE)
    if section is not None:
        text = re.sub(r"^trigram_scan:.*\n(  .*\n|\s+#.*\n)*", section + "\n", text, flags=re.MULTILINE)
    path.write_text(text, encoding="utf-8")
    if trigrams is not None:
        keys = [key_of(*t) for t in trigrams]
        (target / "trigrams.bin").write_bytes(encode(keys, ["Source: written by the test"]))
    return target


def pairs(checker: TextChecker, line: str) -> list[tuple[str, str, bool]]:
    return [(f.wrong, f.suggestion, f.suspected) for f in checker.check(line, WHEN)]


def real_lines(files: int | None = 40) -> list[str]:
    return [line.strip() for path in sorted(REAL_TEXTS.rglob("*.txt"))[:files]
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


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
    # Keys repeated or out of order (the scan reads ranges of them): first and last as the
    # header says, and as many.
    a, b, c = sorted([key_of(*"人民法"), key_of(*"民法院"), key_of(*"法院的")])
    for keys in ([a, a, c], [a, c, b, c]):
        body = zlib.compress(array.array("Q", keys).tobytes())
        head = f"# keys: {len(keys)} first: {keys[0]} last: {keys[-1]}\n--\n".encode()
        with pytest.raises(TrigramFileError, match="not in ascending order"):
            decode(head + body)
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


def test_the_scan_lists_real_slips_that_the_word_model_trusts(tmp_path):
    on = TextChecker()
    off = TextChecker(data_dir=copy_data(tmp_path, section="trigram_scan: null"))
    # Slips of ECSpell's dev half (official-document sentences): each makes a word or a pair
    # the word model finds likely enough (应激, 兼管, 金国), or doubts too little (管里).
    for line, slip in (("规范应激救助行为，提高应急救助能力。", ("应激", "应急")),
                       ("搭建实时在线的国资兼管平台。", ("兼管", "监管")),
                       ("党中央集中统一领导金国机构编制工作。", ("金国", "全国")),
                       ("对依法应当通过法定途径解决的信防事项，依照有关法律的规定处理。", ("信防", "信访")),
                       ("深入推进科技管里体制改革。", ("管里体制", "管理体制"))):
        assert (*slip, True) in pairs(on, line), line
        assert (*slip, True) not in pairs(off, line), line
    # The same sentences written right, and right text with rare words, stay silent.
    for line in ("规范应急救助行为，提高应急救助能力。", "搭建实时在线的国资监管平台。",
                 "党中央集中统一领导全国机构编制工作。", "深入推进科技管理体制改革。",
                 "对依法应当通过法定途径解决的信访事项，依照有关法律的规定处理。",
                 "侦查人员讯问犯罪嫌疑人，应当制作讯问笔录。"):
        assert pairs(on, line) == [], line


def test_the_scan_only_adds_flags_where_the_statistical_layer_still_looks(tmp_path):
    """Every flag of the checker without the scan is raised with it, except the statistical
    flags on characters official text writes the trigrams around (which the layer no longer
    examines); every flag it adds is statistical, most of them the scan's corrections."""
    on = TextChecker()
    off = TextChecker(data_dir=copy_data(tmp_path, section="trigram_scan: null"))
    lines = real_lines(files=None) + ["规范应激救助行为，提高应急救助能力。", "深入推进科技管里体制改革。"]
    assert sum(map(len, lines)) > 600_000
    scanned, attested = on.scanner.run(lines)
    added = left = 0
    for line, with_scan, without, found, known in zip(lines, on.check_many(lines, WHEN),
                                                      off.check_many(lines, WHEN), scanned, attested):
        with_scan = {(f.start, f.end, f.wrong, f.suggestion, f.rule) for f in with_scan}
        for f in without:
            changed = [f.start + k for k, (a, b) in enumerate(zip(f.wrong, f.suggestion)) if a != b]
            if f.rule.startswith("statistical:") and all(known[k] for k in changed):
                left += 1                           # not examined any more
                continue
            assert (f.start, f.end, f.wrong, f.suggestion, f.rule) in with_scan, (line, f.wrong)
        without = {(f.start, f.end, f.wrong, f.suggestion, f.rule) for f in without}
        for start, _, wrong, suggestion, rule in with_scan - without:
            assert rule.startswith("statistical:") and not rule.startswith("statistical:word"), rule
            changed = [(start + k, b) for k, (a, b) in enumerate(zip(wrong, suggestion)) if a != b]
            added += len(changed) == 1 and changed[0] in [(h.index, h.replacement) for h in found]
    assert added >= 15 and left >= 1, (added, left)


def test_lines_scanned_together_are_scanned_as_alone(monkeypatch):
    checker = TextChecker()
    lines = real_lines(12) + ["", "a", "深入推进科技管里体制改革。", "信防", "依法解决信防事，依照规定处理。", "x信防事项\ud800"]
    together = checker.scanner(lines)
    assert together == [checker.scanner([line])[0] for line in lines]
    monkeypatch.setattr("checks.text.trigrams.SCAN_BATCH", 7)      # batches of characters: the same
    assert checker.scanner(lines) == together
    assert sum(map(len, together)) >= 2
    assert [checker.check(line, WHEN) for line in lines] == checker.check_many(lines, WHEN)
    with pytest.raises(TypeError, match="must be str"):
        checker.check_many(["深入推进", None], WHEN)
    # A date per text (a site's pages), and groups of texts scanned apart give the same.
    line = "国务院总理李克强主持召开国务院常务会议。"
    then, now = checker.check_many([line, line], [date(2019, 3, 1), date(2026, 3, 1)])
    assert not any(f.check == "serious_error" for f in then)
    assert any(f.check == "serious_error" for f in now)
    with pytest.raises(ValueError, match="2 texts, 1 dates"):
        checker.check_many([line, line], [WHEN])
    with pytest.raises(TypeError, match="published must be a date, not str"):
        checker.check_many([line, line], "2026-03-01")
    monkeypatch.setattr("checks.text.checker.SCAN_CHARS", 50)
    assert [checker.check(line, WHEN) for line in lines] == checker.check_many(lines, WHEN)


def test_every_trigram_across_the_character_must_be_missing_as_written_and_there_corrected(tmp_path):
    line = "深入推进科技管里体制改革。"
    agree = ["技管理", "管理体", "理体制"]
    checker = TextChecker(data_dir=copy_data(tmp_path / "a", trigrams=agree))
    assert ("管里体制", "管理体制", True) in pairs(checker, line)
    # One of them missing as corrected: too little to go on.
    checker = TextChecker(data_dir=copy_data(tmp_path / "b", trigrams=agree[:2]))
    assert ("管里体制", "管理体制", True) not in pairs(checker, line)
    # Official text writes two of the three as they stand (技管里, 管里体): they speak against it.
    checker = TextChecker(data_dir=copy_data(tmp_path / "c", trigrams=agree + ["技管里", "管里体"]))
    assert checker.scanner([line]) == [[]]
    assert ("管里体制", "管理体制", True) not in pairs(checker, line)
    # Two confusions of 里 that fit (理, 李) are a guess: nothing is said.
    checker = TextChecker(data_dir=copy_data(tmp_path / "d", trigrams=agree + ["技管李", "管李体", "李体制"]))
    assert checker.scanner([line]) == [[]]
    # One of the three written as it stands: listed only from min_gain_one_written.
    written = agree + ["技管里"]
    checker = TextChecker(data_dir=copy_data(tmp_path / "e", trigrams=written))
    (hit,) = checker.scanner([line])[0]
    assert (hit.index, hit.replacement, hit.windows, hit.written) == (7, "理", 3, 1)
    assert ("管里体制", "管理体制", True) in pairs(checker, line)
    never = TextChecker(data_dir=copy_data(tmp_path / "f", {"min_gain_one_written": "null"},
                                           trigrams=written))
    assert never.scanner([line]) == [[]]
    assert ("管里体制", "管理体制", True) not in pairs(never, line)


def test_the_gain_needed_grows_as_the_trigrams_say_less(tmp_path):
    # 信防 before 事 and a comma: two trigrams across 防 are all ideographs (决信防, 信防事).
    line = "依法解决信防事，依照规定处理。"
    agree = ["决信访", "信访事"]
    two = TextChecker(data_dir=copy_data(tmp_path / "a", trigrams=agree))
    (hit,) = two.scanner([line])[0]
    assert (hit.index, hit.replacement, hit.windows, hit.written) == (5, "访", 2, 0)
    assert ("信防", "信访", True) in pairs(two, line)
    # Two trigrams across it: min_gain_two_windows.  The word model's gain for 信访 is positive
    # but not 40; min_gain (three trigrams) does not apply.
    for key, listed in (("min_gain_two_windows", False), ("min_gain", True)):
        strict = TextChecker(data_dir=copy_data(tmp_path / f"b{key}", {key: "40.0"}, trigrams=agree))
        assert (("信防", "信访", True) in pairs(strict, line)) is listed, key
    # Three trigrams across it (信防事 inside a run): min_gain.
    inside = "依法解决信防事项。"
    three = TextChecker(data_dir=copy_data(tmp_path / "g", trigrams=[*agree, "信访事", "访事项"]))
    assert [(h.index, h.windows) for h in three.scanner([inside])[0]] == [(5, 3)]
    assert ("信防", "信访", True) in pairs(three, inside)
    strict = TextChecker(data_dir=copy_data(tmp_path / "h", {"min_gain": "40.0"},
                                            trigrams=[*agree, "信访事", "访事项"]))
    assert ("信防", "信访", True) not in pairs(strict, inside)
    # Only one trigram across the slip (信防, at the line's end after 决): min_gain_one_window.
    edge = "依法解决信防"
    one = TextChecker(data_dir=copy_data(tmp_path / "c", trigrams=["决信访"]))
    assert [(h.index, h.windows) for h in one.scanner([edge])[0]] == [(5, 1)]
    assert ("信防", "信访", True) in pairs(one, edge)
    for value in ("40.0", "null"):
        off = TextChecker(data_dir=copy_data(tmp_path / f"d{value}", {"min_gain_one_window": value},
                                             trigrams=["决信访"]))
        assert ("信防", "信访", True) not in pairs(off, edge), value
    assert TextChecker(data_dir=copy_data(tmp_path / "e", {"min_gain_one_window": "null"},
                                          trigrams=["决信访"])).scanner([edge]) == [[]]


def _scan_by_hand(checker: TextChecker, trigrams: Trigrams, lines: list[str]) -> list[list[Scanned]]:
    """The scan by its definition, a character and a confusion at a time, every trigram asked
    of the keys."""
    scan = checker.scanner
    out = []
    for text in lines:
        ideograph = [BASE <= ord(c) <= TOP for c in text]
        hits = []
        for i, char in enumerate(text):
            windows = [s for s in (i - 2, i - 1, i) if s >= 0 and s + 3 <= len(text) and all(ideograph[s:s + 3])]
            written = sum(text[s:s + 3] in trigrams for s in windows)
            if not (written == 0 and len(windows) >= (1 if scan.one_window else 2)
                    or scan.one_written and written == 1 and len(windows) == 3):
                continue
            fits = [c for c in checker.model.confusion(char) if BASE <= ord(c) <= TOP
                    and all((text[s:i] + c + text[i + 1:s + 3]) in trigrams for s in windows)]
            if len(fits) == 1:
                hits.append(Scanned(i, fits[0], len(windows), written))
        out.append(hits)
    return out


def test_the_scan_finds_what_a_search_by_hand_finds(tmp_path, monkeypatch):
    """Candidates read from the keys sorted three ways (the middle window, else the one on the
    side with two ideographs) give what trying every confusion of every character gives.  The
    trigrams as written are asked of the keys here too (the filter can only leave a character
    unexamined).  Cached copies of the filter and of the sorted keys that are damaged are built
    again, with the same result."""
    monkeypatch.setenv("PATROL_CACHE_DIR", str(tmp_path / "cache"))
    data = copy_data(tmp_path)
    lines = real_lines(8) + ["深入推进科技管里体制改革。", "搭建实时在线的国资兼管平台。", "依法解决信防",
                             "防事项依法办理", "信防，事项", "管里", "国资兼管\ud800平台𠀀信防事项"]
    checker = TextChecker(data_dir=data)

    def scan_again(exact: bool = False):
        """A new scan of the lines (the filter and the sorted keys read again from the cache)."""
        scan = Scan(Trigrams(data / "trigrams.bin"), checker.model.confusion_pairs, checker.scanner.one_window,
                    checker.scanner.one_written)
        if exact:
            scan._written = scan._exact
        return scan(lines)

    expected = _scan_by_hand(checker, Trigrams(data / "trigrams.bin"), lines)
    assert sum(map(len, expected)) >= 5
    assert {h.windows for hits in expected for h in hits} >= {1, 2, 3}
    by_line = dict(zip(lines, expected))
    assert [(h.index, h.replacement) for h in by_line["依法解决信防"]] == [(5, "访")]     # left window only
    assert [(h.index, h.replacement) for h in by_line["防事项依法办理"]] == [(0, "访")]   # right window only
    exact = scan_again(exact=True)
    assert exact == expected
    found = scan_again()
    assert found == checker.scanner(lines)
    assert all(set(f) <= set(e) for f, e in zip(found, expected))   # the filter only leaves out
    for family in ("trigram-bits-*.bin", "trigram-orders-*.bin"):
        (cached,) = (tmp_path / "cache").glob(family)
        size = cached.stat().st_size
        cached.write_bytes(b"\x00" * 100)
        assert scan_again() == found
        assert scan_again(exact=True) == expected
        assert cached.stat().st_size == size                      # written again


def test_patrol_text_lists_what_the_scan_finds(tmp_path):
    """Through the command line, as a user proofreads a draft: the scan's slip is a 疑似 typo
    with its correction, and the right line beside it is silent."""
    draft = tmp_path / "draft.txt"
    draft.write_text("规范应激救助行为，提高应急救助能力。\n规范应急救助行为，提高应急救助能力。\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "patrol.cli", "text", str(draft), "--format", "jsonl",
                             "--date", "2025-01-01"], capture_output=True, check=False, text=True,
                            env={**os.environ, "PATROL_CONFIG": ""}, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["line"] for line in lines] == [1, 2]
    found = {(f["wrong"], f["suggestion"], f["suspected"]) for line in lines if line["line"] == 1
             for f in line["findings"]}
    assert ("应激", "应急", True) in found
    assert not [f for line in lines if line["line"] == 2 for f in line["findings"]]


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


def test_no_trigram_file_turns_the_scan_off(tmp_path):
    data = copy_data(tmp_path)
    (data / "trigrams.bin").unlink()
    checker = TextChecker(data_dir=data)
    assert checker.check("规范应激救助行为，提高应急救助能力。", WHEN) == []
    assert checker.check_many(["规范应激救助行为", ""], WHEN) == [[], []]


@pytest.mark.parametrize("section, message", [
    ("trigram_scan: 2",
     "expected min_gain:, min_gain_one_window:, min_gain_one_written:, min_gain_two_windows:, not 2"),
    ("trigram_scan:\n  min_windows: 2",
     "unknown setting 'min_windows' (known: min_gain, min_gain_one_window"),
    ("trigram_scan:\n  min_gain: low", "min_gain: 'low' is not a number"),
    ("trigram_scan:\n  min_gain: .nan", "min_gain: nan is not a number"),
    ("trigram_scan:\n  min_gain: -4.0\n  min_gain_one_window: true",
     "min_gain_one_window: True is not a number"),
    ("trigram_scan:\n  min_gain_one_written: 2.0", "min_gain: a number is needed"),
    ("trigram_evidence:\n  floor: 4.0", "trigram_evidence is no longer read: trigram_scan"),
])
def test_a_wrong_setting_is_a_clear_error(tmp_path, section, message):
    data = copy_data(tmp_path, section=section)
    with pytest.raises(DataFileError, match=re.escape(message)) as caught:
        TextChecker(data_dir=data)
    assert "statistical.yaml" in str(caught.value)


def test_a_character_official_text_writes_around_is_left_to_it():
    """Where official text writes two of the trigrams across a character as they stand, the
    statistical layer does not examine it (on real text such flags were right words and names:
    共通之处, 合湛高铁, 奥夫拉多尔)."""
    checker = TextChecker()
    floor = checker.settings["suspect_score"]
    for line, wrong in (("中德在世界多极化问题上有不少共通之处。", "共通"),
                        ("（三）扎实推进重大项目建设。合湛高铁开工建设，黄百铁路加快建设。", "合湛"),
                        ("11日，墨西哥总统洛佩斯·奥夫拉多尔与到访的古巴国家主席会谈。", "夫拉多")):
        _, (attested,) = checker.scanner.run([line])
        (flag,) = [c for c in checker.candidates(line, floor) if c.wrong == wrong]
        changed = [flag.start + k for k, (a, b) in enumerate(zip(flag.wrong, flag.suggestion)) if a != b]
        assert all(attested[k] for k in changed), line
        assert not any(c.wrong == wrong for c in checker.candidates(line, floor, attested)), line
        assert not any(f.wrong == wrong for f in checker.check(line, WHEN)), line
