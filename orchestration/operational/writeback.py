"""Write derived columns from the analytics marts into the operational tables in ``public``.

Plain functions over a SQLAlchemy connection, so they are unit-testable without Dagster. Each
write-back is one ``UPDATE ... FROM analytics.<mart> WHERE (target columns) IS DISTINCT FROM
(mart columns)``, so an unchanged value costs no write and no dead tuple; mart values are cast
to the target column's type first, so rounding never makes a row look changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text


@dataclass(frozen=True)
class WriteBack:
    table: str  # public.<table>
    mart: str  # analytics.<mart>
    key: str  # key column in public.<table>
    mart_key: str  # key column in the mart
    columns: tuple[str, ...]  # same names in both


WRITE_BACKS: tuple[WriteBack, ...] = (
    WriteBack("shops", "shops", "id", "shop_id", (
        "current_status", "recommendation_count", "click_through_rate", "conversion_rate",
        "popularity_score", "quality_score", "user_satisfaction_avg", "last_recommended",
        "total_orders_served", "avg_order_value")),
    WriteBack("menus", "menus", "id", "menu_id", (
        "recommendation_frequency", "user_preference_score", "seasonal_popularity",
        "estimated_calories", "healthiness_score", "dietary_tags", "meal_kind")),
    WriteBack("users", "users", "id", "user_id", (
        "age_group", "region_code", "interaction_patterns", "preference_evolution",
        "context_preferences", "session_frequency", "avg_session_duration", "churn_probability",
        "lifetime_value_score", "personalization_completeness")),
    WriteBack("foodcard_users", "foodcard_users", "id", "foodcard_user_id", (
        "target_age_group", "monthly_usage_pattern", "balance_alert_sent", "emergency_coupon_eligible")),
    WriteBack("coupons", "coupons", "id", "coupon_id", (
        "is_active", "priority_score", "total_issued", "total_used", "avg_order_increase")),
    WriteBack("product_orders", "product_orders", "id", "order_id", (
        "order_pattern_score", "preference_weight", "time_since_last_order", "is_reorder", "order_context")),
    WriteBack("user_coupon_wallet", "user_coupon_wallet", "id", "wallet_id", (
        "usage_probability", "recommended_usage_date")),
)

# user_profiles: upsert on user_id. Derived columns are always refreshed; the chatbot's own
# columns are only filled while the chat service has not written them.
PROFILE_DERIVED = (
    "favorite_shops", "recent_orders", "coupon_preference", "monthly_stats", "personality_type",
    "decision_making_speed", "price_elasticity", "brand_loyalty_score", "next_order_prediction",
    "churn_risk_factors",
)
PROFILE_CHATBOT = ("preferred_categories", "average_budget", "good_influence_preference")

JOURNEY_COLUMNS = (
    "journey_start", "journey_end", "onboarding_completed", "first_recommendation_received",
    "first_selection_made", "personalization_achieved", "total_interactions",
    "successful_recommendations", "recommendation_acceptance_rate", "average_session_duration",
    "funnel_stage", "conversion_probability", "drop_off_point", "satisfaction_signals",
    "personalization_milestones",
)


def column_types(conn: Connection, table: str, schema: str = "public") -> dict[str, str]:
    rows = conn.execute(
        text(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relname = :table AND a.attnum > 0 AND NOT a.attisdropped"
        ),
        {"schema": schema, "table": table},
    ).all()
    return dict(rows)


def relation_exists(conn: Connection, schema: str, name: str) -> bool:
    return conn.execute(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": f"{schema}.{name}"}).scalar()


def write_back(conn: Connection, spec: WriteBack, analytics_schema: str = "analytics") -> int:
    """Update ``public.<table>`` from ``analytics.<mart>`` where values differ; returns rows updated."""
    types = column_types(conn, spec.table)
    cast = {c: f"m.{c}::{types[c]}" for c in spec.columns}
    assignments = ", ".join(f"{c} = {cast[c]}" for c in spec.columns)
    current = ", ".join(f"t.{c}" for c in spec.columns)
    incoming = ", ".join(cast[c] for c in spec.columns)
    result = conn.execute(
        text(
            f"UPDATE public.{spec.table} AS t SET {assignments} "
            f"FROM {analytics_schema}.{spec.mart} AS m "
            f"WHERE t.{spec.key} = m.{spec.mart_key} AND ({current}) IS DISTINCT FROM ({incoming})"
        )
    )
    return result.rowcount


def write_user_profiles(conn: Connection, analytics_schema: str = "analytics") -> int:
    types = column_types(conn, "user_profiles")
    columns = PROFILE_DERIVED + PROFILE_CHATBOT
    select = ", ".join(f"m.{c}::{types[c]}" for c in columns)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in PROFILE_DERIVED) + ", " + ", ".join(
        f"{c} = COALESCE(user_profiles.{c}, EXCLUDED.{c})" for c in PROFILE_CHATBOT
    )
    current = ", ".join(f"user_profiles.{c}" for c in PROFILE_DERIVED) + ", " + ", ".join(
        f"COALESCE(user_profiles.{c}, EXCLUDED.{c})" for c in PROFILE_CHATBOT
    )
    incoming = ", ".join(f"EXCLUDED.{c}" for c in columns)
    result = conn.execute(
        text(
            f"INSERT INTO public.user_profiles (user_id, {', '.join(columns)}) "
            f"SELECT m.user_id, {select} FROM {analytics_schema}.user_profiles AS m "
            f"ON CONFLICT (user_id) DO UPDATE SET {updates} WHERE ({current}) IS DISTINCT FROM ({incoming})"
        )
    )
    return result.rowcount


def write_user_journeys(conn: Connection, analytics_schema: str = "analytics") -> int:
    """The lifetime journey (journey_session_id NULL) per user: update where changed, insert missing."""
    types = column_types(conn, "user_journey_analytics")
    cast = {c: f"m.{c}::{types[c]}" for c in JOURNEY_COLUMNS}
    assignments = ", ".join(f"{c} = {cast[c]}" for c in JOURNEY_COLUMNS)
    current = ", ".join(f"t.{c}" for c in JOURNEY_COLUMNS)
    incoming = ", ".join(cast[c] for c in JOURNEY_COLUMNS)
    updated = conn.execute(
        text(
            f"UPDATE public.user_journey_analytics AS t SET {assignments} "
            f"FROM {analytics_schema}.user_journey_analytics AS m "
            f"WHERE t.user_id = m.user_id AND t.journey_session_id IS NULL "
            f"AND ({current}) IS DISTINCT FROM ({incoming})"
        )
    ).rowcount
    inserted = conn.execute(
        text(
            f"INSERT INTO public.user_journey_analytics (user_id, {', '.join(JOURNEY_COLUMNS)}) "
            f"SELECT m.user_id, {incoming} FROM {analytics_schema}.user_journey_analytics AS m "
            "WHERE NOT EXISTS (SELECT 1 FROM public.user_journey_analytics AS t "
            "WHERE t.user_id = m.user_id AND t.journey_session_id IS NULL)"
        )
    ).rowcount
    return updated + inserted


FEATURE_VERSION = "v1"
USER_DENSE = (
    "total_orders", "avg_order_value", "order_frequency", "weekend_vs_weekday", "time_consistency",
    "category_diversity", "shop_loyalty", "exploration_tendency", "price_elasticity",
    "discount_responsiveness", "budget_variability",
)
USER_SPARSE = ("preferred_meal_times", "top_category", "top_meal_slot")
SHOP_DENSE = (
    "overall_popularity", "recent_popularity_trend", "repeat_customer_rate", "avg_rating",
    "rating_consistency", "complaint_rate", "order_fulfillment_rate", "peak_hour_performance",
    "menu_availability", "total_orders", "avg_order_value",
)


def write_feature_vectors(conn: Connection, analytics_schema: str = "analytics") -> dict[str, int]:
    """Upsert user and shop feature rows (feature_version v1) into public.feature_vectors."""
    counts = {}
    for entity, mart, key, dense, sparse in (
        ("user", "user_features", "user_id", USER_DENSE, USER_SPARSE),
        ("shop", "shop_features", "shop_id", SHOP_DENSE, ()),
    ):
        dense_json = "jsonb_strip_nulls(jsonb_build_object(" + ", ".join(f"'{c}', m.{c}" for c in dense) + "))"
        sparse_json = (
            "jsonb_strip_nulls(jsonb_build_object(" + ", ".join(f"'{c}', m.{c}" for c in sparse) + "))"
            if sparse else "NULL::jsonb"
        )
        counts[entity] = conn.execute(
            text(
                "INSERT INTO public.feature_vectors (entity_type, entity_id, feature_vector_dense, "
                "feature_vector_sparse, feature_extraction_method, feature_version) "
                f"SELECT '{entity}', m.{key}::text, {dense_json}, {sparse_json}, 'rule_based', '{FEATURE_VERSION}' "
                f"FROM {analytics_schema}.{mart} AS m "
                "ON CONFLICT (entity_type, entity_id, feature_version) DO UPDATE SET "
                "feature_vector_dense = EXCLUDED.feature_vector_dense, "
                "feature_vector_sparse = EXCLUDED.feature_vector_sparse "
                "WHERE (feature_vectors.feature_vector_dense, feature_vectors.feature_vector_sparse) "
                "IS DISTINCT FROM (EXCLUDED.feature_vector_dense, EXCLUDED.feature_vector_sparse)"
            )
        ).rowcount
    return counts
