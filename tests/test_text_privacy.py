"""Personal data in page text (checks/text/privacy.py)."""
from datetime import date

from checks.text import TextChecker
from checks.text.privacy import find_personal_data, id_number_valid, luhn_valid

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


def test_first_generation_id_number_needs_its_cue_word_and_a_valid_birth_date():
    flags = find_personal_data("低保对象王五，身份证号：110105491231002，已审核。")
    assert [(f.rule, f.suspected) for f in flags] == [("privacy:id_number_15", False)]
    assert "110105491231002" not in flags[0].wrong + flags[0].context
    assert find_personal_data("订单号110105491231002已发货。") == []          # no cue word
    assert find_personal_data("身份证号：110105491331002") == []               # month 13
    # A licence's old 15-digit registration number is no ID number.
    assert find_personal_data("营业执照证件号码：110108011231003") == []


def test_bank_card_number_with_a_right_check_digit_after_a_card_word():
    text = "补贴发放名单：赵六，银行卡号4111111111111111，金额500元。"
    flags = find_personal_data(text)
    assert [(f.rule, f.severity) for f in flags] == [("privacy:bank_card", "error")]
    assert text[flags[0].start:flags[0].end] == "4111111111111111"
    assert "4111111111111111" not in flags[0].context
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert find_personal_data("银行卡号4111111111111112") == []                # wrong check digit
    grouped = "银行卡号：4111 1111 1111 1111；社保卡号：4111-1111-1111-1111。"
    assert [f.rule for f in find_personal_data(grouped)] == ["privacy:bank_card"] * 2
    assert find_personal_data("银行卡号：4111 1111 1111 1112") == []
    # An office's own account, published for fees, is not a card.
    assert find_personal_data("户名：清溪区财政局，账号：4111111111111111。") == []


def test_full_width_digits_are_read_as_digits():
    full = VALID_ID.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    text = f"申请人身份证号{full}。"
    flags = find_personal_data(text)
    assert [f.rule for f in flags] == ["privacy:id_number"]
    assert text[flags[0].start:flags[0].end] == full


def test_every_cue_word_passes_the_quick_prefilter():
    from checks.text.privacy import CARD_WORDS, ID_WORDS
    assert all("身份" in w for w in ID_WORDS)
    assert all("卡" in w for w in CARD_WORDS)


def test_a_wrong_page_date_does_not_hide_an_id_number():
    # A page date read wrongly (1900) must not make a real ID number look unborn.
    flags = TextChecker().check(f"身份证号{VALID_ID}", date(1900, 1, 1))
    assert [f.check for f in flags] == ["privacy_leak"]
