import pytest

from models.nlu.normalize import MAX_CHARS, has_content, normalize


@pytest.mark.parametrize("raw, expected", [
    ("  배고파   ", "배고파"),
    ("ｐｉｚｚａ ５０００원", "pizza 5000원"),
    ("치킨 ㄱㄱ😋😋", "치킨 ㄱㄱ"),
    ("배고파아아아", "배고파"),
    ("좋아아아!!!", "좋아!"),
    ("ㅋㅋㅋㅋㅋㅋ", "ㅋㅋ"),
    ("뭐 먹지???", "뭐 먹지?"),
    ("나아가다", "나아가다"),
    ("10000원", "10000원"),
    ("Hello 치킨", "hello 치킨"),
    ("탭\t과\n줄바꿈", "탭 과 줄바꿈"),
    ("\u200b숨은\ufeff문자", "숨은문자"),
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "😂😂", "!!!", "🍕 🍔"])
def test_nothing_to_read(raw):
    assert not has_content(normalize(raw))


def test_long_input_is_cut():
    assert len(normalize("가" * 10_000)) <= MAX_CHARS


def test_mixed_scripts_survive():
    assert normalize("Pizza 피자 ピザ 比萨") == "pizza 피자 ピザ 比萨"
