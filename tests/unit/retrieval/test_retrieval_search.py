"""Search behaviour on the hand-made demo set, on both backends (Qdrant Edge and qdrant-client)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from models.retrieval import demo_data
from models.retrieval.text import EmptyQueryError, extract_budget

KST = ZoneInfo("Asia/Seoul")
DISH = demo_data.dish_types()
SHOP_OF = {i: m["shop_id"] for i, m in enumerate(demo_data.menu_rows(), start=1)}
SHOP = {s["id"]: s for s in demo_data.shop_rows()}


def dishes(hits):
    return [DISH[h.id] for h in hits]


@pytest.mark.parametrize("query,dish", [
    ("떡볶이 먹고 싶어", "떡볶이"),
    ("떡뽁이", "떡볶이"),  # typo
    ("떡볶이를먹고싶어요", "떡볶이"),  # particles, no spaces
    ("김밥 먹을래", "김밥"),
    ("짜장면이랑 짬뽕", "짜장면"),
    ("돈가스", "돈까스"),  # spelling variant
    ("국밥 한 그릇", "국밥"),
    ("쌀국수", "쌀국수"),
])
@pytest.mark.parametrize("mode", ["hybrid", "dense", "sparse"])
def test_dish_queries_rank_the_dish_first(retriever, query, dish, mode):
    from models.retrieval.store import EdgeStore

    hits = retriever.search(query, limit=5, mode=mode)
    assert hits, query
    assert dish in dishes(hits[:3])
    if mode == "hybrid" and isinstance(retriever.store, EdgeStore):
        assert dish in dishes(hits[:2])  # (qdrant-client's local-mode MMR differs slightly)


def test_budget_in_the_text_with_a_filter(retriever):
    text = "5천원이하 김밥"
    budget = extract_budget(text)
    hits = retriever.search(text, {"max_price": budget}, limit=10)
    assert hits and all(h.payload["price"] <= 5000 for h in hits)
    assert set(dishes(hits[:4])) == {"김밥"}


def test_filters_apply_inside_the_search_not_after(retriever):
    # a query for 떡볶이 restricted to 중식: a post-filter of the top 10 would return nothing
    hits = retriever.search("떡볶이", {"categories": ["중식"]}, limit=10)
    assert len(hits) == 6  # all six 중식 menus
    assert {h.payload["category"] for h in hits} == {"중식"}


def test_food_card_and_good_influence(retriever):
    hits = retriever.search("맛있는 거", {"food_card_only": True}, limit=50)
    assert hits and {SHOP[SHOP_OF[h.id]]["is_food_card_shop"] for h in hits} <= {"Y", "P"}
    only_y = retriever.search("맛있는 거", {"food_card_only": True, "food_card_values": ("Y",)}, limit=50)
    assert {SHOP[SHOP_OF[h.id]]["is_food_card_shop"] for h in only_y} == {"Y"}
    good = retriever.search("맛있는 거", {"good_influence_only": True}, limit=50)
    assert good and all(SHOP[SHOP_OF[h.id]]["is_good_influence_shop"] for h in good)
    assert len(good) == sum(1 for i in SHOP_OF if SHOP[SHOP_OF[i]]["is_good_influence_shop"])


@pytest.mark.parametrize("hhmm,open_shops", [
    ("03:00", {5, 15}),  # 24h 국밥 (06 closes at 02:00); 15 has no hours but its status says OPEN
    ("16:00", {1, 2, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15}),  # 3, 11, 16 on break
    ("12:00", {1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 15, 16}),
    ("01:30", {5, 6, 15}),  # 치킨 open past midnight
])
def test_open_now_uses_hours_breaks_and_overnight(store, embedder, make, hhmm, open_shops):
    r = make(store, embedder)
    h, m = map(int, hhmm.split(":"))
    at = datetime(2026, 11, 25, h, m, tzinfo=KST)
    hits = r.search("밥", {"open_now": True, "at": at}, limit=100, target="shops")
    assert {hit.id for hit in hits} == open_shops


def test_menus_within_budget_and_shops_with_a_menu_within_budget(retriever):
    menus = retriever.search("배고파", {"max_price": 3000}, limit=100)
    assert menus and all(h.payload["price"] <= 3000 for h in menus)
    shops = retriever.search("배고파", {"max_price": 3000}, limit=100, target="shops")
    assert {h.id for h in shops} == {SHOP_OF[h.id] for h in menus}


def test_no_spicy_excludes_spicy_menus(retriever):
    hits = retriever.search("국물 요리", {"dietary": ["no_spicy"]}, limit=30)
    assert hits
    assert all("spicy" not in h.payload["dietary_tags"] for h in hits)
    assert "짬뽕" not in [h.payload["menu_name"] for h in hits]


def test_near_filter(retriever):
    # 1 km around 망원동: shops 1 (망원), 2 (합정) are within, 강남 is not
    hits = retriever.search("분식", {"near": (37.5561, 126.9019, 1200)}, limit=50, target="shops")
    assert {h.id for h in hits} <= {1, 2, 3, 11}
    assert 1 in {h.id for h in hits}


def test_precomputed_query_vector_gives_the_same_result(retriever, embedder):
    vec = retriever.embed_query("치즈 돈까스")
    a = retriever.search("치즈 돈까스", limit=5, use_cache=False)
    b = retriever.search("치즈 돈까스", limit=5, query_vector=vec, use_cache=False)
    # equal RRF scores may come back in either order (the shard searches segments in parallel)
    def ranked(hits):
        return sorted((-round(h.score, 6), h.id) for h in hits)

    assert ranked(a) == ranked(b)
    assert retriever.last_trace.embedding == "given"
    with pytest.raises(ValueError):
        retriever.search("치즈 돈까스", query_vector=np.zeros(7))


def test_empty_and_huge_queries(retriever):
    with pytest.raises(EmptyQueryError):
        retriever.search("   ")
    hits = retriever.search("떡볶이 " + "아주 " * 2500, limit=5)  # ~7,500 characters
    assert retriever.last_trace.truncated
    assert len(retriever.last_trace.normalized_query) <= 256
    assert "떡볶이" in dishes(hits)


def test_bad_arguments(retriever):
    with pytest.raises(ValueError):
        retriever.search("김밥", limit=0)
    with pytest.raises(ValueError):
        retriever.search("김밥", target="users")
    with pytest.raises(ValueError):
        retriever.search("김밥", {"no_such_filter": 1})


def test_result_cache_l1_hit(retriever):
    first = retriever.search("라멘 맛집", {"max_price": 10000}, limit=5)
    assert retriever.last_trace.result_cache == "miss"
    second = retriever.search("  라멘   맛집 ", {"max_price": 10000}, limit=5)
    assert retriever.last_trace.result_cache == "l1"
    assert [h.id for h in first] == [h.id for h in second]
    retriever.search("라멘 맛집", {"max_price": 9000}, limit=5)  # other filters, other key
    assert retriever.last_trace.result_cache == "miss"
    # the query embedding was cached on the first call
    assert retriever.embeddings.stats.l1 >= 1


def test_redis_down_degrades_to_the_next_level(store, embedder, make):
    import redis

    # nothing listens on port 1: every Redis call fails with a connection error
    r = make(store, embedder, redis_factory=lambda: redis.Redis(port=1, socket_connect_timeout=0.2))
    hits = r.search("김밥", limit=3)
    assert hits and r.redis.breaker.failures >= 1
    assert not r.redis.breaker.available()  # switched off for a while: no timeout per request
    hits2 = r.search("김밥", limit=3)
    assert [h.id for h in hits] == [h.id for h in hits2]
    assert r.last_trace.result_cache == "l1"


def test_shop_search(retriever):
    hits = retriever.search("김밥집", limit=3, target="shops")
    assert hits[0].payload["shop_name"] == "소문난 김밥"
    assert hits[0].kind == "shop" and hits[0].doc_id == "shop_2"



def test_search_each_answers_as_separate_searches_would(retriever):
    """What-ifs: one ranking of dishes for them all, then per filter set the dishes' menus (and a
    plain filtered search where few pass), without MMR (the caller picks by price, distance or
    opening time); asked again, served by this process."""
    sets = [{"near": (37.5561, 126.9019, 3000), "max_price": 6000}, {"categories": ["분식"]}, {}]
    calls = []
    real = retriever.store.search
    retriever.store.search = lambda *a, **k: calls.append(k) or real(*a, **k)
    try:
        lists = retriever.search_each("떡볶이", sets, limit=5)
        first = len(calls)
        assert 1 <= first <= len(sets) + 1 and len(lists) == len(sets)
        assert sum(1 for k in calls if "dish_rep" in str(k["condition"])) <= 1  # dishes ranked once for all
        assert all(k["diverse"] is False for k in calls)
        again = retriever.search_each("떡볶이", sets, limit=5)
        assert len(calls) == first  # no store search the second time
        assert [[h.id for h in hits] for hits in again] == [[h.id for h in hits] for hits in lists]
        retriever.search_each("떡볶이", [*sets, {"max_price": 4000}], limit=5)
        assert len(calls) <= first + 1  # only the new what-if is searched (its dishes are known)
    finally:
        retriever.store.search = real
    mmr, retriever.store.mmr_diversity = retriever.store.mmr_diversity, None
    try:
        for flt, hits in zip(sets, lists):
            alone = retriever.search("떡볶이", flt, limit=5, use_cache=False)
            # the same hits with the same scores (hits of equal fused score may come in either order)
            assert sorted((round(h.score, 9), h.id) for h in hits) == sorted((round(h.score, 9), h.id) for h in alone)
    finally:
        retriever.store.mmr_diversity = mmr


def test_a_price_ceiling_is_keyed_by_the_menu_prices_it_admits(retriever):
    """Ceilings with no menu priced between them are one filter: same hits, one result-cache key."""
    from models.retrieval.filters import SearchFilters

    prices = sorted({int(p) for p in retriever.store.payload_values("menus", "price")})
    low, high = prices[len(prices) // 2], prices[len(prices) // 2 + 1]
    between = low + (high - low) // 2
    assert low < between < high
    canon = retriever.canonical_filters(SearchFilters(max_price=between))
    assert canon.max_price == low
    assert retriever.canonical_filters(SearchFilters(max_price=low)).max_price == low
    assert retriever.canonical_filters(SearchFilters(max_price=prices[0] - 1)).max_price == prices[0] - 1
    assert retriever.canonical_filters(SearchFilters(max_price=between), "shops").max_price == between
    a = retriever.search("떡볶이", {"max_price": between}, limit=5)
    b = retriever.search("떡볶이", {"max_price": low}, limit=5)
    assert [h.id for h in a] == [h.id for h in b]
    assert retriever.last_trace.result_cache in ("l1", "l2")  # the second ceiling found the first's entry


def test_best_per_value_searches_each_dish_under_the_filter(retriever, embedder):
    """One batch of small searches, one per dish, each inside the filter (both backends)."""
    from models.retrieval.filters import SearchFilters

    vec = embedder.embed_queries(["된장찌개"])[0]
    found = retriever.store.best_per_value("menus", dense=vec, sparse=None, condition=None, key="dish",
                                           values=["된장찌개", "라면", "없는요리"], per_value=5)
    assert [len(hits) for hits in found] == [2, 1, 0]
    assert all(h.payload["dish"] == "된장찌개" for h in found[0])
    cheap = SearchFilters(max_price=min(h.payload["price"] for h in found[0])).to_condition("menus", KST)
    narrowed = retriever.store.best_per_value("menus", dense=vec, sparse=None, condition=cheap, key="dish",
                                              values=["된장찌개"], per_value=5)
    assert len(narrowed[0]) == 1
    # which dishes are served at all under a filter: one facet count
    assert retriever.store.present_values("menus", key="dish", values=["된장찌개", "라면", "없는요리"],
                                          condition=None) == {"된장찌개", "라면"}
    assert "된장찌개" in retriever.store.present_values("menus", key="dish", values=["된장찌개"], condition=cheap)


def test_a_need_gets_several_dishes_ranked_as_dishes(retriever):
    """"국물 있는 따뜻한 거" names no dish: the list shows soups of several kinds, one dish ranked
    once through its representative, and the ranking of dishes is cached for the next child."""
    from models.retrieval.meaning import menu_meaning

    rows = demo_data.menu_rows()
    hits = retriever.search("국물 있는 따뜻한 거", limit=5, use_cache=False)
    names = [h.payload["menu_name"] for h in hits]
    assert len(set(names)) >= 4, names
    soups = [h for h in hits if "soup" in menu_meaning(rows[h.id - 1]["menu_name"], rows[h.id - 1].get("description")
                                                       or "", rows[h.id - 1].get("category") or "")]
    assert len(soups) >= 3, names
    calls = []
    real = retriever.store.search
    retriever.store.search = lambda *a, **k: calls.append(k) or real(*a, **k)
    try:
        again = retriever.search("국물 있는 따뜻한 거", limit=5, use_cache=False)
    finally:
        retriever.store.search = real
    assert [h.id for h in again] == [h.id for h in hits]
    assert not any("dish_rep" in str(k["condition"]) for k in calls)  # the dish ranking was cached
