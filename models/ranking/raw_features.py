"""User, shop and user×shop feature history computed in memory from the raw tables: the reference.

The production history is built by dbt (``dbt_project/models/marts/features/*_daily.sql``,
``analytics.user_features_daily`` / ``shop_features_daily`` / ``user_shop_features_daily``),
and the Feast feature views read it. This module is the reference implementation those models
are checked against (``tests/integration/test_feature_history_parity.py``: same rows, same
values), and what training's default ``feature_source="memory"`` path and the unit tests use,
with no database. The same columns, computed with pandas from ``shops``, ``menus``,
``product_orders``, ``users`` and ``foodcard_users``; change the two together.

Time semantics (what makes training sets point-in-time correct): the warehouse is rebuilt
nightly, so every order placed on local day D is reflected in a feature row stamped
``event_timestamp = D+1 00:00`` (local time, stored in UTC). A row is written for an entity only
on days its features changed; a point-in-time join takes the latest row at or before the event.
Shop rows also carry ``popularity_pct``, the shop's order-count percentile among all shops that
night, and every shop has a row at the epoch (``static_shop_rows``) so shops never ordered from
are scorable.

The constants below have twins in ``dbt_project/dbt_project.yml`` (the ``ranking_*`` vars);
``tests/unit/orchestration/test_dbt_project_files.py`` keeps them equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from infra.vocabulary import MAIN_MENU_ROLES, food_card_weight
from models.ranking.features import CATEGORIES, CATEGORY_INDEX, SLOTS, slot_of_minute

LOCAL_TZ = "Asia/Seoul"
BASKET_WINDOW = "30min"  # order lines of one user at one shop within this window are one visit
RECENT_SHOPS = 10
MAIN_ROLES = MAIN_MENU_ROLES  # menu roles whose prices make a shop's median_price
DEFAULT_MEDIAN_PRICE = 8000.0  # a shop without menus
EPOCH = pd.Timestamp("2000-01-01", tz="UTC")  # event_timestamp of the rows of shops with no orders yet


@dataclass(frozen=True)
class FeatureSnapshots:
    user: pd.DataFrame  # user_id, event_timestamp, USER_FEATURES...
    shop: pd.DataFrame  # shop_id, event_timestamp, SHOP_FEATURES..., popularity_pct
    user_shop: pd.DataFrame  # user_id, shop_id, event_timestamp, visit_count
    visits: pd.DataFrame  # one row per visit (basket): user_id, shop_id, ts, value, category_idx, slot


def to_utc(values: pd.Series, tz: str = LOCAL_TZ) -> pd.Series:
    """Timestamps as tz-aware UTC; naive values are local time (the workbook's convention)."""
    ts = pd.to_datetime(values)
    if ts.dt.tz is None:
        ts = ts.dt.tz_localize(tz)
    return ts.dt.tz_convert("UTC")


def _next_local_midnight(ts_utc: pd.Series, tz: str = LOCAL_TZ) -> pd.Series:
    local = ts_utc.dt.tz_convert(tz)
    return (local.dt.normalize() + pd.Timedelta(days=1)).dt.tz_convert("UTC")


def segment_of(birthday: pd.Series, reference: date | datetime) -> pd.Series:
    """Age segment at ``reference``: child ≤ 12, teen 13–18, young_adult 19–24, adult."""
    born = pd.to_datetime(birthday)
    ref = pd.Timestamp(reference)
    age = ref.year - born.dt.year - ((born.dt.month > ref.month) | ((born.dt.month == ref.month) & (born.dt.day > ref.day))).astype(int)
    seg = np.select([age <= 12, age <= 18, age <= 24], ["child", "teen", "young_adult"], "adult")
    return pd.Series(np.where(born.isna(), "unknown", seg), index=birthday.index)


def shop_static(shops: pd.DataFrame, menus: pd.DataFrame) -> pd.DataFrame:
    """Attributes that do not depend on orders: category, location, price level, card, 착한가게."""
    price = menus.assign(main=menus["category"].isin(MAIN_ROLES))
    main = price[price["main"]].groupby("shop_id")["price"].median()
    every = price.groupby("shop_id")["price"].median()
    out = pd.DataFrame({
        "shop_id": shops["id"].astype("int64"),
        "category": shops["category"].astype(str),
        "lat": shops["latitude"].astype(float),
        "lon": shops["longitude"].astype(float),
        "takes_food_card": shops["is_food_card_shop"].map(food_card_weight),
        "is_good_influence": shops["is_good_influence_shop"].astype(bool).astype(float),
    })
    out["median_price"] = out["shop_id"].map(main).fillna(out["shop_id"].map(every)).fillna(DEFAULT_MEDIAN_PRICE).astype(float)
    out["category_idx"] = out["category"].map(CATEGORY_INDEX).fillna(0).astype("int64")
    return out


def user_static(users: pd.DataFrame, foodcard_users: pd.DataFrame, reference: date | datetime) -> pd.DataFrame:
    card = foodcard_users.loc[foodcard_users["status"].astype(str) == "ACTIVE", "user_id"].astype("int64")
    return pd.DataFrame({
        "user_id": users["id"].astype("int64"),
        "segment": segment_of(users["birthday"], reference).to_numpy(),
        "is_foodcard": users["id"].astype("int64").isin(set(card)).astype(float).to_numpy(),
    })


def visits_from_orders(orders: pd.DataFrame, menus: pd.DataFrame, shops: pd.DataFrame) -> pd.DataFrame:
    """Order lines → visits (one user at one shop within ``BASKET_WINDOW``), oldest first."""
    lines = orders.merge(menus[["id", "shop_id"]].rename(columns={"id": "product_id"}), on="product_id", how="inner")
    lines["ts"] = to_utc(lines["created_at"])
    lines["bucket"] = lines["ts"].dt.floor(BASKET_WINDOW)
    visits = (lines.groupby(["user_id", "shop_id", "bucket"], as_index=False)
              .agg(ts=("ts", "min"), value=("price", "sum"))
              .sort_values(["ts", "user_id"], kind="stable").reset_index(drop=True))
    cat = shops.set_index("id")["category"].map(CATEGORY_INDEX)
    visits["category_idx"] = visits["shop_id"].map(cat).fillna(0).astype("int64")
    local = visits["ts"].dt.tz_convert(LOCAL_TZ)
    visits["slot"] = slot_of_minute((local.dt.hour * 60 + local.dt.minute).to_numpy())
    visits["user_id"] = visits["user_id"].astype("int64")
    visits["shop_id"] = visits["shop_id"].astype("int64")
    return visits.drop(columns="bucket")


def _shares(onehot: np.ndarray, group: pd.Series) -> np.ndarray:
    cum = pd.DataFrame(onehot).groupby(group.to_numpy()).cumsum().to_numpy()
    return cum / np.maximum(cum.sum(axis=1, keepdims=True), 1)


def build_snapshots(tables: dict[str, pd.DataFrame], reference: date | datetime | None = None) -> FeatureSnapshots:
    """All feature rows from the raw tables (see the module doc for their timestamps)."""
    shops, menus, orders = tables["shops"], tables["menus"], tables["product_orders"]
    visits = visits_from_orders(orders, menus, shops)
    if reference is None:
        reference = visits["ts"].max().tz_convert(LOCAL_TZ).date() if len(visits) else date.today()
    static_shop = shop_static(shops, menus)
    static_user = user_static(tables["users"], tables["foodcard_users"], reference)
    visits["available_at"] = _next_local_midnight(visits["ts"])
    loc = static_shop.set_index("shop_id")[["lat", "lon"]]
    visits["shop_lat"] = visits["shop_id"].map(loc["lat"]).astype(float)
    visits["shop_lon"] = visits["shop_id"].map(loc["lon"]).astype(float)

    # ---- user rows -----------------------------------------------------------------------
    v = visits
    by_user = v.groupby("user_id")
    cat_1h = np.eye(len(CATEGORIES))[v["category_idx"].to_numpy()]
    slot_1h = np.eye(len(SLOTS))[v["slot"].to_numpy()]
    cshare = _shares(cat_1h, v["user_id"])
    sshare = _shares(slot_1h, v["user_id"])
    total = by_user.cumcount().to_numpy() + 1
    us_count = v.groupby(["user_id", "shop_id"]).cumcount().to_numpy() + 1
    first_ts = by_user["ts"].transform("min")
    days = ((v["ts"] - first_ts).dt.total_seconds() / 86400).clip(lower=7.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -(np.where(cshare > 0, cshare * np.log(cshare), 0.0)).sum(axis=1) / np.log(len(CATEGORIES))
    users = pd.DataFrame({
        "user_id": v["user_id"],
        "event_timestamp": v["available_at"],
        "total_orders": total.astype(float),
        "avg_order_value": (by_user["value"].cumsum() / total).astype(float),
        "order_frequency": (total / days * 30.0).astype(float),
        "favorite_count": pd.Series(us_count == 2).groupby(v["user_id"].to_numpy()).cumsum().to_numpy().astype(float),
        "category_diversity": entropy,
        "shop_loyalty": 1.0 - pd.Series(us_count == 1).groupby(v["user_id"].to_numpy()).cumsum().to_numpy() / total,
        "loc_lat": (by_user["shop_lat"].cumsum() / total).astype(float),
        "loc_lon": (by_user["shop_lon"].cumsum() / total).astype(float),
    })
    users["category_share"] = list(cshare.round(4))
    users["slot_share"] = list(sshare.round(4))
    recent: list[list[int]] = []
    history: dict[int, list[int]] = {}
    for uid, sid in zip(v["user_id"].to_numpy(), v["shop_id"].to_numpy()):
        h = history.setdefault(int(uid), [])
        if sid in h:
            h.remove(sid)
        h.insert(0, int(sid))
        del h[RECENT_SHOPS:]
        recent.append(list(h))
    users["recent_shop_ids"] = recent
    users = users.groupby(["user_id", "event_timestamp"], as_index=False).last()
    users = users.merge(static_user, on="user_id", how="left")
    users["segment"] = users["segment"].fillna("unknown")
    users["is_foodcard"] = users["is_foodcard"].fillna(0.0)

    # ---- user × shop rows ----------------------------------------------------------------
    user_shop = pd.DataFrame({"user_id": v["user_id"], "shop_id": v["shop_id"], "event_timestamp": v["available_at"],
                              "visit_count": us_count.astype(float)})
    user_shop = user_shop.groupby(["user_id", "shop_id", "event_timestamp"], as_index=False).last()

    # ---- shop rows -----------------------------------------------------------------------
    by_shop = v.groupby("shop_id")
    s_total = by_shop.cumcount().to_numpy() + 1
    customers = pd.Series(us_count == 1).groupby(v["shop_id"].to_numpy()).cumsum().to_numpy()
    repeaters = pd.Series(us_count == 2).groupby(v["shop_id"].to_numpy()).cumsum().to_numpy()
    taste = pd.DataFrame(cshare).groupby(v["shop_id"].to_numpy()).cumsum().to_numpy() / s_total[:, None]
    shop = pd.DataFrame({
        "shop_id": v["shop_id"], "event_timestamp": v["available_at"],
        "order_count": s_total.astype(float),
        "distinct_customers": customers.astype(float),
        "repeat_customer_rate": np.where(customers > 0, repeaters / np.maximum(customers, 1), 0.0),
    })
    shop["slot_share"] = list(_shares(slot_1h, v["shop_id"]).round(4))
    shop["customer_taste"] = list(taste.round(4))
    # orders in the 30 days before the snapshot
    day_counts = v.groupby(["shop_id", "available_at"]).size().rename("n").reset_index()
    day_counts = day_counts.set_index("available_at").groupby("shop_id")["n"].rolling("30D").sum().rename("order_count_30d")
    shop = shop.groupby(["shop_id", "event_timestamp"], as_index=False).last()
    shop = shop.merge(day_counts.reset_index().rename(columns={"available_at": "event_timestamp"}),
                      on=["shop_id", "event_timestamp"], how="left")
    # popularity percentile among all shops, each night
    days_all = np.sort(shop["event_timestamp"].unique())
    wide = (shop.pivot(index="event_timestamp", columns="shop_id", values="order_count")
            .reindex(days_all).ffill().fillna(0.0))
    wide = wide.reindex(columns=static_shop["shop_id"], fill_value=0.0)
    pct = wide.rank(axis=1, pct=True, method="average")
    pct_long = pct.stack().rename("popularity_pct").reset_index()
    pct_long.columns = ["event_timestamp", "shop_id", "popularity_pct"]
    shop = shop.merge(pct_long, on=["event_timestamp", "shop_id"], how="left")
    shop = shop.merge(static_shop, on="shop_id", how="left")
    shop = pd.concat([static_shop_rows(tables), shop], ignore_index=True)
    return FeatureSnapshots(user=users.reset_index(drop=True), shop=shop.reset_index(drop=True),
                            user_shop=user_shop.reset_index(drop=True), visits=visits)


def cold_user_row(user_id: int, segment: str = "unknown", is_foodcard: float = 0.0) -> dict[str, Any]:
    """Feature values of a user with no history (also what a missing online row means)."""
    return {"user_id": user_id, "total_orders": 0.0, "avg_order_value": np.nan, "order_frequency": 0.0,
            "favorite_count": 0.0, "category_diversity": 1.0, "shop_loyalty": 0.0, "loc_lat": np.nan,
            "loc_lon": np.nan, "category_share": None, "slot_share": None, "recent_shop_ids": [],
            "segment": segment, "is_foodcard": is_foodcard}


def static_shop_rows(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """A row for every shop with all counts zero, stamped at the epoch: what a shop never ordered
    from serves, and what an ordered shop served before its first order."""
    base = shop_static(tables["shops"], tables["menus"])
    base["event_timestamp"] = EPOCH
    for col in ("order_count", "order_count_30d", "distinct_customers", "repeat_customer_rate", "popularity_pct"):
        base[col] = 0.0
    base["slot_share"] = [np.full(len(SLOTS), 1 / len(SLOTS)).round(4)] * len(base)
    base["customer_taste"] = [np.full(len(CATEGORIES), 1 / len(CATEGORIES)).round(4)] * len(base)
    return base
