"""Slot extraction to the label contract's normalized values."""

import pytest

from models.nlu.entities import extract_entities
from models.nlu.labels import validate_entities
from models.nlu.normalize import normalize


def ents(text):
    return extract_entities(normalize(text))


@pytest.mark.parametrize("text, category", [
    ("김밥 먹고 싶어", "분식"), ("떡볶이 땡겨", "분식"), ("라면 끓여먹을까", "분식"), ("순대 사줘", "분식"),
    ("짜장면 시키자", "중식"), ("짬뽕 먹을래", "중식"), ("탕수육 먹자", "중식"), ("마라탕 ㄱㄱ", "중식"),
    ("돈까스 먹고파", "일식"), ("초밥 먹으러 가자", "일식"), ("우동 한 그릇", "일식"), ("라멘 맛집", "일식"),
    ("파스타 먹고 싶다", "양식"), ("스테이크 썰고 싶다", "양식"), ("리조또 추천", "양식"),
    ("햄버거 먹을래", "패스트푸드"), ("샌드위치 사먹자", "패스트푸드"), ("핫도그 어때", "패스트푸드"),
    ("케이크 먹고 싶어", "카페·디저트"), ("빙수 먹자", "카페·디저트"), ("커피 마실래", "카페·디저트"),
    ("빵 사러 가자", "베이커리"), ("빵집 추천", "베이커리"), ("쌀국수 먹을래", "아시안"), ("팟타이 맛집", "아시안"),
    ("도시락 싸갈까", "도시락·죽"), ("죽 먹고 싶어", "도시락·죽"), ("삼겹살 구워먹자", "고기·구이"),
    ("갈비 먹으러", "고기·구이"), ("고기 먹고 싶다", "고기·구이"), ("국밥 한 그릇", "한식"), ("비빔밥 먹을래", "한식"),
    ("김치찌개 먹자", "한식"), ("제육 먹을래", "한식"), ("불고기 먹고 싶어", "한식"), ("치킨 시켜", "치킨"),
    ("피자 한 판", "피자"), ("떡뽁이 먹자", "분식"), ("chicken 먹고 싶어", "치킨"), ("중국집 어디야", "중식"),
    ("카페 가자", "카페·디저트"), ("분식집 알려줘", "분식"),
])
def test_food_type(text, category):
    assert ents(text).get("food_type") == category


@pytest.mark.parametrize("text", [
    "배고파 죽겠어", "맛집 알려줘", "간식 뭐 먹지", "회식 장소", "회의 끝났어", "전에 먹었던 거", "빵 터졌어",
    "만들어 먹을까", "먹을 만한 식당", "죽을 것 같아",
])
def test_no_food_type(text):
    assert "food_type" not in ents(text)


@pytest.mark.parametrize("text, place", [
    ("근처 맛집", "nearby"), ("주변에 뭐 있어", "nearby"), ("가까운 식당", "nearby"), ("여기서 가까운 곳", "nearby"),
    ("걸어서 갈 수 있는 데", "nearby"), ("5분 거리 식당", "nearby"), ("강남역 근처 분식집", "강남역"),
    ("홍대 주변 초밥", "홍대"), ("학교 앞 떡볶이", "학교 앞"), ("학원 앞에 김밥집", "학원 앞"), ("집 근처 카페", "집"),
    ("신촌에서 먹을 곳", "신촌"), ("잠실역 주변", "잠실역"), ("수원역 앞 맛집", "수원역 앞"), ("엄마랑합정역 주변", "합정역"),
    ("우리 학교 앞", "학교 앞"), ("서울대입구역 근처", "서울대입구역"),
])
def test_location(text, place):
    assert ents(text).get("location_preference") == place


@pytest.mark.parametrize("text", ["여기 몇 시까지 해요?", "지역 축제", "역시 치킨이지", "위치가 어디야"])
def test_no_location(text):
    assert "location_preference" not in ents(text)


@pytest.mark.parametrize("text, value", [
    ("지금 열린 곳", "now"), ("당장 먹을 거", "now"), ("바로 먹을 수 있는", "now"), ("아침에 먹을 거", "breakfast"),
    ("점심 메뉴", "lunch"), ("저녁에 뭐 먹지", "dinner"), ("야식 추천", "late_night"), ("밤늦게 여는 곳", "late_night"),
    ("새벽에 배고파", "late_night"), ("점메추", "lunch"),
])
def test_time(text, value):
    assert ents(text).get("time_preference") == value


@pytest.mark.parametrize("text", ["학교 바로 앞", "오늘 뭐 먹지", "일요일에도 열어?"])
def test_no_time(text):
    assert "time_preference" not in ents(text)


@pytest.mark.parametrize("text, value", [
    ("매운 거 먹고 싶어", "spicy"), ("매콤한 떡볶이", "spicy"), ("얼큰한 국물", "spicy"), ("순한 맛", "mild"),
    ("안 매운 거", "mild"), ("맵지 않은 음식", "mild"), ("짭짤한 거", "salty"), ("짠 거 땡겨", "salty"),
    ("달달한 디저트", "sweet"), ("달콤한 거", "sweet"), ("단 거 먹고 싶어", "sweet"), ("담백한 거", "light"),
    ("깔끔한 음식", "light"),
])
def test_taste(text, value):
    assert ents(text).get("taste_preference") == value


@pytest.mark.parametrize("text", ["매운 거 빼고", "매운 거 못 먹어", "단체로 갈 곳", "단 한 번만"])
def test_no_positive_taste(text):
    assert "taste_preference" not in ents(text)


@pytest.mark.parametrize("text, value", [
    ("혼자 먹을 거", "alone"), ("혼밥하기 좋은", "alone"), ("친구랑 갈래", "friends"), ("친구들이랑", "friends"),
    ("엄마랑 먹을 거", "family"), ("동생이랑", "family"), ("가족 외식", "family"), ("10명이 먹을", "group"),
    ("친구들 6명이서", "group"), ("단체로", "group"), ("모임 장소", "group"), ("반 친구들이랑 단체로", "group"),
    ("다섯 명이서", "group"), ("친구 세 명이랑", "friends"),
])
def test_companions(text, value):
    assert ents(text).get("companions") == value


@pytest.mark.parametrize("text, value", [
    ("당장 먹어야 돼", "high"), ("급해", "high"), ("빨리 먹을 거", "high"), ("배고파 죽겠어", "high"),
    ("너무 배고파", "high"), ("배고픈데 뭐 먹지", "high"), ("천천히 먹을 거", "low"), ("나중에 먹을래", "low"),
    ("여유롭게", "low"), ("안 급해", "low"), ("10분 안에 먹을 거", "high"),
])
def test_urgency(text, value):
    assert ents(text).get("urgency") == value


@pytest.mark.parametrize("text", ["급식카드 되는 곳", "걸어서 5분 안에 갈 수 있는 곳", "치킨 먹고 싶어"])
def test_no_urgency(text):
    assert "urgency" not in ents(text)


@pytest.mark.parametrize("text, values", [
    ("채식 메뉴", ["vegetarian"]), ("고기 없는 메뉴로", ["vegetarian"]), ("비건이야", ["vegan"]), ("할랄 음식", ["halal"]),
    ("돼지고기 빼고", ["no_pork"]), ("돼지고기 못 먹어요", ["no_pork"]), ("소고기 안 먹어", ["no_beef"]),
    ("해산물 빼고", ["no_seafood"]), ("새우 알레르기 있어서 해산물 빼고", ["no_seafood"]), ("생선 못 먹어", ["no_seafood"]),
    ("매운 거 빼고", ["no_spicy"]), ("매운거 빼고", ["no_spicy"]), ("매운 거 못 먹어", ["no_spicy"]),
    ("땅콩 알레르기", ["no_nuts"]), ("견과류 빼주세요", ["no_nuts"]), ("우유 못 먹어", ["no_dairy"]),
    ("유제품 빼고", ["no_dairy"]), ("돼지고기랑 새우 빼고", ["no_pork", "no_seafood"]),
])
def test_dietary(text, values):
    assert sorted(ents(text).get("dietary_restrictions", [])) == sorted(values)


@pytest.mark.parametrize("text, value", [
    ("곱빼기로", "large"), ("양 많은 도시락", "large"), ("배 터지게 먹고 싶어", "large"), ("든든하게 먹을래", "large"),
    ("조금만 먹을래", "small"), ("양 적은 거", "small"), ("간단히 먹을 거", "small"), ("사이즈 작은 걸로", "small"),
])
def test_portion(text, value):
    assert ents(text).get("portion_size") == value


def test_excluded_dish_is_not_requested():
    e = ents("치킨 말고 피자 먹을래")
    assert e.get("food_type") == "피자"
    e = ents("돼지고기 못 먹어요 다른 거 보여줘")
    assert "food_type" not in e and e["dietary_restrictions"] == ["no_pork"]


@pytest.mark.parametrize("text, expected", [
    ("배고픈데 5천원밖에 없어", {"budget": 5000, "urgency": "high"}),
    ("강남역 근처 매운 떡볶이 5천원 이하", {"location_preference": "강남역", "taste_preference": "spicy",
                                       "food_type": "분식", "budget": 5000}),
    ("저녁에 가족이랑 삼겹살", {"time_preference": "dinner", "companions": "family", "food_type": "고기·구이"}),
    ("안녕하세요", {}),
])
def test_whole_frames(text, expected):
    assert ents(text) == expected


@pytest.mark.parametrize("text", ["배고픈데 5천원밖에 없어", "돼지고기 빼고 강남역 근처 매운 거 10명", "ㅋㅋ", ""])
def test_frames_are_valid(text):
    assert validate_entities(ents(text)) == []
