"""The child's meal card (급식카드): balance, what it can pay, and the month-end low-balance rule.

Pure functions over a small ``MealCard`` value; the card number never enters this module (the
database keeps only a keyed hash and the last four digits, and the service never reads either).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

#: shops.is_food_card_shop values where the card pays ('P': some menus only)
CARD_SHOP_FLAGS: frozenset[str] = frozenset({"Y", "P"})

#: a balance below this counts as low (about one cheap meal)
LOW_BALANCE_WON = 5000
#: "near month end": this many last days of the month, today included
MONTH_END_DAYS = 7


@dataclass(frozen=True)
class MealCard:
    """What the service knows of a child's card: no number, no name."""

    user_id: int
    balance: int
    status: str = "ACTIVE"
    emergency_coupon_eligible: bool = True

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"


def shop_takes_card(flag: str | None) -> bool:
    return (flag or "U").upper() in CARD_SHOP_FLAGS


def spend_limit(budget: int | None, card: MealCard | None) -> int | None:
    """The most one meal may cost after coupons: the stated budget, capped by an active card's balance.

    None means no limit is known (no budget stated, no card). A child with an active card pays with
    it, so the balance is a hard ceiling even when the stated budget is higher.
    """
    limits = [b for b in (budget,) if b is not None and b > 0]
    if card is not None and card.active:
        limits.append(max(0, card.balance))
    return min(limits) if limits else None


def affordable(final_price: int, limit: int | None) -> bool:
    return limit is None or final_price <= limit


def days_left_in_month(today: date) -> int:
    """Days remaining after today (0 on the last day)."""
    return calendar.monthrange(today.year, today.month)[1] - today.day


def is_month_end(today: date, days: int = MONTH_END_DAYS) -> bool:
    return days_left_in_month(today) < days


def is_low_balance(balance: int, threshold: int = LOW_BALANCE_WON) -> bool:
    return balance < threshold


def needs_emergency_coupon(card: MealCard | None, today: date, *, threshold: int = LOW_BALANCE_WON,
                           days: int = MONTH_END_DAYS) -> bool:
    """The spec's emergency rule: an active, still-eligible card, low balance, near month end."""
    return (
        card is not None
        and card.active
        and card.emergency_coupon_eligible
        and is_low_balance(card.balance, threshold)
        and is_month_end(today, days)
    )


def balance_after(card: MealCard | None, final_price: int) -> int | None:
    if card is None or not card.active:
        return None
    return card.balance - final_price
