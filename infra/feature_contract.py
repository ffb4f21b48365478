"""The ranker's feature contract, written once.

Everything that names a ranker feature derives it from here:

* the Feast repo (``feature_repo/definitions.py``): one feature view per ``FeatureGroup``, its
  schema from the group's features, its source the group's dbt mart;
* training (``models/ranking``): the feature references it asks Feast for, the columns it reads
  back, and the in-memory reference history (``raw_features``) that must match the marts;
* serving (``serving/features.py``, ``serving/online_features.py``): the candidate columns it
  loads, then the same ``models.ranking.features.interaction_columns`` that training runs;
* storage: the ``recommendation_features`` columns (spec §7) the event log writes, and the dense
  part of ``feature_vectors``.

A new input feature therefore needs: a ``Feature`` line here, its column in the dbt mart
(``dbt_project/models/marts/features/*_daily.sql`` and its YAML), and a test. It lives in
``infra`` because the event log (infra) and every layer above read it; it imports only the
vocabulary, never Feast or numpy, so a light process can read it.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Stamped on every trained model and ``feature_vectors`` row; bump it when a feature's meaning changes.
FEATURE_VERSION = "rank-v1"

#: Feast entity → join key
JOIN_KEYS: dict[str, str] = {"user": "user_id", "shop": "shop_id"}
#: the schema dbt builds the feature-history marts in (dbt_project/profiles.yml)
SOURCE_SCHEMA = "analytics"
#: the Redis key (under the project prefix) that materialization bumps and the chat service
#: watches, to reload its in-memory shop features at once
ONLINE_VERSION_KEY: tuple[str, ...] = ("features", "version")

# value kinds, mapped to Feast types in feature_repo/definitions.py and to numpy in training
FLOAT, INT, STR, FLOATS, INTS = "float", "int", "str", "float[]", "int[]"


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str = FLOAT
    description: str = ""

    @property
    def dense(self) -> bool:
        """A plain number (what ``feature_vectors.feature_vector_dense`` mirrors)."""
        return self.kind in (FLOAT, INT) and not self.name.endswith("_idx")


@dataclass(frozen=True)
class FeatureGroup:
    """One Feast feature view: the features of an entity (or pair) as of a night."""

    name: str
    entities: tuple[str, ...]
    mart: str  # the dbt mart in SOURCE_SCHEMA (one row per entity per night its features changed)
    grain: str
    features: tuple[Feature, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @property
    def join_keys(self) -> tuple[str, ...]:
        return tuple(JOIN_KEYS[e] for e in self.entities)

    @property
    def dense(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features if f.dense)

    def refs(self) -> list[str]:
        """Feast feature references ``view:feature``."""
        return [f"{self.name}:{f.name}" for f in self.features]


USER = FeatureGroup("user_features", ("user",), "user_features_daily", "user-night", (
    Feature("total_orders"),
    Feature("avg_order_value"),
    Feature("order_frequency", description="orders per 30 days"),
    Feature("favorite_count", description="shops ordered from twice or more"),
    Feature("category_diversity", description="normalised entropy of categories"),
    Feature("shop_loyalty", description="1 - distinct shops / visits"),
    Feature("loc_lat", description="centroid of visited shops"),
    Feature("loc_lon"),
    Feature("is_foodcard"),
    Feature("segment", STR),
    Feature("category_share", FLOATS, "share of visits per category (13)"),
    Feature("slot_share", FLOATS, "share of visits per meal slot (4)"),
    Feature("recent_shop_ids", INTS, "last 10 distinct shops, newest first"),
))

SHOP = FeatureGroup("shop_features", ("shop",), "shop_features_daily", "shop-night", (
    Feature("category", STR),
    Feature("category_idx", INT),
    Feature("lat"),
    Feature("lon"),
    Feature("median_price", description="median price of main/set menus"),
    Feature("order_count"),
    Feature("order_count_30d"),
    Feature("distinct_customers"),
    Feature("repeat_customer_rate"),
    Feature("popularity_pct", description="order-count percentile among all shops"),
    Feature("takes_food_card"),
    Feature("is_good_influence"),
    Feature("slot_share", FLOATS),
    Feature("customer_taste", FLOATS, "mean category share of its customers"),
))

USER_SHOP = FeatureGroup("user_shop_features", ("user", "shop"), "user_shop_features_daily", "user-shop-night", (
    Feature("visit_count"),
))

GROUPS: tuple[FeatureGroup, ...] = (USER, SHOP, USER_SHOP)
GROUP_BY_NAME: dict[str, FeatureGroup] = {g.name: g for g in GROUPS}

USER_FEATURES: tuple[str, ...] = USER.names
SHOP_FEATURES: tuple[str, ...] = SHOP.names
USER_SHOP_FEATURES: tuple[str, ...] = USER_SHOP.names
#: what serving must know of each candidate shop before ranking it: the shop view plus the
#: user's history with it (``visit_count``), keyed by ``shop_id``
CANDIDATE_COLUMNS: tuple[str, ...] = ("shop_id", *SHOP_FEATURES, *USER_SHOP_FEATURES)
LIST_KINDS = (FLOATS, INTS)

# --- the spec's recommendation_features columns (§7): computed per candidate, stored per answer --
LAYER1_SCORES: tuple[str, ...] = ("collaborative_score", "content_score", "contextual_score", "popularity_score")
WIDE_ENGINEERED: tuple[str, ...] = (
    "category_preference_match", "budget_compatibility", "distance_penalty",
    "time_preference_match", "visited_before", "similar_user_liked",
)
CROSS_NUMERIC: tuple[str, ...] = (
    "user_category_interaction", "budget_time_interaction", "location_category_interaction",
)
DEEP_NUMERIC: tuple[str, ...] = (
    "user_avg_budget_normalized", "user_favorite_count_normalized", "shop_rating_normalized",
    "shop_review_count_normalized", "distance_normalized",
)
#: everything stored in recommendation_features besides ids, score and rank (DECIMAL(4,3) in [0, 1])
STORED_FEATURES: tuple[str, ...] = LAYER1_SCORES + WIDE_ENGINEERED + DEEP_NUMERIC + CROSS_NUMERIC
#: stored as a boolean, not a number
BOOLEAN_STORED: frozenset[str] = frozenset({"visited_before"})
