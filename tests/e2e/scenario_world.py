"""A small world for the multi-turn answer scenarios (tests/e2e/test_answer_scenarios.py).

Two real neighbourhoods (서울 마포구 망원동 and 대구 수성구 범어동, at the centres ``dongnae_kr``
gives them), shops placed at known distances from those centres with real opening hours, a
few shops "a bit farther" (2.5 km: beyond a child's 2 km walk, within a teen's 3 km), and
cheap, early-opening bakeries and 24-hour shops 55–200 km away in 이천 — the shops that issue 14
saw recommended to a child in 대구. Children and teens with cards, coupons, homes written the
ways real addresses are written, one child known only by her orders, one child nobody knows.

The world is data, so a test can compute the truth independently of the service: the distance
from a home, whether a shop is open at a minute, which menus carry a tag.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Engine, text

MANGWON = (37.55548877, 126.8998605)  # 서울특별시 마포구 망원동 (dongnae_kr centre)
BEOMEO = (35.85784633, 128.6312958)  # 대구광역시 수성구 범어동
ICHEON = (37.27424658, 127.4407303)  # 경기도 이천시 중리동


def offset(origin: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    lat = origin[0] + north_m / 111_195.0
    lon = origin[1] + east_m / (111_195.0 * math.cos(math.radians(origin[0])))
    return round(lat, 6), round(lon, 6)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class Shop:
    id: int
    name: str
    category: str
    address: str
    at: tuple[float, float]
    open: str
    close: str
    card: str = "Y"
    brk: tuple[str, str] | None = None

    def minutes(self) -> tuple[int, int]:
        o, c = (int(x[:2]) * 60 + int(x[3:]) for x in (self.open, self.close))
        return o, c

    def open_at(self, minute: int) -> bool:
        o, c = self.minutes()
        if self.brk and _hm(self.brk[0]) <= minute < _hm(self.brk[1]):
            return False
        if c > o:
            return o <= minute < c
        return minute >= o or minute < c  # overnight, or 24 h when equal

    def opens_within(self, minute: int, window: int) -> int | None:
        """Minutes until it next opens, if within ``window``; 0 when open."""
        for k in range(window + 1):
            if self.open_at((minute + k) % 1440):
                return k
        return None


def _hm(s: str) -> int:
    return int(s[:2]) * 60 + int(s[3:])


@dataclass(frozen=True)
class Menu:
    id: int
    shop_id: int
    name: str
    price: int
    role: str = "메인메뉴"
    tags: tuple[str, ...] = ()


M, D = MANGWON, BEOMEO
SHOPS: tuple[Shop, ...] = (
    # around 망원동
    Shop(201, "망원 24시 김밥", "분식", "서울특별시 마포구 망원동 401", offset(M, 300, 0), "00:00", "00:00"),
    Shop(202, "아침빵 베이커리", "베이커리", "서울특별시 마포구 망원동 12", offset(M, 0, 400), "07:00", "21:00"),
    Shop(203, "골목 분식", "분식", "서울특별시 마포구 망원동 77", offset(M, -600, 0), "10:00", "20:00"),
    Shop(204, "바삭 치킨", "치킨", "서울특별시 마포구 망원동 230", offset(M, 0, 800), "12:00", "00:00"),
    Shop(205, "든든 돈까스", "일식", "서울특별시 마포구 망원동 310", offset(M, 900, 0), "11:00", "21:00"),
    Shop(206, "별빛 중화", "중식", "서울특별시 마포구 합정동 99", offset(M, -700, 700), "11:00", "21:30",
         brk=("15:00", "17:00")),
    Shop(207, "언제나 국밥", "한식", "서울특별시 마포구 망원동 55", offset(M, 0, -500), "00:00", "00:00"),
    Shop(208, "달콤 카페", "카페·디저트", "서울특별시 마포구 망원동 88", offset(M, -350, 0), "10:00", "22:00", card="N"),
    Shop(209, "모두의 피자", "피자", "서울특별시 마포구 망원동 190", offset(M, 1200, 0), "11:00", "22:00"),
    Shop(210, "새벽 도시락", "도시락·죽", "서울특별시 마포구 망원동 150", offset(M, 0, -700), "06:00", "23:00"),
    # a bit farther from 망원동 (2.5 km: a teen's walk, not a child's)
    Shop(211, "연희 치킨", "치킨", "서울특별시 서대문구 연희동 40", offset(M, 2500, 0), "10:00", "23:00"),
    Shop(212, "성산 돈까스", "일식", "서울특별시 마포구 성산동 10", offset(M, 0, 2600), "09:00", "21:00"),
    # 이천: far from everyone, open early and cheap
    Shop(221, "오븐제과 이천점", "베이커리", "경기도 이천시 중리동 10", offset(ICHEON, 0, 0), "07:00", "22:00"),
    Shop(222, "따끈빵집 이천점", "베이커리", "경기도 이천시 중리동 20", offset(ICHEON, 100, 0), "06:00", "22:00"),
    Shop(223, "이천 24시 치킨", "치킨", "경기도 이천시 중리동 30", offset(ICHEON, 0, 150), "00:00", "00:00"),
    Shop(224, "이천 아침 김밥", "분식", "경기도 이천시 중리동 40", offset(ICHEON, -100, 0), "06:00", "22:00"),
    Shop(225, "이천 쌀국수", "아시안", "경기도 이천시 중리동 50", offset(ICHEON, 0, -150), "10:00", "22:00"),
    # around 범어동
    Shop(231, "범어 김밥", "분식", "대구광역시 수성구 범어동 101", offset(D, 300, 0), "08:00", "22:00"),
    Shop(232, "범어 바삭치킨", "치킨", "대구광역시 수성구 범어동 202", offset(D, 0, 600), "11:00", "23:00"),
    Shop(233, "수성 돈까스", "일식", "대구광역시 수성구 범어동 303", offset(D, -800, 0), "11:30", "21:00"),
    Shop(234, "범어 베이커리", "베이커리", "대구광역시 수성구 범어동 404", offset(D, 0, -400), "07:30", "21:00"),
    Shop(235, "범어 국밥", "한식", "대구광역시 수성구 범어동 505", offset(D, 700, 0), "06:00", "22:00"),
    Shop(236, "수성 중화", "중식", "대구광역시 수성구 범어동 606", offset(D, 0, 1500), "11:00", "21:00"),
)

MENUS: tuple[Menu, ...] = (
    Menu(2001, 201, "김밥", 2500), Menu(2002, 201, "라면", 3500, tags=("spicy",)),
    Menu(2003, 201, "떡볶이", 4000, tags=("spicy",)), Menu(2004, 201, "우동", 4500),
    Menu(2005, 201, "어묵", 1500, "사이드메뉴"), Menu(2006, 201, "사이다", 1000, "음료"),
    Menu(2011, 202, "크루아상", 3000), Menu(2012, 202, "소금빵", 2000),
    Menu(2013, 202, "햄치즈 샌드위치", 4500, tags=("pork", "dairy")), Menu(2014, 202, "우유", 1200, "음료"),
    Menu(2021, 203, "떡볶이", 3500, tags=("spicy",)), Menu(2022, 203, "로제떡볶이", 7500, tags=("dairy",)),
    Menu(2023, 203, "김밥", 3000), Menu(2024, 203, "순대", 4000, "사이드메뉴", ("pork",)),
    Menu(2025, 203, "짜장떡볶이", 5000),
    Menu(2031, 204, "순살치킨", 16000), Menu(2032, 204, "치킨마요덮밥", 6000),
    Menu(2033, 204, "치킨너겟", 4000, "사이드메뉴"),
    Menu(2041, 205, "등심돈까스", 8000, tags=("pork",)), Menu(2042, 205, "치즈돈까스", 9500, tags=("pork", "dairy")),
    Menu(2043, 205, "미니돈까스", 5500, tags=("pork",)),
    Menu(2051, 206, "짜장면", 6000, tags=("pork",)), Menu(2052, 206, "짬뽕", 7000, tags=("spicy", "seafood")),
    Menu(2053, 206, "볶음밥", 6500),
    Menu(2061, 207, "콩나물국밥", 6000), Menu(2062, 207, "순대국밥", 8000, tags=("pork",)),
    Menu(2071, 208, "아이스티", 3000, "음료"), Menu(2072, 208, "조각케이크", 5000, "디저트", ("dairy",)),
    Menu(2081, 209, "조각 피자", 3000, tags=("dairy",)), Menu(2082, 209, "피자 라지", 18000, tags=("dairy",)),
    Menu(2091, 210, "치킨마요 도시락", 4800), Menu(2092, 210, "야채죽", 5500),
    Menu(2093, 210, "제육 도시락", 5900, tags=("spicy", "pork")),
    Menu(2101, 211, "반반치킨", 17000), Menu(2102, 211, "치킨버거", 4500),
    Menu(2111, 212, "돈까스", 7000, tags=("pork",)),
    Menu(2201, 221, "크루아상", 3000), Menu(2202, 221, "베이글", 2500),
    Menu(2211, 222, "크루아상", 2800), Menu(2212, 222, "소보로빵", 2000),
    Menu(2221, 223, "순살치킨", 15000), Menu(2222, 223, "치킨너겟", 3000, "사이드메뉴"),
    Menu(2223, 223, "치킨마요덮밥", 5000),
    Menu(2231, 224, "김밥", 2000), Menu(2232, 224, "떡볶이", 3000, tags=("spicy",)),
    Menu(2241, 225, "쌀국수", 7000),
    Menu(2301, 231, "김밥", 3000), Menu(2302, 231, "참치김밥", 4000), Menu(2303, 231, "라면", 4000, tags=("spicy",)),
    Menu(2304, 231, "떡볶이", 4500, tags=("spicy",)), Menu(2305, 231, "로제떡볶이", 7500, tags=("dairy",)),
    Menu(2311, 232, "후라이드치킨", 16000), Menu(2312, 232, "치킨마요덮밥", 5500),
    Menu(2313, 232, "치킨너겟", 4000, "사이드메뉴"),
    Menu(2321, 233, "등심돈까스", 7500, tags=("pork",)), Menu(2322, 233, "치즈돈까스", 8500, tags=("pork", "dairy")),
    Menu(2331, 234, "크루아상", 3200), Menu(2332, 234, "에그 샌드위치", 5000, tags=("dairy",)),
    Menu(2341, 235, "돼지국밥", 7000, tags=("pork",)), Menu(2342, 235, "콩나물국밥", 5000),
    Menu(2351, 236, "짜장면", 6000, tags=("pork",)), Menu(2352, 236, "짬뽕", 7500, tags=("spicy", "seafood")),
)

SHOP_BY_ID = {s.id: s for s in SHOPS}
MENU_BY_ID = {m.id: m for m in MENUS}


@dataclass(frozen=True)
class User:
    id: int
    name: str
    birthday: date
    address: str | None
    balance: int | None  # None: no meal card
    coupons: tuple[str, ...] = ()
    home: tuple[float, float] | None = None  # the truth the service must find on its own
    orders: tuple[int, ...] = ()  # menu ids
    eligible: bool = True

    @property
    def age(self) -> int:
        return 2026 - self.birthday.year - ((11, 10) < (self.birthday.month, self.birthday.day))

    @property
    def walk_m(self) -> float:
        return 2000.0 if self.age <= 12 else 3000.0 if self.age <= 18 else 4000.0


USERS: dict[int, User] = {u.id: u for u in (
    User(1, "김범어", date(2015, 4, 1), "대구광역시 수성구 범어동", 27560, home=BEOMEO),
    User(2, "이망원", date(2014, 6, 10), "서울특별시 마포구 망원동", 20000, ("BUNSIK1000", "FOOD10"), home=MANGWON),
    User(3, "박청소", date(2011, 2, 20), "서울 마포구 망원동 123-4", 15000, ("WELCOME3000",), home=MANGWON),
    User(4, "최월말", date(2015, 9, 9), "서울특별시 마포구 망원동", 2000, home=MANGWON),
    User(5, "정주문", date(2014, 1, 15), None, 10000, orders=(2001, 2023, 2061, 2001, 2091), home=None),
    User(6, "한모름", date(2011, 5, 5), None, None),
    User(7, "윤범어", date(2010, 12, 1), "대구 수성구 범어동 77", 8000, home=BEOMEO),
    User(8, "강잔액", date(2014, 8, 8), "서울특별시 마포구 망원동", 3000, home=MANGWON),
)}
# 정주문's home is where she orders: the centroid of her orders' shops
_order_shops = [SHOP_BY_ID[MENU_BY_ID[m].shop_id].at for m in USERS[5].orders]
ORDERS_CENTROID = (sum(p[0] for p in _order_shops) / len(_order_shops), sum(p[1] for p in _order_shops) / len(_order_shops))

COUPONS = [
    dict(id="BUNSIK1000", coupon_name="분식 천원 할인", discount_amount=1000, discount_rate=None, min_order_amount=4000,
         usage_type="CATEGORY", target_categories=["분식"], applicable_shops=None),
    dict(id="FOOD10", coupon_name="급식카드 10% 할인", discount_amount=None, discount_rate=0.10, min_order_amount=5000,
         usage_type="FOODCARD", target_categories=None, applicable_shops=None),
    dict(id="WELCOME3000", coupon_name="신규 가입 3천원 할인", discount_amount=3000, discount_rate=None,
         min_order_amount=6000, usage_type="ALL", target_categories=None, applicable_shops=None),
]


def seed(engine: Engine, card_key: str, now: datetime | None = None) -> None:
    from infra.pii import card_last4, card_number_hash

    now = now or datetime.now(timezone.utc)
    with engine.begin() as conn:
        for s in SHOPS:
            conn.execute(text("""
                INSERT INTO shops (id, shop_name, category, address_name, is_good_influence_shop, is_food_card_shop,
                    open_hour, close_hour, break_start_hour, break_end_hour, owner_message, latitude, longitude,
                    current_status, popularity_score, quality_score)
                VALUES (:id, :n, :c, :a, false, :card, :o, :cl, :bs, :be, :msg, :lat, :lon, 'OPEN', 0.5, 0.6)"""),
                dict(id=s.id, n=s.name, c=s.category, a=s.address, card=s.card, o=s.open, cl=s.close,
                     bs=s.brk[0] if s.brk else None, be=s.brk[1] if s.brk else None, msg=f"{s.name}입니다",
                     lat=s.at[0], lon=s.at[1]))
        for m in MENUS:
            conn.execute(text("""INSERT INTO menus (id, shop_id, menu_name, price, description, category, dietary_tags)
                                 VALUES (:id, :s, :n, :p, :d, :c, CAST(:t AS jsonb))"""),
                         dict(id=m.id, s=m.shop_id, n=m.name, p=m.price, d=m.name, c=m.role, t=json.dumps(list(m.tags))))
        for u in USERS.values():
            conn.execute(text("INSERT INTO users (id, name, nickname, birthday, current_address) "
                              "VALUES (:i, :n, :n, :b, :a)"), dict(i=u.id, n=u.name, b=u.birthday, a=u.address))
            if u.balance is not None:
                number = f"9410-2222-3333-{4000 + u.id}"
                conn.execute(text("""INSERT INTO foodcard_users (user_id, card_number_hash, card_last4, balance, status,
                                        target_age_group, emergency_coupon_eligible)
                                     VALUES (:u, :h, :l, :b, 'ACTIVE', :g, :e)"""),
                             dict(u=u.id, h=card_number_hash(number, card_key), l=card_last4(number), b=u.balance,
                                  g="초등학생" if u.age <= 12 else "중고등학생", e=u.eligible))
            for i, menu_id in enumerate(u.orders):
                conn.execute(text("INSERT INTO product_orders (user_id, product_id, created_at, quantity, price) "
                                  "VALUES (:u, :m, :t, 1, :p)"),
                             dict(u=u.id, m=menu_id, t=now - timedelta(days=20 - i), p=MENU_BY_ID[menu_id].price))
        start, until = now.date() - timedelta(days=60), now.date() + timedelta(days=400)
        for c in COUPONS:
            conn.execute(text("""INSERT INTO coupons (id, coupon_name, discount_amount, discount_rate, min_order_amount,
                                   usage_type, target_categories, applicable_shops, valid_from, valid_until, is_active)
                                 VALUES (:id, :coupon_name, :discount_amount, :discount_rate, :min_order_amount,
                                   :usage_type, CAST(:tc AS jsonb), CAST(:ap AS jsonb), :vf, :vu, true)"""),
                         dict(c, tc=json.dumps(c["target_categories"], ensure_ascii=False) if c["target_categories"] else None,
                              ap=json.dumps(c["applicable_shops"]) if c["applicable_shops"] else None, vf=start, vu=until))
        for u in USERS.values():
            for cid in u.coupons:
                conn.execute(text("""INSERT INTO user_coupon_wallet (user_id, coupon_id, acquired_date, expiry_date,
                                       status, acquisition_source) VALUES (:u, :c, :a, :e, 'ACTIVE', 'welcome_bonus')"""),
                             dict(u=u.id, c=cid, a=now - timedelta(days=400), e=now + timedelta(days=400)))
        conn.execute(text("SELECT setval(pg_get_serial_sequence('menus', 'id'), 9000)"))
