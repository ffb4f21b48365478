"""A small, hand-written Korean dataset for the end-to-end tests and the benchmark.

The retrieval test set (``models.retrieval.demo_data``, 16 shops with real opening hours) plus six
24-hour meal-card shops, so "open now" finds something at any hour the tests run; spicy menus carry
the ``spicy`` dietary tag; a few children with meal cards, coupons in their wallets and order
history. Names and birthdays are seeded on purpose: the tests check they never leak.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Engine, text

from infra.pii import card_last4, card_number_hash

HOME = (37.5560, 126.9050)  # 망원동, where the children are

EXTRA_SHOPS = [
    # id, name, category, address, good, card, lat, lon, owner message
    (101, "24시 김밥나라", "분식", "서울특별시 마포구 망원동 400", False, "Y", 37.5565, 126.9055, "24시간 김밥과 라면"),
    (102, "밤샘 도시락", "도시락·죽", "서울특별시 마포구 망원동 380", True, "Y", 37.5570, 126.9040, "언제나 따뜻한 도시락"),
    (103, "언제나 국밥", "한식", "서울특별시 마포구 합정동 50", False, "Y", 37.5500, 126.9120, "24시간 국밥"),
    (104, "별빛 중화", "중식", "서울특별시 마포구 서교동 99", False, "Y", 37.5540, 126.9180, "밤에도 짜장면"),
    (105, "모두의 피자", "피자", "서울특별시 마포구 망원동 300", False, "Y", 37.5580, 126.9030, "단체 주문 환영, 조각 피자도 있어요"),
    (106, "착한 치킨", "치킨", "서울특별시 마포구 연남동 70", True, "P", 37.5610, 126.9230, "학생 할인 치킨"),
]
EXTRA_MENUS = [
    # shop, name, price, description, category, tags
    (101, "김밥", 2500, "기본 야채 김밥", "메인메뉴", []),
    (101, "라면", 3500, "얼큰한 라면", "메인메뉴", ["spicy"]),
    (101, "떡볶이", 4000, "매콤달콤 떡볶이", "메인메뉴", ["spicy"]),
    (101, "우동", 4500, "따뜻한 국물 우동", "메인메뉴", []),
    (102, "치킨마요 도시락", 4800, "치킨과 마요 소스 도시락", "메인메뉴", []),
    (102, "야채죽", 5500, "부드러운 야채죽", "메인메뉴", []),
    (102, "제육 도시락", 5900, "매콤한 제육볶음 도시락", "메인메뉴", ["spicy", "pork"]),
    (103, "콩나물국밥", 5000, "시원한 콩나물국밥", "메인메뉴", []),
    (103, "순대국밥", 7000, "진한 순대국밥", "메인메뉴", ["pork"]),
    (104, "짜장면", 5500, "달콤한 짜장면", "메인메뉴", ["pork"]),
    (104, "짬뽕", 6500, "얼큰한 해물 짬뽕", "메인메뉴", ["spicy", "seafood"]),
    (104, "탕수육 (대)", 22000, "여럿이 나눠 먹는 탕수육", "세트메뉴", ["pork"]),
    (105, "조각 피자", 3000, "치즈 피자 한 조각", "메인메뉴", ["dairy"]),
    (105, "피자 라지", 18000, "여럿이 먹는 라지 피자", "메인메뉴", ["dairy"]),
    (106, "치킨너겟", 4000, "한입 너겟", "사이드메뉴", []),
    (106, "순살치킨", 15000, "바삭한 순살치킨 한 마리", "메인메뉴", []),
]
SPICY_WORDS = ("떡볶이", "라볶이", "짬뽕", "마파두부", "뼈해장국", "매운", "제육", "양념치킨", "김치찌개")

USERS = [
    # id, name, birthday, (card number, balance) or None
    (1, "김하늘", date(2013, 3, 2), ("9410-1111-2222-3331", 20000)),
    (2, "이바다", date(2011, 7, 9), ("9410-1111-2222-3332", 30000)),
    (3, "박구름", date(2012, 1, 20), None),
    (4, "최별", date(2014, 5, 5), ("9410-1111-2222-3334", 2000)),
    (5, "정나무", date(2010, 9, 1), ("9410-1111-2222-3335", 15000)),
    (6, "한들꽃", date(2013, 11, 30), ("9410-1111-2222-3336", 15000)),
]


def coupons(today: date) -> list[dict]:
    start, until = today - timedelta(days=30), today + timedelta(days=60)
    return [
        dict(id="BUNSIK1000", coupon_name="분식 천원 할인", discount_amount=1000, discount_rate=None, min_order_amount=4000,
             usage_type="CATEGORY", target_categories=json.dumps(["분식"], ensure_ascii=False), applicable_shops=None),
        dict(id="FOOD10", coupon_name="급식카드 10% 할인", discount_amount=None, discount_rate=0.10, min_order_amount=5000,
             usage_type="FOODCARD", target_categories=None, applicable_shops=None),
        dict(id="WELCOME3000", coupon_name="신규 가입 3천원 할인", discount_amount=3000, discount_rate=None,
             min_order_amount=6000, usage_type="ALL", target_categories=None, applicable_shops=None),
        dict(id="GIMBAP500", coupon_name="김밥나라 500원", discount_amount=500, discount_rate=None, min_order_amount=0,
             usage_type="SHOP", target_categories=None, applicable_shops=json.dumps([101])),
    ], start, until


def seed(engine: Engine, card_key: str = "naviyam-dev-card-key-change-me") -> None:
    from models.retrieval import demo_data

    now = datetime.now(timezone.utc)
    today = now.date()
    with engine.begin() as conn:
        for s in demo_data.shop_rows():
            conn.execute(text("""
                INSERT INTO shops (id, shop_name, category, address_name, is_good_influence_shop, is_food_card_shop,
                    open_hour, close_hour, break_start_hour, break_end_hour, owner_message, latitude, longitude,
                    current_status, popularity_score, quality_score)
                VALUES (:id, :shop_name, :category, :address_name, :is_good_influence_shop, :is_food_card_shop,
                    :open_hour, :close_hour, :break_start_hour, :break_end_hour, :owner_message, :latitude, :longitude,
                    :current_status, 0.5, 0.6)"""), s)
        for (sid, name, cat, addr, good, card, lat, lon, msg) in EXTRA_SHOPS:
            conn.execute(text("""
                INSERT INTO shops (id, shop_name, category, address_name, is_good_influence_shop, is_food_card_shop,
                    open_hour, close_hour, owner_message, latitude, longitude, current_status, popularity_score,
                    quality_score)
                VALUES (:id, :n, :c, :a, :g, :f, '00:00', '00:00', :m, :lat, :lon, 'OPEN', :pop, 0.7)"""),
                dict(id=sid, n=name, c=cat, a=addr, g=good, f=card, m=msg, lat=lat, lon=lon, pop=0.3 + (sid % 5) / 10))
        for m in demo_data.menu_rows():
            tags = ["spicy"] if any(w in m["menu_name"] or w in (m["description"] or "") for w in SPICY_WORDS) else []
            conn.execute(text("""INSERT INTO menus (id, shop_id, menu_name, price, description, category, dietary_tags)
                                 VALUES (:id, :shop_id, :menu_name, :price, :description, :category, CAST(:tags AS jsonb))"""),
                         dict(m, tags=json.dumps(tags)))
        next_id = 1000
        for (sid, name, price, desc, cat, tags) in EXTRA_MENUS:
            next_id += 1
            conn.execute(text("""INSERT INTO menus (id, shop_id, menu_name, price, description, category, dietary_tags)
                                 VALUES (:id, :s, :n, :p, :d, :c, CAST(:t AS jsonb))"""),
                         dict(id=next_id, s=sid, n=name, p=price, d=desc, c=cat, t=json.dumps(tags)))
        for uid, name, birthday, card in USERS:
            conn.execute(text("INSERT INTO users (id, name, nickname, birthday, current_address) "
                              "VALUES (:i, :n, :n, :b, '서울특별시 마포구 망원동')"), dict(i=uid, n=name, b=birthday))
            if card:
                number, balance = card
                conn.execute(text("""INSERT INTO foodcard_users (user_id, card_number_hash, card_last4, balance, status,
                                        target_age_group) VALUES (:u, :h, :l, :b, 'ACTIVE', '초등학생')"""),
                             dict(u=uid, h=card_number_hash(number, card_key), l=card_last4(number), b=balance))
        rows, start, until = coupons(today)
        for c in rows:
            conn.execute(text("""INSERT INTO coupons (id, coupon_name, discount_amount, discount_rate, min_order_amount,
                                   usage_type, target_categories, applicable_shops, valid_from, valid_until, is_active)
                                 VALUES (:id, :coupon_name, :discount_amount, :discount_rate, :min_order_amount,
                                   :usage_type, CAST(:target_categories AS jsonb), CAST(:applicable_shops AS jsonb),
                                   :vf, :vu, true)"""), dict(c, vf=start, vu=until))
        for uid, cid in [(1, "BUNSIK1000"), (1, "FOOD10"), (1, "GIMBAP500"), (2, "WELCOME3000"), (2, "BUNSIK1000"),
                         (5, "BUNSIK1000"), (6, "GIMBAP500")]:
            conn.execute(text("""INSERT INTO user_coupon_wallet (user_id, coupon_id, acquired_date, expiry_date, status,
                                   acquisition_source) VALUES (:u, :c, :a, :e, 'ACTIVE', 'welcome_bonus')"""),
                         dict(u=uid, c=cid, a=now - timedelta(days=2), e=now + timedelta(days=20)))
        # user 2 has eaten 분식 a lot
        for i, menu_id in enumerate([8, 9, 1, 8, 1001, 1002]):
            conn.execute(text("INSERT INTO product_orders (user_id, product_id, created_at, quantity, price) "
                              "SELECT 2, id, :t, 1, price FROM menus WHERE id = :m"),
                         dict(m=menu_id, t=now - timedelta(days=10 - i)))
        conn.execute(text("SELECT setval(pg_get_serial_sequence('menus', 'id'), 5000)"))


def build_index(engine: Engine) -> dict:
    from models.retrieval import build_index as _build

    return _build(engine, full=True).as_dict()


def wait_rows(engine, sql: str, params: dict, expected: int, timeout: float = 15.0) -> int:
    """Poll until the (asynchronously written) rows are there; returns the last count."""
    from sqlalchemy import text

    deadline = time.monotonic() + timeout
    n = -1
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            n = conn.execute(text(sql), params).scalar()
        if n >= expected:
            return n
        time.sleep(0.2)
    return n
