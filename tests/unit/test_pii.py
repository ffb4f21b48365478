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
