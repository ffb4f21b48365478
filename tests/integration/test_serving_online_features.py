"""The chat service's user features come from the Feast online store (real PostgreSQL + Redis)."""

from __future__ import annotations

import pandas as pd
import pytest

from feast_history import applied_store, two_shops, user_row
from models.ranking.raw_features import FeatureSnapshots, static_shop_rows

pytestmark = pytest.mark.integration

T_OLD = pd.Timestamp("2026-10-01 15:00", tz="UTC")
T_NEW = pd.Timestamp("2026-10-08 15:00", tz="UTC")


@pytest.fixture(scope="module")
def materialized_store(settings, migrated_engine, tmp_path_factory):
    from feature_repo.materialize import materialize_incremental

    snaps = FeatureSnapshots(
        user=pd.DataFrame([user_row(T_OLD, 1.0, 1, user_id=42), user_row(T_NEW, 6.0, 0, user_id=42)]),
        shop=static_shop_rows(two_shops()),
        user_shop=pd.DataFrame({"user_id": [42, 42, 42], "shop_id": [1, 1, 2], "event_timestamp": [T_OLD, T_NEW, T_NEW],
                                "visit_count": [1.0, 5.0, 1.0]}),
        visits=pd.DataFrame(),
    )
    store = applied_store(settings, snaps, migrated_engine.url.database, tmp_path_factory.mktemp("feast"))
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


def test_a_later_turn_reuses_the_row_and_reads_only_new_shops(materialized_store):
    from serving.online_features import FeastUserFeatures

    reader = FeastUserFeatures(materialized_store)
    first, level = reader.get("42", [1])
    assert level == "feast" and first["visit_counts"] == {1: 5.0}
    calls = []
    real = materialized_store.get_online_features
    materialized_store.get_online_features = lambda **k: calls.append(k) or real(**k)
    try:
        again, level = reader.get("42", [1])
        assert (again, level, calls) == (first, "l1", [])  # the same turn's worth again: no read
        more, level = reader.get("42", [1, 2])
        assert level == "feast" and more["visit_counts"] == {1: 5.0, 2: 1.0}
        assert [[r["shop_id"] for r in c["entity_rows"]] for c in calls] == [[2]]  # only the new shop
        reader.invalidate("42")
        assert reader.get("42", [1])[1] == "feast"
    finally:
        materialized_store.get_online_features = real
    stale = FeastUserFeatures(materialized_store, ttl_s=0.0)
    stale.get("42", [1])
    assert stale.get("42", [1])[1] == "feast"  # past the TTL: read again
