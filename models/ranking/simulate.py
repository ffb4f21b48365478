"""Labelled impressions simulated from the sample users' hidden preferences.

The sample data has orders but no recommendation logs, so there is nothing to learn a ranker
from. This module makes them with the very choice model that generated the orders
(``infra.sample_data.behaviour``): for a sampled moment when a user ate (an order of the sample
data, minus a few minutes: the user asks the bot before ordering), a logging policy shows a list
of open shops nearby (half the slots by popularity, half at random: exploration), and the user
clicks one shop, or none, with multinomial-logit probabilities

    P(shop s) = exp(U_s) / (exp(u0) + Σ_j exp(U_j)),  U_s = log Σ_{menus m of s} exp(u(m))

where u is the hidden utility of a menu for that user at that hour and u0 an outside option set
so that about ``no_click_share`` of the lists get no click. A click becomes an order with
probability ``order_given_click``. Every row keeps its true probability, so evaluation can ask
how well a ranking recovers the hidden preferences.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from infra.sample_data import behaviour
from infra.sample_data.behaviour import Candidates, UserTruth
from models.ranking.features import haversine_km
from models.ranking.raw_features import LOCAL_TZ, visits_from_orders

log = logging.getLogger(__name__)

MAX_DISTANCE_KM = {"child": 2.0, "teen": 3.0, "young_adult": 3.5, "adult": 4.0}
MIN_NEARBY = 8


@dataclass(frozen=True)
class ImpressionConfig:
    n_impressions: int = 20_000
    list_size: int = 20
    min_history_days: int = 21  # no impressions in the first weeks: users need some history
    explore_share: float = 0.5
    no_click_share: float = 0.4
    order_given_click: float = 0.8
    ask_before_minutes: float = 5.0
    seed: int = 0


def load_truth(data: Mapping[str, Any]) -> tuple[dict[int, UserTruth], dict[int, bool]]:
    """Hidden truth JSON → (user id → UserTruth, menu id → spicy)."""
    users = {}
    for uid, entry in data["users"].items():
        fields = {k: v for k, v in entry.items() if k in UserTruth.__dataclass_fields__ and not k.startswith("_")}
        users[int(uid)] = UserTruth.from_json({**fields, "user_id": int(uid)})
    names = list(data.get("menu_fields", ["dish_type", "shop_category", "spicy", "price"]))
    spicy_at = names.index("spicy")
    spicy = {int(mid): bool(row[spicy_at]) for mid, row in data.get("menus", {}).items()}
    return users, spicy


class _Catalog:
    """Shops and menus as flat arrays (positions), the form ``behaviour.utilities`` consumes."""

    def __init__(self, tables: Mapping[str, pd.DataFrame], spicy: Mapping[int, bool]) -> None:
        shops = tables["shops"].reset_index(drop=True)
        menus = tables["menus"].reset_index(drop=True)
        self.shop_id = shops["id"].to_numpy(dtype=np.int64)
        pos = pd.Series(np.arange(len(shops)), index=self.shop_id)
        self.lat = shops["latitude"].to_numpy(dtype=float)
        self.lon = shops["longitude"].to_numpy(dtype=float)
        self.category = shops["category"].map(behaviour.CATEGORY_INDEX).to_numpy(dtype=np.int64)
        self.food_card = shops["is_food_card_shop"].map(behaviour.FOOD_CARD_INDEX).fillna(2).to_numpy(dtype=np.int64)
        self.good = shops["is_good_influence_shop"].astype(bool).to_numpy()

        def minutes(col: str) -> np.ndarray:
            return np.array([-1 if (m := behaviour.hhmm_to_minutes(v)) is None else m for v in shops[col]])

        self.open_min, self.close_min = minutes("open_hour"), minutes("close_hour")
        self.break_start, self.break_end = minutes("break_start_hour"), minutes("break_end_hour")
        self.menu_id = menus["id"].to_numpy(dtype=np.int64)
        self.menu_shop = pos.reindex(menus["shop_id"].to_numpy()).to_numpy()
        self.menu_price = menus["price"].to_numpy(dtype=np.int64)
        self.menu_role = menus["category"].map(behaviour.ROLE_INDEX).fillna(0).to_numpy(dtype=np.int64)
        fallback = [behaviour.looks_spicy(f"{n} {d or ''}") for n, d in zip(menus["menu_name"], menus["description"])] \
            if hasattr(behaviour, "looks_spicy") else [False] * len(menus)
        self.menu_spicy = np.array([spicy.get(int(m), f) for m, f in zip(self.menu_id, fallback)], dtype=bool)
        order = np.argsort(self.menu_shop, kind="stable")
        bounds = np.searchsorted(self.menu_shop[order], np.arange(len(shops) + 1))
        self.shop_menus = [order[bounds[i]:bounds[i + 1]] for i in range(len(shops))]

    def is_open(self, minute: float) -> np.ndarray:
        return behaviour.open_mask(self.open_min, self.close_min, self.break_start, self.break_end, minute)

    def candidates(self, shop_pos: np.ndarray, distance_km: np.ndarray, minute: float) -> tuple[Candidates, np.ndarray]:
        """Every menu of the given shops; also each menu's index into ``shop_pos``."""
        menus = [self.shop_menus[p] for p in shop_pos]
        owner = np.repeat(np.arange(len(shop_pos)), [len(m) for m in menus])
        m = np.concatenate(menus) if menus else np.zeros(0, dtype=np.int64)
        sp = shop_pos[owner]
        cand = Candidates(
            shop_id=self.shop_id[sp], menu_id=self.menu_id[m], category=self.category[sp],
            food_card=self.food_card[sp], good=self.good[sp], price=self.menu_price[m], spicy=self.menu_spicy[m],
            role=self.menu_role[m], distance_km=distance_km[owner], is_open=self.is_open(minute)[sp],
        )
        return cand, owner


def _logsumexp_by(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -np.inf)
    finite = np.isfinite(values)
    if not finite.any():
        return out
    top = np.full(n, -np.inf)
    np.maximum.at(top, owner[finite], values[finite])
    acc = np.zeros(n)
    np.add.at(acc, owner[finite], np.exp(values[finite] - top[owner[finite]]))
    ok = acc > 0
    out[ok] = top[ok] + np.log(acc[ok])
    return out


def simulate_impressions(tables: Mapping[str, pd.DataFrame], truth: Mapping[str, Any],
                         config: ImpressionConfig = ImpressionConfig()) -> pd.DataFrame:
    """One row per (impression, shown shop): ids, time, context, labels and true probabilities."""
    rng = np.random.default_rng(config.seed)
    users, spicy = load_truth(truth)
    cat = _Catalog(tables, spicy)
    visits = visits_from_orders(tables["product_orders"], tables["menus"], tables["shops"])
    start = visits["ts"].min() + pd.Timedelta(days=config.min_history_days)
    sessions = visits[(visits["ts"] >= start) & visits["user_id"].isin(users.keys())]
    if len(sessions) > config.n_impressions:
        sessions = sessions.sample(config.n_impressions, random_state=config.seed)
    sessions = sessions.sort_values("ts").reset_index(drop=True)
    popularity = np.bincount(pd.Series(np.arange(len(cat.shop_id)), index=cat.shop_id)
                             .reindex(visits["shop_id"]).to_numpy(), minlength=len(cat.shop_id)) + 1.0

    lists: list[dict[str, np.ndarray]] = []
    for imp, row in enumerate(sessions.itertuples(index=False)):
        truth_u = users[int(row.user_id)]
        at = row.ts - pd.Timedelta(minutes=config.ask_before_minutes)
        local = at.tz_convert(LOCAL_TZ)
        minute = local.hour * 60 + local.minute + local.second / 60
        dist = haversine_km(truth_u.home[0], truth_u.home[1], cat.lat, cat.lon)
        open_now = cat.is_open(minute)
        order = np.argsort(dist)
        near = order[open_now[order] & (dist[order] <= MAX_DISTANCE_KM.get(truth_u.segment, 3.0))]
        if len(near) < MIN_NEARBY:
            near = order[open_now[order]][:max(MIN_NEARBY, config.list_size)]
        if len(near) == 0:
            continue
        k = min(config.list_size, len(near))
        n_pop = int(round(k * (1 - config.explore_share)))
        w = popularity[near] / popularity[near].sum()
        by_pop = rng.choice(near, size=n_pop, replace=False, p=w) if n_pop else np.zeros(0, dtype=np.int64)
        rest = np.setdiff1d(near, by_pop)
        shown = np.concatenate([by_pop, rng.choice(rest, size=k - n_pop, replace=False)])
        rng.shuffle(shown)
        cand, owner = cat.candidates(shown, dist[shown], minute)
        u = behaviour.utilities(truth_u, cand, minute)
        lists.append({"imp": imp, "user_id": int(row.user_id), "ts": at, "minute": minute, "home": truth_u.home,
                      "shop_pos": shown, "U": _logsumexp_by(u, owner, len(shown))})

    # outside option: one constant u0 so that about no_click_share of lists get no click
    lse = np.array([np.logaddexp.reduce(li["U"][np.isfinite(li["U"])]) if np.isfinite(li["U"]).any() else -50.0
                    for li in lists])
    lo, hi = lse.min() - 20, lse.max() + 20
    for _ in range(60):
        mid = (lo + hi) / 2
        share = np.mean(1 / (1 + np.exp(lse - mid)))
        lo, hi = (mid, hi) if share < config.no_click_share else (lo, mid)
    u0 = (lo + hi) / 2

    frames = []
    for li in lists:
        U = li["U"]
        z = np.concatenate([[u0], U])
        p = np.exp(z - np.logaddexp.reduce(z[np.isfinite(z)]))
        p = np.where(np.isfinite(z), p, 0.0)
        pick = int(rng.choice(len(p), p=p / p.sum()))
        clicked = np.zeros(len(U), dtype=np.int8)
        if pick > 0:
            clicked[pick - 1] = 1
        ordered = clicked * (rng.random(len(U)) < config.order_given_click)
        frames.append(pd.DataFrame({
            "impression_id": li["imp"], "user_id": li["user_id"], "shop_id": cat.shop_id[li["shop_pos"]],
            "event_timestamp": li["ts"], "minute_of_day": li["minute"],
            "ctx_lat": li["home"][0], "ctx_lon": li["home"][1], "position": np.arange(len(U)) + 1,
            "clicked": clicked, "ordered": ordered.astype(np.int8), "true_prob": p[1:], "true_utility": U,
        }))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    log.info("simulated %d impressions, %d rows, CTR per list %.2f", len(lists), len(out),
             out.groupby("impression_id")["clicked"].max().mean() if len(out) else float("nan"))
    return out
