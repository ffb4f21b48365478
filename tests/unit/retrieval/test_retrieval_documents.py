from __future__ import annotations

from models.retrieval import demo_data
from models.retrieval.documents import (
    address_area, build_documents, content_hash, hhmm_to_minutes, price_band,
)


def test_address_area():
    assert address_area("서울특별시 강남구 역삼동 823") == "강남구 역삼동"
    assert address_area(None) == ""


def test_hours_and_bands():
    assert hhmm_to_minutes("09:30") == 570
    assert hhmm_to_minutes("") is None
    assert price_band(4500) == "5천원 이하"
    assert price_band(12000) == "만오천원 이하"


def test_payload_flags_are_integers_and_keywords_not_booleans():
    shops, menus = build_documents(demo_data.shop_rows(), demo_data.menu_rows())
    for doc in shops + menus:
        for key, value in doc.payload.items():
            assert not isinstance(value, bool), key
    shop1 = next(d for d in shops if d.id == 1)
    assert shop1.payload["good_influence"] == 1
    assert shop1.payload["is_food_card_shop"] == "Y"
    assert shop1.payload["min_price"] == 1500
    chicken = next(d for d in shops if d.id == 6)
    assert chicken.payload["overnight"] == 1 and chicken.payload["close_min"] == 120
    unknown = next(d for d in shops if d.id == 15)
    assert unknown.payload["hours_known"] == 0


def test_documents_carry_the_searchable_facts():
    shops, menus = build_documents(demo_data.shop_rows(), demo_data.menu_rows())
    shop1 = next(d for d in shops if d.id == 1)
    # the dense text is what the shop says of itself; what it sells and where it is are sparse
    assert "엄마손 분식" in shop1.text and "분식" in shop1.text
    assert shop1.text == "엄마손 분식. 분식. 학생 손님 환영! 떡볶이 양 넉넉하게 드려요"  # name, kind, owner message
    assert "망원동" in shop1.lexical_text
    assert shop1.extra_texts["menu_summary"].startswith("분식 메뉴: ")
    own = [m["menu_name"] for m in demo_data.menu_rows() if int(m["shop_id"]) == 1]
    assert all(name in shop1.lexical_text for name in own)
    tteok = next(d for d in menus if d.payload["menu_name"] == "떡볶이")
    assert "5천원 이하" in tteok.text and "분식" in tteok.text
    assert "엄마손" not in tteok.text and "엄마손" in tteok.lexical_text  # dense text = the dish only
    assert "spicy" in tteok.payload["dietary_tags"]  # 매콤달콤한 → tagged
    gimbap = next(d for d in menus if d.payload["menu_name"] == "김밥")
    assert "spicy" not in gimbap.payload["dietary_tags"]


def test_content_hash_depends_on_model_and_side():
    a = content_hash("m1", "menu_description", "김밥")
    assert a != content_hash("m2", "menu_description", "김밥")
    assert a != content_hash("m1", "query", "김밥")
    assert a == content_hash("m1", "shop_description", "김밥")  # both passages
    assert len(a) == 64


def test_eval_set_grades_agree_and_are_large_enough():
    from models.retrieval.evalset import build_queries, grade, grade_all, set_dish_categories, truth_table

    rows = demo_data.menu_rows()
    truth = {m["id"]: {"dish_type": t, "shop_category": demo_data.shop_rows()[m["shop_id"] - 1]["category"],
                       "spicy": int("매콤" in m["description"] or "얼큰" in m["description"]), "price": m["price"]}
             for m, t in zip(rows, [x[5] for x in demo_data.MENUS])}
    roles = {m["id"]: m["category"] for m in rows}
    set_dish_categories(truth)
    queries = build_queries(truth)
    assert len(queries) >= 60  # the demo set lacks many dish types; the sample data gives 238
    table = truth_table(truth, roles)
    for q in queries:
        vec = grade_all(q, table)
        assert [grade(q, truth[int(i)], roles[int(i)]) for i in table["ids"]] == vec.tolist(), q.text
