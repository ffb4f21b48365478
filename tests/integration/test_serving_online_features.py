"""The chat service's user features come from the Feast online store (real PostgreSQL + Redis)."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from models.ranking.raw_features import FeatureSnapshots, static_shop_rows

pytestmark = pytest.mark.integration

T_OLD = pd.Timestamp("2026-10-01 15:00", tz="UTC")
T_NEW = pd.Timestamp("2026-10-08 15:00", tz="UTC")


def _user(ts: pd.Timestamp, total: float, top: int) -> dict:
    share = np.zeros(13)
    share[top] = 1.0
    return {"user_id": 42, "event_timestamp": ts, "total_orders": total, "avg_order_value": 5500.0,
            "order_frequency": 3.0, "favorite_count": 1.0, "category_diversity": 0.0, "shop_loyalty": 0.5,
            "loc_lat": 37.55, "loc_lon": 126.9, "is_foodcard": 1.0, "segment": "child",
            "category_share": share, "slot_share": np.array([0.0, 1.0, 0.0, 0.0]), "recent_shop_ids": [1]}


@pytest.fixture(scope="module")
def materialized_store(settings, migrated_engine, tmp_path_factory):
    from feature_repo.store import apply_feature_store, get_feature_store, load_feature_history, materialize_incremental

    tables = {
        "shops": pd.DataFrame({"id": [1, 2], "category": ["분식", "치킨"], "is_food_card_shop": ["Y", "N"],
                               "is_good_influence_shop": [False, True], "latitude": [37.5, 37.51],
                               "longitude": [127.0, 127.01]}),
        "menus": pd.DataFrame({"id": [11, 21], "shop_id": [1, 2], "price": [5000, 18000], "category": ["메인메뉴"] * 2}),
    }
    snaps = FeatureSnapshots(
        user=pd.DataFrame([_user(T_OLD, 1.0, 1), _user(T_NEW, 6.0, 0)]),
        shop=static_shop_rows(tables),
        user_shop=pd.DataFrame({"user_id": [42, 42, 42], "shop_id": [1, 1, 2], "event_timestamp": [T_OLD, T_NEW, T_NEW],
                                "visit_count": [1.0, 5.0, 1.0]}),
        visits=pd.DataFrame(),
    )
    database = migrated_engine.url.database
    load_feature_history(settings, snaps, database=database)
    store = get_feature_store(settings, project=f"t_{uuid.uuid4().hex[:10]}", database=database,
                              registry_path=tmp_path_factory.mktemp("feast") / "registry.db")
    apply_feature_store(store=store)
    materialize_incremental(settings, end=(T_NEW + pd.Timedelta(days=1)).to_pydatetime(), store=store)
    yield store
    store.teardown()


def test_user_row_and_candidate_visits_come_from_the_online_store(materialized_store):
    from serving.online_features import FeastUserFeatures

    reader = FeastUserFeatures(materialized_store)
    user, level = reader.get("42", [2, 1, 999, 1])
    assert level == "feast"
    assert user["total_orders"] == 6.0  # the newest materialized row, not the older one
    assert user["category_share_by_name"]["한식"] == pytest.approx(1.0)  # index 0 in the newest row
    assert user["visit_counts"] == {1: 5.0, 2: 1.0}  # unknown shop 999: no visit, not an error
    assert user["user_id"] == 42


def test_unknown_and_non_platform_users_are_cold_starts(materialized_store):
    from serving.online_features import FeastUserFeatures

    reader = FeastUserFeatures(materialized_store)
    assert reader.get("43", [1]) == ({"total_orders": 0, "visit_counts": {}}, "feast")
    assert reader.get("kakao-abc", [1])[0] == {"total_orders": 0}


def test_open_returns_none_without_a_registered_store(settings, tmp_path):
    from serving.online_features import FeastUserFeatures

    assert FeastUserFeatures.open(settings.model_copy(update={"data_dir": tmp_path})) is None
