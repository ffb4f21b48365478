"""Feast objects of the ranking features: entities, PostgreSQL sources, feature views, a service.

The sources are the dbt marts of the feature history, ``analytics.user_features_daily``,
``analytics.shop_features_daily`` and ``analytics.user_shop_features_daily`` (one row per
entity per night its features changed; built by ``dbt_project/models/marts/features/*_daily.sql``,
whose reference implementation is ``models.ranking.raw_features``). Feature view names and
feature names are the contract ``models.ranking.training_set`` reads (``<view>__<feature>``
with full feature names).

``ttl=0`` means a row stays valid until a newer one replaces it: shops that nobody ordered
from for months must still be scorable.
"""

from __future__ import annotations

from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, ValueType
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import PostgreSQLSource
from feast.types import Array, Float64, Int64, String

SOURCE_SCHEMA = "analytics"  # where dbt builds the marts (dbt_project/profiles.yml)
SOURCE_TABLES = {  # feature view -> dbt mart
    "user_features": "user_features_daily",
    "shop_features": "shop_features_daily",
    "user_shop_features": "user_shop_features_daily",
}
FOREVER = timedelta(seconds=0)
JOIN_KEYS = {"user": "user_id", "shop": "shop_id"}

user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.INT64,
              description="A Naviyam user (users.id)")
shop = Entity(name="shop", join_keys=["shop_id"], value_type=ValueType.INT64,
              description="A restaurant (shops.id)")


def _source(view: str) -> PostgreSQLSource:
    return PostgreSQLSource(
        name=f"{view}_source",
        query=f"SELECT * FROM {SOURCE_SCHEMA}.{SOURCE_TABLES[view]}",
        timestamp_field="event_timestamp",
        created_timestamp_column="created_at",
    )


user_features = FeatureView(
    name="user_features",
    entities=[user],
    ttl=FOREVER,
    schema=[
        Field(name="total_orders", dtype=Float64),
        Field(name="avg_order_value", dtype=Float64),
        Field(name="order_frequency", dtype=Float64, description="orders per 30 days"),
        Field(name="favorite_count", dtype=Float64, description="shops ordered from twice or more"),
        Field(name="category_diversity", dtype=Float64, description="normalised entropy of categories"),
        Field(name="shop_loyalty", dtype=Float64, description="1 - distinct shops / visits"),
        Field(name="loc_lat", dtype=Float64, description="centroid of visited shops"),
        Field(name="loc_lon", dtype=Float64),
        Field(name="is_foodcard", dtype=Float64),
        Field(name="segment", dtype=String),
        Field(name="category_share", dtype=Array(Float64), description="share of visits per category (13)"),
        Field(name="slot_share", dtype=Array(Float64), description="share of visits per meal slot (4)"),
        Field(name="recent_shop_ids", dtype=Array(Int64), description="last 10 distinct shops, newest first"),
    ],
    source=_source("user_features"),
    online=True,
    tags={"owner": "ranking", "grain": "user-night"},
)

shop_features = FeatureView(
    name="shop_features",
    entities=[shop],
    ttl=FOREVER,
    schema=[
        Field(name="category", dtype=String),
        Field(name="category_idx", dtype=Int64),
        Field(name="lat", dtype=Float64),
        Field(name="lon", dtype=Float64),
        Field(name="median_price", dtype=Float64, description="median price of main/set menus"),
        Field(name="order_count", dtype=Float64),
        Field(name="order_count_30d", dtype=Float64),
        Field(name="distinct_customers", dtype=Float64),
        Field(name="repeat_customer_rate", dtype=Float64),
        Field(name="popularity_pct", dtype=Float64, description="order-count percentile among all shops"),
        Field(name="takes_food_card", dtype=Float64),
        Field(name="is_good_influence", dtype=Float64),
        Field(name="slot_share", dtype=Array(Float64)),
        Field(name="customer_taste", dtype=Array(Float64), description="mean category share of its customers"),
    ],
    source=_source("shop_features"),
    online=True,
    tags={"owner": "ranking", "grain": "shop-night"},
)

user_shop_features = FeatureView(
    name="user_shop_features",
    entities=[user, shop],
    ttl=FOREVER,
    schema=[
        Field(name="visit_count", dtype=Float64),
    ],
    source=_source("user_shop_features"),
    online=True,
    tags={"owner": "ranking", "grain": "user-shop-night"},
)

ranking_v1 = FeatureService(name="ranking_v1", features=[user_features, shop_features, user_shop_features],
                            description="Everything the Wide & Deep ranker reads")

OBJECTS = [user, shop, user_features, shop_features, user_shop_features, ranking_v1]
FEATURE_VIEWS = {fv.name: fv for fv in (user_features, shop_features, user_shop_features)}


def feature_refs(view: str) -> list[str]:
    return [f"{view}:{f.name}" for f in FEATURE_VIEWS[view].features]
