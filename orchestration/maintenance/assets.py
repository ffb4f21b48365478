"""Maintenance assets, the jobs that run the graph on a clock, and their schedules (spec §13).

* ``batch_5min``: the 5-minute batch: the live-row quarantine, incremental log models and the
  marts that read them (monitoring, shop status and CTR, user engagement, features), their
  write-backs and feature rows, expired-cache cleanup, the NLU training batch; the §13
  monitoring checks and the quarantine check run with it.
* ``daily_maintenance``: monthly partitions ahead, then the retention policy.
* ``daily_refresh``: every warehouse model and write-back (age groups, churn and other
  date-dependent values move with the calendar even without new data), then the feature store
  reads the feature history dbt just built (``feast apply``, materialize into Redis).
"""


from datetime import datetime

import dagster as dg

from infra.settings import get_settings
from orchestration.maintenance.chores import clean_expired_caches, prepare_training_batch
from orchestration.maintenance.retention import apply_retention
from orchestration.resources import PostgresResource


def _now(postgres: PostgresResource) -> datetime:
    return datetime.now(postgres.settings.tz)


@dg.asset(group_name="maintenance", kinds={"postgres"}, deps=[dg.AssetKey("database_schema")],
          description="Monthly partitions of the log tables, 13 months back and 3 ahead of today.")
def log_partitions(postgres: PostgresResource) -> dg.MaterializeResult:
    from infra.partitions import ensure_partitions

    created = ensure_partitions(postgres.engine(), _now(postgres).date())
    return dg.MaterializeResult(metadata={"created": len(created), "partitions": ", ".join(created) or "-"})


@dg.asset(group_name="maintenance", kinds={"postgres"}, deps=[log_partitions],
          description="Spec §13 retention: partitions dropped whole where possible, old rows deleted elsewhere.")
def retention_sweep(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    results = apply_retention(postgres.engine(), _now(postgres), say=context.log.info)
    return dg.MaterializeResult(
        metadata={
            **{f"{r.table}_deleted_rows": r.deleted_rows for r in results},
            **{f"{r.table}_dropped_partitions": len(r.dropped_partitions) for r in results},
        }
    )


@dg.asset(group_name="maintenance", kinds={"postgres"},
          deps=[dg.AssetKey(["raw", "rag_query_cache"]), dg.AssetKey(["raw", "embedding_cache"]),
                dg.AssetKey(["raw", "conversation_contexts"])],
          description="Delete expired cache rows: RAG results past ttl_seconds, query embeddings unread for 30 days, shop/menu embeddings unused by index builds for 90 days, expired contexts.")
def cache_cleanup(postgres: PostgresResource) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=clean_expired_caches(postgres.engine(), _now(postgres)))


@dg.asset(group_name="maintenance", kinds={"postgres"}, deps=[dg.AssetKey(["raw", "nlu_training_data"])],
          description="Assign new labelled / high-quality NLU examples to a training batch id.")
def training_batch(postgres: PostgresResource) -> dg.MaterializeResult:
    batch_id, assigned = prepare_training_batch(postgres.engine(), _now(postgres))
    return dg.MaterializeResult(metadata={"batch_id": batch_id, "examples": assigned})


# dbt models refreshed every 5 minutes: the live-row quarantine (the staging views leave its rows
# out, and its check warns while it holds any), the incremental log models and the marts over them
BATCH_DBT_KEYS = [dg.AssetKey(["staging", "live_quarantine"])] + [
    dg.AssetKey(["intermediate", name])
    for name in ("int_recommendation_impressions", "int_shop_recommendations_daily", "int_conversation_sessions",
                 "int_interaction_signals", "int_user_activity")
] + [
    dg.AssetKey(["analytics", name])
    # user_features, user_shop_features and the order patterns re-aggregate the order history,
    # which changes with the ingest, not the logs: the daily refresh rebuilds them
    for name in ("monitoring_5min", "shop_features", "shops", "users")
]
BATCH_WRITE_BACK_KEYS = [dg.AssetKey(["operational", name]) for name in ("shops", "users", "feature_vectors")]

# runs with this tag rebuild the dbt tables: orchestration/dagster.yaml lets one run at a time
WAREHOUSE_TAG = {"naviyam/warehouse": "dbt"}

batch_selection = (
    dg.AssetSelection.assets(*BATCH_DBT_KEYS, *BATCH_WRITE_BACK_KEYS)
    | dg.AssetSelection.assets(cache_cleanup, training_batch)
)
batch_5min_job = dg.define_asset_job(
    "batch_5min", selection=batch_selection, description="Spec §13.3 5-minute batch.",
    tags={"dagster/max_retries": "0", **WAREHOUSE_TAG},
)
daily_maintenance_job = dg.define_asset_job(
    "daily_maintenance", selection=dg.AssetSelection.assets(log_partitions, retention_sweep),
    description="Partitions ahead, then the retention policy.",
)
daily_refresh_job = dg.define_asset_job(
    "daily_refresh",
    selection=dg.AssetSelection.groups(
        "warehouse_staging", "warehouse_intermediate", "marts_core", "features", "analytics", "monitoring",
        "operational", "feature_store",
    ),
    description="Every warehouse model and write-back, then the feature store over the new feature history.",
    tags=WAREHOUSE_TAG,
)

TZ = "Asia/Seoul"
# a deliberate choice, not a side effect of opening the UI: NAVIYAM_DAGSTER_SCHEDULES (on in production)
_SCHEDULE_STATUS = (dg.DefaultScheduleStatus.RUNNING if get_settings().dagster_schedules_running
                    else dg.DefaultScheduleStatus.STOPPED)
schedules = [
    dg.ScheduleDefinition(job=batch_5min_job, cron_schedule="*/5 * * * *", execution_timezone=TZ,
                          default_status=_SCHEDULE_STATUS),
    dg.ScheduleDefinition(job=daily_maintenance_job, cron_schedule="30 3 * * *", execution_timezone=TZ,
                          default_status=_SCHEDULE_STATUS),
    dg.ScheduleDefinition(job=daily_refresh_job, cron_schedule="0 4 * * *", execution_timezone=TZ,
                          default_status=_SCHEDULE_STATUS),
]

defs = dg.Definitions(
    assets=[log_partitions, retention_sweep, cache_cleanup, training_batch],
    jobs=[batch_5min_job, daily_maintenance_job, daily_refresh_job],
    schedules=schedules,
)
