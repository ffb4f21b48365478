import logging

import pytest

from infra.logs import ConsoleFormatter, JsonFormatter, RedactPII
from infra.pii import card_last4, card_number_hash


def test_card_hash_is_keyed_and_format_insensitive():
    a = card_number_hash("9410-1234-5678-9012", "k1")
    assert a == card_number_hash("9410 1234 5678 9012", "k1")
    assert a != card_number_hash("9410-1234-5678-9012", "k2")
    assert len(a) == 64 and "9012" not in a
    assert card_last4("9410-1234-5678-9012") == "9012"


@pytest.mark.parametrize("bad", ["", "1234", "abcd-efgh", "1" * 25])
def test_malformed_card_numbers_are_refused(bad):
    with pytest.raises(ValueError):
        card_last4(bad)


@pytest.mark.parametrize("formatter", [ConsoleFormatter(), JsonFormatter()])
def test_logs_never_show_card_numbers_names_or_birthdays(formatter):
    record = logging.LogRecord("naviyam.test", logging.INFO, __file__, 1, "card %s used", ("9410-1234-5678-9012",), None)
    record.birthday = "2012-03-04"
    record.name_of_shop = "엄마손김밥"  # not personal: must survive
    setattr(record, "card_number", "9410123456789012")
    assert RedactPII().filter(record)
    line = formatter.format(record)
    assert "9410" not in line and "2012-03-04" not in line
    assert "naviyam.test" in line  # the logger's own name is not personal data
    assert "엄마손김밥" in line


def test_chat_text_loses_numbers_dates_and_the_users_own_name_but_keeps_amounts():
    from infra.pii import redact_text

    text = ("나 김하늘인데 카드 9410-1234-5678-9012 이고 폰은 010-1234-5678, 집 02-123-4567, 주민번호 120304-3123456, "
            "생일은 3월 4일 (2012년 3월 4일), 하늘이 5000원으로 떡볶이 1만 2천원 이하")
    out = redact_text(text, names=["김하늘"])
    for secret in ("9410", "1234-5678", "010", "02-123", "120304", "3123456", "2012", "3월 4일", "김하늘", "하늘"):
        assert secret not in out, (secret, out)
    assert "5000원" in out and "1만 2천원" in out and "떡볶이" in out
    assert redact_text("4000원밖에 없어 2명이서") == "4000원밖에 없어 2명이서"


def test_validation_errors_and_tracebacks_are_redacted():
    from infra.logs import redact_text

    line = ("1 validation error for ChatRequest\ntext\n  Value error [type=value_error, "
            "input_value='나 김하늘 9410123456789012', input_type=str]")
    out = redact_text(line)
    assert "김하늘" not in out and "9410" not in out and "ChatRequest" in out
    try:
        raise ValueError("bad body: {'text': '김하늘 010-9999-8888'}")
    except ValueError:
        import sys

        record = logging.LogRecord("bentoml", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    assert RedactPII().filter(record)
    line = logging.Formatter().format(record)
    assert "010-9999-8888" not in line and "김하늘" not in line


def test_a_long_decimal_is_a_measurement_not_a_card():
    from infra.pii import redact_text

    assert redact_text("'seconds': 363.0123456789012345,") == "'seconds': 363.0123456789012345,"
    # a card number at the end of a sentence is still one
    assert redact_text("카드 9410123456789012.") == "카드 [카드번호]."
