"""Retrieved menus priced for this child now: the best coupon in the wallet, the final price, whether
it fits the spend limit, whether the shop takes the card, how far it is from the search area, and
whether it is open (or when it opens). One menu per shop: the best-matching affordable one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from serving import coupon_wallet as cw
from serving import meal_card as mc
from serving.opening import hhmm, next_opening, open_at
from serving.ports import Candidate
from serving.search_area import SearchArea

MAX_SCORED_SHOPS = 20


@dataclass
class Priced:
    cand: Candidate
    coupon: cw.AppliedCoupon | None
    final_price: int
    affordable: bool
    takes_card: bool
    distance_m: float | None
    open_now: bool
    opens_in_min: int | None = None  # minutes until it opens, when it is closed now
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    contributions: dict[str, float] = field(default_factory=dict)
    model_features: dict[str, float] | None = None  # what the ranker computed, stored when present
    explored: bool = False  # shown by the exploration share, not by its score

    def opens_at(self, minute: int) -> str | None:
        """"HH:MM" it opens, when it is closed at ``minute`` and its hours are known."""
        if self.open_now or self.opens_in_min is None:
            return None
        return hhmm(minute + self.opens_in_min)


@dataclass(frozen=True)
class PriceContext:
    """What pricing needs from the turn."""

    coupons: list[Any]
    has_card: bool
    limit: int | None
    area: SearchArea
    minute: int
    now: datetime
    excluded_categories: tuple[str, ...] = ()
    shown_before: frozenset[int] = frozenset()


def price_one(c: Candidate, ctx: PriceContext, *, open_known: bool = True) -> Priced:
    takes = mc.shop_takes_card(c.food_card_flag)
    applied = cw.best_coupon(ctx.coupons, cw.Order(shop_id=c.shop_id, category=c.category, price=c.price,
                                                   shop_takes_card=takes, has_active_card=ctx.has_card, now=ctx.now))
    final = applied.final_price if applied else c.price
    hours = (c.open_min, c.close_min, c.break_start_min, c.break_end_min)
    is_open = open_at(ctx.minute, *hours)
    wait = next_opening(ctx.minute, *hours) if is_open is False else None
    return Priced(c, applied, final, mc.affordable(final, ctx.limit), takes, ctx.area.distance_m(c.lat, c.lon),
                  True if open_known and is_open is None else bool(is_open), opens_in_min=wait)


def price_candidates(candidates: list[Candidate], ctx: PriceContext) -> list[Priced]:
    best: dict[int, Priced] = {}
    for c in candidates:
        if c.category in ctx.excluded_categories or c.shop_id in ctx.shown_before:
            continue
        p = price_one(c, ctx)
        prev = best.get(c.shop_id)
        # one menu per shop: the best-matching affordable one (hits come best first)
        if prev is None or (p.affordable and not prev.affordable):
            best[c.shop_id] = p
    return list(best.values())[:MAX_SCORED_SHOPS]
