"""The child's coupon wallet (user_coupon_wallet ⨝ coupons): which coupon applies, which saves most,
what the meal costs after it; and the three wallet writes (use, emergency issue, catalogue entry).

Rules (spec §4):

* a wallet copy is usable when its status is ACTIVE and it has not expired, and its coupon is
  active and inside ``valid_from``..``valid_until``;
* ``min_order_amount`` ≤ the menu price;
* ``usage_type``: ALL → any shop; SHOP → ``applicable_shops`` holds the shop; CATEGORY →
  ``target_categories`` holds the shop's category; FOODCARD → the child has an active meal card and
  the shop takes it;
* one coupon per order: coupons never stack, so each recommendation carries at most one;
* a fixed discount is capped at the price; a rate is rounded down to 10 won (the final price is
  never under-stated, so "you can pay this" stays true).

Reads: ``WALLET_SQL`` (joined with the card in ``serving.adapters.ACCOUNT_SQL``, one round trip).
Writes are single SQL statements whose WHERE clause is the rule, so concurrency is decided by
PostgreSQL row locks: two concurrent uses of one copy → exactly one UPDATE finds it ACTIVE.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, text

from infra.settings import get_settings

EMERGENCY_COUPON_ID = "EMERGENCY_ASSIST"
EMERGENCY_SOURCE = "emergency_assist"
EMERGENCY_DISCOUNT_WON = 4000
EMERGENCY_LIFETIME_DAYS = 7

USAGE_TYPES = ("ALL", "SHOP", "CATEGORY", "FOODCARD")


@dataclass(frozen=True)
class WalletCoupon:
    """One ACTIVE wallet copy joined with its coupon."""

    coupon_id: str
    name: str
    usage_type: str
    discount_amount: int | None = None
    discount_rate: float | None = None
    min_order_amount: int = 0
    target_categories: tuple[str, ...] = ()
    applicable_shops: tuple[int, ...] = ()
    valid_from: date | None = None
    valid_until: date | None = None
    is_active: bool = True
    expiry: datetime | None = None
    status: str = "ACTIVE"
    priority_score: float = 0.0
    wallet_id: int | None = None
    acquisition_source: str | None = None

    def discount(self, price: int) -> int:
        return discount_for(self, price)


@dataclass(frozen=True)
class AppliedCoupon:
    coupon: WalletCoupon
    discount: int
    final_price: int


@dataclass(frozen=True)
class Order:
    """What a coupon is checked against: one menu at one shop, now."""

    shop_id: int
    category: str
    price: int
    shop_takes_card: bool
    has_active_card: bool
    now: datetime
    applicable_reasons: dict[str, Any] = field(default_factory=dict)


def discount_for(coupon: WalletCoupon, price: int) -> int:
    if price <= 0:
        return 0
    if coupon.discount_amount is not None:
        return max(0, min(int(coupon.discount_amount), price))
    if coupon.discount_rate is not None:
        return max(0, min(price, int(price * float(coupon.discount_rate)) // 10 * 10))
    return 0


def is_live(coupon: WalletCoupon, now: datetime) -> bool:
    """ACTIVE, not expired, coupon active and inside its validity dates."""
    if coupon.status != "ACTIVE" or not coupon.is_active:
        return False
    if coupon.expiry is not None and _aware_compare(coupon.expiry, now) <= 0:
        return False
    today = now.date()
    if coupon.valid_from is not None and today < coupon.valid_from:
        return False
    if coupon.valid_until is not None and today > coupon.valid_until:
        return False
    return True


def _aware_compare(a: datetime, b: datetime) -> float:
    if (a.tzinfo is None) != (b.tzinfo is None):
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return (a - b).total_seconds()


def applies(coupon: WalletCoupon, order: Order) -> bool:
    if not is_live(coupon, order.now):
        return False
    if order.price < (coupon.min_order_amount or 0):
        return False
    kind = coupon.usage_type
    if kind == "ALL":
        return True
    if kind == "SHOP":
        return order.shop_id in coupon.applicable_shops
    if kind == "CATEGORY":
        return order.category in coupon.target_categories
    if kind == "FOODCARD":
        return order.has_active_card and order.shop_takes_card
    return False  # an unknown usage type never applies


def best_coupon(coupons: Iterable[WalletCoupon], order: Order) -> AppliedCoupon | None:
    """The one coupon that saves most on this order (ties: higher priority, then sooner expiry).

    Coupons never stack, so this is also the final choice for the order."""
    best: tuple[tuple, AppliedCoupon] | None = None
    for c in coupons:
        if not applies(c, order):
            continue
        d = discount_for(c, order.price)
        if d <= 0:
            continue
        expiry_ts = c.expiry.timestamp() if c.expiry is not None else float("inf")
        key = (d, c.priority_score or 0.0, -expiry_ts, c.coupon_id)
        if best is None or key > best[0]:
            best = (key, AppliedCoupon(c, d, order.price - d))
    return best[1] if best else None


def max_discount(coupons: Iterable[WalletCoupon], now: datetime, price_ceiling: int) -> int:
    """The largest discount any live coupon could give on a menu up to ``price_ceiling`` won:
    how far above the budget retrieval must look so a coupon can bring a menu within it."""
    best = 0
    for c in coupons:
        if not is_live(c, now):
            continue
        if c.discount_amount is not None:
            best = max(best, int(c.discount_amount))
        elif c.discount_rate is not None and float(c.discount_rate) < 1:
            # price p with p - p*r <= ceiling → p <= ceiling / (1 - r)
            best = max(best, int(price_ceiling / (1 - float(c.discount_rate))) - price_ceiling)
    return best


def live_coupons(coupons: Iterable[WalletCoupon], now: datetime) -> list[WalletCoupon]:
    return [c for c in coupons if is_live(c, now)]


# ---- rows ↔ values -----------------------------------------------------------------------------

def _json_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return list(value) if isinstance(value, (list, tuple)) else []


def coupon_from_row(row: Mapping[str, Any]) -> WalletCoupon:
    return WalletCoupon(
        coupon_id=str(row["coupon_id"]),
        name=str(row.get("coupon_name") or row["coupon_id"]),
        usage_type=str(row.get("usage_type") or "ALL"),
        discount_amount=int(row["discount_amount"]) if row.get("discount_amount") is not None else None,
        discount_rate=float(row["discount_rate"]) if row.get("discount_rate") is not None else None,
        min_order_amount=int(row.get("min_order_amount") or 0),
        target_categories=tuple(str(c) for c in _json_list(row.get("target_categories"))),
        applicable_shops=tuple(int(s) for s in _json_list(row.get("applicable_shops")) if str(s).lstrip("-").isdigit()),
        valid_from=row.get("valid_from"),
        valid_until=row.get("valid_until"),
        is_active=bool(row.get("is_active", True)),
        expiry=row.get("expiry_date"),
        status=str(row.get("status") or "ACTIVE"),
        priority_score=float(row.get("priority_score") or 0.0),
        wallet_id=int(row["wallet_id"]) if row.get("wallet_id") is not None else None,
        acquisition_source=row.get("acquisition_source"),
    )


# ---- SQL ---------------------------------------------------------------------------------------
# Every statement takes the request's time as parameters (``clock_params``), never the database's
# now()/current_date: a simulated day (serving.clock) must see, use and issue coupons as of its own time.

def clock_params(now: datetime) -> dict[str, Any]:
    """``:now`` (aware) and ``:today`` (its date in the service's time zone: coupon dates are local)."""
    if now.tzinfo is None:
        raise ValueError("the request's clock must carry a time zone")
    return {"now": now, "today": now.astimezone(get_settings().tz).date()}


WALLET_SQL = text("""
    SELECT w.id AS wallet_id, w.coupon_id, w.status, w.expiry_date, w.acquisition_source,
           c.coupon_name, c.usage_type, c.discount_amount, c.discount_rate, c.min_order_amount,
           c.target_categories, c.applicable_shops, c.valid_from, c.valid_until, c.is_active,
           c.priority_score
    FROM user_coupon_wallet w JOIN coupons c ON c.id = w.coupon_id
    WHERE w.user_id = :user_id AND w.status = 'ACTIVE'
      AND (w.expiry_date IS NULL OR w.expiry_date > CAST(:now AS timestamptz))
    ORDER BY w.expiry_date NULLS LAST, w.id
""")

# the rules of ``applies`` again, in the WHERE clause, so that checking and using are one atomic step
# (a shop_id names the order's shop; `@>` on a jsonb array with a scalar tests membership)
USE_COUPON_SQL = text("""
    UPDATE user_coupon_wallet w
    SET status = 'USED', usage_date = CAST(:now AS timestamptz), used_shop_id = :shop_id, used_menu_id = :menu_id,
        used_order_amount = :order_amount, discount_applied = :discount
    FROM coupons c
    WHERE w.user_id = :user_id AND w.coupon_id = :coupon_id AND w.status = 'ACTIVE'
      AND (w.expiry_date IS NULL OR w.expiry_date > CAST(:now AS timestamptz))
      AND c.id = w.coupon_id AND c.is_active
      AND (c.valid_from IS NULL OR c.valid_from <= CAST(:today AS date))
      AND (c.valid_until IS NULL OR c.valid_until >= CAST(:today AS date))
      AND (CAST(:order_amount AS integer) IS NULL OR CAST(:order_amount AS integer) >= COALESCE(c.min_order_amount, 0))
      AND CASE c.usage_type
            WHEN 'ALL' THEN true
            WHEN 'SHOP' THEN COALESCE(c.applicable_shops @> to_jsonb(CAST(:shop_id AS integer))
                                      OR c.applicable_shops @> to_jsonb(CAST(:shop_id AS text)), false)
            WHEN 'CATEGORY' THEN EXISTS (SELECT 1 FROM shops s WHERE s.id = :shop_id
                                         AND c.target_categories @> to_jsonb(s.category))
            WHEN 'FOODCARD' THEN EXISTS (SELECT 1 FROM shops s WHERE s.id = :shop_id AND s.is_food_card_shop IN ('Y', 'P'))
                             AND EXISTS (SELECT 1 FROM foodcard_users f WHERE f.user_id = w.user_id AND f.status = 'ACTIVE')
            ELSE false
          END
    RETURNING w.id
""")

#: how long a coupon use waits for a concurrent use of the same copy (or the coupon's counter row)
COUPON_LOCK_WAIT = "200ms"

COUNT_USE_SQL = text("UPDATE coupons SET total_used = total_used + 1 WHERE id = :coupon_id")

ISSUE_EMERGENCY_SQL = text("""
    WITH flag AS (
        UPDATE foodcard_users SET emergency_coupon_eligible = false
        WHERE user_id = :user_id AND emergency_coupon_eligible AND status = 'ACTIVE'
        RETURNING user_id
    )
    INSERT INTO user_coupon_wallet (user_id, coupon_id, acquired_date, expiry_date, status,
                                    acquisition_source, acquisition_context)
    SELECT DISTINCT user_id, :coupon_id, CAST(:now AS timestamptz),
           CAST(:now AS timestamptz) + make_interval(days => :days), 'ACTIVE',
           :source, CAST(:context AS jsonb)
    FROM flag
    ON CONFLICT (user_id, coupon_id) WHERE status = 'ACTIVE' DO NOTHING
    RETURNING id
""")

COUNT_ISSUE_SQL = text("UPDATE coupons SET total_issued = total_issued + 1 WHERE id = :coupon_id")

ENSURE_EMERGENCY_COUPON_SQL = text("""
    INSERT INTO coupons (id, coupon_name, description, discount_amount, discount_rate, min_order_amount,
                         usage_type, is_active, priority_score)
    VALUES (:coupon_id, '월말 긴급 지원 쿠폰',
            '급식카드 잔액이 부족한 월말, 한 끼를 위해 나비얌이 지원해요', :amount, NULL, 0,
            'FOODCARD', true, 1.0)
    ON CONFLICT (id) DO NOTHING
""")


def use_coupon(engine: Engine, *, user_id: int, coupon_id: str, shop_id: int | None, menu_id: int | None,
               order_amount: int | None, discount: int | None, now: datetime) -> int | None:
    """Mark the user's ACTIVE copy of ``coupon_id`` USED; returns its wallet id, or None when no
    ACTIVE copy exists (already used, expired, never held) or the coupon does not apply to this
    order (inactive, outside its dates, under its minimum, another shop or category, a shop
    without the card). Atomic: of two concurrent calls on one copy exactly one gets the id; the
    other waits at most ``COUPON_LOCK_WAIT`` for the first and then gets None (it was in use), so
    a busy row never holds a request past the service's database deadline."""
    from psycopg.errors import LockNotAvailable
    from sqlalchemy.exc import OperationalError

    try:
        with engine.begin() as conn:
            conn.execute(text(f"SET LOCAL lock_timeout = '{COUPON_LOCK_WAIT}'"))
            row = conn.execute(USE_COUPON_SQL, {
                "user_id": user_id, "coupon_id": coupon_id, "shop_id": shop_id, "menu_id": menu_id,
                "order_amount": order_amount, "discount": discount, **clock_params(now),
            }).first()
            if row is None:
                return None
            try:
                with conn.begin_nested():  # every use of this coupon updates this one row: never wait long
                    conn.execute(COUNT_USE_SQL, {"coupon_id": coupon_id})
            except OperationalError as exc:
                if not isinstance(exc.orig, LockNotAvailable):
                    raise
                # the use stands; the warehouse recounts total_used from the wallet and writes it back
            return int(row[0])
    except OperationalError as exc:
        if isinstance(exc.orig, LockNotAvailable):  # another use of this copy is under way
            return None
        raise


def ensure_emergency_coupon(engine: Engine) -> None:
    """The EMERGENCY_ASSIST catalogue entry the wallet rows reference (idempotent)."""
    with engine.begin() as conn:
        conn.execute(ENSURE_EMERGENCY_COUPON_SQL, {"coupon_id": EMERGENCY_COUPON_ID, "amount": EMERGENCY_DISCOUNT_WON})


def issue_emergency_coupon(engine: Engine, *, user_id: int, now: datetime,
                           context: Mapping[str, Any] | None = None) -> int | None:
    """Issue EMERGENCY_ASSIST and clear ``foodcard_users.emergency_coupon_eligible`` in one
    transaction; returns the new wallet id, or None when the user was not (or no longer) eligible.
    The flag flip is the lock: two concurrent calls issue exactly one coupon."""
    with engine.begin() as conn:
        row = conn.execute(ISSUE_EMERGENCY_SQL, {
            "user_id": user_id, "coupon_id": EMERGENCY_COUPON_ID, "days": EMERGENCY_LIFETIME_DAYS,
            "source": EMERGENCY_SOURCE, "context": json.dumps(dict(context or {}), ensure_ascii=False, default=str),
            **clock_params(now)}).first()
        if row is None:
            return None
        conn.execute(COUNT_ISSUE_SQL, {"coupon_id": EMERGENCY_COUPON_ID})
        return int(row[0])


def summarize(coupons: Sequence[WalletCoupon]) -> list[dict[str, Any]]:
    """The wallet as the answer shows it (no internal ids)."""
    out = []
    for c in coupons:
        out.append({
            "coupon_id": c.coupon_id, "name": c.name, "usage_type": c.usage_type,
            "discount_amount": c.discount_amount, "discount_rate": c.discount_rate,
            "min_order_amount": c.min_order_amount,
            "expires": c.expiry.isoformat() if c.expiry is not None else None,
        })
    return out
