"""How a pool of search hits becomes the list that is shown: the reranking step of menu search.

The pool (``merge``) is a plain filtered search plus the menus of the best distinct dishes
(``Retriever._dishes``: one representative per dish, so 계란국 from sixty shops is one candidate,
not sixty); a pooled copy of a ranked dish takes its dish's score. All scores are on the RRF scale
(``rrf_scaled``). ``arrange`` then applies, to each hit, factors for:

* **the need** (``needs.read_need``): an avoided tag keeps NEED_AVOIDED, each wanted group the menu
  lacks NEED_MISSED, each group only the situation hints at HINT_MISSED;
* **what the query names**: a menu named by the query (its dish, or a compound ending with a named
  head: 물만두 for 만두) keeps its score whatever its category; a query that names a dish keeps
  NOT_NAMED of the others (a set that lists 만두 in its description is not 만두);
* **sides and drinks answer when asked**: a query that names no drink does not get 사이다 for
  "아침에 가볍게 먹을 거": drinks, sides and desserts keep only part of their score unless the
  query asks for that kind of item (음료, 마실, 디저트, 후식, 사이드, ...); a query that asks only
  for a drink gets drinks first in the same way;

and fills the list greedily, **several dishes before several shops**: each time a dish (its name
without sizes or "세트") or a shop is already on the list, the next copy of it keeps only a share
of its score, unless the query names that dish (a child asking for 떡볶이 wants it from several
shops).

The factors were set by reasoning about the RRF score scale (a factor of 0.8 moves a hit about ten
ranks down) and checked on the dev sets only (``evalset``, ``meaningset``), never on the blind set.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from models.retrieval.needs import QueryNeed

ASK_DRINK = re.compile(r"음료|마실|마시|마셔|드링크|커피|라떼|주스|에이드|스무디|쉐이크|셰이크|밀크티|버블티|우유|콜라|사이다|"
                       r"아이스티|\b차\b|음료수|목말")
ASK_DESSERT = re.compile(r"디저트|후식|간식|케이크|케잌|빙수|와플|마카롱|쿠키|아이스크림|타르트|달달|달콤|단 거|단거|빵")
ASK_SIDE = re.compile(r"사이드|곁들|추가|같이 먹을|반찬|안주")

DRINK, DESSERT, SIDE = "음료", "디저트", "사이드메뉴"
NOT_ASKED = {DRINK: 0.35, DESSERT: 0.6, SIDE: 0.6}
FOOD_WHEN_ONLY_DRINK_ASKED = 0.5
SAME_DISH = 0.8
NOT_NAMED = 0.75
SAME_SHOP = 0.97  # a nudge only: dishes diversify first, shops break near-ties
POOL_FACTOR = 3
POOL_MIN = 30
# a need (``needs.read_need``): a menu with an avoided tag keeps NEED_AVOIDED of its score, one
# lacking a wanted group NEED_MISSED per group
NEED_AVOIDED = 0.3
NEED_MISSED = 0.6
HINT_MISSED = 0.85  # a group only the situation suggests (rain → warm) is a hint, not a demand
# a request that names no dish: the best distinct dishes ranked, and the menus (shops) fetched for each
DISH_CANDIDATES = 30
DISH_COPIES = 2


def payload(hit: Any) -> dict:
    return hit.payload


def dish_key(name: str) -> str:
    """What counts as one dish on a shown list: sizes, counts and 세트 aside (a set repeats its dish).
    The index's own dish (``documents.dish_of``) keeps 세트: a set is ranked as an item of its own."""
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


def menu_tags(p: dict) -> frozenset[str]:
    return frozenset(p.get("meaning") or ())


def role_factor(role: str, asked: set[str], named: bool = False) -> float:
    """What a menu of category ``role`` keeps of its score; ``named``: the query names this item."""
    if named:
        return 1.0
    if role in NOT_ASKED and role not in asked:
        return NOT_ASKED[role]
    if asked == {DRINK} and role != DRINK:
        return FOOD_WHEN_ONLY_DRINK_ASKED
    return 1.0


def names_item(dish: str, query: str, named: frozenset[str]) -> tuple[bool, bool]:
    """(the query names this item, the item's name has a dish word the query names). An item is
    named by its whole name or by its head: 만두 names 물만두 and 군만두 (Korean compounds end with
    their head); 치즈떡볶이 only contains 치즈 when the query asks for 치즈."""
    if not dish:
        return False, False
    exact = dish in query.replace(" ", "") or any(dish.endswith(w) for w in named)
    return exact, exact or any(w in dish for w in named)


def rrf_scaled(hits: Sequence[Any], fused: bool, rrf_k: int) -> list[Any]:
    """``hits`` with RRF-scale scores: fused scores are; a dense or sparse list's order is turned
    into them (1 / (k + rank)), so the factors below mean the same in every mode."""
    if fused:
        return list(hits)
    return [dataclasses.replace(h, score=1.0 / (rrf_k + rank + 1)) for rank, h in enumerate(hits)]


def merge(plain: Sequence[Any], dishes: Sequence[Any], by_dish: Sequence[Any]) -> list[Any]:
    """One pool of RRF-scale hits from a plain search (``plain``), the ranked dishes' representatives
    (``dishes``) and menus of those dishes (``by_dish``): each point once, at least as good as its
    dish (a copy of a ranked dish found by the plain search is that dish too), best first."""
    dish_score: dict[str, float] = {}
    for d in dishes:
        key = d.payload.get("dish")
        dish_score[key] = max(dish_score.get(key, 0.0), d.score)
    best: dict[Any, Any] = {}
    for h in [*plain, *by_dish]:
        score = max(h.score, dish_score.get(h.payload.get("dish"), 0.0))
        if h.id not in best or score > best[h.id].score:
            best[h.id] = h if score == h.score else dataclasses.replace(h, score=score)
    return sorted(best.values(), key=lambda h: -h.score)


def arrange(hits: Sequence[Any], query: str, limit: int, *, need: QueryNeed | None = None,
            named: frozenset[str] = frozenset()) -> list[Any]:
    """The ``limit`` hits to show, in order (see the module doc), from RRF-scale ``hits``.
    ``named``: the dish words the query names; a menu whose name has none of them keeps
    ``NOT_NAMED`` of its score (a set that lists 만두 in its description is not 만두)."""
    asked = asked_roles(query)
    # each hit's dish and shop once: the greedy pick below compares every hit left for every slot
    dish = [dish_key(payload(h).get("menu_name", "")) for h in hits]
    shop = [payload(h).get("shop_id") for h in hits]
    naming = [names_item(d, query, named) for d in dish]
    base = []
    for h, (exact, contains) in zip(hits, naming):
        p = payload(h)
        score = h.score * role_factor(p.get("menu_category", ""), asked, exact)
        if need:
            score *= need.factor(menu_tags(p), avoided=NEED_AVOIDED, missed=NEED_MISSED, hinted=HINT_MISSED)
        if named and not contains:
            score *= NOT_NAMED
        base.append(score)
    # a dish the query names is what was asked for: its copies (other shops) are not repeats
    repeat = [1.0 if contains else SAME_DISH for _, contains in naming]
    left = list(range(len(hits)))
    dishes: dict[str, int] = {}
    shops: dict[Any, int] = {}
    out = []
    while left and len(out) < limit:
        best = max(left, key=lambda i: (base[i] * repeat[i] ** dishes.get(dish[i], 0)
                                        * SAME_SHOP ** shops.get(shop[i], 0), -i))
        left.remove(best)
        dishes[dish[best]] = dishes.get(dish[best], 0) + 1
        shops[shop[best]] = shops.get(shop[best], 0) + 1
        out.append(hits[best])
    return out
