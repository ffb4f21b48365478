"""Training lists from the orders alone: the bootstrap ranker's data before the service has logs.

A new deployment has orders (``product_orders``) but no recommendation logs. Each sampled order
becomes one list as the child might have seen it a few minutes before ordering: the shop they
ordered from (the positive) among ``list_size - 1`` other shops that were open then and within
walking distance of where they eat (the centre of the shops of their earlier orders; a child with
no earlier order is skipped), half drawn by popularity before the first list, half at random, in
random positions. The label is the order. Nothing here reads the hidden truth: it is the data the
platform itself holds (the simulator and evaluation are the truth's only readers), and once the
service has logged enough lists the nightly retrain (``models.ranking.retrain``) learns from them.

The positive must pass the same filter as the negatives (open, near), else "far" or "closed"
would mark the positive and the model would learn the filter instead of the taste.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from infra.sample_data import behaviour
from models.ranking.features import haversine_km
from models.ranking.raw_features import LOCAL_TZ, visits_from_orders

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderListsConfig:
    n_lists: int = 20_000
    list_size: int = 20
    min_history_days: int = 21  # the first weeks give the children a history (and a place)
    popular_share: float = 0.5  # of the negatives, drawn by popularity; the rest at random
    max_distance_km: float = 3.0
    ask_before_minutes: float = 5.0
    seed: int = 0


def _hours(shops: pd.DataFrame, col: str) -> np.ndarray:
    return np.array([-1 if (m := behaviour.hhmm_to_minutes(v)) is None else m for v in shops[col]])


def lists_from_orders(tables: Mapping[str, pd.DataFrame], config: OrderListsConfig = OrderListsConfig()) -> pd.DataFrame:
    """One row per (list, shown shop): ``impression_id``, ``user_id``, ``shop_id``,
    ``event_timestamp``, ``minute_of_day``, ``ctx_lat``/``ctx_lon``, ``position``, ``clicked`` and
    ``ordered`` (both the order)."""
    rng = np.random.default_rng(config.seed)
    shops = tables["shops"].reset_index(drop=True)
    shop_ids = shops["id"].to_numpy(dtype=np.int64)
    pos_of = pd.Series(np.arange(len(shops)), index=shop_ids)
    lat, lon = shops["latitude"].to_numpy(dtype=float), shops["longitude"].to_numpy(dtype=float)
    hours = [_hours(shops, c) for c in ("open_hour", "close_hour", "break_start_hour", "break_end_hour")]
    visits = visits_from_orders(tables["product_orders"], tables["menus"], shops)
    if not len(visits):
        return pd.DataFrame()
    start = visits["ts"].min() + pd.Timedelta(days=config.min_history_days)
    visits["pos"] = pos_of.reindex(visits["shop_id"]).to_numpy()
    before = visits[visits["ts"] < start]
    popularity = np.bincount(before["pos"].dropna().astype(int), minlength=len(shops)) + 1.0
    # where each child eats, as of each order: the mean of the shops of their earlier orders (a shop
    # missing from the catalogue has no place and counts for nothing)
    known = visits["pos"].notna().to_numpy()
    where = visits["pos"].fillna(0).astype(int).to_numpy()
    visits["lat"] = np.where(known, lat[where], 0.0)
    visits["lon"] = np.where(known, lon[where], 0.0)
    visits["known"] = known.astype(float)
    grouped = visits.groupby("user_id")
    n_before = (grouped["known"].cumsum() - visits["known"]).replace(0, np.nan)
    visits["home_lat"] = (grouped["lat"].cumsum() - visits["lat"]) / n_before
    visits["home_lon"] = (grouped["lon"].cumsum() - visits["lon"]) / n_before
    sessions = visits[(visits["ts"] >= start) & visits["home_lat"].notna() & visits["pos"].notna()]
    if len(sessions) > config.n_lists:
        sessions = sessions.sample(config.n_lists, random_state=config.seed)
    sessions = sessions.sort_values("ts").reset_index(drop=True)

    frames = []
    for imp, row in enumerate(sessions.itertuples(index=False)):
        at = row.ts - pd.Timedelta(minutes=config.ask_before_minutes)
        local = at.tz_convert(LOCAL_TZ)
        minute = local.hour * 60 + local.minute + local.second / 60
        dist = haversine_km(row.home_lat, row.home_lon, lat, lon)
        eligible = behaviour.open_mask(*hours, minute) & (dist <= config.max_distance_km)
        positive = int(row.pos)
        if not eligible[positive]:
            continue
        eligible[positive] = False
        pool = np.flatnonzero(eligible)
        k = min(config.list_size - 1, len(pool))
        if k == 0:
            continue
        n_pop = int(round(k * config.popular_share))
        by_pop = rng.choice(pool, size=n_pop, replace=False, p=popularity[pool] / popularity[pool].sum()) \
            if n_pop else np.zeros(0, dtype=np.int64)
        rest = np.setdiff1d(pool, by_pop)
        shown = np.concatenate([[positive], by_pop, rng.choice(rest, size=k - n_pop, replace=False)]).astype(np.int64)
        rng.shuffle(shown)
        label = (shown == positive).astype(np.int8)
        frames.append(pd.DataFrame({
            "impression_id": imp, "user_id": int(row.user_id), "shop_id": shop_ids[shown], "event_timestamp": at,
            "minute_of_day": minute, "ctx_lat": row.home_lat, "ctx_lon": row.home_lon,
            "position": np.arange(len(shown)) + 1, "clicked": label, "ordered": label,
        }))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    log.info("built %d lists from orders (%d rows, %d sampled orders skipped: closed, far or no choice)",
             len(frames), len(out), len(sessions) - len(frames))
    return out
