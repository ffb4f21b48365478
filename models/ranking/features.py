"""The ranking feature contract: names, time slots and the vectorised interaction features.

Three kinds of rows meet here:

* user features (one row per user, as of some time): order history aggregates, from the dbt mart
  ``analytics.user_features_daily`` via Feast (or the same history in memory,
  ``models.ranking.raw_features``);
* shop features (one row per shop, as of some time): popularity, price, location, category;
* the request context: when (→ meal slot), where the user is, the budget the NLU read, the
  conversation strategy (``urgent`` reweights, spec §12 scenario 1).

``interaction_features`` turns one user, N candidate shops and a context into the spec's
``recommendation_features`` columns (Layer 1 scores, wide engineered and cross features, deep
numeric features) as numpy columns, with no per-row Python loop. Training sets (N impressions
× K candidates) go through ``interaction_frame``, which calls the same arithmetic row-wise on
aligned arrays, so serving and training cannot compute a feature two ways.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from infra.feature_contract import (  # noqa: F401 - re-exported: the ranker's names in one import
    CROSS_NUMERIC,
    DEEP_NUMERIC,
    FEATURE_VERSION,
    LAYER1_SCORES,
    SHOP_FEATURES,
    STORED_FEATURES,
    USER_FEATURES,
    USER_SHOP_FEATURES,
    WIDE_ENGINEERED,
)
from infra.vocabulary import CATEGORIES, MEAL_SLOTS

CATEGORY_INDEX: dict[str, int] = {c: i for i, c in enumerate(CATEGORIES)}
SLOTS: tuple[str, ...] = MEAL_SLOTS
SLOT_INDEX: dict[str, int] = {s: i for i, s in enumerate(SLOTS)}
SEGMENTS: tuple[str, ...] = ("unknown", "child", "teen", "young_adult", "adult")
BUDGET_BUCKETS: tuple[int, ...] = (5000, 7000, 9000, 12000, 16000)  # upper edges, won

#: wide part: engineered + numeric crosses + Layer 1 scores
WIDE_DENSE: tuple[str, ...] = WIDE_ENGINEERED + CROSS_NUMERIC + LAYER1_SCORES
#: hashed cross-product ids of the wide part (memorisation), name → cardinality
WIDE_CROSSES: dict[str, int] = {
    "segment_x_category": len(SEGMENTS) * len(CATEGORIES),
    "budget_x_slot": (len(BUDGET_BUCKETS) + 1) * len(SLOTS),
    "slot_x_category": len(SLOTS) * len(CATEGORIES),
}
#: deep part: embedded ids (index 0 = unknown / cold start) and normalised numerics
DEEP_CATEGORICAL_BASE: dict[str, int] = {"category": len(CATEGORIES) + 1, "time_slot": len(SLOTS) + 1}
DEEP_DENSE: tuple[str, ...] = DEEP_NUMERIC + LAYER1_SCORES + ("price_to_budget",)

DISTANCE_SCALE_KM = 1.0  # distance_penalty = 1 - exp(-d / scale)
DISTANCE_CAP_KM = 5.0  # distance_normalized = min(d, cap) / cap
FAVORITE_CAP = 10.0
REVIEW_CAP = 200.0
BUDGET_CAP = 20000.0
SHARE_PRIOR = 1.0  # pseudo-orders spread evenly when estimating shares (cold users, new shops)
URGENT_WEIGHTS: dict[str, float] = {"distance_penalty": 2.0, "budget_compatibility": 1.5}


def slot_of_minute(minute_of_day: float | np.ndarray) -> np.ndarray:
    """Meal slot index (``SLOTS``) of a minute of the day; late night covers 21:00–05:00."""
    m = np.asarray(minute_of_day, dtype=float) % (24 * 60)
    out = np.full(m.shape, SLOT_INDEX["late_night"], dtype=np.int64)
    out[(m >= 5 * 60) & (m < 10 * 60 + 30)] = SLOT_INDEX["breakfast"]
    out[(m >= 10 * 60 + 30) & (m < 15 * 60 + 30)] = SLOT_INDEX["lunch"]
    out[(m >= 15 * 60 + 30) & (m < 21 * 60)] = SLOT_INDEX["dinner"]
    return out


def slot_of_time(ts: pd.Series | pd.DatetimeIndex, tz: str = "Asia/Seoul") -> np.ndarray:
    """Meal slot index of timestamps, read in the users' local time."""
    ts = pd.to_datetime(ts)
    local = ts.dt.tz_convert(tz) if isinstance(ts, pd.Series) else ts.tz_convert(tz)
    minute = (local.dt.hour * 60 + local.dt.minute) if isinstance(local, pd.Series) else local.hour * 60 + local.minute
    return slot_of_minute(np.asarray(minute))


def budget_bucket(budget: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.asarray(BUDGET_BUCKETS), np.asarray(budget, dtype=float), side="left")


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(a, dtype=float)) for a in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True)
class Context:
    """What the request adds to the stored features (all optional)."""

    minute_of_day: float = 12 * 60
    lat: float | None = None  # where the user is now; default: the user's usual location
    lon: float | None = None
    budget: float | None = None  # NLU budget slot; default: the user's usual spend
    strategy: str = "normal"  # onboarding / data_building / normal / urgent
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, value: Context | Mapping[str, Any] | None) -> Context:
        if value is None:
            return cls()
        if isinstance(value, Context):
            return value
        known = {k: value[k] for k in ("minute_of_day", "lat", "lon", "budget", "strategy") if k in value}
        if "hour" in value and "minute_of_day" not in known:
            known["minute_of_day"] = float(value["hour"]) * 60
        return cls(**known)


def _as_matrix(values: Any, width: int, rows: int) -> np.ndarray:
    """A list-valued feature (per-row arrays, or one array) as a (rows, width) float matrix."""
    if values is None:
        return np.full((rows, width), 1.0 / width)
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if arr.dtype != object and arr.ndim == 2:
        return arr.astype(float)
    if arr.dtype != object and arr.ndim == 1 and arr.shape[0] == width:
        return np.broadcast_to(arr.astype(float), (rows, width))
    if len(arr) == rows:
        try:  # the usual case: every row has its list; one stack, no per-row checks
            stacked = np.stack(list(arr)).astype(float)
            if stacked.shape == (rows, width):
                return stacked
        except (ValueError, TypeError):
            pass
    out = np.full((rows, width), 1.0 / width)
    for i, v in enumerate(arr):  # object column with gaps (cold entities): row by row
        if isinstance(v, (list, tuple, np.ndarray)) and len(v) == width:
            out[i] = v
    return out


def _nz(values: Any, fill: float = 0.0) -> np.ndarray:
    """float array with NaN replaced (cheaper than ``np.nan_to_num`` on small arrays)."""
    arr = np.asarray(values, dtype=float)
    return np.where(np.isnan(arr), fill, arr)


def interaction_columns(
    user: Mapping[str, np.ndarray],
    shop: Mapping[str, np.ndarray],
    user_shop: Mapping[str, np.ndarray],
    ctx_minute: np.ndarray,
    ctx_lat: np.ndarray,
    ctx_lon: np.ndarray,
    ctx_budget: np.ndarray,
    urgent: np.ndarray,
    collaborative: np.ndarray | None = None,
    content: np.ndarray | None = None,
    distance_km: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The recommendation features of aligned rows (row i: user i, shop i, context i).

    ``user``/``shop`` map feature names to arrays of equal length n (list features as (n, k)
    matrices); context arrays broadcast. Missing history (cold users, new shops) falls back to
    neutral priors. ``distance_km`` replaces the distance from the context's (or the user's usual)
    location when the caller measured it otherwise (the chat service, from the resolved area).
    Returns float arrays plus the integer ids the model embeds.
    """
    n = len(np.asarray(shop["category_idx"]))
    cat = np.asarray(shop["category_idx"], dtype=np.int64)
    slot = np.broadcast_to(slot_of_minute(ctx_minute), (n,))
    rows = np.arange(n)

    total = _nz(user["total_orders"])
    cshare = _as_matrix(user.get("category_share"), len(CATEGORIES), n)
    cshare = (cshare * total[:, None] + SHARE_PRIOR / len(CATEGORIES)) / (total[:, None] + SHARE_PRIOR)
    uslot = _as_matrix(user.get("slot_share"), len(SLOTS), n)
    sslot = _as_matrix(shop.get("slot_share"), len(SLOTS), n)
    taste = _as_matrix(shop.get("customer_taste"), len(CATEGORIES), n)

    avg_value = _nz(user["avg_order_value"], 7000.0)
    avg_value = np.where(avg_value > 0, avg_value, 7000.0)
    budget = np.where(np.isfinite(ctx_budget) & (ctx_budget > 0), ctx_budget, avg_value)
    price = _nz(shop["median_price"], 8000.0)

    ulat = np.asarray(user["loc_lat"], dtype=float)
    ulon = np.asarray(user["loc_lon"], dtype=float)
    lat = np.where(np.isfinite(ctx_lat), ctx_lat, ulat)
    lon = np.where(np.isfinite(ctx_lon), ctx_lon, ulon)
    dist = (haversine_km(lat, lon, np.asarray(shop["lat"], dtype=float), np.asarray(shop["lon"], dtype=float))
            if distance_km is None else np.asarray(distance_km, dtype=float))
    dist = np.where(np.isfinite(dist), dist, 2.0)  # unknown location: a typical walk

    over = np.maximum(price - budget, 0.0) / budget
    under = np.maximum(budget - price, 0.0) / budget
    out: dict[str, np.ndarray] = {}
    out["category_preference_match"] = cshare[rows, cat] / cshare.max(axis=1)
    out["budget_compatibility"] = np.exp(-3.0 * over - 0.5 * under)
    out["distance_penalty"] = 1.0 - np.exp(-dist / DISTANCE_SCALE_KM)
    # the shop is a place people go at this hour, and this user eats at this hour
    out["time_preference_match"] = np.sqrt(sslot[rows, slot] * uslot[rows, slot] * len(SLOTS)) / 2.0
    visits = _nz(user_shop.get("visit_count", np.zeros(n)))
    out["visited_before"] = (visits > 0).astype(float)
    norm = np.linalg.norm(cshare, axis=1) * np.linalg.norm(taste, axis=1)
    out["similar_user_liked"] = np.where(norm > 0, (cshare * taste).sum(axis=1) / np.maximum(norm, 1e-9), 0.0)

    ucount = cshare[rows, cat] * (total + SHARE_PRIOR)
    out["user_category_interaction"] = 1.0 - np.exp(-ucount / 3.0)
    out["budget_time_interaction"] = out["budget_compatibility"] * out["time_preference_match"]
    out["location_category_interaction"] = (1.0 - out["distance_penalty"]) * out["category_preference_match"]

    fav = _nz(user["favorite_count"])
    reviews = _nz(shop["distinct_customers"])
    out["user_avg_budget_normalized"] = np.clip(budget / BUDGET_CAP, 0.0, 1.0)
    out["user_favorite_count_normalized"] = np.clip(fav / FAVORITE_CAP, 0.0, 1.0)
    out["shop_rating_normalized"] = np.clip(_nz(shop["repeat_customer_rate"]), 0.0, 1.0)
    out["shop_review_count_normalized"] = np.clip(np.log1p(reviews) / np.log1p(REVIEW_CAP), 0.0, 1.0)
    out["distance_normalized"] = np.clip(dist / DISTANCE_CAP_KM, 0.0, 1.0)
    out["price_to_budget"] = np.clip(price / budget, 0.0, 3.0) / 3.0

    popularity = np.asarray(shop.get("popularity_pct", np.zeros(n)), dtype=float)
    out["popularity_score"] = np.clip(_nz(popularity), 0.0, 1.0)
    out["collaborative_score"] = (np.zeros(n) if collaborative is None
                                  else np.clip(_nz(collaborative), 0.0, 1.0))
    if content is None:  # no text embeddings: the category match stands in
        out["content_score"] = out["category_preference_match"]
    else:  # no history to embed (cold user, unknown shop): the category match as well
        content = np.asarray(content, dtype=float)
        out["content_score"] = np.clip(np.where(np.isfinite(content), content, out["category_preference_match"]), 0, 1)
    out["contextual_score"] = (out["time_preference_match"] + out["budget_compatibility"]
                               + (1.0 - out["distance_penalty"])) / 3.0

    # spec §12 scenario 1: in urgent mode distance counts double and budget fit 1.5 times
    urgent = np.broadcast_to(np.asarray(urgent, dtype=bool), (n,))
    for name, weight in URGENT_WEIGHTS.items():
        out[name] = np.where(urgent, out[name] * weight, out[name])

    seg = np.broadcast_to(np.asarray(user.get("segment_idx", np.zeros(n)), dtype=np.int64), (n,))
    out["segment_x_category"] = seg * len(CATEGORIES) + cat
    out["budget_x_slot"] = budget_bucket(budget) * len(SLOTS) + slot
    out["slot_x_category"] = slot * len(CATEGORIES) + cat
    out["category"] = cat + 1
    out["time_slot"] = slot + 1
    return out


def stored_values(columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The spec columns as the table stores them: DECIMAL(4,3) in [0, 1] (urgent weights clipped)."""
    return {name: np.round(np.clip(np.asarray(columns[name], dtype=float), 0.0, 1.0), 3) for name in STORED_FEATURES}


def segment_index(values: Any) -> np.ndarray:
    lookup = {s: i for i, s in enumerate(SEGMENTS)}
    arr = np.asarray(values, dtype=object).reshape(-1)
    return np.array([lookup.get(v, 0) for v in arr], dtype=np.int64)


def category_index(values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=object).reshape(-1)
    return np.array([CATEGORY_INDEX.get(v, 0) for v in arr], dtype=np.int64)
