"""The dbt warehouse on a hand-made dataset: computed values against hand-computed ones.

One `dbt build` (models + every YAML test) runs on a fresh database holding seven shops whose
hours cover overnight, 24-hour, missing hours and breaks across midnight, three users with a
few orders, coupons, and a handful of chat-log rows; the warehouse is computed as of
2026-11-25 00:30 Asia/Seoul.
"""

import math
import statistics
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from orchestration.operational.writeback import WRITE_BACKS, write_back, write_user_journeys, write_user_profiles
from infra.dbt import run_dbt

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEOUL = ZoneInfo("Asia/Seoul")
AS_OF = datetime(2026, 11, 25, 0, 30, tzinfo=SEOUL)

SHOPS = [
    # id, name, category, open, close, break start, break end -> status at 00:30
    (1, "심야분식", "분식", "18:00", "02:00", None, None),          # OPEN (overnight)
    (2, "낮밥집", "한식", "09:00", "22:00", "15:00", "17:00"),      # CLOSED
    (3, "24시김밥", "분식", "00:00", "00:00", None, None),          # OPEN (around the clock)
    (4, "시간미상", "중식", None, None, None, None),                # UNKNOWN
    (5, "야식치킨", "치킨", "17:00", "03:00", "00:00", "01:00"),    # BREAK_TIME
    (6, "자정피자", "피자", "20:00", "04:00", "23:30", "00:45"),    # BREAK_TIME (break across midnight)
    (7, "막차식당", "한식", "10:00", "00:30", None, None),          # CLOSED (closes at 00:30 sharp)
]
EXPECTED_STATUS = {1: "OPEN", 2: "CLOSED", 3: "OPEN", 4: "UNKNOWN", 5: "BREAK_TIME", 6: "BREAK_TIME", 7: "CLOSED"}

MENUS = [
    (11, 1, "떡볶이", 4000, "메인메뉴", "쫄깃한 떡볶이"),
    (12, 1, "매운 라면", 3500, "메인메뉴", "얼큰한 라면"),
    (21, 2, "비빔밥", 8000, "메인메뉴", "나물 비빔밥"),
    (22, 2, "불고기 세트", 12000, "세트메뉴", "불고기와 밥"),
    (31, 3, "참치김밥", 2500, "메인메뉴", None),
    (51, 5, "후라이드 치킨", 18000, "메인메뉴", "바삭한 치킨"),
    (61, 6, "아메리카노", 1500, "음료", None),
]


def kst(*args) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


ORDERS = [
    # id, user, menu, local time, price
    (101, 1, 11, kst(2026, 11, 1, 12, 0), 4000),     # Sunday lunch, 분식
    (102, 1, 11, kst(2026, 11, 9, 12, 30), 4000),    # Monday lunch, 분식, reorder
    (103, 1, 21, kst(2026, 11, 15, 18, 0), 8000),    # Sunday dinner, 한식, new shop
    (104, 1, 51, kst(2026, 11, 18, 19, 0), 18000),   # Wednesday dinner, 치킨, new shop
    (105, 2, 31, kst(2026, 11, 20, 12, 0), 2500),
]


@pytest.fixture(scope="module")
def warehouse(migrated_engine):
    with migrated_engine.begin() as conn:
        for sid, name, cat, op, cl, bs, be in SHOPS:
            conn.execute(
                text("INSERT INTO shops (id, shop_name, category, open_hour, close_hour, break_start_hour, break_end_hour, "
                     "latitude, longitude) VALUES (:id, :n, :c, :o, :cl, :bs, :be, 37.55, 126.91)"),
                {"id": sid, "n": name, "c": cat, "o": op, "cl": cl, "bs": bs, "be": be},
            )
        for mid, sid, name, price, cat, desc in MENUS:
            conn.execute(
                text("INSERT INTO menus (id, shop_id, menu_name, price, category, description) VALUES (:i, :s, :n, :p, :c, :d)"),
                {"i": mid, "s": sid, "n": name, "p": price, "c": cat, "d": desc},
            )
        conn.execute(text(
            "INSERT INTO users (id, name, birthday, current_address) VALUES "
            "(1, '김하늘', '2012-03-01', '서울 마포구 망원동 1-2'), "
            "(2, '이바다', '1990-06-15', '경기 수원시 영통구 매탄동 3'), "
            "(3, '박구름', NULL, NULL)"))
        conn.execute(text("INSERT INTO foodcard_users (id, user_id, balance, status) VALUES (1, 1, 3000, 'ACTIVE')"))
        for oid, uid, mid, at, price in ORDERS:
            conn.execute(
                text("INSERT INTO product_orders (id, user_id, product_id, created_at, quantity, price) VALUES (:i, :u, :m, :t, 1, :p)"),
                {"i": oid, "u": uid, "m": mid, "t": at, "p": price},
            )
        conn.execute(text(
            "INSERT INTO coupons (id, coupon_name, discount_rate, discount_amount, usage_type, valid_from, valid_until) VALUES "
            "('FOOD10', '10% 할인', 0.10, NULL, 'ALL', '2026-01-01', '2026-12-31'), "
            "('OLD1000', '지난 쿠폰', NULL, 1000, 'ALL', '2025-01-01', '2025-12-31')"))
        conn.execute(text(
            "INSERT INTO user_coupon_wallet (id, user_id, coupon_id, acquired_date, expiry_date, usage_date, status, used_order_amount) VALUES "
            "(1, 1, 'FOOD10', '2026-10-01 10:00+09', '2026-10-31 23:59+09', '2026-10-05 12:00+09', 'USED', 9000), "
            "(2, 1, 'OLD1000', '2025-05-01 10:00+09', '2025-06-01 00:00+09', NULL, 'EXPIRED', NULL), "
            "(3, 1, 'FOOD10', '2026-11-20 10:00+09', '2026-12-10 23:59+09', NULL, 'ACTIVE', NULL)"))
        # chat-side logs on the evening of 2026-11-24 (all in the 20:00-20:05 bucket)
        conn.execute(text(
            "INSERT INTO recommendations_log (user_id, session_id, \"timestamp\", recommendations, recommendation_count, "
            "user_viewed_details, user_final_selection, time_to_decision_ms) VALUES "
            "('1', 's1', '2026-11-24 20:00+09', '[{\"shop_id\": 1}, {\"shop_id\": 2}, {\"shop_id\": 3}]', 3, '[1]', 1, 8000), "
            "('1', 's1', '2026-11-24 20:02+09', '[{\"shop_id\": 1}, {\"shop_id\": 5}]', 2, '[]', NULL, NULL), "
            "('2', 's3', '2026-11-24 20:04+09', '[{\"shop_id\": 2, \"menu_ids\": [21]}]', 1, '[\"2\"]', NULL, NULL)"))
        conn.execute(text(
            "INSERT INTO user_interactions (user_id, session_id, \"timestamp\", interaction_type, user_selection, satisfaction_score) VALUES "
            "('1', 's1', '2026-11-24 20:03+09', 'feedback', '{\"shop_id\": 1}', 5), "
            "('2', 's3', '2026-11-24 20:04+09', 'feedback', '{\"shop_id\": 1}', 2)"))
        conn.execute(text(
            "INSERT INTO conversations (user_id, session_id, input_text, response_text, \"timestamp\", response_time_ms) VALUES "
            "('1', 's1', '배고파', '추천해요', '2026-11-24 20:00+09', 300), "
            "('1', 's1', '떡볶이', '좋아요', '2026-11-24 20:01+09', 300), "
            "('1', 's1', '고마워', '맛있게 드세요', '2026-11-24 20:03+09', 300), "
            "('1', 's2', '안녕', '안녕하세요', '2026-11-20 10:00+09', 200), "
            "('1', 's2', '뭐 먹지', '추천해요', '2026-11-20 10:00:30+09', 200)"))
        conn.execute(text(
            "INSERT INTO performance_logs (\"timestamp\", operation_type, total_time_ms, cache_hit_rate) VALUES "
            "('2026-11-24 20:01+09', 'recommendation', 400, 0.5), ('2026-11-24 20:03+09', 'recommendation', 800, 0.7)"))
        conn.execute(text(
            "INSERT INTO nlu_training_data (input_text, predicted_intent, true_intent, created_at) VALUES "
            "('a', 'food_request', 'food_request', '2026-11-24 20:02+09'), ('b', 'budget_inquiry', 'budget_inquiry', '2026-11-24 20:02+09'), "
            "('c', 'general_chat', 'general_chat', '2026-11-24 20:02+09'), ('d', 'general_chat', 'food_request', '2026-11-24 20:02+09'), "
            "('e', 'food_request', NULL, '2026-11-24 20:02+09')"))
    database = migrated_engine.url.database
    result = run_dbt(["build", "--full-refresh"], database=database, dbt_vars={"as_of": AS_OF.isoformat()})
    assert result.returncode == 0, result.stdout[-4000:]
    return migrated_engine


def one(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).mappings().one()


def rows(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).mappings().all()


def test_current_status_across_midnight_and_breaks(warehouse):
    got = {r["shop_id"]: r["current_status"] for r in rows(warehouse, "SELECT shop_id, current_status FROM analytics.shops")}
    assert got == EXPECTED_STATUS


def test_ctr_conversion_and_zero_impressions(warehouse):
    got = {r["shop_id"]: r for r in rows(warehouse, "SELECT * FROM analytics.shops")}
    assert (got[1]["recommendation_count"], float(got[1]["click_through_rate"]), float(got[1]["conversion_rate"])) == (2, 0.5, 0.5)
    # shop 2: clicked once through a string id in user_viewed_details, never picked
    assert (got[2]["recommendation_count"], float(got[2]["click_through_rate"]), float(got[2]["conversion_rate"])) == (2, 0.5, 0.0)
    assert (got[3]["recommendation_count"], float(got[3]["click_through_rate"])) == (1, 0.0)
    for shop_id in (4, 6, 7):  # never shown: zero, not a division error
        assert got[shop_id]["recommendation_count"] == 0
        assert float(got[shop_id]["click_through_rate"]) == 0.0
        assert float(got[shop_id]["conversion_rate"]) == 0.0
        assert got[shop_id]["last_recommended"] is None
    assert got[1]["last_recommended"] == kst(2026, 11, 24, 20, 2)
    assert float(got[1]["user_satisfaction_avg"]) == 3.5
    assert (got[1]["total_orders_served"], float(got[1]["avg_order_value"])) == (2, 4000.0)


def test_user_features_hand_computed(warehouse):
    f = one(warehouse, "SELECT * FROM analytics.user_features WHERE user_id = 1")
    assert f["total_orders"] == 4
    assert float(f["avg_order_value"]) == 8500.0
    assert float(f["category_diversity"]) == 1.5  # 분식 1/2, 한식 1/4, 치킨 1/4
    assert float(f["shop_loyalty"]) == 0.5  # 2 of 4 orders at shop 1
    assert float(f["exploration_tendency"]) == 0.75  # 3 shops / 4 orders
    assert float(f["weekend_vs_weekday"]) == 0.5
    assert float(f["time_consistency"]) == round(1 - 1 / math.log2(5), 3)  # lunch 1/2, dinner 1/2
    assert f["preferred_meal_times"] == ["dinner", "lunch"]
    assert float(f["discount_responsiveness"]) == round(1 / 3, 3)
    assert float(f["budget_variability"]) == round(statistics.stdev([4000, 4000, 8000, 18000]), 2)
    empty = one(warehouse, "SELECT * FROM analytics.user_features WHERE user_id = 3")
    assert (empty["total_orders"], float(empty["category_diversity"]), float(empty["avg_order_value"])) == (0, 0.0, 0.0)


def test_users_mart(warehouse):
    users = {r["user_id"]: r for r in rows(warehouse, "SELECT * FROM analytics.users")}
    assert (users[1]["age_group"], users[1]["region_code"]) == ("10대", "서울 마포구")
    assert (users[2]["age_group"], users[2]["region_code"]) == ("30대", "경기 수원시 영통구")
    assert users[3]["age_group"] is None
    # two sessions in the last 28 days: 180 s and 30 s
    assert float(users[1]["session_frequency"]) == 0.5
    assert users[1]["avg_session_duration"] == 105
    # churn: P(alive) = exp(-recency / mean gap); last activity 2026-11-24 20:04 (rec log / feedback)
    mean_gap = (ORDERS[3][3] - ORDERS[0][3]).total_seconds() / 86400 / 3
    recency = (AS_OF - kst(2026, 11, 24, 20, 4)).total_seconds() / 86400
    assert abs(float(users[1]["churn_probability"]) - (1 - math.exp(-recency / mean_gap))) < 0.001
    assert float(users[3]["churn_probability"]) == 0.5  # never active: uninformed prior
    assert users[1]["interaction_patterns"]["interaction_style"] == "quick_decision"  # picked in 8 s
    assert users[1]["preference_evolution"] == {"2026-11": {"분식": 0.5, "한식": 0.25, "치킨": 0.25}}


def test_orders_wallet_coupons_foodcard(warehouse):
    orders = {r["order_id"]: r for r in rows(warehouse, "SELECT * FROM analytics.product_orders")}
    assert orders[101]["time_since_last_order"] is None and orders[101]["order_context"] == "regular"
    assert orders[102]["time_since_last_order"] == 8 and orders[102]["is_reorder"] is True
    assert orders[103]["order_context"] == "exploration" and orders[103]["is_reorder"] is False
    assert float(orders[102]["preference_weight"]) == 1.0 and float(orders[103]["preference_weight"]) == 0.5

    coupons = {r["coupon_id"]: r for r in rows(warehouse, "SELECT * FROM analytics.coupons")}
    assert coupons["FOOD10"]["is_active"] is True and coupons["OLD1000"]["is_active"] is False
    assert (coupons["FOOD10"]["total_issued"], coupons["FOOD10"]["total_used"]) == (2, 1)
    assert float(coupons["FOOD10"]["avg_order_increase"]) == 500.0  # 9000 - the user's 8500 average
    assert float(coupons["OLD1000"]["priority_score"]) == 0.0

    wallet = {r["wallet_id"]: r for r in rows(warehouse, "SELECT * FROM analytics.user_coupon_wallet")}
    assert float(wallet[1]["usage_probability"]) == 1.0 and float(wallet[2]["usage_probability"]) == 0.0
    assert float(wallet[3]["usage_probability"]) == 0.5  # (1 used + 1) / (1 used + 1 expired + 2)
    assert str(wallet[3]["recommended_usage_date"]) == "2026-11-29"  # the next Sunday, the user's usual day

    card = one(warehouse, "SELECT * FROM analytics.foodcard_users WHERE foodcard_user_id = 1")
    assert card["target_age_group"] == "중고등학생"
    assert card["balance_alert_sent"] is True  # 3,000 won left, typical order 8,500
    assert card["emergency_coupon_eligible"] is True
    assert card["monthly_usage_pattern"]["week3"] == {"amount": 26000, "count": 2.0}
    assert card["monthly_usage_pattern"]["week4"] == {"amount": 0, "count": 0.0}


def test_menus_rules_and_recommendation_frequency(warehouse):
    menus = {r["menu_id"]: r for r in rows(warehouse, "SELECT * FROM analytics.menus")}
    assert "spicy" in menus[12]["dietary_tags"] and "noodle" in menus[12]["dietary_tags"]
    assert menus[22]["estimated_calories"] == round(700 * 1.5)  # 불고기 as a set menu
    assert menus[21]["recommendation_frequency"] == 1
    assert menus[11]["seasonal_popularity"]["11월"] == 1.0
    assert menus[61]["nutrition_rule_keyword"] is None  # falls back to the 음료 category


def test_shop_features_and_pairs(warehouse):
    shop1 = one(warehouse, "SELECT * FROM analytics.shop_features WHERE shop_id = 1")
    assert float(shop1["complaint_rate"]) == 0.5
    assert float(shop1["avg_rating"]) == 3.5
    assert float(shop1["rating_consistency"]) == 0.0  # ratings 5 and 2: stddev 2.12 -> floor at 0
    assert float(shop1["repeat_customer_rate"]) == 1.0
    assert float(shop1["order_fulfillment_rate"]) == 0.0  # picked in chat, no order within 24 h
    shop4 = one(warehouse, "SELECT * FROM analytics.shop_features WHERE shop_id = 4")
    assert shop4["total_orders"] == 0 and shop4["avg_rating"] is None and shop4["menu_availability"] is None
    pair = one(warehouse, "SELECT * FROM analytics.user_shop_features WHERE platform_user_id = '1' AND shop_id = 1")
    assert (pair["order_count"], pair["visited_before"], pair["impressions"], pair["clicks"]) == (2, True, 2, 1)
    assert float(pair["category_preference_match"]) == 0.5


def test_monitoring_bucket(warehouse):
    b = one(warehouse, "SELECT * FROM analytics.monitoring_5min WHERE bucket_start = :t", t=kst(2026, 11, 24, 20, 0))
    assert (b["request_count"], float(b["avg_response_time_ms"]), float(b["cache_hit_rate"])) == (2, 600.0, 0.6)
    assert (b["nlu_labelled"], b["nlu_correct"], float(b["nlu_accuracy"])) == (4, 3, 0.75)
    assert (b["impressions"], b["clicks"], float(b["recommendation_ctr"])) == (6, 2, 0.3333)


def test_monitoring_trend_draws_the_last_day_hour_by_hour(warehouse):
    from orchestration.quality.monitoring import THRESHOLDS, hourly_trend, monitoring_trend
    from orchestration.resources import PostgresResource

    with warehouse.connect() as conn:
        rows = hourly_trend(conn)
    assert rows and all(set(r) == {"hour", *(t.name for t in THRESHOLDS)} for r in rows)
    check = monitoring_trend(postgres=PostgresResource(database=warehouse.url.database))
    assert check.passed and check.metadata["hours"].value == len(rows)
    assert "data:image/png;base64," in check.metadata["trend"].value


def test_journey_and_profile(warehouse):
    journey = one(warehouse, "SELECT * FROM analytics.user_journey_analytics WHERE user_id = '1'")
    assert journey["funnel_stage"] == "retention"
    assert float(journey["recommendation_acceptance_rate"]) == 0.5  # 1 of 2 lists picked
    assert journey["successful_recommendations"] == 1
    profile = one(warehouse, "SELECT * FROM analytics.user_profiles WHERE user_id = '1'")
    assert profile["favorite_shops"][0] == 1
    assert len(profile["recent_orders"]) == 4 and profile["recent_orders"][0]["order_id"] == 104
    assert profile["decision_making_speed"] == "quick"
    assert profile["personality_type"] in {"explorer", "loyalist", "deal_seeker", "convenience_first"}


def test_write_back_updates_public_tables_once(warehouse):
    with warehouse.begin() as conn:
        first = {spec.table: write_back(conn, spec) for spec in WRITE_BACKS}
        profiles, journeys = write_user_profiles(conn), write_user_journeys(conn)
    assert first["shops"] == 7 and profiles >= 2 and journeys == 3
    status = {r["id"]: r["current_status"] for r in rows(warehouse, "SELECT id, current_status FROM shops")}
    assert status == EXPECTED_STATUS
    assert one(warehouse, "SELECT age_group FROM users WHERE id = 2")["age_group"] == "30대"
    with warehouse.begin() as conn:  # nothing changed: nothing written
        again = {spec.table: write_back(conn, spec) for spec in WRITE_BACKS}
        assert write_user_profiles(conn) == 0 and write_user_journeys(conn) == 0
    assert set(again.values()) == {0}


def test_incremental_models_take_new_rows_only_once(warehouse):
    database = warehouse.url.database
    with warehouse.begin() as conn:
        conn.execute(text(
            "INSERT INTO recommendations_log (user_id, \"timestamp\", recommendations, recommendation_count, user_viewed_details) "
            "VALUES ('2', '2026-11-24 23:00+09', '[{\"shop_id\": 7}]', 1, '[7]')"))
    selection = ["build", "-s", "int_recommendation_impressions+", "--exclude", "user_profiles", "user_journey_analytics"]
    for _ in range(2):  # the second run finds nothing new and must not duplicate
        result = run_dbt(selection, database=database, dbt_vars={"as_of": AS_OF.isoformat()})
        assert result.returncode == 0, result.stdout[-4000:]
    assert one(warehouse, "SELECT count(*) AS n FROM analytics_intermediate.int_recommendation_impressions")["n"] == 7
    shop7 = one(warehouse, "SELECT * FROM analytics.shops WHERE shop_id = 7")
    assert (shop7["recommendation_count"], float(shop7["click_through_rate"])) == (1, 1.0)


def test_every_built_column_is_documented(warehouse):
    """What dbt docs renders: each relation's real columns are exactly the YAML's columns."""
    from pathlib import Path

    import yaml

    documented = {}
    for path in (Path(__file__).resolve().parents[2] / "dbt_project" / "models").rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            documented[model["name"]] = {c["name"] for c in model["columns"]}
    built = {}
    for r in rows(warehouse, "SELECT table_name, column_name FROM information_schema.columns "
                             "WHERE table_schema IN ('analytics', 'analytics_staging', 'analytics_intermediate')"):
        built.setdefault(r["table_name"], set()).add(r["column_name"])
    for name, columns in documented.items():
        assert built.get(name) == columns, name


ODD_IDS = ("0001", "1.0", "user@x", "u" * 100, "01", "2147483648")


def test_odd_platform_ids_neither_merge_users_nor_break_the_refresh(warehouse):
    """Chats from valid but odd platform ids ("0001" is not user 1), then the 5-minute batch's
    incremental models and the daily refresh (a full build with its uniqueness tests, and the
    write-back): both succeed and no mart has a duplicate key."""
    from infra.platform_ids import user_key

    assert [user_key(i) for i in ("1", *ODD_IDS)] == [1, None, None, None, None, None, None]
    database = warehouse.url.database
    with warehouse.begin() as conn:
        for i, uid in enumerate(ODD_IDS):
            params = {"u": uid, "s": f"odd{i}"}
            conn.execute(text(
                "INSERT INTO conversations (user_id, session_id, input_text, response_text, \"timestamp\") "
                "VALUES (:u, :s, '배고파', '추천해요', '2026-11-24 23:10+09')"), params)
            conn.execute(text(
                "INSERT INTO recommendations_log (user_id, session_id, \"timestamp\", recommendations, "
                "recommendation_count, user_viewed_details, user_final_selection) "
                "VALUES (:u, :s, '2026-11-24 23:10+09', '[{\"shop_id\": 1}]', 1, '[1]', 1)"), params)
            conn.execute(text(
                "INSERT INTO user_interactions (user_id, session_id, \"timestamp\", interaction_type, user_selection) "
                "VALUES (:u, :s, '2026-11-24 23:11+09', 'feedback', '{\"shop_id\": 1}')"), params)
    before = one(warehouse, "SELECT count(*) AS n FROM analytics.users")["n"]
    batch = ["build", "-s", "int_recommendation_impressions+", "int_user_activity+", "--exclude", "user_profiles",
             "user_journey_analytics"]
    for selection in (batch, ["build"]):  # the 5-minute batch's models, then the daily refresh
        result = run_dbt(selection, database=database, dbt_vars={"as_of": AS_OF.isoformat()})
        assert result.returncode == 0, result.stdout[-4000:]
    with warehouse.begin() as conn:
        for spec in WRITE_BACKS:
            write_back(conn, spec)
        write_user_profiles(conn)
        write_user_journeys(conn)
    assert one(warehouse, "SELECT count(*) AS n FROM analytics.users")["n"] == before
    for mart, key in (("users", "user_id"), ("user_journey_analytics", "user_id"), ("user_profiles", "user_id"),
                      ("shops", "shop_id"), ("user_features", "user_id")):
        dup = one(warehouse, f"SELECT count(*) - count(DISTINCT {key}) AS d FROM analytics.{mart}")["d"]
        assert dup == 0, f"analytics.{mart} has a duplicate {key}"
    mapped = {r["platform_user_id"]: r["user_id"] for r in rows(
        warehouse, "SELECT DISTINCT platform_user_id, user_id FROM analytics_staging.stg_naviyam__conversations")}
    assert mapped["1"] == 1
    assert all(mapped[i] is None for i in ODD_IDS), "an odd id must not borrow a users row"


def test_bad_live_rows_are_quarantined_and_the_batch_goes_on(warehouse):
    """Rows the live tables accept but the warehouse cannot use used to fail every later batch (a
    second interaction with an earlier one's id broke int_interaction_signals' uniqueness test; a
    user_viewed_details that is not an array broke the A/B mart). Now the 5-minute batch's models
    and the daily refresh succeed, each bad row sits in live_quarantine with its reasons, the good
    copy of a duplicated row stays, and no mart has a duplicate key."""
    import uuid

    from orchestration.maintenance.assets import BATCH_DBT_KEYS
    from orchestration.quality.quarantine import live_rows_quarantined, quarantine_summary
    from orchestration.resources import PostgresResource

    database = warehouse.url.database
    assert one(warehouse, "SELECT count(*) AS n FROM analytics_staging.live_quarantine")["n"] == 0  # valid rows stay
    replayed = str(uuid.uuid4())
    with warehouse.begin() as conn:
        # a list and its replay stamped a minute later: the same event_id twice
        conn.execute(text(
            "INSERT INTO recommendations_log (user_id, session_id, \"timestamp\", recommendations, recommendation_count, "
            "model_variant, event_id) VALUES "
            "('2', 'bad1', '2026-11-24 23:20+09', '[{\"shop_id\": 3}]', 1, 'champion', :e), "
            "('2', 'bad1', '2026-11-24 23:21+09', '[{\"shop_id\": 3}]', 1, 'champion', :e)"), {"e": replayed})
        # a reaction written as an object, not a list of shop ids; a negative decision time
        conn.execute(text(
            "INSERT INTO recommendations_log (user_id, session_id, \"timestamp\", recommendations, recommendation_count, "
            "model_variant, user_viewed_details, user_final_selection, time_to_decision_ms) VALUES "
            "('1', 'bad2', '2026-11-24 23:22+09', '[{\"shop_id\": 1}]', 1, 'champion', '{\"shop_id\": 1}', NULL, NULL), "
            "('1', 'bad2', '2026-11-24 23:23+09', '[{\"shop_id\": 1}]', 1, 'champion', '[1]', 1, -4000)"))
        # an interaction re-inserted under its own id a day later (a restore); an unparsable shop id
        conn.execute(text(
            "INSERT INTO user_interactions (id, user_id, session_id, \"timestamp\", interaction_type, user_selection, "
            "satisfaction_score) SELECT id, user_id, session_id, \"timestamp\" + interval '1 day', interaction_type, "
            "user_selection, satisfaction_score FROM user_interactions WHERE session_id = 's3'"))
        conn.execute(text(
            "INSERT INTO user_interactions (user_id, session_id, \"timestamp\", interaction_type, user_selection) "
            "VALUES ('2', 'bad3', '2026-11-24 23:24+09', 'selection', '{\"shop_id\": \"1.5\"}')"))
        # turns with an empty session and a blank user id (NOT NULL lets '' through)
        conn.execute(text(
            "INSERT INTO conversations (user_id, session_id, input_text, response_text, \"timestamp\") VALUES "
            "('3', '', '배고파', '추천해요', '2026-11-24 23:25+09'), ('  ', 'bad4', '배고파', '추천해요', '2026-11-24 23:27+09')"))
        conn.execute(text(
            "INSERT INTO performance_logs (\"timestamp\", operation_type, total_time_ms) "
            "VALUES ('2026-11-24 23:26+09', 'recommendation', -1)"))
    expected = {
        ("recommendations_log", "2026-11-24 23:21+09"): ["an earlier row has the same event_id"],
        ("recommendations_log", "2026-11-24 23:22+09"): ["user_viewed_details is not a JSON array"],
        ("recommendations_log", "2026-11-24 23:23+09"): ["time_to_decision_ms is negative"],
        ("user_interactions", "2026-11-25 20:04+09"): ["an earlier row has the same id"],
        ("user_interactions", "2026-11-24 23:24+09"): ["user_selection.shop_id is not an integer id"],
        ("conversations", "2026-11-24 23:25+09"): ["session_id is empty"],
        ("conversations", "2026-11-24 23:27+09"): ["user_id is empty"],
        ("performance_logs", "2026-11-24 23:26+09"): ["total_time_ms is negative"],
    }

    batch = ["build", "-s", *(key.path[-1] for key in BATCH_DBT_KEYS)]  # what batch_5min builds and tests
    for selection in (batch, ["build"]):  # the 5-minute batch, then the daily refresh (the A/B mart too)
        result = run_dbt(selection, database=database, dbt_vars={"as_of": AS_OF.isoformat()})
        assert result.returncode == 0, result.stdout[-4000:]

    quarantined = rows(warehouse, "SELECT source_table, occurred_at, reasons, source_row FROM analytics_staging.live_quarantine")
    got = {(r["source_table"], r["occurred_at"].astimezone(SEOUL).strftime("%Y-%m-%d %H:%M+09")): r["reasons"]
           for r in quarantined}
    assert got == expected and len(quarantined) == len(expected)
    assert not any("input_text" in r["source_row"] for r in quarantined)  # what the child typed stays in its table
    # the first copy of a duplicated row is kept, the bad rows are nowhere downstream
    assert one(warehouse, "SELECT count(*) AS n FROM analytics_staging.stg_naviyam__recommendations_log "
                          "WHERE recommendation_event_id = :e", e=replayed)["n"] == 1
    assert one(warehouse, "SELECT count(*) AS n FROM analytics_intermediate.int_interaction_signals WHERE session_id = 's3'")["n"] == 1
    assert one(warehouse, "SELECT count(*) AS n FROM analytics_intermediate.int_conversation_sessions "
                          "WHERE session_id IN ('', 'bad4')")["n"] == 0
    for relation, key in (("analytics.users", "user_id"), ("analytics.user_journey_analytics", "user_id"),
                          ("analytics.user_profiles", "user_id"), ("analytics.shops", "shop_id"),
                          ("analytics.ab_variant_metrics", "variant"),
                          ("analytics_intermediate.int_interaction_signals", "interaction_id"),
                          ("analytics_intermediate.int_recommendation_impressions", "(recommendation_log_id, position)")):
        dup = one(warehouse, f"SELECT count(*) - count(DISTINCT {key}) AS d FROM {relation}")["d"]
        assert dup == 0, f"{relation} has a duplicate {key}"

    # what the operator sees: the batch's check warns (it does not fail) with the counts
    with warehouse.connect() as conn:
        summary = quarantine_summary(conn)
    assert summary["rows"] == len(expected)
    assert summary["by_table"] == {"conversations": 2, "performance_logs": 1, "recommendations_log": 3,
                                   "user_interactions": 2}
    assert summary["by_reason"]["session_id is empty"] == 1
    check = live_rows_quarantined(postgres=PostgresResource(database=database))
    assert (check.passed, check.severity.value, check.metadata["rows"].value) == (False, "WARN", len(expected))
