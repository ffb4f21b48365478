"""The Dagster graph: it loads whole, and it materializes the sample end to end with checks."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from infra.schema import SPEC_TABLES

pytestmark = pytest.mark.integration

MARTS = {"shops", "menus", "users", "foodcard_users", "coupons", "product_orders", "user_coupon_wallet",
         "user_features", "shop_features", "user_shop_features", "user_profiles", "user_journey_analytics",
         "monitoring_5min", "user_features_daily", "shop_features_daily", "user_shop_features_daily"}
MONITORING_CHECKS = {"response_time_under_500ms", "cache_hit_rate_at_least_70pct",
                     "nlu_accuracy_at_least_85pct", "recommendation_ctr_at_least_25pct"}


@pytest.fixture(scope="module")
def defs():
    from infra.dbt import prepare_manifest

    prepare_manifest()
    from orchestration.definitions import defs

    return defs


def test_one_definitions_with_the_whole_graph(defs):
    import dagster as dg

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {f"raw/{t}" for t in SPEC_TABLES} <= keys
    assert {f"analytics/{m}" for m in MARTS} <= keys
    assert {"sample_workbook", "database_schema", "retention_sweep", "cache_cleanup", "training_batch",
            "log_partitions", "operational/shops", "operational/feature_vectors",
            "feature_store/online_features", "models/nlu_intent_classifier", "models/wide_deep_ranker"} <= keys
    # the ingest feeds the dbt sources: raw/shops is materializable and upstream of the marts
    assert graph.get(dg.AssetKey(["raw", "shops"])).is_materializable
    assert dg.AssetKey(["raw", "shops"]) in graph.get(dg.AssetKey(["staging", "stg_naviyam__shops"])).parent_keys
    # the feature store runs after dbt built the relations its feature views read
    from feature_repo.definitions import SOURCE_SCHEMA, SOURCE_TABLES

    assert SOURCE_SCHEMA == "analytics"
    assert graph.get(dg.AssetKey(["feature_store", "online_features"])).parent_keys == {
        dg.AssetKey(["analytics", table]) for table in SOURCE_TABLES.values()}
    checks = {k.name for k in graph.asset_check_keys}
    assert MONITORING_CHECKS <= checks
    assert {"gx_shops_suite", "gx_users_suite"} <= checks
    assert any(name.startswith("not_null_shops_") for name in checks)  # dbt tests as checks
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"batch_5min", "daily_maintenance", "daily_refresh"}
    # the 5-minute batch rebuilds the live-row quarantine and warns while it holds rows
    batch_checks = {k.name for k in defs.resolve_job_def("batch_5min").asset_layer.asset_graph.asset_check_keys}
    assert "live_rows_quarantined" in batch_checks and "live_rows_quarantined" in checks
    crons = {s.job_name: s.cron_schedule for s in defs.schedules}
    assert crons["batch_5min"] == "*/5 * * * *"


def test_nightly_retrain_follows_a_successful_daily_refresh(defs):
    import dagster as dg

    job = defs.resolve_job_def("nightly_retrain")
    selected = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    assert {"models/nlu_intent_classifier", "models/wide_deep_ranker", "retrieval/qdrant_index"} <= selected
    sensor = next(s for s in defs.sensors if s.name == "retrain_after_daily_refresh")
    # the daemon runs it, and the schedules, only when asked (NAVIYAM_DAGSTER_SCHEDULES; on in production)
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert {s.default_status for s in defs.schedules} == {dg.DefaultScheduleStatus.STOPPED}
    with dg.instance_for_test() as instance:
        run = instance.create_run_for_job(defs.resolve_job_def("daily_refresh"))
        ctx = dg.build_run_status_sensor_context(
            sensor_name=sensor.name, dagster_instance=instance, dagster_run=run,
            dagster_event=dg.DagsterEvent("PIPELINE_SUCCESS", job_name="daily_refresh"),
        )
        request = sensor(ctx)
    assert request.run_key == run.run_id


def test_translator_keys_and_groups():
    from orchestration.warehouse.assets import NaviyamDbtTranslator

    t = NaviyamDbtTranslator()
    assert t.get_asset_key({"resource_type": "source", "name": "shops"}).path == ["raw", "shops"]
    model = {"resource_type": "model", "name": "shops", "fqn": ["naviyam", "marts", "core", "shops"]}
    assert t.get_asset_key(model).path == ["analytics", "shops"]
    assert t.get_group_name(model) == "marts_core"
    staging = {"resource_type": "model", "name": "stg_x", "fqn": ["naviyam", "staging", "stg_x"]}
    assert t.get_asset_key(staging).path == ["staging", "stg_x"]


@pytest.mark.slow
def test_materialize_sample_then_batch(migrated_engine, monkeypatch):
    from orchestration.materialize import materialize_all, run_batch

    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # ephemeral instance
    database = migrated_engine.url.database
    said: list[str] = []
    # feature store and training have their own tests (tests/integration/test_feast_*, test_ranking_*)
    groups = ["ingest", "warehouse_staging", "warehouse_intermediate", "marts_core", "features", "analytics",
              "monitoring", "operational", "maintenance"]
    summary = materialize_all(said.append, database=database, scale=0.05, groups=groups)
    assert summary["success"], said
    assert list(summary["stages"]) == ["ingest", "warehouse", "write-back", "maintenance"]
    warehouse = summary["stages"]["warehouse"]
    assert warehouse["checks_passed"] > 150 and not warehouse["checks_failed"] and not warehouse["warnings"]
    assert any(line.startswith("warehouse: ok") for line in said)

    with migrated_engine.connect() as conn:
        shops = conn.execute(text(
            "SELECT count(*) AS n, count(*) FILTER (WHERE current_status <> 'UNKNOWN') AS known, "
            "max(click_through_rate) AS ctr, count(*) FILTER (WHERE total_orders_served > 0) AS served FROM shops")).mappings().one()
        assert shops["n"] > 50 and shops["known"] > 0 and shops["served"] > 0
        assert shops["ctr"] == 0  # empty chat logs: zero impressions, CTR 0
        users = conn.execute(text("SELECT count(*) FILTER (WHERE age_group IS NULL) AS missing FROM users")).scalar()
        assert users == 0
        assert conn.execute(text("SELECT count(*) FROM user_profiles")).scalar() > 0
        assert conn.execute(text("SELECT count(*) FROM feature_vectors WHERE entity_type = 'user'")).scalar() > 0

    # a bad five minutes: slow, cache-missing, NLU-wrong and unclicked -> four WARN checks
    now = datetime.now().astimezone()
    with migrated_engine.begin() as conn:
        conn.execute(text("INSERT INTO performance_logs (\"timestamp\", operation_type, total_time_ms, cache_hit_rate) "
                          "VALUES (:t, 'recommendation', 900, 0.2), (:t, 'recommendation', 700, 0.4)"), {"t": now - timedelta(minutes=2)})
        conn.execute(text("INSERT INTO nlu_training_data (input_text, predicted_intent, true_intent, created_at) VALUES "
                          "('a', 'general_chat', 'food_request', :t), ('b', 'food_request', 'food_request', :t)"),
                     {"t": now - timedelta(minutes=2)})
        conn.execute(text("INSERT INTO recommendations_log (user_id, \"timestamp\", recommendations, recommendation_count) "
                          "VALUES ('1', :t, '[{\"shop_id\": 1}, {\"shop_id\": 2}]', 2)"), {"t": now - timedelta(minutes=2)})
    report = run_batch(said.append, database=database)
    assert report["success"], said
    assert {label.rsplit(":", 1)[1] for label in report["warnings"]} == MONITORING_CHECKS
    with migrated_engine.connect() as conn:
        assert conn.execute(text("SELECT recommendation_count FROM shops WHERE id = 1")).scalar() == 1
