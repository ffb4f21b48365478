"""great-expectations 1.x suites on the marts, run as Dagster asset checks.

Each suite is plain data (mart -> expectations); the check reads the mart into a DataFrame
and validates it in an ephemeral GX context (no GX project folder to maintain).
"""


import os

import dagster as dg
import pandas as pd

from orchestration.resources import PostgresResource

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def _suites() -> dict[str, list]:
    import great_expectations as gx

    E = gx.expectations
    unit = lambda column: E.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=1)  # noqa: E731
    return {
        "shops": [
            E.ExpectColumnValuesToBeUnique(column="shop_id"),
            E.ExpectColumnValuesToBeInSet(column="current_status", value_set=["OPEN", "CLOSED", "BREAK_TIME", "UNKNOWN"]),
            *(unit(c) for c in ("click_through_rate", "conversion_rate", "popularity_score", "quality_score")),
            E.ExpectColumnValuesToBeBetween(column="user_satisfaction_avg", min_value=0, max_value=5),
            E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="click_through_rate", column_B="conversion_rate", or_equal=True),
        ],
        "menus": [
            E.ExpectColumnValuesToBeUnique(column="menu_id"),
            E.ExpectColumnValuesToNotBeNull(column="estimated_calories"),
            E.ExpectColumnValuesToBeBetween(column="estimated_calories", min_value=0, max_value=3000),
            E.ExpectColumnValuesToBeBetween(column="healthiness_score", min_value=0, max_value=5),
            unit("user_preference_score"),
        ],
        "users": [
            E.ExpectColumnValuesToBeUnique(column="user_id"),
            unit("churn_probability"),
            unit("personalization_completeness"),
            E.ExpectColumnValuesToBeBetween(column="lifetime_value_score", min_value=0, max_value=9999.99),
            E.ExpectColumnValuesToMatchRegex(column="age_group", regex=r"^(?:10대 미만|\d+대)$", mostly=1.0),
        ],
        "user_features": [
            E.ExpectColumnValuesToBeUnique(column="user_id"),
            E.ExpectColumnValuesToBeBetween(column="category_diversity", min_value=0, max_value=3.71),
            *(unit(c) for c in ("shop_loyalty", "exploration_tendency", "weekend_vs_weekday", "time_consistency",
                                "discount_responsiveness", "price_elasticity")),
            E.ExpectColumnValuesToBeBetween(column="total_orders", min_value=0),
        ],
        "shop_features": [
            E.ExpectColumnValuesToBeUnique(column="shop_id"),
            unit("overall_popularity"),
            E.ExpectColumnValuesToBeBetween(column="recent_popularity_trend", min_value=-1, max_value=1),
            *(unit(c) for c in ("repeat_customer_rate", "complaint_rate", "peak_hour_performance", "menu_availability")),
        ],
    }


def validate_frame(mart: str, frame: pd.DataFrame) -> tuple[bool, list[str], int]:
    """Validate ``frame`` against the mart's suite; returns (success, failed expectations, count)."""
    import great_expectations as gx

    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas(f"naviyam_{mart}")
        .add_dataframe_asset(name=mart)
        .add_batch_definition_whole_dataframe("whole")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=f"{mart}_suite", expectations=_suites()[mart]))
    result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(suite)
    failed = [
        f"{r.expectation_config.type}({r.expectation_config.kwargs.get('column') or r.expectation_config.kwargs.get('column_A')})"
        for r in result.results
        if not r.success
    ]
    return bool(result.success), failed, len(result.results)


SUITE_MARTS = ("shops", "menus", "users", "user_features", "shop_features")


def _make_check(mart: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["analytics", mart]), name=f"gx_{mart}_suite", blocking=False,
                    description=f"great-expectations suite on analytics.{mart}.")
    def _check(postgres: PostgresResource) -> dg.AssetCheckResult:
        with postgres.engine().connect() as conn:
            frame = pd.read_sql_query(f"SELECT * FROM analytics.{mart}", conn)
        success, failed, total = validate_frame(mart, frame)
        return dg.AssetCheckResult(
            passed=success,
            metadata={"rows": len(frame), "expectations": total, "failed": ", ".join(failed) or "-"},
        )

    return _check


expectation_checks = [_make_check(m) for m in SUITE_MARTS]
