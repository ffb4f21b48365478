"""Reading a request's need (``needs``) and arranging a pool by it (``results``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.retrieval import results
from models.retrieval.needs import MEATS, QueryNeed, read_need


def test_qualities_the_words_ask_for():
    need = read_need("국물 있는 따뜻한 거")
    assert set(need.want) == {frozenset({"soup"}), frozenset({"warm"})} and not need.avoid
    assert "국물" in need.words.split() and "따뜻한" in need.words.split()


def test_what_the_request_rules_out():
    rice = read_need("면 말고 밥")
    assert rice.want == (frozenset({"rice"}),) and rice.avoid == {"noodle"}
    mild = read_need("안 맵고 부드러운 거")
    assert mild.want == (frozenset({"soft"}),) and "spicy" in mild.avoid
    assert "spicy" in read_need("맵지 않은 국물").avoid
    assert "fried" in read_need("기름에 튀기지 않은 식사").avoid
    meatless = read_need("고기 없는 메뉴")
    assert meatless.avoid >= MEATS and frozenset({"vegetarian"}) in meatless.want


def test_a_situation_is_a_hint_and_only_when_no_dish_is_named():
    rain = read_need("비 오는 날 먹을 음식 추천")
    assert rain.hints == (frozenset({"warm"}),) and not rain.want
    assert rain.words == "따뜻한"  # the menu side's word for warm, added to the sparse query
    assert not read_need("친구랑 불고기 먹을래", named=frozenset({"불고기"}))
    assert read_need("김밥 5천원", named=frozenset({"김밥"})).want == ()  # 김밥 is not a request for 밥
    assert read_need("치즈떡볶이 안 맵게", named=frozenset({"치즈떡볶이"})).avoid == {"spicy"}
    sport = read_need("운동 끝나고 고기")
    assert sport.want == (frozenset(MEATS),) and "고기" in sport.words.split()  # 고기 is asked, not hinted
    assert read_need("감기 걸려서 속 편한 거").avoid == {"spicy"}


def test_a_request_with_no_need_reads_empty():
    need = read_need("떡볶이 먹고 싶어")
    assert not need and need.key() == ""


def test_factor_weighs_demands_hints_and_avoided_tags():
    need = QueryNeed(want=(frozenset({"soup"}),), avoid=frozenset({"spicy"}), hints=(frozenset({"warm"}),))
    kw = {"avoided": 0.3, "missed": 0.6, "hinted": 0.85}
    assert need.factor({"soup", "warm"}, **kw) == 1.0
    assert need.factor({"soup"}, **kw) == 0.85
    assert round(need.factor({"rice"}, **kw), 4) == round(0.6 * 0.85, 4)
    assert need.factor({"soup", "warm", "spicy"}, **kw) == 0.3
    assert need.key() != QueryNeed(want=(frozenset({"soup"}),)).key()


@dataclass
class _Hit:
    id: int
    score: float
    payload: dict = field(default_factory=dict)


def _menu(i, name, role="메인메뉴", shop=None, score=0.03, meaning=(), dish=None):
    return _Hit(i, score, {"menu_name": name, "menu_category": role, "shop_id": shop or i,
                           "meaning": list(meaning), "dish": dish or name.replace(" ", "")})


def test_arrange_lifts_the_menus_that_answer_the_need():
    pool = [_menu(1, "볶음밥", score=0.033, meaning=["rice", "warm"]),
            _menu(2, "김치찌개", score=0.030, meaning=["soup", "warm", "pork"]),
            _menu(3, "짬뽕", score=0.029, meaning=["soup", "noodle", "warm", "spicy"])]
    top = results.arrange(pool, "면 말고 국물", 3, need=read_need("면 말고 국물"))
    assert [h.payload["menu_name"] for h in top] == ["김치찌개", "볶음밥", "짬뽕"]


def test_named_items_compounds_and_sides():
    assert results.names_item("물만두", "만두 파는 곳", frozenset({"만두"})) == (True, True)
    assert results.names_item("치즈떡볶이", "치즈 들어간 거", frozenset({"치즈"})) == (False, True)
    assert results.names_item("짜장면세트", "만두 파는 곳", frozenset({"만두"})) == (False, False)
    pool = [_menu(1, "짜장면 세트", "세트메뉴", score=0.033), _menu(2, "물만두", "사이드메뉴", score=0.030),
            _menu(3, "군만두", "사이드메뉴", score=0.029)]
    top = results.arrange(pool, "만두 파는 곳", 3, named=frozenset({"만두"}))
    # the side the query names keeps its score; the set that only lists 만두 keeps NOT_NAMED
    assert [h.payload["menu_name"] for h in top] == ["물만두", "군만두", "짜장면 세트"]


def test_merge_gives_a_pooled_copy_its_dishes_score():
    plain = [_menu(10, "어묵", score=0.0164, dish="어묵"), _menu(11, "오므라이스", score=0.0164, dish="오므라이스")]
    dishes = [_menu(20, "어묵", score=0.0320, dish="어묵")]
    by_dish = [_menu(21, "어묵", score=0.0320, dish="어묵")]
    pool = results.merge(plain, dishes, by_dish)
    assert [h.id for h in pool][:2] in ([10, 21], [21, 10])
    assert {h.id: round(h.score, 4) for h in pool}[10] == 0.032 and pool[-1].id == 11
    scaled = results.rrf_scaled([_menu(1, "a", score=0.9), _menu(2, "b", score=0.5)], fused=False, rrf_k=60)
    assert [round(h.score, 6) for h in scaled] == [round(1 / 61, 6), round(1 / 62, 6)]
