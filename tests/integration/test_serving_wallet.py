"""Wallet writes, session context levels and the shop-feature cache against real PostgreSQL and Redis."""

from __future__ import annotations

import concurrent.futures as cf
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from serving import coupon_wallet as cw
from serving.adapters import LayeredContextStore, PgAccounts
from serving.features import ShopFeatureCache

pytestmark = pytest.mark.integration


def now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def wallet_db(migrated_engine):
    at = now()
    with migrated_engine.begin() as conn:
        conn.execute(text("INSERT INTO shops (id, shop_name, category, is_food_card_shop, popularity_score) VALUES "
                          "(1, '가게', '분식', 'Y', 0.4), (2, '식당', '한식', 'N', 0.9)"))
        for uid in (1, 2, 3):
            conn.execute(text("INSERT INTO users (id, nickname) VALUES (:u, 'kid')"), {"u": uid})
            conn.execute(text("INSERT INTO foodcard_users (user_id, balance, status) VALUES (:u, 1500, 'ACTIVE')"), {"u": uid})
        conn.execute(text("""INSERT INTO coupons (id, coupon_name, discount_amount, min_order_amount, usage_type, is_active)
                             VALUES ('A1000', 'a', 1000, 0, 'ALL', true), ('OFF', 'off', 500, 0, 'ALL', false)"""))
        conn.execute(text("""INSERT INTO coupons (id, coupon_name, discount_amount, min_order_amount, usage_type,
                                                  target_categories, applicable_shops, valid_until, is_active) VALUES
                             ('SHOP2', 'shop 2 only', 500, 0, 'SHOP', NULL, '[2]', NULL, true),
                             ('BUNSIK', 'bunsik', 500, 3000, 'CATEGORY', '["분식"]', NULL, NULL, true),
                             ('CARD', 'card shops', 500, 0, 'FOODCARD', NULL, NULL, NULL, true),
                             ('OLD', 'ended', 500, 0, 'ALL', NULL, NULL, current_date - 1, true)"""))
        for cid in ("SHOP2", "BUNSIK", "CARD", "OLD"):
            conn.execute(text("INSERT INTO user_coupon_wallet (user_id, coupon_id, expiry_date, status) VALUES (3, :c, :e, 'ACTIVE')"),
                         {"c": cid, "e": at + timedelta(days=1)})
        for cid, status, expiry in (("A1000", "ACTIVE", at + timedelta(days=1)), ("OFF", "ACTIVE", at + timedelta(days=1))):
            conn.execute(text("INSERT INTO user_coupon_wallet (user_id, coupon_id, expiry_date, status) VALUES (1, :c, :e, :s)"),
                         {"c": cid, "e": expiry, "s": status})
        conn.execute(text("INSERT INTO user_coupon_wallet (user_id, coupon_id, expiry_date, status) "
                          "VALUES (2, 'A1000', :e, 'ACTIVE')"), {"e": at - timedelta(hours=1)})  # expired copy
    cw.ensure_emergency_coupon(migrated_engine)
    cw.ensure_emergency_coupon(migrated_engine)  # idempotent
    return migrated_engine


def test_wallet_reads_only_live_copies(wallet_db):
    acct = PgAccounts(wallet_db).load("1", now())
    assert acct.card.balance == 1500 and acct.card.emergency_coupon_eligible
    live = cw.live_coupons(acct.coupons, datetime.now(timezone.utc))
    assert [c.coupon_id for c in live] == ["A1000"]  # the inactive coupon is read but never applies
    no_wallet = PgAccounts(wallet_db).load("2", now())
    assert no_wallet.coupons == [] and no_wallet.card.balance == 1500  # expired copy only; the card still reads
    assert PgAccounts(wallet_db).load("kakao_x", now()).user_key is None


def test_emergency_coupon_issued_exactly_once_under_concurrency(wallet_db):
    with cf.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: cw.issue_emergency_coupon(wallet_db, user_id=3, now=now(), context={"why": "test"}), range(8)))
    assert sum(r is not None for r in results) == 1
    with wallet_db.connect() as conn:
        rows = conn.execute(text("SELECT acquisition_source, status FROM user_coupon_wallet "
                                 "WHERE user_id = 3 AND coupon_id = 'EMERGENCY_ASSIST'")).all()
        eligible = conn.execute(text("SELECT emergency_coupon_eligible FROM foodcard_users WHERE user_id = 3")).scalar()
        issued = conn.execute(text("SELECT total_issued FROM coupons WHERE id = 'EMERGENCY_ASSIST'")).scalar()
    assert [tuple(r) for r in rows] == [("emergency_assist", "ACTIVE")]
    assert eligible is False and issued == 1
    assert cw.issue_emergency_coupon(wallet_db, user_id=3, now=now()) is None


def test_concurrent_use_of_one_coupon_succeeds_once(wallet_db):
    with cf.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: cw.use_coupon(wallet_db, user_id=1, coupon_id="A1000", shop_id=1, menu_id=None,
                                                        order_amount=4000, discount=1000, now=now()), range(8)))
    assert sum(r is not None for r in results) == 1
    with wallet_db.connect() as conn:
        row = conn.execute(text("SELECT status, used_shop_id, discount_applied, usage_date IS NOT NULL FROM user_coupon_wallet "
                                "WHERE user_id = 1 AND coupon_id = 'A1000'")).one()
        used = conn.execute(text("SELECT total_used FROM coupons WHERE id = 'A1000'")).scalar()
    assert tuple(row) == ("USED", 1, 1000, True) and used == 1
    # expired copies cannot be used either
    assert cw.use_coupon(wallet_db, user_id=2, coupon_id="A1000", shop_id=1, menu_id=None, order_amount=1, discount=0, now=now()) is None


def test_a_use_waits_briefly_for_a_concurrent_one_and_trips_no_breaker(wallet_db):
    """A copy held by another transaction: the use gives up after the lock wait (None: it is in
    use) instead of holding the request; the server answered, so the database breaker stays closed."""
    import time

    from infra.breaker import breaker
    from infra.db import make_engine

    with wallet_db.begin() as conn:
        conn.execute(text("INSERT INTO users (id, nickname) VALUES (4, 'kid')"))
        conn.execute(text("INSERT INTO foodcard_users (user_id, balance, status) VALUES (4, 1500, 'ACTIVE')"))
        conn.execute(text("INSERT INTO user_coupon_wallet (user_id, coupon_id, expiry_date, status) "
                          "VALUES (4, 'A1000', now() + interval '1 day', 'ACTIVE')"))
    limited = make_engine(wallet_db.url.render_as_string(hide_password=False), deadline_s=0.5)
    breaker("postgres").reset()
    try:
        with wallet_db.begin() as holder:
            holder.execute(text("SELECT 1 FROM user_coupon_wallet WHERE user_id = 4 FOR UPDATE"))
            started = time.perf_counter()
            got = cw.use_coupon(limited, user_id=4, coupon_id="A1000", shop_id=1, menu_id=None,
                                order_amount=4000, discount=1000, now=now())
            took = time.perf_counter() - started
        assert got is None and took < 0.45 and breaker("postgres").state == "closed"
        with wallet_db.begin() as holder:  # the coupon's counter row held: the use still stands
            holder.execute(text("SELECT 1 FROM coupons WHERE id = 'A1000' FOR UPDATE"))
            assert cw.use_coupon(limited, user_id=4, coupon_id="A1000", shop_id=1, menu_id=None,
                                 order_amount=4000, discount=1000, now=now()) is not None
        assert breaker("postgres").state == "closed"
    finally:
        limited.dispose()
        breaker("postgres").reset()


def test_using_a_coupon_checks_its_rules(wallet_db):
    def use(coupon_id, shop_id, amount=4000):
        return cw.use_coupon(wallet_db, user_id=3, coupon_id=coupon_id, shop_id=shop_id, menu_id=None,
                             order_amount=amount, discount=500, now=now())

    # shop 1 is a 분식 meal-card shop, shop 2 a 한식 shop without the card
    assert use("SHOP2", 1) is None and use("BUNSIK", 2) is None and use("CARD", 2) is None
    assert use("BUNSIK", 1, amount=2000) is None  # under the minimum order
    assert use("OLD", 1) is None  # past valid_until
    assert use("OFF", 1) is None  # never held by user 3 (and inactive)
    assert use("SHOP2", 2) and use("BUNSIK", 1) and use("CARD", 1)
    with wallet_db.connect() as conn:
        statuses = dict(conn.execute(text("SELECT coupon_id, status FROM user_coupon_wallet WHERE user_id = 3 "
                                          "AND coupon_id IN ('SHOP2', 'BUNSIK', 'CARD', 'OLD')")).all())
    assert statuses == {"SHOP2": "USED", "BUNSIK": "USED", "CARD": "USED", "OLD": "ACTIVE"}


def test_the_wallet_is_read_used_and_issued_as_of_the_request_clock(wallet_db):
    """A simulated day (serving.clock's as_of) sees its own wallet: user 2's copy expired an hour
    ago by the wall clock but is live two hours ago; a week ahead user 1's copies have expired."""
    accounts = PgAccounts(wallet_db)
    earlier = now() - timedelta(hours=2)
    assert [c.coupon_id for c in accounts.load("2", earlier).coupons] == ["A1000"]
    assert accounts.load("1", now() + timedelta(days=7)).coupons == []
    assert cw.use_coupon(wallet_db, user_id=1, coupon_id="A1000", shop_id=1, menu_id=None, order_amount=4000,
                         discount=1000, now=now() + timedelta(days=7)) is None  # expired then: stays ACTIVE
    with wallet_db.begin() as conn:
        conn.execute(text("INSERT INTO users (id, nickname) VALUES (5, 'kid')"))
        conn.execute(text("INSERT INTO foodcard_users (user_id, balance, status, emergency_coupon_eligible) "
                          "VALUES (5, 100, 'ACTIVE', true)"))
    as_of = datetime(2026, 3, 31, 23, 30, tzinfo=timezone(timedelta(hours=9)))
    assert cw.issue_emergency_coupon(wallet_db, user_id=5, now=as_of) is not None
    with wallet_db.connect() as conn:
        acquired, expiry = conn.execute(text("SELECT acquired_date, expiry_date FROM user_coupon_wallet "
                                             "WHERE user_id = 5")).one()
    assert acquired == as_of and expiry == as_of + timedelta(days=cw.EMERGENCY_LIFETIME_DAYS)
    with pytest.raises(ValueError, match="time zone"):
        cw.clock_params(datetime(2026, 3, 31, 12, 0))


def test_context_levels_l1_redis_postgres(wallet_db, redis_client):
    from infra.redis_client import get_redis

    session = "ctx-" + uuid.uuid4().hex[:8]
    state = {"session_id": session, "user_id": "u1", "turn": 2, "user_turns": 5, "frame": {"budget": 5000}}
    store = LayeredContextStore(wallet_db, get_redis)
    store.save(state)
    got, level, turns = store.load(session, "u1")
    assert level == "l1" and got["frame"] == {"budget": 5000} and turns == 5
    got, level, turns = LayeredContextStore(wallet_db, get_redis).load(session, "u1")
    assert level == "redis" and got["turn"] == 2
    assert LayeredContextStore(wallet_db, get_redis).load(session, "someone_else")[0] is None
    # Redis lost it: PostgreSQL is the record
    redis_client.delete(store._key("ctx", session))
    with wallet_db.begin() as conn:
        conn.execute(text("INSERT INTO conversation_contexts (session_id, user_id, conversation_turn, context_data, expires_at) "
                          "VALUES (:s, 'u1', 2, CAST(:d AS jsonb), now() + interval '1 day')"),
                     {"s": session, "d": json.dumps(state)})
    got, level, _ = LayeredContextStore(wallet_db, get_redis).load(session, "u1")
    assert level == "postgres" and got["frame"] == {"budget": 5000}


def test_shop_features_load_once_and_refresh_on_materialization(wallet_db, redis_client):
    from infra.redis_client import get_redis, key

    cache = ShopFeatureCache(wallet_db, redis_factory=get_redis, check_s=0.0)
    cache.maybe_refresh()
    loads = cache.loads
    assert cache.get([1, 2, 99]).keys() == {1, 2}
    for _ in range(100):
        cache.get([1, 2])  # 100 candidates, no reads while nothing changed
    assert cache.loads == loads
    with wallet_db.begin() as conn:
        conn.execute(text("UPDATE shops SET popularity_score = 0.77 WHERE id = 1"))
    redis_client.set(key("features", "version"), uuid.uuid4().hex)  # what the materialization job does
    assert float(cache.get([1])[1]["popularity_score"]) == pytest.approx(0.77)
    assert cache.loads == loads + 1


def test_context_without_l1_always_reads_the_shared_copy(wallet_db):
    """Several service processes: a turn saved by one must be what the next process loads."""
    from infra.redis_client import get_redis
    from serving.adapters import LayeredContextStore

    session = f"multi-{uuid.uuid4().hex[:8]}"
    a = LayeredContextStore(wallet_db, get_redis, l1=False)
    b = LayeredContextStore(wallet_db, get_redis, l1=False)
    a.save({"session_id": session, "user_id": "u1", "turn": 1, "user_turns": 1})
    b.save({"session_id": session, "user_id": "u1", "turn": 2, "user_turns": 2})
    got, level, turns = a.load(session, "u1")
    assert (got["turn"], level, turns) == (2, "redis", 2)
