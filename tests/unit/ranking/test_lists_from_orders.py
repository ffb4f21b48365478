"""The bootstrap ranker's lists come from the orders alone: one ordered shop among open, nearby ones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from infra.sample_data import behaviour
from models.ranking.features import haversine_km
from models.ranking.from_orders import OrderListsConfig, lists_from_orders
from models.ranking.raw_features import visits_from_orders


def test_each_list_holds_the_ordered_shop_among_open_nearby_ones(tiny_sample):
    cfg = OrderListsConfig(n_lists=300, list_size=12, seed=1)
    lists = lists_from_orders(tiny_sample.tables, cfg)
    assert lists["impression_id"].nunique() > 100
    per_list = lists.groupby("impression_id")
    assert (per_list["ordered"].sum() == 1).all() and (lists["clicked"] == lists["ordered"]).all()
    assert per_list.size().max() <= cfg.list_size and (per_list["shop_id"].nunique() == per_list.size()).all()
    assert "true_prob" not in lists  # nothing from the hidden truth
    shops = tiny_sample.tables["shops"].set_index("id")
    hours = [np.array([-1 if (m := behaviour.hhmm_to_minutes(v)) is None else m for v in shops.loc[lists["shop_id"], c]])
             for c in ("open_hour", "close_hour", "break_start_hour", "break_end_hour")]
    rows = lists.reset_index(drop=True)
    open_then = np.array([behaviour.open_mask(*(h[i:i + 1] for h in hours), m)[0] for i, m in enumerate(rows["minute_of_day"])])
    dist = haversine_km(rows["ctx_lat"].to_numpy(), rows["ctx_lon"].to_numpy(),
                        shops.loc[rows["shop_id"], "latitude"].to_numpy(), shops.loc[rows["shop_id"], "longitude"].to_numpy())
    assert open_then.all() and (dist <= cfg.max_distance_km + 1e-6).all()  # the positive passes the same filter
    # each list is asked a few minutes before a real order of that child at the positive shop, after the
    # first weeks of history
    visits = visits_from_orders(tiny_sample.tables["product_orders"], tiny_sample.tables["menus"], shops.reset_index())
    placed = set(zip(visits["user_id"], visits["shop_id"], visits["ts"]))
    positives = rows[rows["ordered"] == 1]
    asked_at = positives["event_timestamp"] + pd.Timedelta(minutes=cfg.ask_before_minutes)
    assert all((u, s, t) in placed for u, s, t in zip(positives["user_id"], positives["shop_id"], asked_at))
    assert asked_at.min() >= visits["ts"].min() + pd.Timedelta(days=cfg.min_history_days)


def test_the_same_seed_gives_the_same_lists(tiny_sample):
    a = lists_from_orders(tiny_sample.tables, OrderListsConfig(n_lists=50, seed=3))
    b = lists_from_orders(tiny_sample.tables, OrderListsConfig(n_lists=50, seed=3))
    pd.testing.assert_frame_equal(a, b)
