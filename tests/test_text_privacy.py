"""Personal data in page text (checks/text/privacy.py)."""
from datetime import date

from checks.text import TextChecker
from checks.text.privacy import find_personal_data, id_number_valid

VALID_ID = "11010519491231002X"       # the check-digit example of GB 11643-1999


def test_id_number_checksum_and_birth_date():
    assert id_number_valid(VALID_ID)
    assert not id_number_valid("110105194912310021")     # wrong check digit
    assert not id_number_valid("110105194913310028")     # month 13


def test_valid_id_number_is_a_privacy_leak_shown_masked():
    text = f"申请人张三，身份证号{VALID_ID}，住址略。"
    flags = find_personal_data(text)
    assert len(flags) == 1
    flag = flags[0]
    assert flag.check == "privacy_leak" and flag.severity == "error"
    assert text[flag.start:flag.end] == VALID_ID
    assert VALID_ID not in flag.wrong and VALID_ID not in flag.context
    assert flag.wrong.startswith("110") and flag.wrong.endswith("002X")


def test_order_numbers_and_masked_ids_are_not_flagged():
    text = "订单号110105194912310021，身份证号1101**********002X，文号20190101123456789。"
    assert find_personal_data(text) == []


def test_mobile_number_is_suspected_but_service_lines_are_not():
    flags = find_personal_data("联系人：李四 13812345678")
    assert [(f.check, f.suspected, f.severity) for f in flags] == [("privacy_leak", True, "warning")]
    assert find_personal_data("咨询电话：13812345678") == []


def test_no_flag_context_reveals_personal_data():
    text = f"身份证号{VALID_ID}大数局"
    flags = TextChecker().check(text, date(2024, 1, 1))
    assert flags and all(VALID_ID not in f.context for f in flags)
