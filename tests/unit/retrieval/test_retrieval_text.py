from __future__ import annotations

import pytest

from models.retrieval.text import MAX_QUERY_CHARS, EmptyQueryError, extract_budget, normalize_query


def test_normalize_collapses_space_and_case():
    assert normalize_query("  떡볶이   먹고\t싶어\n ") == "떡볶이 먹고 싶어"
    assert normalize_query("ＢＢＱ 치킨") == "bbq 치킨"  # NFKC folds full-width letters


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "?!...", None])
def test_empty_query_is_a_clear_error(text):
    with pytest.raises(EmptyQueryError):
        normalize_query(text)
    assert issubclass(EmptyQueryError, ValueError)


def test_long_query_is_truncated_at_a_space():
    text = "떡볶이 먹고 싶어 " * 600  # ~5,400 characters
    out = normalize_query(text[:5000])
    assert 0 < len(out) <= MAX_QUERY_CHARS
    assert out.startswith("떡볶이 먹고 싶어")
    assert not out.endswith(" ")


def test_long_query_without_spaces_is_cut_hard():
    out = normalize_query("가" * 5000)
    assert out == "가" * MAX_QUERY_CHARS


@pytest.mark.parametrize("text,won", [
    ("5천원이하 김밥", 5000),
    ("오천원밖에 없어", 5000),
    ("5,000원으로 먹을 수 있는 거", 5000),
    ("5000원", 5000),
    ("만원 이내", 10000),
    ("1만원", 10000),
    ("만 오천원", 15000),
    ("1만5천원까지", 15000),
    ("2만원", 20000),
    ("떡볶이 먹고 싶어", None),
    ("3명이서 먹을래", None),
])
def test_extract_budget(text, won):
    assert extract_budget(text) == won
