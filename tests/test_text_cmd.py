"""``patrol text`` through the installed console script (patrol/textcmd.py)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PATROL = ROOT / ".venv" / "bin" / "patrol"


def patrol(*args: str, stdin: bytes | None = None, env: dict | None = None, cwd: Path | None = None):
    cmd = [str(PATROL)] if PATROL.exists() else [sys.executable, "-m", "patrol.cli"]
    full_env = {**os.environ, "PATROL_CONFIG": "", **(env or {})}
    return subprocess.run(cmd + ["text", *args], input=stdin, capture_output=True,
                          env=full_env, cwd=cwd or ROOT, timeout=120, check=False)


DRAFT = "庆祝中华人民共合国成立。\n区政府召开常务会议。\n区国土资源局开展执法检查。\n"


def test_jsonl_gives_one_object_per_input_line(tmp_path):
    draft = tmp_path / "draft.txt"
    draft.write_text(DRAFT, encoding="utf-8")
    proc = patrol(str(draft), "--format", "jsonl", "--date", "2024-05-01")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3]
    assert rows[0]["text"] == "庆祝中华人民共合国成立。"
    (finding,) = rows[0]["findings"]
    assert finding["check"] == "serious_error"
    assert (finding["wrong"], finding["suggestion"], finding["start"], finding["end"]) == \
        ("中华人民共合国", "中华人民共和国", 2, 9)
    assert {"context", "rule", "confidence", "suspected", "severity"} <= set(finding)
    assert rows[1]["findings"] == []
    assert rows[2]["findings"][0]["check"] == "wrong_expression"


def test_date_before_the_reform_keeps_the_old_name(tmp_path):
    proc = patrol("-", "--format", "jsonl", "--date", "2017-01-01", stdin="区国土资源局开展执法检查。\n".encode())
    assert json.loads(proc.stdout)["findings"] == []


def test_text_format_highlights_the_wrong_text_and_lists_suspected_apart():
    proc = patrol("-", stdin="庆祝中华人民共合国成立。\n进一步提高行政效律。\n".encode())
    out = proc.stdout.decode()
    assert proc.returncode == 0
    assert "庆祝【中华人民共合国】成立。" in out and "“中华人民共合国”应为“中华人民共和国”" in out
    certain, _, suspected = out.partition("疑似（请人工核对）")
    # A statistical flag is never asserted (statistical.yaml assert_statistical).
    assert "效律" not in certain and "提高【行政效律】。" in suspected


def test_leaders_come_from_the_config(tmp_path):
    cfg = tmp_path / "patrol.yaml"
    cfg.write_text("leaders:\n  - {name: 王建国, title: 区长}\n", encoding="utf-8")
    proc = patrol("-", "--format", "jsonl", "--config", str(cfg), stdin="副区长王建国出席会议。\n".encode())
    findings = json.loads(proc.stdout)["findings"]
    assert [(f["check"], f["wrong"], f["suggestion"]) for f in findings] == [("serious_error", "副区长", "区长")]
    env_proc = patrol("-", "--format", "jsonl", stdin="副区长王建国出席会议。\n".encode(),
                      env={"PATROL_CONFIG": str(cfg)})
    assert json.loads(env_proc.stdout)["findings"] == findings


def test_invalid_config_is_a_clear_error(tmp_path):
    cfg = tmp_path / "patrol.yaml"
    cfg.write_text("leaders: 3\n", encoding="utf-8")
    proc = patrol("-", "--config", str(cfg), stdin=b"x\n")
    assert proc.returncode == 2 and b"leaders" in proc.stderr


@pytest.mark.parametrize("args, stdin, message", [
    (["/nonexistent/draft.txt"], None, "file not found"),
    (["-"], "国家".encode("gb18030"), "not UTF-8"),
    (["-", "--date", "2024-13-01"], b"x\n", "--date"),
    (["-", "--date", ""], b"x\n", "--date"),                 # not "today"
    (["-", "--date", "20240101"], b"x\n", "YYYY-MM-DD"),      # ISO, but not the documented form
    (["/tmp"], None, "not a regular file"),                   # a directory
    (["/dev/zero"], None, "not a regular file"),              # a device that never ends
    (["/nonexistent/a\nb.txt"], None, "file not found"),
    (["-", "--config", "/tmp"], b"x\n", "cannot read"),       # a directory as the configuration
])
def test_bad_input_exits_2_with_a_message(args, stdin, message):
    proc = patrol(*args, stdin=stdin)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert proc.stdout == b""


def test_a_pipe_is_read_like_a_file():
    # patrol text <(iconv -f GB18030 -t UTF-8 draft.txt), or a pipe through /dev/stdin
    proc = patrol("/dev/stdin", "--format", "jsonl", stdin="庆祝中华人民共合国成立。\n".encode())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["findings"][0]["check"] == "serious_error"


def test_carriage_returns_end_lines_whatever_the_convention():
    proc = patrol("-", "--format", "jsonl", stdin="大数局\r中华人民共合国\r\n好\n".encode())
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [(r["line"], r["text"]) for r in rows] == [(1, "大数局"), (2, "中华人民共合国"), (3, "好")]
    assert rows[1]["findings"][0]["wrong"] == "中华人民共合国"


def test_personal_data_is_never_printed():
    proc = patrol("-", stdin="身份证号11010519491231002X大数局\n".encode())
    out = proc.stdout.decode()
    assert "泄露个人信息" in out and "11010519491231002X" not in out


def test_jsonl_lines_are_exactly_what_json_dumps_writes():
    # The writer builds each line by hand for speed; json.dumps of the parsed object must give
    # the same bytes (key order, separators, escaping, floats, booleans).
    text = ('庆祝中华人民共合国成立。\n民政部牵头建立联席悔意制度。\n'
            '身份证号110101199003074514，手机13912345678。\n'
            '引号"与反斜杠\\和制表符\t都要转义，区国土资源局。\n\n')
    proc = patrol("-", "--format", "jsonl", "--date", "2024-05-01", stdin=text.encode())
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 5
    assert sum(len(json.loads(line)["findings"]) for line in lines) >= 4
    from checks.text import TextFlag

    for line in lines:
        assert json.dumps(json.loads(line), ensure_ascii=False) == line
        for finding in json.loads(line)["findings"]:
            assert list(finding) == list(TextFlag.__dataclass_fields__)     # every field, in order


def test_near_misses_of_standard_names_and_card_numbers_through_the_cli():
    proc = patrol("-", "--format", "jsonl",
                  stdin="据柴政部通知，补贴发放到银行卡号4111111111111111。\n".encode())
    assert proc.returncode == 0, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert [(f["check"], f["wrong"]) for f in findings] == [
        ("serious_error", "柴政部"), ("privacy_leak", "411*********1111")]
    assert findings[0]["suggestion"] == "财政部" and findings[0]["rule"].startswith("names.txt:")
    assert "4111111111111111" not in json.dumps(findings, ensure_ascii=False)   # masked in every finding
