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

OBJECTS = [user, shop, user_features, shop_features, user_shop_features, ranking_v1]
FEATURE_VIEWS = {fv.name: fv for fv in (user_features, shop_features, user_shop_features)}


def feature_refs(view: str) -> list[str]:
    return contract.GROUP_BY_NAME[view].refs()
