"""Feast against the real PostgreSQL (offline) and Redis (online): point-in-time correctness,
materialization, batched online reads and the feature_vectors mirror.

The history here is hand-made, loaded into the very relations the views read (the dbt marts
``analytics.*_features_daily``), so each test knows exactly which row was valid when. That dbt
builds the same history as the reference is tests/integration/test_feature_history_parity.py.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from feast_history import applied_store, two_shops, user_row
from models.ranking.raw_features import FeatureSnapshots, build_snapshots, static_shop_rows

pytestmark = pytest.mark.integration

T0 = pd.Timestamp("2026-10-01 15:00", tz="UTC")  # first nightly row
T_EVENT = pd.Timestamp("2026-10-05 03:00", tz="UTC")  # a recommendation shown
T2 = pd.Timestamp("2026-10-08 15:00", tz="UTC")  # the feature changed after the event


@pytest.fixture(scope="module")
def feast_env(settings, migrated_engine, tmp_path_factory):
    tables = two_shops()
    shops = static_shop_rows(tables)
    later = shops.iloc[[0]].assign(event_timestamp=T2, order_count=9.0, popularity_pct=1.0)
    snaps = FeatureSnapshots(
        user=pd.DataFrame([user_row(T0, 1.0, 1), user_row(T2, 5.0, 5)]),
        shop=pd.concat([shops, later], ignore_index=True),
        user_shop=pd.DataFrame({"user_id": [7, 7], "shop_id": [1, 1], "event_timestamp": [T0, T2],
                                "visit_count": [1.0, 4.0]}),
        visits=pd.DataFrame(),
    )
    database = migrated_engine.url.database
    store = applied_store(settings, snaps, database, tmp_path_factory.mktemp("feast"))
    yield store, database, snaps
    store.teardown()


def test_training_set_never_sees_a_feature_computed_after_the_event(feast_env):
    from feature_repo.reads import historical_features

    store, _, _ = feast_env
    events = pd.DataFrame({"user_id": [7, 7, 7], "shop_id": [1, 2, 1],
                           "event_timestamp": [T_EVENT, T_EVENT, T2 + pd.Timedelta(hours=1)],
                           "clicked": [1, 0, 0]})
    joined = historical_features(store, events)
    assert list(joined["clicked"]) == [1, 0, 0]  # event order and label kept
    # at the event: the value from T0, not the one written at T2
    assert joined.loc[0, "user_features__total_orders"] == 1.0
    assert int(np.argmax(joined.loc[0, "user_features__category_share"])) == 1
    assert joined.loc[0, "user_shop_features__visit_count"] == 1.0
    assert joined.loc[0, "shop_features__order_count"] == 0.0
    assert pd.isna(joined.loc[1, "user_shop_features__visit_count"])  # never visited shop 2
    # after T2 the new values are visible
    assert joined.loc[2, "user_features__total_orders"] == 5.0
    assert joined.loc[2, "shop_features__order_count"] == 9.0


def test_feast_join_equals_the_in_memory_join(feast_env):
    from feature_repo.reads import historical_features
    from models.ranking.training_set import point_in_time_join

    store, _, snaps = feast_env
    events = pd.DataFrame({"user_id": [7, 7, 8], "shop_id": [1, 2, 1],
                           "event_timestamp": [T0 - pd.Timedelta(hours=1), T_EVENT, T2]})
    a = historical_features(store, events)
    b = point_in_time_join(events, snaps)
    for col in ("user_features__total_orders", "user_shop_features__visit_count", "shop_features__order_count",
                "shop_features__median_price"):
        assert np.allclose(a[col].astype(float).fillna(-1), b[col].astype(float).fillna(-1)), col


def test_materialized_online_store_serves_the_latest_rows_in_one_batch(feast_env, settings, migrated_engine):
    from feature_repo.feature_vectors import sync_feature_vectors
    from feature_repo.materialize import materialize_incremental
    from feature_repo.reads import online_features

    store, database, _ = feast_env
    materialize_incremental(settings, end=T2.to_pydatetime() + pd.Timedelta(days=1), store=store)
    user, cand = online_features(store, 7, [1, 2, 999])
    assert user["total_orders"] == 5.0 and list(user["recent_shop_ids"]) == [1]
    assert list(cand["shop_id"]) == [1, 2, 999]
    assert list(cand["visit_count"]) == [4.0, 0.0, 0.0]
    assert cand.loc[0, "order_count"] == 9.0 and pd.isna(cand.loc[2, "order_count"])  # unknown shop: cold row

    counts = sync_feature_vectors(settings, as_of=T2.to_pydatetime() + pd.Timedelta(days=1), database=database)
    assert counts == {"user": 1, "shop": 2}
    with migrated_engine.connect() as conn:
        row = conn.execute(text("SELECT feature_vector_dense, feature_vector_sparse, feature_version, valid_until "
                                "FROM feature_vectors WHERE entity_type = 'user' AND entity_id = '7'")).one()
    assert row.feature_vector_dense["total_orders"] == 5.0
    assert row.feature_vector_sparse["preferred_categories"] == ["치킨"]
    assert row.feature_version == "rank-v1" and row.valid_until > T2.to_pydatetime()
    # idempotent: a second sync updates in place
    sync_feature_vectors(settings, as_of=T2.to_pydatetime() + pd.Timedelta(days=1), database=database)
    with migrated_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM feature_vectors")).scalar_one() == 3


def test_loading_the_reference_history_round_trips(settings, migrated_engine):
    """The reference builder's frames survive the COPY into the offline sources."""
    from feature_repo.history import load_feature_history
    from infra.sample_data.generator import build

    data = build(20261125, 0.02)
    snaps = build_snapshots(data.tables)
    database = migrated_engine.url.database
    counts = load_feature_history(settings, snaps, database=database)
    assert counts["user_features"] == len(snaps.user)
    with migrated_engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM analytics.user_features_daily")).scalar_one()
        arr = conn.execute(text("SELECT category_share FROM analytics.user_features_daily LIMIT 1")).scalar_one()
    assert n == len(snaps.user) and len(arr) == 13
