"""Query sets graded by what a menu is like: needs, their texts, and relevance from hidden attributes.

The blind set (``blindset``) and the meaning dev set (``meaningset``) are both lists of ``Need``:
a need and the ways a child types it. Relevance comes from the generator's hidden menu attributes
(``infra.sample_data.catalog.DISH_ATTRIBUTES``: soup, noodle, rice, bread, fried, grilled, warm,
cold, sweet, spicy1/2, soft, light, hearty, share, proteins, vegetarian) and the public menu
category:

* grade 2: the menu is served the way the need asks (a meal = main or set; a drink; a dessert;
  food = anything but a drink), has every wanted attribute group (each group is "any of"), none of
  the avoided tags, and fits the budget; a named dish must be that dish type;
* grade 1: a near miss — a food that has every wanted group but is served otherwise (a side for
  a meal need), or a meal that satisfies some but not all of two or more wanted groups; never
  with an avoided tag or over budget;
* grade 0: anything else (a drink never answers a food need).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MEAL = frozenset({"메인메뉴", "세트메뉴"})
FOOD = frozenset({"메인메뉴", "세트메뉴", "사이드메뉴", "디저트"})
DRINK = frozenset({"음료"})
DESSERT = frozenset({"디저트"})
SERVES = {"meal": MEAL, "food": FOOD, "drink": DRINK, "dessert": DESSERT}
MEAT = frozenset({"pork", "beef", "chicken", "seafood"})
HOT = frozenset({"spicy1", "spicy2"})


@dataclass(frozen=True)
class Need:
    """One need and the ways a child types it."""

    texts: tuple[str, ...]
    want: tuple[frozenset[str], ...] = ()
    avoid: frozenset[str] = frozenset()
    serve: str = "meal"
    dishes: tuple[str, ...] = ()
    budget: int | None = None
    kind: str = "meaning"  # meaning / situation / budget / typo


def need(texts: str, want: str = "", avoid: str = "", serve: str = "meal", kind: str = "meaning",
       dishes: str = "", budget: int | None = None) -> Need:
    """``texts`` split on '|'; ``want`` groups split on ' ' with alternatives joined by '/'."""
    groups = tuple(frozenset(g.split("/")) for g in want.split())
    expanded = tuple(frozenset(MEAT) if g == frozenset({"meat"}) else g for g in groups)
    avoid_set = frozenset(t for a in avoid.split() for t in (HOT if a == "hot" else MEAT if a == "meat" else {a}))
    return Need(tuple(t.strip() for t in texts.split("|")), expanded, avoid_set, serve,
                tuple(dishes.split()) if dishes else (), budget, kind)

@dataclass
class NeedQuery:
    text: str
    kind: str
    need: Need
    filters: dict[str, Any] = field(default_factory=dict)
    # the dev set's fields, so the benchmark can treat both sets alike
    budget: int | None = None


def build_need_queries(needs: tuple[Need, ...]) -> list[NeedQuery]:
    """Every (need, text) pair; filters as an NLU stand-in would pass them (budget, 안 매운)."""
    from models.retrieval.evalset import nlu_standin

    out = []
    for need in needs:
        for text in need.texts:
            out.append(NeedQuery(text, need.kind, need, nlu_standin(text), need.budget))
    return out


def need_grade(q: NeedQuery, t: dict, role: str | None) -> int:
    """Relevance of a menu (truth ``t`` with ``attributes``, public category ``role``) to ``q``."""
    need = q.need
    if need.budget is not None and int(t["price"]) > need.budget:
        return 0
    tags = set(t.get("attributes") or ())
    if tags & need.avoid:
        return 0
    served = role in SERVES[need.serve]
    if need.dishes:
        return 2 if t["dish_type"] in need.dishes and (served or role in FOOD) else 0
    met = sum(1 for g in need.want if tags & g)
    if served and met == len(need.want):
        return 2
    if need.serve == "meal" and role in FOOD and met == len(need.want) and need.want:
        return 1
    if served and len(need.want) >= 2 and met >= 1:
        return 1
    return 0


def need_table(truth: dict[int, dict], roles: dict[int, str | None]) -> dict:
    """Menus grouped by what grading reads besides the price (dish type, attributes, role)."""
    import numpy as np

    ids = sorted(truth)
    keys: dict[tuple, int] = {}
    code = np.array([keys.setdefault((truth[i]["dish_type"], tuple(truth[i].get("attributes") or ()),
                                      roles.get(i)), len(keys)) for i in ids], dtype=np.int32)
    return {"ids": np.array(ids, dtype=np.int64), "code": code, "keys": list(keys),
            "price": np.array([int(truth[i]["price"]) for i in ids])}


def need_grade_all(q: NeedQuery, table: dict):
    """``need_grade`` of every menu of ``need_table`` at once."""
    import numpy as np

    per_key = np.array([need_grade(q, {"dish_type": d, "attributes": a, "price": 0}, r)
                        for d, a, r in table["keys"]], dtype=np.int8)
    g = per_key[table["code"]]
    if q.need.budget is not None:
        g[table["price"] > q.need.budget] = 0
    return g
