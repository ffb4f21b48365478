"""The sample-data generator: contract, determinism, realism and the planted behaviour."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from infra.sample_data import (
    CATEGORIES, MENU_CATEGORIES, SHEETS, corrupt_workbook, generate, read_workbook, utility,
)
from infra.sample_data.behaviour import UserTruth, candidates_from_rows, open_mask, utilities
from infra.sample_data.catalog import CATALOG, COMMON_DRINKS, looks_spicy
from infra.sample_data.columns import CARD_STATUSES, EMERGENCY_COUPON_ID, KOREA_LAT, KOREA_LON
from infra.sample_data.places import geocode_address, haversine_km

SEED, SCALE = 20261125, 0.05
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("sample")
    summary = generate(SEED, SCALE, out)
    return summary, read_workbook(summary.workbook), json.loads(summary.hidden_truth.read_text("utf-8"))


@pytest.fixture(scope="module")
def frames(generated) -> dict[str, pd.DataFrame]:
    return generated[1]


@pytest.fixture(scope="module")
def truth(generated) -> dict:
    return generated[2]


@pytest.fixture(scope="module")
def orders(frames) -> pd.DataFrame:
    """Orders joined with their menu and shop."""
    menus = frames["menus"].rename(columns={"id": "product_id", "price": "menu_price", "category": "menu_category"})
    shops = frames["shops"].rename(columns={"id": "shop_id"})
    return frames["product_orders"].merge(menus, on="product_id").merge(shops, on="shop_id")


def _minutes(value) -> int:
    if not isinstance(value, str):
        return -1
    h, m = value.split(":")
    return int(h) * 60 + int(m)


# --- contract ------------------------------------------------------------------------------
def test_summary_counts_rows(generated, frames):
    summary = generated[0]
    assert summary.rows == {k: len(v) for k, v in frames.items()}
    assert summary.hidden_truth.exists() and summary.workbook.exists()
    assert summary.rows["product_orders"] > 1000 and summary.rows["menus"] > 8 * summary.rows["shops"]


def test_sheets_and_columns_match_the_contract(generated):
    wb = load_workbook(generated[0].workbook, read_only=True)
    assert wb.sheetnames == list(SHEETS)
    for name, columns in SHEETS.items():
        header = next(wb[name].iter_rows(max_row=1, values_only=True))
        assert tuple(header) == columns, name


def test_same_seed_gives_identical_data(generated, tmp_path):
    again = generate(SEED, SCALE, tmp_path)
    for name, frame in read_workbook(again.workbook).items():
        pd.testing.assert_frame_equal(frame, generated[1][name], obj=name)
    assert json.loads(again.hidden_truth.read_text("utf-8")) == generated[2]


def test_other_seed_gives_other_data(frames, tmp_path):
    other = read_workbook(generate(SEED + 1, SCALE, tmp_path).workbook)
    assert not other["shops"]["shop_name"].equals(frames["shops"]["shop_name"])


def test_hidden_truth_stays_out_of_the_workbook(generated, truth):
    wb = load_workbook(generated[0].workbook, read_only=True)
    headers = {c for ws in wb.worksheets for c in next(ws.iter_rows(max_row=1, values_only=True))}
    assert not headers & {"category_weights", "spice_tolerance", "loyalty", "favourite_shops", "spicy"}
    assert set(truth) == {"meta", "users", "menu_fields", "menus"}
    assert len(truth["users"]) == len(generated[1]["users"])
    assert len(truth["menus"]) == len(generated[1]["menus"])


# --- shops and menus -----------------------------------------------------------------------
def test_categories_are_valid(frames):
    assert set(frames["shops"]["category"]) <= set(CATEGORIES)
    assert len(set(frames["shops"]["category"])) >= 11
    assert set(frames["menus"]["category"]) <= set(MENU_CATEGORIES)
    assert set(frames["shops"]["is_food_card_shop"]) <= {"Y", "N", "P", "U"}
    assert (frames["shops"]["is_food_card_shop"] == "Y").mean() > 0.55
    assert 0.07 < frames["shops"]["is_good_influence_shop"].mean() < 0.25
    assert set(CATEGORIES) == set(CATALOG)


def test_ids_are_unique_and_menus_point_to_shops(frames):
    for name in SHEETS:
        assert frames[name]["id"].is_unique, name
    assert set(frames["menus"]["shop_id"]) <= set(frames["shops"]["id"])
    assert frames["menus"].groupby("shop_id").size().min() >= 3


def test_prices_are_plausible_for_the_dish(frames):
    menus = frames["menus"].merge(frames["shops"][["id", "category"]].rename(columns={"id": "shop_id",
                                                                                      "category": "shop_category"}))
    assert (menus["price"] > 0).all() and (menus["price"] % 100 == 0).all()
    ranges = {(c, d.name): (d.low, d.high) for c, spec in CATALOG.items() for d in spec.dishes + COMMON_DRINKS}
    singles = menus[menus["category"] != "세트메뉴"]
    for row in singles.itertuples():
        low, high = ranges[(row.shop_category, row.menu_name)]
        assert 0.8 * low <= row.price <= 1.25 * high, (row.shop_category, row.menu_name, row.price)
    by_name = singles.groupby("menu_name")["price"]
    assert by_name.max()["김밥"] <= 5000 and by_name.min()["김밥"] >= 2500
    assert 5500 <= by_name.median()["짜장면"] <= 7500
    assert 17000 <= by_name.median()["후라이드치킨"] <= 22000
    sets = menus[menus["category"] == "세트메뉴"]
    assert sets["menu_name"].str.endswith(" 세트").all()


def test_menu_text_and_truth_agree_on_spiciness(frames, truth):
    spicy_idx = truth["menu_fields"].index("spicy")
    for row in frames["menus"].itertuples():
        text = f"{row.menu_name} {row.description}"
        assert bool(truth["menus"][str(row.id)][spicy_idx]) == looks_spicy(text), text
    assert 0.1 < np.mean([v[spicy_idx] for v in truth["menus"].values()]) < 0.4


def test_every_menu_has_attributes_in_the_truth_only(frames, truth):
    from infra.sample_data.catalog import ATTRIBUTE_TAGS

    at = truth["menu_fields"].index("attributes")
    spicy_idx = truth["menu_fields"].index("spicy")
    english = ATTRIBUTE_TAGS | {"vegetarian"}
    seen: set[str] = set()
    for row in frames["menus"].itertuples():
        tags = set(truth["menus"][str(row.id)][at])
        assert tags <= english, tags - english
        seen |= tags
        # the heat level agrees with the text-derived spiciness; no tag is spelled into the name
        assert bool(tags & {"spicy1", "spicy2"}) == bool(truth["menus"][str(row.id)][spicy_idx])
        assert not any(t in row.menu_name for t in english)
        if row.category == "세트메뉴":
            assert "hearty" in tags
    assert seen == english  # every attribute occurs somewhere
    assert "attributes" not in frames["menus"].columns


def test_coordinates_and_addresses_are_in_korea(frames):
    shops = frames["shops"]
    assert shops["latitude"].between(*KOREA_LAT).all() and shops["longitude"].between(*KOREA_LON).all()
    assert shops["address_name"].str.match(r"^\S+ .+[동가] \d+(-\d+)?$").all()
    for address in frames["users"]["current_address"]:
        assert geocode_address(address) is not None, address


def test_users_have_shops_nearby(frames):
    shops = frames["shops"]
    for address in frames["users"]["current_address"]:
        lat, lon = geocode_address(address)
        assert haversine_km(lat, lon, shops["latitude"].to_numpy(), shops["longitude"].to_numpy()).min() < 3.0


def test_hours_are_well_formed(frames):
    shops = frames["shops"]
    for col in ("open_hour", "close_hour"):
        assert shops[col].map(lambda v: bool(HHMM.match(str(v)))).all(), col
    has_start, has_end = shops["break_start_hour"].notna(), shops["break_end_hour"].notna()
    assert (has_start == has_end).all()
    breaks = shops[has_start]
    assert breaks["break_start_hour"].map(lambda v: bool(HHMM.match(v))).all()
    assert (breaks["break_start_hour"] < breaks["break_end_hour"]).all()
    assert (breaks["open_hour"] < breaks["break_start_hour"]).all()
    assert (shops["close_hour"] < shops["open_hour"]).any(), "some shops should close after midnight"


# --- people, cards and coupons -------------------------------------------------------------
def test_users_are_mostly_young_card_holders(frames):
    users, cards = frames["users"], frames["foodcard_users"]
    assert 0.55 < len(cards) / len(users) < 0.8
    card_births = users.set_index("id").loc[cards["user_id"], "birthday"].dt.year
    assert card_births.between(2008, 2017).mean() > 0.8
    assert users["name"].str.match(r"^[가-힣]{3}$").all()
    assert users["nickname"].notna().all()


def test_meal_cards(frames):
    cards = frames["foodcard_users"]
    assert cards["user_id"].is_unique and set(cards["user_id"]) <= set(frames["users"]["id"])
    assert cards["card_number"].str.match(r"^9410-\d{4}-\d{4}-\d{4}$").all() and cards["card_number"].is_unique
    assert set(cards["status"]) <= set(CARD_STATUSES) and (cards["status"] == "ACTIVE").mean() > 0.8
    assert (cards["balance"] >= 0).all()
    assert (cards.loc[cards["status"] == "EXPIRED", "balance"] == 0).all()


def test_coupons(frames):
    coupons = frames["coupons"].set_index("id")
    assert (coupons["discount_amount"].notna() ^ coupons["discount_rate"].notna()).all()
    assert coupons["discount_rate"].dropna().between(0, 1).all()
    assert coupons.loc[EMERGENCY_COUPON_ID, "usage_type"] == "FOODCARD"
    assert set(coupons["usage_type"]) == {"ALL", "SHOP", "CATEGORY", "FOODCARD"}
    for row in coupons[coupons["usage_type"] == "CATEGORY"].itertuples():
        assert set(json.loads(row.target_categories)) <= set(CATEGORIES)
    for row in coupons[coupons["usage_type"] == "SHOP"].itertuples():
        assert set(json.loads(row.applicable_shops)) <= set(frames["shops"]["id"])
    assert (coupons["valid_from"] <= coupons["valid_until"]).all()


def test_wallet_is_consistent_with_orders(frames):
    wallet, orders = frames["user_coupon_wallet"], frames["product_orders"]
    assert not wallet.duplicated(["user_id", "coupon_id", "status"]).any()  # the spec's unique key
    assert set(wallet["coupon_id"]) <= set(frames["coupons"]["id"])
    assert {"welcome_bonus", "loyalty_reward", "emergency_assist"} <= set(wallet["acquisition_source"])
    for ctx in wallet["acquisition_context"]:
        assert isinstance(json.loads(ctx), dict)
    used = wallet[wallet["status"] == "USED"]
    assert used["usage_date"].notna().all() and wallet.loc[wallet["status"] != "USED", "usage_date"].isna().all()
    assert (used["usage_date"] >= used["acquired_date"]).all() and (used["usage_date"] < used["expiry_date"]).all()
    assert {"ACTIVE", "USED", "EXPIRED"} == set(wallet["status"])
    menu_price = frames["menus"].set_index("id")["price"]
    joined = used.merge(orders, left_on=["user_id", "usage_date", "used_menu_id"],
                        right_on=["user_id", "created_at", "product_id"])
    assert len(joined) == len(used)
    assert (joined["price"] == joined["used_order_amount"] - joined["discount_applied"]).all()
    assert (joined["used_order_amount"] == menu_price.loc[joined["product_id"]].to_numpy() * joined["quantity"]).all()
    emergency = wallet[wallet["coupon_id"] == EMERGENCY_COUPON_ID]
    assert len(emergency) and (emergency["acquired_date"].dt.day >= 20).all()


# --- orders --------------------------------------------------------------------------------
def test_orders_reference_existing_rows_and_prices_add_up(frames, orders, truth):
    raw = frames["product_orders"]
    assert set(raw["product_id"]) <= set(frames["menus"]["id"])
    assert set(raw["user_id"]) <= set(frames["users"]["id"])
    assert len(orders) == len(raw)
    assert raw["created_at"].is_monotonic_increasing
    start, ref = pd.Timestamp(truth["meta"]["window_start"]), pd.Timestamp(truth["meta"]["reference_time"])
    assert raw["created_at"].between(start, ref).all()
    assert (raw["quantity"] == 1).mean() > 0.85 and raw["quantity"].between(1, 4).all()
    discounted = frames["user_coupon_wallet"]["status"].eq("USED").sum()
    full = orders["price"] == orders["menu_price"] * orders["quantity"]
    assert (~full).sum() == discounted and (orders["price"] >= 0).all()


def test_orders_happen_when_shops_are_open(orders):
    minute = orders["created_at"].dt.hour * 60 + orders["created_at"].dt.minute
    is_open = [open_mask(np.array([_minutes(r.open_hour)]), np.array([_minutes(r.close_hour)]),
                         np.array([_minutes(r.break_start_hour)]), np.array([_minutes(r.break_end_hour)]), m)[0]
               for r, m in zip(orders.itertuples(), minute)]
    assert all(is_open)
    hours = orders["created_at"].dt.hour
    assert hours.isin([11, 12, 13, 17, 18, 19, 20]).mean() > 0.6


def test_card_holders_mostly_use_card_shops(orders, frames):
    card_users = set(frames["foodcard_users"]["user_id"])
    mine = orders[orders["user_id"].isin(card_users)]
    assert mine["is_food_card_shop"].isin(["Y", "P"]).mean() > 0.8


def test_orders_follow_the_hidden_preferences(orders, truth):
    base = orders["category"].value_counts(normalize=True)
    lifts, spicy_share = [], {"low": [], "high": []}
    spicy_idx = truth["menu_fields"].index("spicy")
    orders = orders.assign(spicy=[truth["menus"][str(m)][spicy_idx] for m in orders["product_id"]])
    for user_id, mine in orders.groupby("user_id"):
        t = truth["users"][str(user_id)]
        if len(mine) < 5:
            continue
        top = max(t["category_weights"], key=t["category_weights"].get)
        lifts.append((mine["category"] == top).mean() - base.get(top, 0.0))
        if t["spice_tolerance"] < 0.3:
            spicy_share["low"].append(mine["spicy"].mean())
        elif t["spice_tolerance"] > 0.7:
            spicy_share["high"].append(mine["spicy"].mean())
    assert len(lifts) > 50
    assert np.mean(lifts) > 0.05 and np.mean(np.array(lifts) > 0) > 0.55
    assert np.mean(spicy_share["high"]) > np.mean(spicy_share["low"]) + 0.05


def test_favourite_shops_get_repeat_orders(orders, truth):
    share = [mine["shop_id"].isin(truth["users"][str(u)]["favourite_shops"]).mean()
             for u, mine in orders.groupby("user_id") if len(mine) >= 5]
    n_shops = orders["shop_id"].nunique()
    assert np.mean(share) > 5 * 2 / n_shops  # far above picking shops at random


# --- the choice model ----------------------------------------------------------------------
def test_scalar_utility_matches_the_vectorised_model(frames, truth):
    user = truth["users"]["1"] | {"user_id": 1}
    shops = frames["shops"].set_index("id", drop=False)
    menus = frames["menus"].head(40)
    shop_rows = [shops.loc[s].to_dict() for s in menus["shop_id"]]
    menu_rows = menus.to_dict("records")
    cand = candidates_from_rows(shop_rows, menu_rows, [1.0] * len(menu_rows), 19 * 60)
    vec = utilities(UserTruth.from_json(user), cand, 19 * 60)
    one = [utility(user, s, m, 19.0, 1.0) for s, m in zip(shop_rows, menu_rows)]
    np.testing.assert_allclose(vec, one)
    closed = shop_rows[0] | {"open_hour": "10:00", "close_hour": "11:00", "break_start_hour": None,
                             "break_end_hour": None}
    assert utility(user, closed, menu_rows[0], 19.0, 1.0) == -np.inf
    near, far = utility(user, shop_rows[0], menu_rows[0], 19.0, 0.2), utility(user, shop_rows[0], menu_rows[0], 19.0, 3)
    assert near > far or near == far == -np.inf


def test_truth_round_trips():
    t = UserTruth(7, "teen", True, (37.5, 126.9), "서울 마포구", {"분식": 0.6, "치킨": 0.4}, 7000,
                  {"breakfast": 0.1, "lunch": 0.3, "dinner": 0.5, "late_night": 0.1}, 0.4, 0.5, 1.2, 3.0, (3, 5))
    assert UserTruth.from_json(json.loads(json.dumps(t.to_json()))) == t


# --- corruption for ingest tests -----------------------------------------------------------
def test_corrupt_workbook_plants_what_it_reports(generated, tmp_path):
    dst = tmp_path / "bad.xlsx"
    counts = corrupt_workbook(generated[0].workbook, dst)
    bad = read_workbook(dst)
    good = generated[1]
    shops, menus, orders = bad["shops"], bad["menus"], bad["product_orders"]
    found = {
        "nonpositive_price": int((menus["price"] <= 0).sum()),
        "unknown_category": int((~shops["category"].isin(CATEGORIES)).sum()),
        "outside_korea": int((~(shops["latitude"].between(*KOREA_LAT) & shops["longitude"].between(*KOREA_LON))).sum()),
        "malformed_hours": int((~(shops["open_hour"].map(lambda v: bool(HHMM.match(str(v))))
                                  & shops["close_hour"].map(lambda v: bool(HHMM.match(str(v)))))).sum()),
        "dangling_shop_id": int((~menus["shop_id"].isin(shops["id"])).sum()),
        "dangling_menu_id": int((~orders["product_id"].isin(menus["id"])).sum()),
        "duplicate_id": int(shops["id"].duplicated().sum() + menus["id"].duplicated().sum()),
    }
    assert counts == found
    assert all(v > 0 for v in counts.values())
    assert len(shops) == len(good["shops"]) + sum(v for k, v in counts.items()
                                                  if k in ("unknown_category", "outside_korea", "malformed_hours")) + 1
    assert Path(generated[0].workbook).exists()  # the source is untouched
