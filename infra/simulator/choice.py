"""How a simulated child reacts to an answer: looks, picks one or none, rates it.

* Looking (``detail_view``) has a position bias: the child examines rank ``r`` with probability
  ``EXAMINE[r]`` (1.0, 0.62, 0.45, … ; a cascade-like decay), whatever the item is. The ranker must
  learn from these views without learning the position itself (see the retrain's IPS weights).
* Picking is by hidden utility, the generator's own multinomial logit
  (``infra.sample_data.behaviour.utilities``: taste, meal slot, price against budget and balance,
  spice, distance from home, card acceptance, favourite shops) plus a novelty term (shops the child
  has not ordered from in this simulation attract exploratory children: ``NOVELTY × (1 − loyalty)``),
  over the examined items and an outside option "none" of utility ``OUTSIDE_UTILITY``.
* Feasibility is hard: a shop that is closed at that minute (its real hours), or a price the child
  cannot pay (a card holder at a card shop needs the balance; anyone else their budget × 1.3), is
  never ordered.
* Satisfaction (1–5) grows with the chosen item's utility above the outside option, with noise.

Everything random comes from the ``rng`` passed in, so a seed reproduces every reaction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from infra.sample_data.behaviour import (
    CATEGORY_INDEX,
    FOOD_CARD_INDEX,
    ROLE_INDEX,
    Candidates,
    utilities,
)
from infra.simulator.world import Child, World

EXAMINE = (1.0, 0.62, 0.45, 0.36, 0.3, 0.26, 0.23, 0.2, 0.18, 0.16)
OUTSIDE_UTILITY = -2.0
NOVELTY = 0.6
CASH_SLACK = 1.3  # someone paying in cash stretches the budget this far, never further
SATISFACTION_SCALE = 1.6
SATISFACTION_NOISE = 0.6


@dataclass(frozen=True)
class Shown:
    """One recommendation as the child sees it (from the service's answer)."""

    rank: int
    shop_id: int
    menu_id: int | None
    price: int
    final_price: int
    coupon_id: str | None


@dataclass(frozen=True)
class Reaction:
    viewed: tuple[int, ...]  # ranks looked at (1-based)
    chosen: int | None  # rank ordered, or None
    utility: float | None  # hidden utility of the chosen item
    satisfaction: int | None
    feasible: tuple[bool, ...]  # per shown item: open, payable, within walking distance


def can_pay(child: Child, world: World, item: Shown, balance: int | None) -> bool:
    shop = world.shops.get(item.shop_id)
    if shop is None:
        return False
    if child.allowance is not None and shop.takes_card:
        return balance is not None and item.final_price <= balance
    return item.final_price <= child.truth.budget * CASH_SLACK


def buyable(child: Child, world: World, item: Shown, minute: int, balance: int | None) -> bool:
    """Open now (the shop's real hours), payable, and within the child's walking distance."""
    shop = world.shops.get(item.shop_id)
    if shop is None or item.menu_id not in world.menus:
        return False
    return (shop.is_open(minute) and can_pay(child, world, item, balance)
            and world.distance_km(child, item.shop_id) <= child.max_walk_km)


def item_utilities(child: Child, world: World, items: Sequence[Shown], minute: int,
                   balance: int | None) -> np.ndarray:
    """Hidden utility of each shown item (−inf where the child cannot or would not buy it)."""
    if not items:
        return np.zeros(0)
    known = [i for i in items if i.menu_id in world.menus and i.shop_id in world.shops]
    if len(known) != len(items):
        out = np.full(len(items), -np.inf)
        idx = [k for k, i in enumerate(items) if i in known]
        if idx:
            out[idx] = item_utilities(child, world, known, minute, balance)
        return out
    shops = [world.shops[i.shop_id] for i in items]
    menus = [world.menus[i.menu_id] for i in items]  # type: ignore[index]
    cand = Candidates(
        shop_id=np.array([s.id for s in shops]), menu_id=np.array([m.id for m in menus]),
        category=np.array([CATEGORY_INDEX[s.category] for s in shops]),
        food_card=np.array([FOOD_CARD_INDEX.get(s.food_card, 2) for s in shops]),
        good=np.array([s.good for s in shops]), price=np.array([i.final_price for i in items]),
        spicy=np.array([m.spicy for m in menus]), role=np.array([ROLE_INDEX.get(m.role, 0) for m in menus]),
        distance_km=np.array([world.distance_km(child, s.id) for s in shops]),
        is_open=np.array([s.is_open(minute) for s in shops]),
    )
    u = utilities(child.truth, cand, minute, balance=balance if child.allowance is not None else None)
    novel = np.array([s.id not in child.ordered_shops and s.id not in child.truth.favourite_shops for s in shops])
    u = u + novel * NOVELTY * (1.0 - child.truth.loyalty)
    payable = np.array([can_pay(child, world, i, balance) for i in items])
    return np.where(payable, u, -np.inf)


def react(rng: np.random.Generator, child: Child, world: World, items: Sequence[Shown], minute: int,
          balance: int | None) -> Reaction:
    """Views with position bias, then a pick among the viewed items and "none" by hidden utility."""
    feasible = tuple(buyable(child, world, i, minute, balance) for i in items)
    if not items:
        return Reaction((), None, None, None, feasible)
    viewed = [k for k in range(len(items)) if rng.random() < EXAMINE[min(k, len(EXAMINE) - 1)]]
    u = item_utilities(child, world, items, minute, balance)
    options = np.array([OUTSIDE_UTILITY, *[u[k] for k in viewed]])
    finite = np.isfinite(options)
    z = np.where(finite, options - options[finite].max(), -np.inf)
    p = np.exp(z)
    pick = int(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"))
    pick = min(pick, len(options) - 1)
    if pick == 0 or not viewed:
        return Reaction(tuple(k + 1 for k in viewed), None, None, None, feasible)
    k = viewed[pick - 1]
    utility = float(u[k])
    return Reaction(tuple(v + 1 for v in viewed), k + 1, utility, satisfaction(rng, utility), feasible)


def satisfaction(rng: np.random.Generator, utility: float) -> int:
    """1–5 from the utility gained over walking away; the middle (3) is "just fine"."""
    score = 3.0 + (utility - OUTSIDE_UTILITY) / SATISFACTION_SCALE - 0.5 + rng.normal(0.0, SATISFACTION_NOISE)
    return int(min(5, max(1, round(score))))


def oracle_order(child: Child, world: World, items: Sequence[Shown], minute: int, balance: int | None) -> list[int]:
    """Indexes of ``items`` best first by the child's hidden utility (the oracle ranker: evaluation only)."""
    u = item_utilities(child, world, items, minute, balance)
    return [int(i) for i in np.argsort(-np.where(np.isfinite(u), u, -1e9), kind="stable")]


def shown_from_response(recs: Sequence[Mapping[str, Any]]) -> list[Shown]:
    return [Shown(rank=int(r["rank"]), shop_id=int(r["shop_id"]), menu_id=r.get("menu_id"), price=int(r["price"]),
                  final_price=int(r["final_price"]), coupon_id=(r.get("coupon") or {}).get("coupon_id"))
            for r in recs]


def refinement_for(child: Child, world: World, items: Sequence[Shown], minute: int, balance: int | None,
                   rng: np.random.Generator) -> str | None:
    """What the child asks next when nothing suited: cheaper, not spicy, closer, something else — or
    nothing (gives up)."""
    if not items:
        return "other" if rng.random() < 0.5 else None
    known = [i for i in items if i.menu_id in world.menus and i.shop_id in world.shops]
    if child.truth.spice_tolerance < 0.35 and any(world.menus[i.menu_id].spicy for i in known[:2]):
        return "no_spicy"
    if known and min(i.final_price for i in known) > min(child.truth.budget, balance or math.inf):
        return "cheaper"
    if known and min(world.distance_km(child, i.shop_id) for i in known) > child.max_walk_km * 0.6:
        return "closer"
    return "other" if rng.random() < 0.6 else None
