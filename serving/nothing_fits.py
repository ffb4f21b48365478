"""When nothing fits: find the constraint that binds by relaxing each one alone, and offer the
closest thing that relaxation finds (serving/README.md, "When nothing fits").

Only the constraints the turn actually has are relaxed, each alone, in this order, and the first
that finds something is the reason given. Each relaxation is one filtered search of the same
query, all asked together (``search_each``: the query is read and embedded once, the searches skip
MMR, and their answers are kept in the worker only, since a filtered search costs less than a round
trip to Redis).

=============== ================================== ============================================
reason          relaxed                             alternative offered
=============== ================================== ============================================
closed_now      open at the searched minute         the shop that opens soonest, with the time
over_budget     price ≤ spend limit (+ coupons)     the cheapest, with its coupon and the gap
too_far         the walking radius → 2.5 ×          the nearest one a bit farther
dietary         the dietary restrictions            none: a child who cannot eat it is not pointed at it
card            meal-card shops only                the best match that does not take the card
no_such_food    the food category                   the best match of another food
=============== ================================== ============================================

If no single relaxation finds anything, the reason is ``several``: it is not one thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from serving.pricing import PriceContext, Priced, price_candidates
from serving.search_area import A_BIT_FARTHER

REASONS = ("closed_now", "over_budget", "too_far", "dietary", "card", "no_such_food")
ALTERNATIVE_KIND = {"closed_now": "opens_soonest", "over_budget": "cheapest", "too_far": "a_bit_farther",
                    "dietary": "without_restriction", "card": "no_meal_card", "no_such_food": "other_food"}
MAX_ALTERNATIVES = 3


@dataclass
class WhyNothing:
    reason: str  # one of REASONS, or "several"
    binding: list[str] = field(default_factory=list)  # every reason whose relaxation alone finds something
    alternatives: list[tuple[str, Priced]] = field(default_factory=list)  # (kind, option), best reason first
    shortfall: int | None = None  # over_budget: won missing for the cheapest option


def _relaxed(filters: dict[str, Any], reason: str) -> dict[str, Any] | None:
    """The filters with one constraint relaxed, or None when the turn does not have it."""
    f = dict(filters)
    if reason == "closed_now":
        if not f.pop("open_now", None):
            return None
        f.pop("at", None)
    elif reason == "over_budget":
        if f.pop("max_price", None) is None:
            return None
    elif reason == "too_far":
        near = f.get("near")
        if not near:
            return None
        f["near"] = (near[0], near[1], near[2] * A_BIT_FARTHER)
    elif reason == "dietary":
        if not f.pop("dietary", None):
            return None
    elif reason == "card":
        if not f.pop("food_card_only", None):
            return None
    elif reason == "no_such_food":
        if not f.pop("categories", None):
            return None
    return f


def _pick(reason: str, options: list[Priced], ctx: PriceContext) -> Priced | None:
    if reason == "closed_now":
        closed = [p for p in options if p.affordable and not p.open_now and p.opens_in_min is not None]
        return min(closed, key=lambda p: (p.opens_in_min, p.final_price)) if closed else None
    if reason == "over_budget":
        return min(options, key=lambda p: (p.final_price, p.distance_m or 0)) if options else None
    fits = [p for p in options if p.affordable and p.open_now]
    if reason == "too_far":
        near = [p for p in fits if p.distance_m is not None and ctx.area.radius_m is not None
                and p.distance_m > ctx.area.radius_m]
        return min(near, key=lambda p: p.distance_m) if near else None
    return fits[0] if fits else None


def diagnose(search_each: Callable[[list[dict[str, Any]]], list[list]], filters: dict[str, Any],
             ctx: PriceContext) -> WhyNothing:
    """``search_each(filter sets)`` → candidates per filter set (the same query as the failed search)."""
    tried = [(reason, f) for reason in REASONS if (f := _relaxed(filters, reason)) is not None]
    found: list[tuple[str, Priced]] = []
    shortfall = None
    for (reason, _), candidates in zip(tried, search_each([f for _, f in tried]) if tried else []):
        pricing = replace(ctx, limit=None) if reason == "over_budget" else ctx
        options = price_candidates(candidates, pricing)
        if reason == "over_budget":  # priced without a ceiling: put it back to judge
            options = [replace(p, affordable=False) for p in options if ctx.limit is not None
                       and p.final_price > ctx.limit and p.open_now]
        pick = _pick(reason, options, ctx)
        if pick is None:
            continue
        if reason == "over_budget" and ctx.limit is not None:
            shortfall = pick.final_price - ctx.limit
        found.append((reason, pick))
    if not found:
        return WhyNothing("several")
    alternatives, seen = [], set()
    for reason, p in found:
        if reason == "dietary" or p.cand.shop_id in seen:  # never point a child at what they cannot eat
            continue
        seen.add(p.cand.shop_id)
        alternatives.append((ALTERNATIVE_KIND[reason], p))
    return WhyNothing(found[0][0], [r for r, _ in found], alternatives[:MAX_ALTERNATIVES], shortfall)
