import pytest

from models.nlu.amounts import budget_from_text, find_amounts, parse_korean_number, people_count


@pytest.mark.parametrize("expr, value", [
    ("5천", 5000), ("오천", 5000), ("5,000", 5000), ("5000", 5000), ("만", 10000), ("1만", 10000),
    ("만 오천", 15000), ("1만5천", 15000), ("1만 5천", 15000), ("이만", 20000), ("2만", 20000),
    ("삼천오백", 3500), ("1.5만", 15000), ("십만", 100000), ("이만 오천", 25000), ("천", 1000),
    ("만오천", 15000), ("12,000", 12000), ("칠천", 7000), ("백", 100),
])
def test_parse_korean_number(expr, value):
    assert parse_korean_number(expr) == value


@pytest.mark.parametrize("expr", ["", "5 3", "1,00", "abc"])
def test_parse_korean_number_rejects_malformed(expr):
    assert parse_korean_number(expr) is None


@pytest.mark.parametrize("text, budget", [
    ("5천원밖에 없어", 5000), ("오천원으로 뭐 먹지", 5000), ("5,000원", 5000), ("5000원 있어", 5000),
    ("만원으로", 10000), ("1만원 있어", 10000), ("만 오천원 있는데", 15000), ("1만5천원", 15000),
    ("이만원", 20000), ("2만원 있어", 20000), ("삼천오백원짜리", 3500), ("1.5만원", 15000),
    ("5천 이하로", 5000), ("오천으로 먹을 거", 5000), ("예산 8000", 8000), ("8000원 정도", 8000),
    ("₩3000", 3000), ("5천원에서 만원 사이", 10000), ("돈이 오천원", 5000), ("너무배고파10,000원으로", 10000),
    ("돈은오만원이야", 50000), ("7천 원 이하", 7000), ("이만 오천 원", 25000), ("3000won", 3000),
])
def test_budget_forms(text, budget):
    assert budget_from_text(text) == budget


@pytest.mark.parametrize("text", [
    "사원 식당", "치킨만 먹을래", "10명이 먹을 곳", "2시에 만나", "3개 주세요", "일원동", "만들어줘", "5분 거리",
    "1인분", "20살", "구원",
])
def test_no_false_amounts(text):
    assert find_amounts(text) == []


@pytest.mark.parametrize("text, n", [
    ("10명이 먹을", 10), ("다섯 명", 5), ("여섯이서", 6), ("5인 테이블", 5), ("친구들다섯이서", 5),
    ("20명", 20), ("열 명", 10), ("세 명", 3), ("둘이서", 2), ("1인분", None), ("혼자", None),
])
def test_people_count(text, n):
    assert people_count(text) == n
