"""An order placed through the chat app (``/feedback`` action ``order``): one ``product_orders`` row
and the meal-card payment, in one transaction.

The child pays ``amount`` (the final price after any coupon). At a shop that takes the card (``Y``
or ``P``) an ACTIVE card pays it, never below zero (the card refuses a payment it cannot cover: the
row is still the order, paid otherwise). ``is_reorder`` / ``time_since_last_order`` follow the spec's
meaning (the same menu before; minutes since the user's previous order), ``order_context`` says
whether the shop was new to the child (``exploration``) or not (``regular``). A replay of the same
order (same user, menu and time) inserts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text

RECORD_ORDER_SQL = text("""
    WITH menu AS (
        SELECT m.id, s.is_food_card_shop IN ('Y', 'P') AS takes_card
        FROM menus m JOIN shops s ON s.id = m.shop_id
        WHERE m.id = :menu_id AND m.shop_id = :shop_id
    ), prev AS (
        SELECT max(o.created_at) AS last_at,
               bool_or(o.product_id = :menu_id) AS same_menu,
               bool_or(m2.shop_id = :shop_id) AS same_shop
        FROM product_orders o LEFT JOIN menus m2 ON m2.id = o.product_id
        WHERE o.user_id = :user_id AND o.created_at < :at
    ), ins AS (
        INSERT INTO product_orders (user_id, product_id, created_at, quantity, price, is_reorder,
                                    time_since_last_order, order_context)
        SELECT :user_id, menu.id, :at, 1, :amount, coalesce(prev.same_menu, false),
               CASE WHEN prev.last_at IS NULL THEN NULL
                    ELSE floor(extract(epoch FROM (CAST(:at AS timestamptz) - prev.last_at)) / 60)::int END,
               CASE WHEN coalesce(prev.same_shop, false) THEN 'regular' ELSE 'exploration' END
        FROM menu, prev
        WHERE NOT EXISTS (SELECT 1 FROM product_orders d
                          WHERE d.user_id = :user_id AND d.product_id = :menu_id AND d.created_at = :at)
        RETURNING id
    )
    UPDATE foodcard_users f SET balance = f.balance - :amount
    FROM menu
    WHERE f.user_id = :user_id AND f.status = 'ACTIVE' AND menu.takes_card AND f.balance >= :amount
      AND EXISTS (SELECT 1 FROM ins)
      AND f.id = (SELECT id FROM foodcard_users WHERE user_id = :user_id AND status = 'ACTIVE' ORDER BY id LIMIT 1)
    RETURNING f.balance
""")
ORDER_EXISTS_SQL = text("""
    SELECT 1 FROM product_orders WHERE user_id = :user_id AND product_id = :menu_id AND created_at = :at
""")


@dataclass(frozen=True)
class OrderResult:
    recorded: bool  # False: ``menu_id`` is not a menu of ``shop_id`` (nothing was written)
    card_balance_before: int | None  # the card's balance before it paid; None when the card did not pay


def record_order(engine: Engine, *, user_id: int, shop_id: int, menu_id: int, amount: int,
                 at: datetime) -> OrderResult:
    """Insert the order and pay it with the card where the card applies."""
    with engine.begin() as conn:
        after = conn.execute(RECORD_ORDER_SQL, {"user_id": user_id, "shop_id": shop_id, "menu_id": menu_id,
                                                "amount": int(amount), "at": at}).scalar()
        recorded = conn.execute(ORDER_EXISTS_SQL, {"user_id": user_id, "menu_id": menu_id, "at": at}).first()
    return OrderResult(recorded is not None, None if after is None else int(after) + int(amount))
