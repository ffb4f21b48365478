"""Interaction features, metrics, co-order scores and the in-memory point-in-time join."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.ranking import features as F
from models.ranking.similarity import CoOrderIndex, pad_history
from models.ranking.metrics import auc, hit_rate_at_k, ndcg_at_k, truth_recovery
from models.ranking.raw_features import build_snapshots
from models.ranking.training_set import point_in_time_join


def _cols(n=3, urgent=False, budget=np.nan, price=(5000.0, 8000.0, 12000.0), lat=(37.5, 37.51, 37.55)):
    user = {"total_orders": np.full(n, 10.0), "avg_order_value": np.full(n, 8000.0),
            "favorite_count": np.full(n, 2.0), "loc_lat": np.full(n, 37.5), "loc_lon": np.full(n, 127.0),
            "category_share": np.eye(len(F.CATEGORIES))[1], "slot_share": np.array([0.1, 0.5, 0.3, 0.1])}
    shop = {"category_idx": np.array([1, 0, 5][:n]), "lat": np.array(lat[:n]), "lon": np.full(n, 127.0),
            "median_price": np.array(price[:n]), "distinct_customers": np.full(n, 10.0),
            "repeat_customer_rate": np.full(n, 0.2), "popularity_pct": np.array([0.9, 0.5, 0.1][:n])}
    return F.interaction_columns(user, shop, {"visit_count": np.array([1.0, 0.0, 0.0][:n])}, np.float64(720.0),
                                 np.float64(np.nan), np.float64(np.nan), np.float64(budget), np.bool_(urgent))


def test_slot_boundaries():
    minutes = np.array([6 * 60, 12 * 60, 18 * 60, 23 * 60, 2 * 60, 10 * 60 + 29, 10 * 60 + 30])
    assert list(F.slot_of_minute(minutes)) == [0, 1, 2, 3, 3, 0, 1]


def test_interaction_features_follow_their_definitions():
    c = _cols()
    assert c["category_preference_match"][0] == pytest.approx(1.0)  # the user's top category
    assert c["category_preference_match"][1] < 0.2
    assert c["budget_compatibility"][1] == pytest.approx(1.0)  # price == usual spend
    assert c["budget_compatibility"][2] < c["budget_compatibility"][0] < 1.0  # over budget hurts more than under
    assert c["distance_penalty"][0] == pytest.approx(0.0) and c["distance_penalty"][2] > c["distance_penalty"][1]
    assert list(c["visited_before"]) == [1.0, 0.0, 0.0]
    assert all(len(v) == 3 for v in c.values())
    stored = F.stored_values(c)
    assert set(stored) == set(F.STORED_FEATURES)
    assert all(((v >= 0) & (v <= 1)).all() for v in stored.values())


def test_nlu_budget_overrides_the_usual_spend():
    assert _cols(budget=12000.0)["budget_compatibility"][2] == pytest.approx(1.0)


def test_urgent_mode_reweights_distance_and_budget():
    normal, urgent = _cols(), _cols(urgent=True)
    assert np.allclose(urgent["distance_penalty"], 2 * normal["distance_penalty"])
    assert np.allclose(urgent["budget_compatibility"], 1.5 * normal["budget_compatibility"])
    assert np.allclose(urgent["category_preference_match"], normal["category_preference_match"])


def test_cold_user_gets_finite_neutral_features():
    n = 2
    user = {"total_orders": np.zeros(n), "avg_order_value": np.full(n, np.nan), "favorite_count": np.zeros(n),
            "loc_lat": np.full(n, np.nan), "loc_lon": np.full(n, np.nan)}
    shop = {"category_idx": np.array([0, 3]), "lat": np.array([37.5, 37.6]), "lon": np.array([127.0, 127.0]),
            "median_price": np.array([7000.0, np.nan]), "distinct_customers": np.zeros(n),
            "repeat_customer_rate": np.zeros(n)}
    c = F.interaction_columns(user, shop, {}, np.float64(720.0), np.float64(np.nan), np.float64(np.nan),
                              np.float64(np.nan), np.bool_(False))
    for name in F.STORED_FEATURES:
        assert np.isfinite(c[name]).all(), name
    assert c["category_preference_match"][0] == pytest.approx(c["category_preference_match"][1])


def test_ranking_metrics():
    group = np.array([0, 0, 0, 1, 1, 1])
    label = np.array([1, 0, 0, 0, 0, 1])
    perfect = np.array([0.9, 0.1, 0.2, 0.1, 0.2, 0.9])
    assert ndcg_at_k(group, perfect, label, 10) == pytest.approx(1.0)
    assert hit_rate_at_k(group, perfect, label, 1) == 1.0
    assert hit_rate_at_k(group, -perfect, label, 1) == 0.0
    assert auc(label, perfect) == 1.0
    rec = truth_recovery(group, perfect, np.array([0.5, 0.1, 0.2, 0.1, 0.2, 0.6]))
    assert rec["true_top1"] == 1.0 and rec["true_spearman"] == pytest.approx(1.0)


def test_co_order_index_scores_co_ordered_shops_higher():
    visits = pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 3, 4], "shop_id": [10, 20, 10, 20, 10, 20, 30]})
    idx = CoOrderIndex.fit(visits, shrinkage=0.0)
    assert np.allclose(idx.similarity, idx.similarity.T) and np.allclose(np.diag(idx.similarity), 0)
    s = idx.score(pad_history([[10]]), np.array([20]))[0], idx.score(pad_history([[10]]), np.array([30]))[0]
    assert s[0] > s[1] == 0.0
    assert idx.score(pad_history([[]]), np.array([20]))[0] == 0.0  # cold user
    assert idx.score(pad_history([[10]]), np.array([999]))[0] == 0.0  # unknown shop


def _tiny_tables():
    shops = pd.DataFrame({"id": [1, 2], "category": ["분식", "치킨"], "is_food_card_shop": ["Y", "N"],
                          "is_good_influence_shop": [False, True], "latitude": [37.5, 37.51],
                          "longitude": [127.0, 127.01]})
    menus = pd.DataFrame({"id": [11, 21], "shop_id": [1, 2], "price": [5000, 18000], "category": ["메인메뉴"] * 2})
    orders = pd.DataFrame({"id": [1, 2, 3], "user_id": [7, 7, 7], "product_id": [11, 11, 21], "quantity": [1, 1, 1],
                           "price": [5000, 5000, 18000],
                           "created_at": pd.to_datetime(["2026-10-01 12:00", "2026-10-03 12:00", "2026-10-10 19:00"])})
    users = pd.DataFrame({"id": [7], "birthday": pd.to_datetime(["2012-05-01"])})
    cards = pd.DataFrame({"user_id": [7], "status": ["ACTIVE"]})
    return {"shops": shops, "menus": menus, "product_orders": orders, "users": users, "foodcard_users": cards}


def test_snapshots_are_stamped_after_the_nightly_run():
    snaps = build_snapshots(_tiny_tables())
    user = snaps.user.sort_values("event_timestamp")
    # an order at 12:00 local on 1 Oct is served from 00:00 local on 2 Oct (15:00 UTC on 1 Oct)
    assert user["event_timestamp"].iloc[0] == pd.Timestamp("2026-10-01 15:00", tz="UTC")
    assert list(user["total_orders"]) == [1.0, 2.0, 3.0]
    assert user["segment"].iloc[0] == "teen" and user["is_foodcard"].iloc[0] == 1.0
    assert list(user["recent_shop_ids"].iloc[-1]) == [2, 1]
    assert user["favorite_count"].iloc[-1] == 1.0


def test_point_in_time_join_never_reads_a_feature_from_after_the_event():
    snaps = build_snapshots(_tiny_tables())
    events = pd.DataFrame({"user_id": [7, 7, 7], "shop_id": [2, 2, 1],
                           "event_timestamp": pd.to_datetime(["2026-10-01 13:00", "2026-10-05 12:00",
                                                              "2026-10-11 12:00"]).tz_localize("Asia/Seoul")})
    joined = point_in_time_join(events, snaps)
    # same day as the first order: the nightly run has not happened yet → no user row at all
    assert pd.isna(joined.loc[0, "user_features__total_orders"])
    assert joined.loc[1, "user_features__total_orders"] == 2.0  # the 10 Oct order is in the future
    assert joined.loc[1, "user_shop_features__visit_count"] != joined.loc[1, "user_shop_features__visit_count"]  # NaN
    assert joined.loc[2, "user_features__total_orders"] == 3.0
    assert joined.loc[2, "user_shop_features__visit_count"] == 2.0
    assert list(joined["shop_id"]) == [2, 2, 1]  # row order kept


def test_content_index_scores_similar_shops_higher_and_falls_back_without_history():
    from models.ranking.similarity import ContentIndex

    vectors = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
    idx = ContentIndex(shop_ids=np.array([1, 2, 3]), vectors=vectors)
    s = idx.score(pad_history([[1]]), np.array([2, 3]))
    assert s[0] > s[1] and 0.0 <= s.min() and s.max() <= 1.0
    assert np.isnan(idx.score(pad_history([[]]), np.array([2]))).all()
    # interaction_columns uses the category match where the text score is missing
    c = _cols()
    user = {"total_orders": np.full(3, 10.0), "avg_order_value": np.full(3, 8000.0), "favorite_count": np.zeros(3),
            "loc_lat": np.full(3, 37.5), "loc_lon": np.full(3, 127.0), "category_share": np.eye(13)[1]}
    shop = {"category_idx": np.array([1, 0, 5]), "lat": np.full(3, 37.5), "lon": np.full(3, 127.0),
            "median_price": np.full(3, 8000.0), "distinct_customers": np.zeros(3), "repeat_customer_rate": np.zeros(3)}
    out = F.interaction_columns(user, shop, {}, np.float64(720.0), np.float64(np.nan), np.float64(np.nan),
                                np.float64(np.nan), np.bool_(False), content=np.array([0.9, np.nan, 0.1]))
    assert out["content_score"][0] == pytest.approx(0.9) and out["content_score"][2] == pytest.approx(0.1)
    assert out["content_score"][1] == pytest.approx(c["category_preference_match"][1])
