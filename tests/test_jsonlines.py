"""JSON lines between crawl processes and patrol (crawler/jsonlines.py)."""
from __future__ import annotations

import json

from crawler import jsonlines


def test_a_record_is_one_utf8_line_that_either_reader_reads_back():
    record = {"type": "page", "url": "http://www.qx.example/xwzx/", "title": "清溪区人民政府 “政务公开”",
              "links": [["http://www.qx.example/a.pdf", "a", "附件：通知\t（一）"]], "depth": 2,
              "rendered": False, "published": None, "score": 97.5}
    line = jsonlines.dumps_line(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert "清溪区人民政府".encode() in line           # written as it is, not as \u escapes
    assert jsonlines.loads(line) == record == json.loads(line.decode("utf-8"))
    # what the standard library writes (an older crawl process) reads the same
    assert jsonlines.loads(jsonlines._std_line(record)) == record


def test_what_orjson_refuses_is_still_written():
    record = {"stats": {1: "a key that is not a string"}, "big": 2 ** 70}
    line = jsonlines.dumps_line(record)
    assert jsonlines.loads(line) == {"stats": {"1": "a key that is not a string"}, "big": 2 ** 70}


def test_a_garbled_line_is_a_value_error():
    for bad in (b'{"type": "page", "url": "http://a/', b"\xff\xfe{}"):
        try:
            jsonlines.loads(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was read")


def test_a_record_the_standard_library_had_to_write_reads_back():
    """The fallback writes NaN, which only the standard library reads: still one record, not
    the end of the output."""
    line = jsonlines._std_line({"type": "link", "elapsed": float("nan"), "stats": {1: 2}})
    record = jsonlines.loads(line)
    assert record["type"] == "link" and record["elapsed"] != record["elapsed"]
