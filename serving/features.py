"""Features for ranking: shop features held in memory, user features read once a minute per child, and the
spec's ``recommendation_features`` columns computed per candidate (§7, §11).

* Shop features: every shop's row (``public.shops`` derived columns, joined with the dbt mart
  ``analytics.shop_features`` when it exists) is loaded into memory at start-up and reloaded when
  materialization runs (it bumps the Redis key ``naviyam:features:version``) or every
  ``refresh_s`` seconds, so 100 candidates never mean 100 reads.
* User features: the Feast online store (``serving.online_features``) when it is set up; else this
  module's ``UserFeatureCache``: one query per user (the feature history's latest row, else an
  aggregate of ``product_orders``), kept in a small TTL cache.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine, text

from infra.feature_contract import BOOLEAN_STORED, ONLINE_VERSION_KEY, STORED_FEATURES
from infra.vocabulary import CATEGORIES, MAIN_MENU_ROLES, food_card_weight

log = logging.getLogger(__name__)


_MAIN_ROLES_SQL = ", ".join(f"'{role}'" for role in MAIN_MENU_ROLES)
SHOPS_SQL = text(f"""
    SELECT s.id AS shop_id, s.category, s.latitude::float8 AS lat, s.longitude::float8 AS lon, s.is_food_card_shop,
           s.is_good_influence_shop, s.current_status, s.popularity_score, s.quality_score,
           s.user_satisfaction_avg, s.click_through_rate, s.conversion_rate, s.total_orders_served,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY m.price) FROM menus m
             WHERE m.shop_id = s.id AND m.category IN ({_MAIN_ROLES_SQL})) AS median_price
    FROM shops s
""")
#: the ranker's shop features as the online store serves them after materialization (Feast's source)
RANKER_SHOPS_SQL = text("""
    SELECT DISTINCT ON (shop_id) * FROM analytics.shop_features_daily ORDER BY shop_id, event_timestamp DESC
""")
RANKER_USER_SQL = text("""
    SELECT * FROM analytics.user_features_daily WHERE user_id = :user_id ORDER BY event_timestamp DESC LIMIT 1
""")
RANKER_VISITS_SQL = text("""
    SELECT DISTINCT ON (shop_id) shop_id, visit_count FROM analytics.user_shop_features_daily
    WHERE user_id = :user_id ORDER BY shop_id, event_timestamp DESC
""")
MART_SHOPS_SQL = text("""
    SELECT shop_id, overall_popularity, repeat_customer_rate, avg_rating, total_orders, customers
    FROM analytics.shop_features
""")
MART_USER_SQL = text("SELECT * FROM analytics.user_features WHERE user_id = :user_id LIMIT 1")
ORDERS_USER_SQL = text("""
    WITH o AS (
        SELECT o.price, m.shop_id, s.category
        FROM product_orders o JOIN menus m ON m.id = o.product_id JOIN shops s ON s.id = m.shop_id
        WHERE o.user_id = :user_id
    )
    SELECT (SELECT count(*) FROM o) AS total_orders,
           (SELECT coalesce(avg(price), 0) FROM o) AS avg_order_value,
           (SELECT coalesce(jsonb_object_agg(category, n), '{}'::jsonb)
              FROM (SELECT category, count(*) AS n FROM o GROUP BY category) c) AS category_counts,
           (SELECT coalesce(jsonb_agg(DISTINCT shop_id), '[]'::jsonb) FROM o) AS shop_ids
""")


def _f(value: Any, default: float = 0.0) -> float:
    try:
        if value is None:
            return default
        v = float(value)
        return v if math.isfinite(v) else default
    except (TypeError, ValueError):
        return default


class ShopFeatureCache:
    def __init__(self, engine: Engine, *, redis_factory=None, refresh_s: float = 300.0, check_s: float = 5.0) -> None:
        self.engine = engine
        self.redis_factory = redis_factory
        self.refresh_s = refresh_s
        self.check_s = check_s
        self._shops: dict[int, dict[str, Any]] = {}
        self._loaded_at = 0.0
        self._version: bytes | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self.source = "none"
        self.loads = 0

    def load(self) -> int:
        shops: dict[int, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(SHOPS_SQL).mappings():
                shops[int(r["shop_id"])] = dict(r)
            for s in shops.values():  # the ranker's static columns, for shops the feature tables lack
                s.setdefault("takes_food_card", food_card_weight(s.get("is_food_card_shop")))
                s.setdefault("is_good_influence", 1.0 if s.get("is_good_influence_shop") else 0.0)
                s["median_price"] = float(s["median_price"]) if s.get("median_price") is not None else 8000.0
            sources = ["shops"]
            for label, sql in (("analytics.shop_features", MART_SHOPS_SQL), ("analytics.shop_features_daily", RANKER_SHOPS_SQL)):
                try:  # both are optional (not materialized yet in a fresh checkout)
                    with conn.begin_nested():
                        for r in conn.execute(sql).mappings():
                            row = shops.get(int(r["shop_id"]))
                            if row is not None:
                                row.update({k: v for k, v in r.items() if k not in ("shop_id", "event_timestamp")
                                          and v is not None})
                    sources.append(label)
                except Exception:
                    pass
            source = "+".join(sources)
        with self._lock:
            self._shops = shops
            self._loaded_at = time.monotonic()
            self.source = source
            self.loads += 1
        return len(shops)

    def _current_version(self) -> bytes | None:
        if self.redis_factory is None:
            return None
        try:
            from infra.redis_client import key

            return self.redis_factory().get(key(*ONLINE_VERSION_KEY))
        except Exception:
            return None

    def maybe_refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < self.check_s:
            return
        self._checked_at = now
        version = self._current_version()
        if version != self._version or now - self._loaded_at > self.refresh_s:
            try:
                self.load()
                self._version = version
            except Exception as exc:  # keep serving the loaded features
                log.warning("shop features: reload failed (%s)", type(exc).__name__)

    def get(self, shop_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        self.maybe_refresh()
        shops = self._shops
        return {i: shops[i] for i in shop_ids if i in shops}

    def __len__(self) -> int:
        return len(self._shops)


#: how long a worker reuses a child's user features: the next turn of a conversation comes seconds
#: later, and the features change at most once a batch (5 minutes)
USER_FEATURES_TTL_S = 60.0


class UserFeatureCache:
    def __init__(self, engine: Engine, *, ttl_s: float = USER_FEATURES_TTL_S, maxsize: int = 20_000) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self.maxsize = maxsize
        self._cache: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()
        self._mart = True

    def get(self, user_id: str, shop_ids: Sequence[int] = ()) -> tuple[dict[str, Any], str]:
        """(features, ``"l1"`` or ``"miss"``); the user's visits to every shop come with them, so
        ``shop_ids`` is not needed here (it is for ``serving.online_features.FeastUserFeatures``)."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(user_id)
            if hit and now - hit[0] < self.ttl_s:
                self._cache.move_to_end(user_id)
                return hit[1], "l1"
        feats = self._read(user_id)
        with self._lock:
            self._cache[user_id] = (now, feats)
            if len(self._cache) > self.maxsize:
                self._cache.popitem(last=False)
        return feats, "miss"

    def invalidate(self, user_id: str | None = None) -> None:
        with self._lock:
            if user_id is None:
                self._cache.clear()
            else:
                self._cache.pop(user_id, None)

    def _read(self, user_id: str) -> dict[str, Any]:
        from infra.platform_ids import user_key

        uid = user_key(user_id)
        if uid is None:  # not the canonical id of a platform user: nothing to look up
            return {"total_orders": 0}
        with self.engine.connect() as conn:
            if self._mart:  # the ranker's feature row (what Feast serves online) and the user's visits
                try:
                    with conn.begin_nested():
                        r = conn.execute(RANKER_USER_SQL, {"user_id": uid}).mappings().first()
                        visits = {int(v["shop_id"]): float(v["visit_count"] or 0)
                                  for v in conn.execute(RANKER_VISITS_SQL, {"user_id": uid}).mappings()}
                    if r is not None:
                        out = {k: v for k, v in r.items() if k != "event_timestamp"}
                        out["visit_counts"] = visits
                        shares = out.get("category_share")
                        if shares is not None and not isinstance(shares, dict):
                            out["category_share_by_name"] = dict(zip(CATEGORIES, [float(x) for x in shares]))
                        return out
                except Exception:
                    self._mart = False
            r = conn.execute(ORDERS_USER_SQL, {"user_id": uid}).mappings().first()
        if r is None:
            return {"total_orders": 0}
        counts = dict(r["category_counts"] or {})
        total = int(r["total_orders"] or 0)
        return {"total_orders": total, "avg_order_value": _f(r["avg_order_value"]),
                "category_share": {k: v / total for k, v in counts.items()} if total else {},
                "recent_shop_ids": list(r["shop_ids"] or [])}


# ---- per-candidate features ----------------------------------------------------------------------


def _clip01(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


#: a category the child named in this conversation counts like this many orders of it
STATED_LIKE_ORDERS = 3.0
#: the stored columns the service writes as numbers (``visited_before`` is a boolean)
STORED: tuple[str, ...] = tuple(c for c in STORED_FEATURES if c not in BOOLEAN_STORED)


def _share_vector(user: Mapping[str, Any]) -> np.ndarray:
    """The user's category shares in ``CATEGORIES`` order, whichever shape the reader returned."""
    shares = user.get("category_share")
    if isinstance(shares, Mapping):  # the PostgreSQL fallback reader: {category: share}
        return np.array([_f(shares.get(c)) for c in CATEGORIES])
    if isinstance(shares, (list, tuple, np.ndarray)) and len(shares) == len(CATEGORIES):
        return np.array([_f(x) for x in shares])
    return np.zeros(len(CATEGORIES))


@dataclass(frozen=True)
class CandidateInput:
    """What the turn knows of one priced candidate (retrieval order = its position in the list)."""

    category: str
    final_price: float  # after the coupon
    distance_m: float | None  # from the resolved area; None when the area is unknown
    shop: Mapping[str, Any]  # the in-memory shop row (``ShopFeatureCache``)
    meal_card_usable: bool


def candidate_features(items: Sequence[CandidateInput], *, user: Mapping[str, Any], liked: Sequence[str],
                       limit: float | None, minute_of_day: int) -> list[dict[str, float]]:
    """The spec's recommendation_features columns of the turn's candidates, each in [0, 1],
    computed in one batch by the ranker's own arithmetic (``models.ranking.features.
    interaction_columns``, what training runs) on what the service knows at this turn: the price
    after the coupon, the distance from the resolved area, the categories the child named (as
    extra orders of them), the retrieval rank as the content score. ``meal_card_usable`` and
    ``good_influence`` are the answer's own signals (reasons, the linear fallback), not ranker
    features."""
    from models.ranking import features as F  # noqa: PLC0415 - numpy arithmetic, loaded on first use

    n = len(items)
    if not n:
        return []
    stated = [c for c in dict.fromkeys(liked) if c in F.CATEGORY_INDEX]
    total = _f(user.get("total_orders"))
    counts = _share_vector(user) * total
    for c in stated:
        counts[F.CATEGORY_INDEX[c]] += STATED_LIKE_ORDERS
    total += STATED_LIKE_ORDERS * len(stated)
    visit_counts = user.get("visit_counts") or {}
    recent = set(user.get("recent_shop_ids") or [])

    def col(values) -> np.ndarray:
        return np.array([_f(v, math.nan) for v in values])

    user_cols: dict[str, Any] = {
        "total_orders": np.full(n, total), "avg_order_value": np.full(n, _f(user.get("avg_order_value"), math.nan)),
        "favorite_count": np.full(n, _f(user.get("favorite_count"), math.nan)),
        "loc_lat": np.full(n, math.nan), "loc_lon": np.full(n, math.nan),
    }
    if total > 0:
        user_cols["category_share"] = counts / total
    if isinstance(user.get("slot_share"), (list, tuple, np.ndarray)):
        user_cols["slot_share"] = np.asarray(user["slot_share"], dtype=float)
    shops = [i.shop for i in items]
    shop_cols: dict[str, Any] = {
        "category_idx": np.array([F.CATEGORY_INDEX.get(i.category, 0) for i in items]),
        "median_price": np.array([float(i.final_price) for i in items]),
        "distinct_customers": col(s.get("distinct_customers", s.get("customers")) for s in shops),
        "repeat_customer_rate": col(s.get("repeat_customer_rate") for s in shops),
        "popularity_pct": col(s.get("popularity_pct") for s in shops),
        "lat": np.full(n, math.nan), "lon": np.full(n, math.nan),
    }
    for name in ("slot_share", "customer_taste"):
        values = [s.get(name) for s in shops]
        if all(isinstance(v, (list, tuple, np.ndarray)) for v in values):
            shop_cols[name] = np.asarray(values, dtype=float)
    sids = [int(s.get("shop_id") or -1) for s in shops]
    visits = np.array([_f(visit_counts.get(sid)) or float(sid in recent) for sid in sids])
    cols = F.interaction_columns(
        user=user_cols, shop=shop_cols, user_shop={"visit_count": visits},
        ctx_minute=np.float64(minute_of_day), ctx_lat=np.float64(math.nan), ctx_lon=np.float64(math.nan),
        ctx_budget=np.float64(limit if limit else math.nan), urgent=np.bool_(False),
        content=1.0 - np.arange(n) / n,
        distance_km=np.array([math.nan if i.distance_m is None else i.distance_m / 1000.0 for i in items]))
    stored = {name: v.tolist() for name, v in F.stored_values(cols).items()}
    return [{**{name: v[k] for name, v in stored.items()},
             "meal_card_usable": 1.0 if items[k].meal_card_usable else 0.0,
             "good_influence": 1.0 if shops[k].get("is_good_influence_shop") else 0.0} for k in range(n)]


def reason_breakdown(f: Mapping[str, float], open_now: bool) -> dict[str, float]:
    return {
        "budget_fit": round(_clip01(f.get("budget_compatibility", 0.0)), 3),
        "distance_score": round(_clip01(1.0 - f.get("distance_penalty", 0.5)), 3),
        "popularity": round(_clip01(f.get("popularity_score", 0.0)), 3),
        "personal_preference": round(_clip01(f.get("category_preference_match", 0.0)), 3),
        "good_influence": round(f.get("good_influence", 0.0), 3),
        "open_now": 1.0 if open_now else 0.0,
    }


REASON_WORDS = {"budget_fit": "예산적합", "distance_score": "가까움", "popularity": "인기",
                "personal_preference": "취향", "good_influence": "착한가게"}


def reason_label(breakdown: Mapping[str, float]) -> str:
    top = [k for k, v in sorted(breakdown.items(), key=lambda kv: -kv[1]) if k in REASON_WORDS and v >= 0.5][:3]
    return "+".join(REASON_WORDS[k] for k in top) or "조건일치"
