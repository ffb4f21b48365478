"""The dbt feature-history marts against their reference, models.ranking.raw_features.

A small generated sample is ingested into a fresh database, together with hand-made rows for
the edges (order lines in one 30-minute basket, slot and day boundaries, the 30-day window's
open end, ties in time, a shop without coordinates, more than ten distinct shops, age-segment
birthdays, shops never ordered from or without main menus). dbt builds the history
(``feature_repo.refresh.build_feature_history``); ``build_snapshots`` computes it from the same
raw tables. Row counts, keys and every value must agree: numbers within 1e-6, the rounded
arrays within one step of their 4th decimal, recent_shop_ids exactly.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEOUL = ZoneInfo("Asia/Seoul")
VIEWS = {"user": "user_features", "shop": "shop_features", "user_shop": "user_shop_features"}
KEYS = {"user": ["user_id"], "shop": ["shop_id"], "user_shop": ["user_id", "shop_id"]}
ARRAYS = ("category_share", "slot_share", "customer_taste")
TEXT = ("segment", "category")
ARRAY_TOLERANCE = 1e-4 + 1e-9  # a value on a rounding tie may round either way in float arithmetic
NUMBER_TOLERANCE = 1e-6

A, B, NO_COORDS, DRINKS_ONLY, NO_MENUS = 90001, 90002, 90003, 90004, 90005
RUN = list(range(90006, 90018))  # twelve shops in a row, for the ten recent ones


def kst(*args) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


def night(*args) -> pd.Timestamp:
    """The event_timestamp of rows that reflect the visits of the day before this local date."""
    return pd.Timestamp(datetime(*args, tzinfo=SEOUL)).tz_convert("UTC")


SHOPS = [  # id, category, food card, 착한가게, lat, lon
    (A, "분식", "P", True, 37.55, 126.91),
    (B, "치킨", "U", False, 37.56, 126.92),
    (NO_COORDS, "한식", "Y", False, None, None),
    (DRINKS_ONLY, "카페·디저트", "N", False, 37.57, 126.93),
    (NO_MENUS, "피자", "Y", False, 37.58, 126.94),
    *[(sid, "한식", "Y", False, 37.5 + i / 100, 127.0) for i, sid in enumerate(RUN)],
]
MENUS = [  # id, shop, price, role
    (990001, A, 4000, "메인메뉴"), (990002, A, 5000, "메인메뉴"), (990003, A, 1500, "음료"),
    (990004, B, 18000, "세트메뉴"), (990005, NO_COORDS, 8000, "메인메뉴"),
    (990006, DRINKS_ONLY, 4500, "음료"), (990007, DRINKS_ONLY, 6000, "디저트"),
    *[(990010 + i, sid, 7000, "메인메뉴") for i, sid in enumerate(RUN)],
]
MENU_OF = {shop: menu for menu, shop, _, _ in reversed(MENUS)}  # a shop's first menu
# the data's last visit is on 2026-11-24 (local), the date segments are computed at
USERS = [(90001, None), (90002, "2014-11-24"), (90003, "2013-11-25"), (90004, "2013-11-24"),
         (90005, "2001-11-25"), (90006, "2001-11-24")]
EXPECTED_SEGMENTS = {90001: "unknown", 90002: "child", 90003: "child", 90004: "teen", 90005: "young_adult",
                     90006: "adult"}
CARDS = [(90001, 90002, "ACTIVE"), (90002, 90002, "INACTIVE"), (90003, 90003, "INACTIVE")]
ORDERS = [  # user, menu, local time, price
    # one basket (12:00-12:29:59), then a second visit at 12:30
    (90001, 990001, kst(2026, 10, 1, 12, 0, 0), 4000), (90001, 990003, kst(2026, 10, 1, 12, 29, 59), 1500),
    (90001, 990002, kst(2026, 10, 1, 12, 30, 0), 5000),
    # late night at B, then just after midnight at the shop without coordinates (a night of its own)
    (90001, 990004, kst(2026, 10, 1, 23, 50), 18000), (90001, 990005, kst(2026, 10, 2, 0, 10), 8000),
    # 10:29 breakfast, 10:30 lunch
    (90001, 990006, kst(2026, 10, 3, 10, 29), 4500), (90001, 990007, kst(2026, 10, 3, 10, 30), 6000),
    # coordinates then none on one night: the night keeps the last defined location
    (90001, 990001, kst(2026, 10, 6, 11, 0), 4000), (90001, 990005, kst(2026, 10, 6, 11, 40), 8000),
    # 04:59 late night, 05:00 breakfast; 20:59 dinner, 21:00 late night; 15:29 lunch, 15:30 dinner
    (90001, 990001, kst(2026, 10, 7, 4, 59), 4000), (90001, 990001, kst(2026, 10, 7, 5, 0), 4000),
    (90001, 990006, kst(2026, 10, 8, 20, 59), 4500), (90001, 990006, kst(2026, 10, 8, 21, 0), 4500),
    (90001, 990002, kst(2026, 10, 9, 15, 29), 5000), (90001, 990002, kst(2026, 10, 9, 15, 30), 5000),
    # ties in time: one user at two shops, two users at one shop
    (90002, 990004, kst(2026, 10, 10, 12, 0), 18000), (90002, 990001, kst(2026, 10, 10, 12, 0), 4000),
    (90003, 990001, kst(2026, 10, 10, 12, 0), 4000),
    # twelve distinct shops, then back to the third: recent_shop_ids keeps ten, newest first
    *[(90002, MENU_OF[sid], kst(2026, 10, 11, 10 + i // 2, 30 * (i % 2)), 7000) for i, sid in enumerate(RUN)],
    (90002, MENU_OF[RUN[2]], kst(2026, 10, 12, 12, 0), 7000),
    # B again 29 and 30 nights after its first visit: the 30-day window is open at its start
    (90001, 990004, kst(2026, 10, 30, 12, 0), 18000), (90001, 990004, kst(2026, 10, 31, 12, 0), 18000),
    # the segment users, on the data's last day
    *[(uid, 990001, kst(2026, 11, 24, 23, 50), 4000) for uid, _ in USERS[2:]],
]


def _insert_edges(engine) -> None:
    with engine.begin() as conn:
        for sid, cat, card, good, lat, lon in SHOPS:
            conn.execute(text("INSERT INTO shops (id, shop_name, category, is_food_card_shop, is_good_influence_shop, "
                              "latitude, longitude) VALUES (:i, :n, :c, :card, :g, :lat, :lon)"),
                         {"i": sid, "n": f"가게{sid}", "c": cat, "card": card, "g": good, "lat": lat, "lon": lon})
        for mid, sid, price, role in MENUS:
            conn.execute(text("INSERT INTO menus (id, shop_id, menu_name, price, category) "
                              "VALUES (:i, :s, :n, :p, :c)"), {"i": mid, "s": sid, "n": f"메뉴{mid}", "p": price, "c": role})
        for uid, birthday in USERS:
            conn.execute(text("INSERT INTO users (id, name, birthday) VALUES (:i, :n, :b)"),
                         {"i": uid, "n": f"사용자{uid}", "b": birthday})
        for cid, uid, status in CARDS:
            conn.execute(text("INSERT INTO foodcard_users (id, user_id, status) VALUES (:i, :u, :s)"),
                         {"i": cid, "u": uid, "s": status})
        for n, (uid, mid, at, price) in enumerate(ORDERS):
            conn.execute(text("INSERT INTO product_orders (id, user_id, product_id, created_at, price) "
                              "VALUES (:i, :u, :m, :t, :p)"),
                         {"i": 9_000_000 + n, "u": uid, "m": mid, "t": at, "p": price})
        # a line whose menu is unknown belongs to no visit
        conn.execute(text("INSERT INTO product_orders (id, user_id, product_id, created_at, price) "
                          "VALUES (8999999, 90001, NULL, :t, 3000)"), {"t": kst(2026, 10, 4, 12, 0)})


@pytest.fixture(scope="module")
def history(settings, migrated_engine, tmp_path_factory):
    """(dbt's three relations, build_snapshots' three frames) over the same raw tables."""
    from feature_repo.definitions import SOURCE_SCHEMA, SOURCE_TABLES
    from feature_repo.refresh import build_feature_history
    from infra.ingest.load import ingest_workbook
    from infra.sample_data.generator import generate
    from models.ranking.raw_features import build_snapshots
    from models.ranking.train import RAW_TABLES

    summary = generate(20261125, 0.03, tmp_path_factory.mktemp("sample"))
    ingest_workbook(migrated_engine, summary.workbook, settings)
    _insert_edges(migrated_engine)
    database = migrated_engine.url.database
    counts = build_feature_history(settings, database)

    tables = {t: pd.read_sql_table(t, migrated_engine) for t in RAW_TABLES}
    snaps = build_snapshots(tables)
    marts = {name: pd.read_sql(f"SELECT * FROM {SOURCE_SCHEMA}.{SOURCE_TABLES[view]}", migrated_engine)
             for name, view in VIEWS.items()}
    for frame in (*marts.values(), snaps.user, snaps.shop, snaps.user_shop):
        frame["event_timestamp"] = pd.to_datetime(frame["event_timestamp"], utc=True)
    return {"counts": counts, "marts": marts, "snaps": snaps, "database": database}


@pytest.mark.parametrize("name", list(VIEWS))
def test_same_rows(history, name):
    mart, ref = history["marts"][name], getattr(history["snaps"], name)
    assert history["counts"][VIEWS[name]] == len(mart) == len(ref) > 0
    keys = KEYS[name] + ["event_timestamp"]
    assert not mart.duplicated(keys).any()
    pd.testing.assert_frame_equal(mart[keys].sort_values(keys).reset_index(drop=True),
                                  ref[keys].sort_values(keys).reset_index(drop=True), check_dtype=False)


@pytest.mark.parametrize("name", list(VIEWS))
def test_same_values(history, name):
    mart, ref = history["marts"][name], getattr(history["snaps"], name)
    keys = KEYS[name] + ["event_timestamp"]
    assert set(ref.columns) == set(mart.columns) - {"created_at"}
    both = ref.merge(mart, on=keys, suffixes=("_ref", "_dbt"), validate="one_to_one")
    assert len(both) == len(ref)
    for col in (c for c in ref.columns if c not in keys):
        r, d = both[f"{col}_ref"], both[f"{col}_dbt"]
        if col in ARRAYS:
            r, d = np.stack(r.map(np.asarray).to_numpy()).astype(float), np.stack(d.map(np.asarray).to_numpy())
            assert r.shape == d.shape, col
            assert np.abs(r - d).max() <= ARRAY_TOLERANCE, col
        elif col == "recent_shop_ids":
            assert [list(map(int, x)) for x in r] == [list(map(int, x)) for x in d]
        elif col in TEXT:
            assert (r.astype(str) == d.astype(str)).all(), col
        else:
            r, d = r.astype(float).to_numpy(), d.astype(float).to_numpy()
            assert (np.isnan(r) == np.isnan(d)).all(), col
            assert np.nanmax(np.abs(r - d), initial=0.0) <= NUMBER_TOLERANCE, col


def test_the_edges_are_exercised(history, migrated_engine):
    """Hand-computed values of the edge rows (both sides agree on them by the tests above)."""
    user, shop = history["marts"]["user"].set_index(["user_id", "event_timestamp"]), history["marts"]["shop"]
    first = user.loc[(90001, night(2026, 10, 2))]  # the basket, 12:30 and 23:50
    assert first["total_orders"] == 3 and first["avg_order_value"] == (4000 + 1500 + 5000 + 18000) / 3
    assert np.isnan(user.loc[(90001, night(2026, 10, 3)), "loc_lat"])  # only the shop without coordinates
    assert not np.isnan(user.loc[(90001, night(2026, 10, 7)), "loc_lat"])  # that shop last, another before it
    assert list(user.loc[(90002, night(2026, 10, 12)), "recent_shop_ids"]) == RUN[::-1][:10]
    assert list(user.loc[(90002, night(2026, 10, 13)), "recent_shop_ids"]) == [RUN[2], *RUN[::-1][:9]]
    latest = user.reset_index().sort_values("event_timestamp").groupby("user_id").tail(1).set_index("user_id")
    assert latest.loc[list(EXPECTED_SEGMENTS), "segment"].to_dict() == EXPECTED_SEGMENTS
    assert latest.loc[90002, "is_foodcard"] == 1.0 and latest.loc[90003, "is_foodcard"] == 0.0

    b = shop[shop["shop_id"] == B].set_index("event_timestamp")
    assert b.loc[night(2026, 11, 1), "order_count"] == 4
    assert b.loc[night(2026, 11, 1), "order_count_30d"] == 3  # the first visit's night is 30 nights back
    per_shop = shop.sort_values("event_timestamp").groupby("shop_id").tail(1).set_index("shop_id")
    assert per_shop.loc[A, "median_price"] == 4500 and per_shop.loc[DRINKS_ONLY, "median_price"] == 5250
    assert per_shop.loc[NO_MENUS, "median_price"] == 8000 and per_shop.loc[NO_MENUS, "order_count"] == 0
    assert per_shop.loc[NO_MENUS, "event_timestamp"] == pd.Timestamp("2000-01-01", tz="UTC")
    epoch = shop[shop["event_timestamp"] == pd.Timestamp("2000-01-01", tz="UTC")]
    with migrated_engine.connect() as conn:
        assert sorted(epoch["shop_id"]) == sorted(conn.execute(text("SELECT id FROM shops")).scalars())


def test_relations_have_the_types_the_views_expect(history, migrated_engine):
    """load_feature_history writes these same types, so a hand-made history reads like dbt's."""
    from feature_repo.definitions import SOURCE_SCHEMA, SOURCE_TABLES
    from feature_repo.history import source_column_types

    with migrated_engine.connect() as conn:
        for view, table in SOURCE_TABLES.items():
            rows = conn.execute(text(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :s AND c.relname = :t AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"),
                {"s": SOURCE_SCHEMA, "t": table}).all()
            assert dict(rows) == source_column_types(view), view


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def test_feast_over_the_marts_equals_the_in_memory_join(history, settings, tmp_path_factory):
    """Training's two paths give the same features: Feast's point-in-time join over the dbt
    marts and the in-memory join over the reference's snapshots."""
    import uuid

    from feature_repo.config import get_feature_store

    from feature_repo.materialize import apply_feature_store

    from feature_repo.reads import historical_features
    from models.ranking.training_set import VIEW_FEATURES, point_in_time_join

    snaps = history["snaps"]
    rng = np.random.default_rng(0)
    pairs = snaps.user_shop.sample(150, random_state=0)
    stamps = snaps.user["event_timestamp"].dt.tz_convert(None).to_numpy()
    events = pd.DataFrame({
        "user_id": np.concatenate([pairs["user_id"], rng.choice(snaps.user["user_id"], 50)]).astype("int64"),
        "shop_id": np.concatenate([pairs["shop_id"], rng.choice(snaps.shop["shop_id"], 50)]).astype("int64"),
        # on a stamp, just before one, and in between
        "event_timestamp": pd.to_datetime(np.concatenate([
            rng.choice(stamps, 100), rng.choice(stamps, 50) - np.timedelta64(1, "s"),
            rng.choice(stamps, 50) + np.timedelta64(5, "h")]), utc=True),
    })
    store = get_feature_store(settings, project=f"t_{uuid.uuid4().hex[:10]}", database=history["database"],
                              registry_path=tmp_path_factory.mktemp("feast") / "registry.db")
    apply_feature_store(store=store)
    try:
        feast = historical_features(store, events)
    finally:
        store.teardown()
    memory = point_in_time_join(events, snaps)
    checked = 0
    for view, features in VIEW_FEATURES.items():
        for feature in features:
            col = f"{view}__{feature}"
            a, b = feast[col], memory[col]
            if feature in ARRAYS or feature == "recent_shop_ids":
                for x, y in zip(a, b):
                    assert _is_list(x) == _is_list(y), col
                    if _is_list(y):
                        tol = 0 if feature == "recent_shop_ids" else ARRAY_TOLERANCE
                        assert np.allclose(np.asarray(x, float), np.asarray(y, float), atol=tol, rtol=0), col
            elif feature in TEXT:
                assert (a.fillna("-").astype(str) == b.fillna("-").astype(str)).all(), col
            else:
                x, y = a.astype(float).to_numpy(), b.astype(float).to_numpy()
                assert (np.isnan(x) == np.isnan(y)).all(), col
                assert np.nanmax(np.abs(x - y), initial=0.0) <= NUMBER_TOLERANCE, col
            checked += 1
    assert checked == sum(len(f) for f in VIEW_FEATURES.values())
    assert feast["user_features__total_orders"].notna().mean() > 0.5  # the events do find history
