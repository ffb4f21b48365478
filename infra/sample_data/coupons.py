"""The coupon catalogue and each user's wallet.

Coupons are issued by events the simulation meets in time order (sign-up, birthday,
promotions, every 10th order, a meal-card balance running out near month end) and redeemed
on later orders when they apply. The spec's ``UNIQUE (user_id, coupon_id, status)`` is kept:
a user holds at most one live copy of a coupon, uses a given coupon id at most once, and an
unused copy whose final status would repeat one already on record is dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .columns import EMERGENCY_COUPON_ID


@dataclass(frozen=True, slots=True)
class Coupon:
    id: str
    name: str
    description: str
    amount: int | None
    rate: float | None
    min_order: int
    usage_type: str
    categories: tuple[str, ...] = ()
    shops: tuple[int, ...] = ()
    valid_from: date = date(2026, 1, 1)
    valid_until: date = date(2026, 12, 31)
    lifetime_days: int = 30  # how long an issued copy stays usable

    def discount(self, amount: int) -> int:
        if self.amount is not None:
            return min(self.amount, amount)
        return int(round(amount * float(self.rate or 0.0) / 10.0) * 10)

    def applies(self, *, when: datetime, category: str, shop_id: int, takes_card: bool,
                amount: int, foodcard_user: bool) -> bool:
        if amount < self.min_order or not (self.valid_from <= when.date() <= self.valid_until):
            return False
        if self.usage_type == "CATEGORY":
            return category in self.categories
        if self.usage_type == "SHOP":
            return shop_id in self.shops
        if self.usage_type == "FOODCARD":
            return foodcard_user and takes_card
        return True

    def row(self) -> list[Any]:
        return [
            self.id, self.name, self.description, self.amount, self.rate, self.min_order, self.usage_type,
            json.dumps(list(self.categories), ensure_ascii=False) if self.usage_type == "CATEGORY" else None,
            json.dumps(list(self.shops)) if self.usage_type == "SHOP" else None,
            self.valid_from, self.valid_until,
        ]


# Who receives promotional coupons: (coupon id, audience, share of that audience, campaign).
PROMOTIONS: tuple[tuple[str, str, float, str], ...] = (
    ("FOOD10", "foodcard", 0.30, "foodcard_monthly"),
    ("TEEN20", "teen", 0.25, "teen_weekend"),
    ("BUNSIK1000", "all", 0.20, "bunsik_week"),
    ("MEAL15", "all", 0.15, "homemade_meal"),
    ("CHICKEN2000", "all", 0.15, "friday_chicken"),
    ("MORNING1000", "all", 0.12, "breakfast_campaign"),
    ("GOODSHOP2000", "all", 0.15, "good_shop_week"),
    ("NEWSHOP1500", "all", 0.10, "new_shop_open"),
    ("SUMMER_BINGSU", "all", 0.15, "summer_2026"),
    ("EMERGENCY3000", "foodcard", 0.05, "welfare_center_referral"),
)


def coupon_catalogue(window_start: date, reference: date, good_shops: list[int],
                     new_shops: list[int]) -> dict[str, Coupon]:
    """All coupons, valid around the order window (``window_start``..``reference``)."""
    start = window_start - timedelta(days=31)
    until = reference + timedelta(days=62)
    summer = (date(reference.year, 7, 15), date(reference.year, 8, 31))
    if summer[0] > reference:
        summer = (date(reference.year - 1, 7, 15), date(reference.year - 1, 8, 31))
    items = [
        Coupon("WELCOME3000", "신규 가입 3천원 할인", "나비얌에 처음 오신 걸 환영해요! 첫 주문에 3,000원 할인",
               3000, None, 6000, "ALL", valid_from=start, valid_until=until),
        Coupon("FOOD10", "급식카드 10% 할인", "급식카드 가맹점에서 급식카드로 결제하면 10% 할인",
               None, 0.10, 5000, "FOODCARD", valid_from=start, valid_until=until),
        Coupon("TEEN20", "청소년 20% 할인", "청소년 회원 전용, 6,000원 이상 주문 시 20% 할인",
               None, 0.20, 6000, "ALL", valid_from=start, valid_until=until, lifetime_days=14),
        Coupon("BUNSIK1000", "분식 천원 할인", "떡볶이·김밥 등 분식 4,000원 이상 주문 시 1,000원 할인",
               1000, None, 4000, "CATEGORY", categories=("분식",), valid_from=start, valid_until=until),
        Coupon("MEAL15", "든든한 밥상 15% 할인", "한식·도시락 7,000원 이상 주문 시 15% 할인",
               None, 0.15, 7000, "CATEGORY", categories=("한식", "도시락·죽"), valid_from=start, valid_until=until),
        Coupon("CHICKEN2000", "치킨·피자 2천원 할인", "치킨, 피자 15,000원 이상 주문 시 2,000원 할인",
               2000, None, 15000, "CATEGORY", categories=("치킨", "피자"), valid_from=start, valid_until=until),
        Coupon("MORNING1000", "아침밥 천원 할인", "빵·죽·카페에서 아침을 챙겨 먹으면 1,000원 할인",
               1000, None, 3000, "CATEGORY", categories=("베이커리", "카페·디저트", "도시락·죽"),
               valid_from=start, valid_until=until),
        Coupon("GOODSHOP2000", "착한가게 응원 2천원", "착한가게에서 5,000원 이상 주문 시 2,000원 할인",
               2000, None, 5000, "SHOP", shops=tuple(good_shops), valid_from=start, valid_until=until),
        Coupon("NEWSHOP1500", "새로 연 가게 1,500원", "우리 동네 새 가게 오픈 기념 1,500원 할인",
               1500, None, 5000, "SHOP", shops=tuple(new_shops), valid_from=start, valid_until=until),
        Coupon("SUMMER_BINGSU", "여름 빙수 10% 할인", "무더운 여름, 카페·디저트 10% 할인",
               None, 0.10, 5000, "CATEGORY", categories=("카페·디저트",), valid_from=summer[0],
               valid_until=summer[1], lifetime_days=21),
        Coupon("LOYALTY5", "단골 감사 5% 할인", "주문 10회마다 드리는 단골 감사 쿠폰",
               None, 0.05, 5000, "ALL", valid_from=start, valid_until=until),
        Coupon("BIRTHDAY3000", "생일 축하 3천원", "생일 축하해요! 생일 주간에 쓰는 3,000원 할인",
               3000, None, 5000, "ALL", valid_from=start, valid_until=until, lifetime_days=14),
        Coupon("EMERGENCY3000", "긴급 식사 지원 3천원", "지역아동센터 추천으로 드리는 급식카드 가맹점 3,000원 지원",
               3000, None, 0, "FOODCARD", valid_from=start, valid_until=until, lifetime_days=60),
        Coupon(EMERGENCY_COUPON_ID, "월말 긴급 지원 쿠폰", "급식카드 잔액이 부족한 월말, 한 끼를 위해 나비얌이 4,000원을 지원해요",
               4000, None, 0, "FOODCARD", valid_from=start, valid_until=until, lifetime_days=7),
    ]
    return {c.id: c for c in items}


@dataclass
class WalletEntry:
    user_key: int
    coupon: Coupon
    acquired: datetime
    expiry: datetime
    source: str
    context: dict[str, Any]
    used_at: datetime | None = None
    used_shop: int | None = None
    used_menu: int | None = None
    order_amount: int | None = None
    discount: int | None = None

    def live(self, when: datetime) -> bool:
        return self.used_at is None and self.acquired <= when < self.expiry


@dataclass
class Wallet:
    """One user's coupons, kept in time order by the simulation."""

    user_key: int
    entries: list[WalletEntry] = field(default_factory=list)

    def issue(self, coupon: Coupon, when: datetime, source: str, context: dict[str, Any],
              expiry: datetime | None = None) -> WalletEntry | None:
        """Add a copy unless one is still live or this coupon was already used."""
        for e in self.entries:
            if e.coupon.id == coupon.id and (e.live(when) or e.used_at is not None):
                return None
        end = expiry or when + timedelta(days=coupon.lifetime_days)
        end = min(end, datetime.combine(coupon.valid_until, datetime.max.time()).replace(microsecond=0))
        if end <= when:
            return None
        entry = WalletEntry(self.user_key, coupon, when, end, source, context)
        self.entries.append(entry)
        return entry

    def best(self, when: datetime, **order: Any) -> WalletEntry | None:
        """The live coupon that saves most on this order, if any applies."""
        usable = [e for e in self.entries if e.live(when) and e.coupon.applies(when=when, **order)]
        return max(usable, key=lambda e: (e.coupon.discount(order["amount"]), -e.expiry.timestamp()), default=None)

    def redeem(self, entry: WalletEntry, when: datetime, shop_id: int, menu_id: int, amount: int) -> int:
        entry.used_at, entry.used_shop, entry.used_menu = when, shop_id, menu_id
        entry.order_amount, entry.discount = amount, entry.coupon.discount(amount)
        return entry.discount

    def final(self, reference: datetime) -> list[tuple[WalletEntry, str]]:
        """(entry, status) at the reference time, one row per (coupon, status) at most."""
        seen: set[tuple[str, str]] = set()
        out: list[tuple[WalletEntry, str]] = []
        for e in sorted(self.entries, key=lambda e: (e.used_at is None, e.acquired)):
            status = "USED" if e.used_at is not None else ("EXPIRED" if e.expiry <= reference else "ACTIVE")
            if (e.coupon.id, status) in seen:
                continue
            seen.add((e.coupon.id, status))
            out.append((e, status))
        return out
