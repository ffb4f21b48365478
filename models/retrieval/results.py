"""How a list of search hits is arranged before it is shown: useful lists, not five copies.

Two rules, applied after fusion to a pool a few times larger than the list:

* **Sides and drinks answer when asked.** A query that names no drink does not get 사이다 for
  "아침에 가볍게 먹을 거": drinks, sides and desserts keep only part of their score unless the
  query asks for that kind of item (음료, 마실, 디저트, 후식, 사이드, ...) or names the item itself.
  A query that asks only for a drink gets drinks first in the same way.
* **Several dishes before several shops.** The list is filled greedily; each time a dish (its
  name without sizes or "세트") or a shop is already on the list, the next copy of it keeps only a
  share of its score, so a need that several dishes answer shows several dishes, and one dish
  from five shops comes only when nothing else is close.

The factors were set by reasoning about the RRF score scale (a factor of 0.8 moves a hit about
ten ranks down), checked on the dev query set only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

ASK_DRINK = re.compile(r"음료|마실|마시|마셔|드링크|커피|라떼|주스|에이드|스무디|쉐이크|셰이크|밀크티|버블티|우유|콜라|사이다|"
                       r"아이스티|\b차\b|음료수|목말")
ASK_DESSERT = re.compile(r"디저트|후식|간식|케이크|케잌|빙수|와플|마카롱|쿠키|아이스크림|타르트|달달|달콤|단 거|단거|빵")
ASK_SIDE = re.compile(r"사이드|곁들|추가|같이 먹을|반찬|안주")

DRINK, DESSERT, SIDE = "음료", "디저트", "사이드메뉴"
NOT_ASKED = {DRINK: 0.35, DESSERT: 0.6, SIDE: 0.6}
FOOD_WHEN_ONLY_DRINK_ASKED = 0.5
SAME_DISH = 0.8
SAME_SHOP = 0.97  # a nudge only: dishes diversify first, shops break near-ties
POOL_FACTOR = 3
POOL_MIN = 30


def payload(hit: Any) -> dict:
    return hit.payload


def dish_key(name: str) -> str:
    return re.sub(r"\(.*?\)|세트|\s|\d+\s*pcs", "", name or "")


def asked_roles(query: str) -> set[str]:
    roles = set()
    if ASK_DRINK.search(query):
        roles.add(DRINK)
    if ASK_DESSERT.search(query):
        roles.add(DESSERT)
    if ASK_SIDE.search(query):
        roles.add(SIDE)
    return roles


def pool_size(limit: int, max_limit: int) -> int:
    return min(max_limit, max(limit * POOL_FACTOR, POOL_MIN))


def role_factor(role: str, name: str, query: str, asked: set[str], dish: str | None = None) -> float:
    dish = dish_key(name) if dish is None else dish
    if name and dish and dish in query.replace(" ", ""):
        return 1.0  # the query names this very item
    if role in NOT_ASKED and role not in asked:
        return NOT_ASKED[role]
    if asked == {DRINK} and role != DRINK:
        return FOOD_WHEN_ONLY_DRINK_ASKED
    return 1.0


def arrange(hits: Sequence[Any], query: str, limit: int, *, fused: bool = True, rrf_k: int = 60) -> list[Any]:
    """The ``limit`` hits to show, in order (see the module doc). ``fused``: the scores are RRF
    scores; otherwise (dense or sparse alone) the order is turned into RRF-scale scores first, so
    the factors mean the same in every mode."""
    asked = asked_roles(query)
    # each hit's dish and shop once: the greedy pick below compares every hit left for every slot
    dish = [dish_key(payload(h).get("menu_name", "")) for h in hits]
    shop = [payload(h).get("shop_id") for h in hits]
    base = []
    for rank, h in enumerate(hits):
        p = payload(h)
        score = h.score if fused else 1.0 / (rrf_k + rank + 1)
        base.append(score * role_factor(p.get("menu_category", ""), p.get("menu_name", ""), query, asked, dish[rank]))
    left = list(range(len(hits)))
    dishes: dict[str, int] = {}
    shops: dict[Any, int] = {}
    out = []
    while left and len(out) < limit:
        best = max(left, key=lambda i: (base[i] * SAME_DISH ** dishes.get(dish[i], 0)
                                        * SAME_SHOP ** shops.get(shop[i], 0), -i))
        left.remove(best)
        dishes[dish[best]] = dishes.get(dish[best], 0) + 1
        shops[shop[best]] = shops.get(shop[best], 0) + 1
        out.append(hits[best])
    return out
