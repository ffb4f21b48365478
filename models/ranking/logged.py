"""Training rows from the service's own logs: what the closed loop learns from.

A row is one recommendation the service showed (``recommendations_log.recommendations``: shop,
rank, the list's time, user and request) with the child's reaction written back onto the list by
``/feedback`` (``user_viewed_details``: opened; ``user_final_selection``: chosen and ordered). The
features are joined point-in-time from the feature history (the dbt marts behind Feast, or the
same join in memory over the orders, which include the simulated days' orders), so a row sees
only what was known when the list was shown. The hidden truth is never read here.

Learning from the logged policy's own output is biased in two ways, handled so:

* Position bias: a child opens rank 1 far more often than rank 3 whatever it is. The label is the
  order (``ordered``), which needs an examination first, and each row is weighted by the inverse of
  the examination propensity of its rank, ``1 / P(examined | rank)``, estimated from the logged
  views per rank relative to rank 1 (from the exploration lists when there are enough of them,
  since their order is random and so their views measure position alone). The Wide&Deep fit has
  no sample weights, so the weights are applied by seeded importance resampling of the training
  rows (``ips_resample``); validation and holdout keep their natural rows.
* Exposure: the ranker only learns about shops it showed. The service's small logged exploration
  share (``NAVIYAM_SERVING_EXPLORATION_SHARE``, lists shuffled and marked ``explored``) gives new
  and low-ranked shops impressions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from models.ranking.raw_features import LOCAL_TZ

LOGS_SQL = text("""
    SELECT r.event_id::text AS impression_id, r."timestamp" AS event_timestamp, r.user_id, r.model_variant,
           r.recommendation_method, r.request_entities, r.recommendations,
           coalesce(r.user_viewed_details, '[]'::jsonb) AS viewed, r.user_final_selection,
           c.input_text AS request_text
    FROM recommendations_log AS r
    -- what the child said in that turn (the same event id; the window lets the partitions prune)
    LEFT JOIN conversations AS c ON c.event_id = r.event_id
        AND c."timestamp" BETWEEN r."timestamp" - interval '1 minute' AND r."timestamp" + interval '1 minute'
    WHERE r.recommendation_count > 0 AND r.user_id ~ '^[0-9]{1,9}$' AND r."timestamp" >= :since
    ORDER BY r."timestamp"
""")
MIN_EXPLORATION_LISTS = 200  # below this the propensities come from every list
PROPENSITY_FLOOR = 0.05  # caps a weight at 20


@dataclass
class LoggedImpressions:
    rows: pd.DataFrame  # one row per shown recommendation
    propensity: dict[int, float]  # P(examined | rank), rank 1 = 1
    propensity_source: str  # "exploration" | "all lists"

    @property
    def lists(self) -> int:
        return int(self.rows["impression_id"].nunique()) if len(self.rows) else 0


def read_logged_impressions(engine: Engine, since: Any = "-infinity") -> pd.DataFrame:
    """Explode the logged lists into one row per shown recommendation with its reaction."""
    with engine.connect() as conn:
        logs = conn.execute(LOGS_SQL, {"since": since}).mappings().all()
    rows: list[dict[str, Any]] = []
    for log_row in logs:
        viewed = {int(v) for v in (log_row["viewed"] or []) if str(v).isdigit()}
        chosen = log_row["user_final_selection"]
        entities = log_row["request_entities"] or {}
        budget = entities.get("budget") if isinstance(entities, dict) else None
        local = pd.Timestamp(log_row["event_timestamp"]).tz_convert(LOCAL_TZ)
        for i, item in enumerate(log_row["recommendations"] or []):
            shop = item.get("shop_id")
            if shop is None:
                continue
            rows.append({
                "impression_id": log_row["impression_id"], "event_timestamp": log_row["event_timestamp"],
                "user_id": int(log_row["user_id"]), "shop_id": int(shop), "position": int(item.get("ranking") or i + 1),
                "explored": bool(item.get("explored", False)), "model_variant": log_row["model_variant"],
                "scored_by": str(item.get("scored_by") or ""),
                "minute_of_day": local.hour * 60 + local.minute,
                "ctx_budget": float(budget) if isinstance(budget, (int, float)) else np.nan,
                "strategy": "urgent" if log_row["recommendation_method"] == "emergency" else "normal",
                "request_text": log_row["request_text"] or "",
                "viewed": int(int(shop) in viewed or chosen == int(shop)),
                "ordered": int(chosen is not None and int(chosen) == int(shop)),
            })
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["event_timestamp"] = pd.to_datetime(frame["event_timestamp"], utc=True)
        frame["clicked"] = frame["viewed"]
    return frame


def examination_propensity(rows: pd.DataFrame, max_rank: int = 10) -> tuple[dict[int, float], str]:
    """P(examined | rank) relative to rank 1, from the view rate per rank."""
    explored = rows[rows["explored"]] if "explored" in rows else rows.iloc[0:0]
    source = rows
    label = "all lists"
    if explored["impression_id"].nunique() >= MIN_EXPLORATION_LISTS:
        source, label = explored, "exploration"
    rate = source.groupby("position")["viewed"].mean()
    top = float(rate.get(1, np.nan))
    out = {}
    for r in range(1, max_rank + 1):
        v = float(rate.get(r, np.nan))
        p = v / top if top and np.isfinite(v) and np.isfinite(top) else 1.0
        out[r] = float(min(1.0, max(PROPENSITY_FLOOR, p)))
    return out, label


def load(engine: Engine, since: Any = "-infinity") -> LoggedImpressions:
    rows = read_logged_impressions(engine, since)
    if not len(rows):
        return LoggedImpressions(rows, {1: 1.0}, "none")
    propensity, source = examination_propensity(rows)
    rows["ips_weight"] = 1.0 / rows["position"].map(lambda r: propensity.get(int(r), PROPENSITY_FLOOR))
    return LoggedImpressions(rows, propensity, source)


def ips_resample(frame: pd.DataFrame, weights: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Rows drawn with replacement in proportion to ``weights`` (same size): an unweighted fit on the
    result minimises the inverse-propensity-weighted loss in expectation."""
    if not len(frame):
        return frame
    w = np.asarray(weights, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(frame), size=len(frame), replace=True, p=w / w.sum())
    return frame.iloc[np.sort(idx)].reset_index(drop=True)
