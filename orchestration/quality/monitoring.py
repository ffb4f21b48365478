"""Spec §13 monitoring thresholds as asset checks (severity WARN) on analytics.monitoring_5min.

Each check looks at the buckets of the last hour (weighted by their request / impression /
label counts) and passes with "no data" when the hour has none, so a quiet service raises no
warning, and a division by zero never happens. One more check never fails: ``trend_last_24h``
draws the same four measures hour by hour over the last day, with their thresholds, for the
operator looking at the asset in the Dagster UI.
"""


from dataclasses import dataclass

import dagster as dg
from sqlalchemy import text

from orchestration.resources import PostgresResource

MONITORING_KEY = dg.AssetKey(["analytics", "monitoring_5min"])
WINDOW = "1 hour"


@dataclass(frozen=True)
class Threshold:
    name: str
    description: str
    value_sql: str  # aggregate over the window's buckets
    weight_sql: str  # evidence in the window; 0 means no data
    limit: float
    breach_when_above: bool

    def breached(self, value: float) -> bool:
        return value > self.limit if self.breach_when_above else value < self.limit


THRESHOLDS = (
    Threshold("response_time_under_500ms", "Mean response time over the last hour <= 500 ms.",
              "sum(avg_response_time_ms * request_count) / nullif(sum(request_count) filter (where avg_response_time_ms is not null), 0)",
              "sum(request_count) filter (where avg_response_time_ms is not null)", 500, True),
    Threshold("cache_hit_rate_at_least_70pct", "Cache hit rate over the last hour >= 0.7.",
              "sum(cache_hit_rate * cache_observations) / nullif(sum(cache_observations), 0)",
              "sum(cache_observations)", 0.7, False),
    Threshold("nlu_accuracy_at_least_85pct", "NLU accuracy on labelled examples of the last hour >= 0.85.",
              "sum(nlu_correct)::numeric / nullif(sum(nlu_labelled), 0)", "sum(nlu_labelled)", 0.85, False),
    Threshold("recommendation_ctr_at_least_25pct", "Recommendation CTR over the last hour >= 0.25.",
              "sum(clicks)::numeric / nullif(sum(impressions), 0)", "sum(impressions)", 0.25, False),
)


def evaluate(conn, threshold: Threshold) -> tuple[bool, float | None, int]:
    row = conn.execute(
        text(
            f"SELECT {threshold.value_sql} AS value, coalesce({threshold.weight_sql}, 0) AS weight "
            f"FROM analytics.monitoring_5min WHERE bucket_end > now() - interval '{WINDOW}'"
        )
    ).one()
    weight = int(row.weight or 0)
    if weight == 0 or row.value is None:
        return True, None, 0
    value = float(row.value)
    return not threshold.breached(value), value, weight


def _make_check(threshold: Threshold) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=MONITORING_KEY, name=threshold.name, description=threshold.description, blocking=False)
    def _check(postgres: PostgresResource) -> dg.AssetCheckResult:
        with postgres.engine().connect() as conn:
            passed, value, weight = evaluate(conn, threshold)
        metadata = {"threshold": threshold.limit, "window": WINDOW, "evidence": weight}
        if value is not None:
            metadata["value"] = round(value, 4)
        else:
            metadata["note"] = "no data in the window"
        return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.WARN, metadata=metadata)

    return _check


TREND_WINDOW = "24 hours"


def hourly_trend(conn) -> list[dict]:
    """Each hour of the last day of data (up to the newest bucket: a simulation writes ahead of the
    wall clock) that has buckets: the thresholds' measures over that hour."""
    measures = ", ".join(f"{t.value_sql} AS {t.name}" for t in THRESHOLDS)
    rows = conn.execute(text(
        f"SELECT date_trunc('hour', bucket_end) AS hour, {measures} FROM analytics.monitoring_5min "
        f"WHERE bucket_end > (SELECT max(bucket_end) FROM analytics.monitoring_5min) - interval '{TREND_WINDOW}' "
        "GROUP BY 1 ORDER BY 1")).mappings().all()
    return [{k: (float(v) if v is not None and k != "hour" else v) for k, v in r.items()} for r in rows]


@dg.asset_check(asset=MONITORING_KEY, name="trend_last_24h", blocking=False,
                description="The four monitored measures hour by hour over the last day, with their thresholds "
                            "(a picture for the operator; never fails).")
def monitoring_trend(postgres: PostgresResource) -> dg.AssetCheckResult:
    from models.plots import metric_trends, png_bytes
    from orchestration.metadata import markdown_images, markdown_table

    with postgres.engine().connect() as conn:
        rows = hourly_trend(conn)
    metadata: dict = {"hours": len(rows), "window": TREND_WINDOW}
    if rows:
        fig = metric_trends([r["hour"] for r in rows],
                            {t.name: ([r[t.name] for r in rows], t.limit) for t in THRESHOLDS},
                            title=f"monitoring_5min, last {TREND_WINDOW}")
        metadata["trend"] = dg.MetadataValue.md(markdown_images({"trend_last_24h.png": png_bytes(fig)}))
        metadata["hourly"] = dg.MetadataValue.md(markdown_table(
            [{**r, "hour": r["hour"].strftime("%m-%d %H:00")} for r in rows]))
    return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN, metadata=metadata)


monitoring_checks = [*(_make_check(t) for t in THRESHOLDS), monitoring_trend]
