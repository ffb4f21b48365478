"""Feast over the feature history dbt builds (analytics.*_features_daily): `feast apply`,
materialize into Redis, and mirror what the online store serves into public.feature_vectors
(feature_version rank-v1)."""

import dagster as dg

from orchestration.resources import PostgresResource


@dg.asset(
    key=["feature_store", "online_features"],
    # the sources of the feature views (feature_repo.definitions.SOURCE_TABLES), built by dbt
    deps=[
        dg.AssetKey(["analytics", "user_features_daily"]),
        dg.AssetKey(["analytics", "shop_features_daily"]),
        dg.AssetKey(["analytics", "user_shop_features_daily"]),
    ],
    group_name="feature_store",
    kinds={"feast", "redis", "postgres"},
    description="Feast feature views over the dbt feature-history marts (PostgreSQL offline, Redis "
    "online), applied and materialized incrementally up to now; feature_vectors kept in step with "
    "what the online store serves.",
)
def online_features(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    from feature_repo.refresh import refresh_feature_store

    summary = refresh_feature_store(postgres.settings, database=postgres.database, scorer=_champion(context))
    context.log.info(f"feature store refreshed: {summary}")
    _announce_new_features(summary["materialized_until"], context)
    return dg.MaterializeResult(
        metadata={
            "materialized_until": summary["materialized_until"],
            "history_rows": dg.MetadataValue.json(summary["history_rows"]),
            "feature_vectors": dg.MetadataValue.json(summary["feature_vectors"]),
        }
    )


def _champion(context: dg.AssetExecutionContext):
    """The registered champion ranker, whose embeddings feature_vectors mirrors; None before one exists."""
    try:
        from models.ranking.scorer import load_scorer

        return load_scorer()
    except Exception as exc:  # noqa: BLE001 - no champion yet: mirror without embeddings
        context.log.info(f"no champion ranker ({exc}); feature_vectors without embeddings")
        return None


def _announce_new_features(version: str, context: dg.AssetExecutionContext) -> None:
    """Bump the key the chat service watches, so it reloads its in-memory shop features now."""
    from infra.redis_client import get_redis, key, redis_errors
    from infra.feature_contract import ONLINE_VERSION_KEY

    try:
        get_redis().set(key(*ONLINE_VERSION_KEY), version)
    except redis_errors as exc:  # the service also reloads on its own every 5 minutes
        context.log.warning(f"could not announce the new feature version: {exc}")


defs = dg.Definitions(assets=[online_features])
