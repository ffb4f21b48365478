"""Feast objects of the ranking features: entities, PostgreSQL sources, feature views, a service.

Nothing here names a feature: every view is built from a ``FeatureGroup`` of the ranker's
contract (``infra/feature_contract.py``), so the Feast schema, the training frame and the
serving frame cannot disagree. The sources are the dbt marts of the feature history,
``analytics.user_features_daily``, ``analytics.shop_features_daily`` and
``analytics.user_shop_features_daily`` (one row per entity per night its features changed;
built by ``dbt_project/models/marts/features/*_daily.sql``, whose reference implementation is
``models.ranking.raw_features``). Training reads them as ``<view>__<feature>`` (full feature names).

``ttl=0`` means a row stays valid until a newer one replaces it: shops that nobody ordered
from for months must still be scorable.
"""

from __future__ import annotations

from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, ValueType
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import PostgreSQLSource
from feast.types import Array, Float64, Int64, String

from infra import feature_contract as contract

SOURCE_SCHEMA = contract.SOURCE_SCHEMA
SOURCE_TABLES = {g.name: g.mart for g in contract.GROUPS}  # feature view -> dbt mart
JOIN_KEYS = contract.JOIN_KEYS
FOREVER = timedelta(seconds=0)
FEAST_TYPES = {contract.FLOAT: Float64, contract.INT: Int64, contract.STR: String,
               contract.FLOATS: Array(Float64), contract.INTS: Array(Int64)}

user = Entity(name="user", join_keys=[JOIN_KEYS["user"]], value_type=ValueType.INT64,
              description="A Naviyam user (users.id)")
shop = Entity(name="shop", join_keys=[JOIN_KEYS["shop"]], value_type=ValueType.INT64,
              description="A restaurant (shops.id)")
ENTITIES = {"user": user, "shop": shop}


def _source(group: contract.FeatureGroup) -> PostgreSQLSource:
    return PostgreSQLSource(
        name=f"{group.name}_source",
        query=f"SELECT * FROM {SOURCE_SCHEMA}.{group.mart}",
        timestamp_field="event_timestamp",
        created_timestamp_column="created_at",
    )


def feature_view(group: contract.FeatureGroup) -> FeatureView:
    """The Feast view of one contract group."""
    return FeatureView(
        name=group.name,
        entities=[ENTITIES[e] for e in group.entities],
        ttl=FOREVER,
        schema=[Field(name=f.name, dtype=FEAST_TYPES[f.kind], description=f.description) for f in group.features],
        source=_source(group),
        online=True,
        tags={"owner": "ranking", "grain": group.grain},
    )


user_features = feature_view(contract.USER)
shop_features = feature_view(contract.SHOP)
user_shop_features = feature_view(contract.USER_SHOP)

ranking_v1 = FeatureService(name="ranking_v1", features=[user_features, shop_features, user_shop_features],
                            description="Everything the Wide & Deep ranker reads")


# ---- what the service scored with: the served-feature log ------------------------------------------
# The chat service writes one ``recommendation_features`` row per shown recommendation (the event log
# is its one writer), stamped with the turn's time and its recommendation event id: the contract's
# stored columns exactly as the ranker saw them. This view reads that table as Feast's served-feature
# log, so a training row joins an impression (user, shop, the list's time) to the values it was
# scored with, point in time; ``SERVED_TTL`` keeps an impression from picking up an earlier one's row.
SERVED_TTL = timedelta(seconds=1)
SERVED_NUMBERS = ("predicted_score",)


def _served_column(name: str) -> str:
    if name in contract.BOOLEAN_STORED:
        return f"CAST(CAST({name} AS integer) AS float8) AS {name}"
    return f"CAST({name} AS float8) AS {name}"


served_ranking_source = PostgreSQLSource(
    name="served_ranking_features_source",
    query=("SELECT CAST(user_id AS bigint) AS user_id, shop_id, \"timestamp\" AS event_timestamp, "
           + ", ".join(_served_column(c) for c in (*contract.STORED_FEATURES, *SERVED_NUMBERS))
           + ", ranking_position, CAST(recommendation_event_id AS text) AS recommendation_event_id"
           " FROM public.recommendation_features WHERE user_id ~ '^[0-9]{1,18}$'"),
    timestamp_field="event_timestamp",
)
served_ranking_features = FeatureView(
    name="served_ranking_features",
    entities=[user, shop],
    ttl=SERVED_TTL,
    schema=[*(Field(name=c, dtype=Float64) for c in (*contract.STORED_FEATURES, *SERVED_NUMBERS)),
            Field(name="ranking_position", dtype=Int64), Field(name="recommendation_event_id", dtype=String)],
    source=served_ranking_source,
    online=False,  # a log: read offline by training and the skew report, never served
    tags={"owner": "ranking", "grain": "impression", "log_of": "ranking_v1"},
)
ranking_served = FeatureService(name="ranking_served", features=[served_ranking_features],
                                description="The stored ranking features as the chat service scored each impression")

OBJECTS = [user, shop, user_features, shop_features, user_shop_features, ranking_v1, served_ranking_features,
           ranking_served]
#: the feature history views (the contract's groups); the served-feature log is separate
FEATURE_VIEWS = {fv.name: fv for fv in (user_features, shop_features, user_shop_features)}


def feature_refs(view: str) -> list[str]:
    return contract.GROUP_BY_NAME[view].refs()
